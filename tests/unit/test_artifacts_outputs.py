"""vpython.artifacts.outputs: what ``-o OUT`` may replace, checked before any work."""

from __future__ import annotations

import json
import os
import zipfile

import pytest

from vpython.artifacts import outputs
from vpython.errors import UserError


def make_pex(path):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("PEX-INFO", json.dumps({"build_properties": {"pex_version": "2.1"}}))
        zf.writestr("__main__.py", "")
    return str(path)


def make_venv(path):
    os.makedirs(path)
    with open(os.path.join(path, outputs.META_NAME), "w") as f:
        f.write("{}")
    return str(path)


def refused(output, fmt="venv", inputs=()):
    with pytest.raises(UserError) as e:
        outputs.check(str(output), fmt, list(inputs))
    # One line saying what is wrong, and a hint saying what to do instead.
    assert e.value.exit_code == 2 and "\n" not in e.value.message and str(output) in e.value.message
    assert e.value.hint and "\n" not in e.value.hint
    return str(e.value)


@pytest.mark.parametrize("fmt", ["venv", "pex"])
def test_nothing_or_a_previous_artifact_of_either_kind_may_be_replaced(tmp_path, fmt):
    outputs.check(str(tmp_path / "new"), fmt, [])
    outputs.check(make_venv(tmp_path / "old.venv"), fmt, [])
    pex = make_pex(tmp_path / "old.pex")
    outputs.check(pex, fmt, [])
    (tmp_path / "old.pex.cdx.json").write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5"}))
    outputs.check(pex, fmt, [])


@pytest.mark.parametrize("fmt", ["venv", "pex"])
def test_a_directory_or_file_that_is_not_ours_is_refused(tmp_path, fmt):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "notes.txt").write_text("precious")
    assert "is a directory that is not a vpython build output" in refused(tmp_path / "work", fmt)
    (tmp_path / "s.py").write_text("print(1)\n")
    assert "is an existing file that is not a pex" in refused(tmp_path / "s.py", fmt)
    with zipfile.ZipFile(tmp_path / "plain.zip", "w") as zf:
        zf.writestr("x", "y")
    assert "not a pex" in refused(tmp_path / "plain.zip", fmt)
    os.symlink(make_venv(tmp_path / "real.venv"), tmp_path / "link.venv")
    assert "is a symlink" in refused(tmp_path / "link.venv", fmt)
    (tmp_path / "empty").mkdir()  # nothing to lose (Bazel pre-creates a declare_directory output)
    outputs.check(str(tmp_path / "empty"), fmt, [])
    # Nothing was touched.
    assert (tmp_path / "work" / "notes.txt").read_text() == "precious"


def test_a_pex_needs_its_sbom_path_free_or_an_sbom(tmp_path):
    pex = make_pex(tmp_path / "a.pex")
    (tmp_path / "a.pex.cdx.json").write_text("my notes")
    assert "a.pex.cdx.json exists and is not a CycloneDX SBOM" in refused(pex, "pex")
    outputs.check(pex, "venv", [])  # a venv does not write it
    assert outputs.stale_sbom(pex, "venv") is None  # ... nor deletes what is not an SBOM


def test_out_equal_to_or_containing_an_input_is_refused(tmp_path):
    script = tmp_path / "proj" / "tool.py"
    script.parent.mkdir()
    script.write_text("print(1)\n")
    inputs = [("the spec", str(script)), ("the working directory", str(tmp_path / "proj" / "sub"))]
    assert "is the spec" in refused(script, "pex", inputs)
    assert "contains the spec" in refused(tmp_path / "proj", "venv", inputs)
    os.makedirs(tmp_path / "proj" / "sub")
    message = refused(os.path.join(str(tmp_path / "proj" / "sub"), "."), "venv", inputs)
    assert "is the working directory" in message
    # Through a symlinked parent, and even when OUT is a previous artifact.
    venv = make_venv(tmp_path / "old.venv")
    assert "contains the --main" in refused(venv, "venv", [("the --main script", os.path.join(venv, "app", "x.py"))])
    os.symlink(tmp_path / "proj", tmp_path / "alias")
    assert "is the spec" in refused(tmp_path / "alias" / "tool.py", "pex", inputs)
    # Beside an input is fine.
    outputs.check(str(tmp_path / "proj" / "tool.pex"), "pex", inputs)


def test_stale_sbom_of_a_pex_replaced_by_a_venv(tmp_path):
    pex = make_pex(tmp_path / "a.pex")
    assert outputs.stale_sbom(pex, "venv") is None
    (tmp_path / "a.pex.cdx.json").write_text(json.dumps({"bomFormat": "CycloneDX"}))
    assert outputs.stale_sbom(pex, "venv") == str(tmp_path / "a.pex.cdx.json")
    assert outputs.stale_sbom(pex, "pex") is None
