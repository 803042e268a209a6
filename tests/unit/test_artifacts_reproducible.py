"""vpython.artifacts.reproducible: normalised trees, content digests, atomic publication."""

from __future__ import annotations

import os
import stat

import pytest

from vpython.artifacts import reproducible
from vpython.errors import UserError, VPythonError


def make_tree(root, mode_exec=0o700, umask_mode=0o600):
    os.makedirs(os.path.join(root, "bin"))
    os.makedirs(os.path.join(root, "lib", "pkg"))
    with open(os.path.join(root, "bin", "tool"), "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(os.path.join(root, "bin", "tool"), mode_exec)
    with open(os.path.join(root, "lib", "pkg", "__init__.py"), "w") as f:
        f.write("x = 1\n")
    os.chmod(os.path.join(root, "lib", "pkg", "__init__.py"), umask_mode)
    os.symlink("tool", os.path.join(root, "bin", "tool3"))


def test_normalize_fixes_modes_and_mtimes_and_digest_ignores_where_the_tree_is(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    a, b = str(tmp_path / "a"), str(tmp_path / "x" / "b")
    make_tree(a)
    make_tree(b, mode_exec=0o750, umask_mode=0o664)  # a different umask/builder
    for root in (a, b):
        reproducible.normalize_tree(root)
    assert reproducible.tree_lines(a) == reproducible.tree_lines(b)
    assert reproducible.tree_digest(a) == reproducible.tree_digest(b)
    st = os.stat(os.path.join(a, "bin", "tool"))
    assert stat.S_IMODE(st.st_mode) == 0o755 and int(st.st_mtime) == reproducible.ZIP_EPOCH
    assert stat.S_IMODE(os.stat(os.path.join(a, "lib", "pkg", "__init__.py")).st_mode) == 0o644
    assert int(os.lstat(os.path.join(a, "bin", "tool3")).st_mtime) == reproducible.ZIP_EPOCH
    assert int(os.stat(a).st_mtime) == reproducible.ZIP_EPOCH


def test_digest_sees_content_mode_and_link_changes(tmp_path):
    root = str(tmp_path / "t")
    make_tree(root)
    reproducible.normalize_tree(root)
    base = reproducible.tree_digest(root)
    with open(os.path.join(root, "lib", "pkg", "__init__.py"), "w") as f:
        f.write("x = 2\n")
    assert reproducible.tree_digest(root) != base
    changed = reproducible.tree_digest(root)
    os.chmod(os.path.join(root, "lib", "pkg", "__init__.py"), 0o755)
    assert reproducible.tree_digest(root) != changed
    excluded = reproducible.tree_digest(root, exclude={"lib/pkg/__init__.py"})
    os.unlink(os.path.join(root, "bin", "tool3"))
    os.symlink("other", os.path.join(root, "bin", "tool3"))
    assert reproducible.tree_digest(root, exclude={"lib/pkg/__init__.py"}) != excluded


def test_source_date_epoch(tmp_path, monkeypatch):
    root = str(tmp_path / "t")
    make_tree(root)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    reproducible.normalize_tree(root)
    assert int(os.stat(os.path.join(root, "bin", "tool")).st_mtime) == 1700000000
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(UserError, match="SOURCE_DATE_EPOCH"):
        reproducible.epoch()


@pytest.mark.parametrize("target", ["/usr/bin/python3", "../../outside"])
def test_symlinks_leaving_the_tree_are_refused(tmp_path, target):
    root = str(tmp_path / "t")
    make_tree(root)
    os.symlink(target, os.path.join(root, "bin", "python"))
    with pytest.raises(VPythonError, match="points outside the artifact"):
        reproducible.normalize_tree(root)


def test_publish_replaces_only_with_a_complete_output(tmp_path):
    out = str(tmp_path / "out.venv")
    os.makedirs(os.path.join(out, "old"))
    work = reproducible.work_dir_beside(out)
    assert os.path.dirname(work) == str(tmp_path)
    new = os.path.join(work, "tree")
    os.makedirs(os.path.join(new, "new"))
    reproducible.publish(new, out)
    assert os.listdir(out) == ["new"]
    os.rmdir(work)
    assert sorted(os.listdir(tmp_path)) == ["out.venv"]  # the old tree is gone, no leftovers


def _pex_and_sbom(tmp_path, tag):
    work = tmp_path / f"work-{tag}"
    work.mkdir()
    (work / "a.pex").write_text(f"pex {tag}")
    (work / "a.cdx.json").write_text(f"sbom {tag}")
    return [(str(work / "a.pex"), str(tmp_path / "out.pex")), (str(work / "a.cdx.json"), str(tmp_path / "out.pex.cdx.json"))]


def test_publish_all_replaces_a_pex_and_its_sbom_together(tmp_path):
    reproducible.publish_all(_pex_and_sbom(tmp_path, "old"))
    reproducible.publish_all(_pex_and_sbom(tmp_path, "new"))
    assert (tmp_path / "out.pex").read_text() == "pex new"
    assert (tmp_path / "out.pex.cdx.json").read_text() == "sbom new"
    assert not [n for n in os.listdir(tmp_path) if ".old-" in n]
    # None: the output is removed (a pex's SBOM when a venv replaces the pex).
    tree = tmp_path / "work-tree"
    (tree / "t").mkdir(parents=True)
    reproducible.publish_all([(str(tree / "t"), str(tmp_path / "out.pex")), (None, str(tmp_path / "out.pex.cdx.json"))])
    assert (tmp_path / "out.pex").is_dir() and not (tmp_path / "out.pex.cdx.json").exists()


def test_publish_all_restores_both_when_the_second_step_fails(tmp_path, monkeypatch):
    reproducible.publish_all(_pex_and_sbom(tmp_path, "old"))
    monkeypatch.setenv("VPYTHON_TEST_FAIL_AT", "artifact-partly-published:ENOSPC")
    with pytest.raises(OSError):
        reproducible.publish_all(_pex_and_sbom(tmp_path, "new"))
    assert (tmp_path / "out.pex").read_text() == "pex old"
    assert (tmp_path / "out.pex.cdx.json").read_text() == "sbom old"
    assert not [n for n in os.listdir(tmp_path) if ".old-" in n]


def test_publish_all_never_leaves_an_sbom_beside_a_pex_it_does_not_describe(tmp_path):
    """A kill between the two renames (here: the second rename made impossible, after
    the first one happened) must not leave the old SBOM beside the new pex, nor the new
    SBOM beside the old pex."""
    import subprocess
    import sys

    reproducible.publish_all(_pex_and_sbom(tmp_path, "old"))
    pairs = _pex_and_sbom(tmp_path, "new")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from vpython.artifacts import reproducible; "
            f"reproducible.publish_all({pairs!r})")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, VPYTHON_TEST_KILL_AT="artifact-partly-published")
    proc = subprocess.run([sys.executable, "-c", code, repo], env=env)
    assert proc.returncode == -9
    assert (tmp_path / "out.pex").read_text() == "pex new"
    assert not (tmp_path / "out.pex.cdx.json").exists()
