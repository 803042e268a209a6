"""vpython.interpreters.tags: a target's PEP 425 tags equal its own ``sys_tags()``, whether
computed here or inside the target, against the real pyenv Pythons."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig

import pytest

from tests.support import pythons
from tests.support.pythons import MINORS, pyenv_python
from vpython.interpreters import probe as probe_mod
from vpython.interpreters import tags as T
from vpython.interpreters.discover import find_interpreters
from vpython.interpreters.probe import probe

# pytest fixtures shared by the tests of vpython.interpreters
fresh_memo = pythons.fresh_memo
spawns = pythons.spawns


@pytest.fixture(scope="session")
def packaging_for_38(tmp_path_factory):
    """A copy of *our* packaging that imports on 3.8 (only runtime-evaluated generic
    aliases differ; the tag algorithms are untouched), so 3.8's reference is the same code."""
    import packaging

    dst = tmp_path_factory.mktemp("packaging38")
    shutil.copytree(os.path.dirname(packaging.__file__), dst / "packaging")
    for py in (dst / "packaging").glob("*.py"):
        text = py.read_text(encoding="utf-8")
        text = re.sub(r"^from collections\.abc import", "from typing import", text, flags=re.M)
        text = re.sub(r"^(\w+) = (tuple\[.*\])$", r'\1 = "\2"', text, flags=re.M)
        py.write_text(text, encoding="utf-8")
    return str(dst)


def _reference_tags(python: str, packaging_parent: str) -> list:
    script = ("import json, sys; sys.path.insert(0, sys.argv[1]); from packaging.tags import sys_tags; "
              "print(json.dumps([str(t) for t in sys_tags()]))")
    proc = subprocess.run([python, "-I", "-S", "-c", script, packaging_parent], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"packaging does not import on {python}: {proc.stderr.strip().splitlines()[-1]}")
    return json.loads(proc.stdout)


def _our_packaging_parent() -> str:
    import packaging

    return os.path.dirname(os.path.dirname(os.path.abspath(packaging.__file__)))


@pytest.mark.parametrize("minor", MINORS)
def test_target_tags_equal_sys_tags_inside_eachpyenv_python(minor, tmp_path, packaging_for_38, spawns):
    python = pyenv_python(minor)
    if python is None:
        pytest.skip(f"no pyenv CPython 3.{minor}")
    interp = probe(python, str(tmp_path))
    assert interp.version[:2] == (3, minor) and T.same_platform(interp)
    spawns.clear()
    ours = [str(t) for t in T.target_tags(interp)]
    assert spawns == []  # same platform: computed here, no spawn
    parent = packaging_for_38 if minor < 9 else _our_packaging_parent()
    assert ours == _reference_tags(python, parent)


@pytest.mark.parametrize("minor", [m for m in MINORS if m >= 9])
def test_tags_computed_inside_target_equal_sys_tags(minor, tmp_path, spawns):
    python = pyenv_python(minor)
    if python is None:
        pytest.skip(f"no pyenv CPython 3.{minor}")
    interp = probe(python, str(tmp_path))
    inside = [str(t) for t in T._tags_in_target(interp)]
    assert inside == _reference_tags(python, _our_packaging_parent())
    # cached by identity: a second call does not spawn
    probe_mod.clear_memo()
    spawns.clear()
    assert [str(t) for t in T._tags_in_target(probe(python, str(tmp_path)))] == inside
    assert spawns == []


def test_every_found_interpreter_matches_its_sys_tags(tmp_path):
    parent = _our_packaging_parent()
    checked = 0
    for interp in find_interpreters(str(tmp_path)):
        if interp.version[:2] >= (3, 9):
            assert [str(t) for t in T.target_tags(interp)] == _reference_tags(interp.path, parent), interp
            checked += 1
    assert checked >= 1


def test_other_platform_is_computed_inside_the_target(tmp_path, spawns):
    interp = probe(sys.executable, str(tmp_path))
    other = dataclasses.replace(interp, platform="linux-someotherarch")
    assert not T.same_platform(other)
    spawns.clear()
    tags = T.target_tags(other)
    assert len(spawns) == 1 and "-I" in spawns[0]
    from packaging.tags import sys_tags

    assert tags == list(sys_tags())  # what that interpreter (ours, really) says


def test_tags_fall_back_when_packaging_cannot_run_in_target(tmp_path, monkeypatch, capsys):
    interp = probe(sys.executable, str(tmp_path))
    monkeypatch.setattr(probe_mod, "run_probe", lambda path, extra=(): {"tags_error": "ImportError: nope"})
    monkeypatch.setattr(probe_mod, "read_cache", lambda *a: None)
    tags = [str(t) for t in T._tags_in_target(interp)]
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    assert tags[0] == f"cp{sys.version_info[0]}{sys.version_info[1]}-cp{sys.version_info[0]}{sys.version_info[1]}-{plat}"
    assert "py3-none-any" in tags


def test_cpython_abis_match_packaging():
    from packaging.tags import _cpython_abis

    interp = probe(sys.executable)
    # A private helper: packaging 26.4 made it a generator, earlier releases return a list.
    assert T.cpython_abis(interp) == list(_cpython_abis(sys.version_info[:2]))
