"""vpython.store.trust: who may write the cache root (the rules; the attacks are in
tests/reliability/test_ownership.py)."""

from __future__ import annotations

import os
import stat

import pytest

from vpython import fs
from vpython.errors import UserError, VPythonError
from vpython.store import trust
from vpython.store.root import Layout, check_layout, resolve_root

posix_only = pytest.mark.skipif(not hasattr(os, "geteuid"), reason="no uids")


@pytest.fixture(autouse=True)
def private(monkeypatch):
    monkeypatch.delenv(trust.SHARED_ENV, raising=False)
    monkeypatch.setenv("VPYTHON_CONFIG", os.devnull + ".none")  # no config file: its key is not set
    monkeypatch.setattr(trust, "_config_opt_in", lambda: False)
    saved = os.umask(0o022)
    os.umask(saved)
    yield
    os.umask(saved)
    trust._shared = False


@posix_only
def test_ok_is_owner_and_no_group_or_other_write(tmp_path):
    d = tmp_path / "d"
    d.mkdir(mode=0o755)
    assert trust.ok(os.stat(d))
    for mode in (0o775, 0o757, 0o777):
        os.chmod(d, mode)
        assert not trust.ok(os.stat(d)), oct(mode)
    os.chmod(d, 0o700)
    st = os.stat(d)
    assert trust.ok(st)
    other = os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, os.geteuid() + 1, st.st_gid,
                            st.st_size, 0, 0, 0))
    assert not trust.ok(other)


@posix_only
def test_a_group_writable_root_is_refused_naming_path_owner_mode_and_fix(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    os.chmod(root, 0o775)
    with pytest.raises(UserError) as e:
        resolve_root(str(root))
    msg = str(e.value)
    assert msg.startswith(f"refusing to use the vpython cache root {root}: it is writable by its group (owner ")
    assert "mode 0775" in msg and "(root set by -vpython-root/--root)" in msg
    assert f"chmod go-w {root}" in e.value.hint and trust.SHARED_ENV in e.value.hint


@posix_only
def test_v1_and_every_top_level_dir_are_checked(tmp_path):
    root = tmp_path / "root"
    (root / "v1" / "specs").mkdir(parents=True)
    assert resolve_root(str(root)) == str(root)
    os.chmod(root / "v1", 0o777)
    with pytest.raises(VPythonError, match="cache directory .*/v1: it is writable by anyone"):
        resolve_root(str(root))
    os.chmod(root / "v1", 0o755)
    os.chmod(root / "v1" / "specs", 0o770)
    with pytest.raises(VPythonError, match="/v1/specs: it is writable by its group"):
        check_layout(Layout(str(root)))
    os.chmod(root / "v1" / "specs", 0o755)
    os.symlink(tmp_path, root / "v1" / "envs")
    with pytest.raises(VPythonError, match="/v1/envs: it is not a directory .a symlink"):
        check_layout(Layout(str(root)))


@posix_only
def test_parent_writable_by_others_is_refused_unless_sticky(tmp_path):
    parent = tmp_path / "p"
    parent.mkdir()
    os.chmod(parent, 0o777)
    with pytest.raises(UserError, match=f"its directory {parent} can be written by others"):
        resolve_root(str(parent / "root"))  # even before the root exists
    os.chmod(parent, 0o1777)  # like /tmp: nobody can rename our root away
    assert resolve_root(str(parent / "root")) == str(parent / "root")


@posix_only
def test_shared_opt_in_allows_group_write_but_not_world_write(tmp_path, monkeypatch):
    root = tmp_path / "root"
    root.mkdir()
    os.chmod(root, 0o2775)
    monkeypatch.setenv(trust.SHARED_ENV, "1")
    assert resolve_root(str(root)) == str(root)
    assert trust.shared()
    os.chmod(root, 0o777)
    with pytest.raises(UserError, match="writable by anyone"):
        resolve_root(str(root))


@posix_only
def test_the_config_key_is_read_only_when_the_private_rules_fail(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(trust, "_config_opt_in", lambda: calls.append(1) or True)
    root = tmp_path / "root"
    root.mkdir()
    resolve_root(str(root))
    assert calls == []  # a private warm start never parses the config file
    os.chmod(root, 0o775)
    assert resolve_root(str(root)) == str(root) and calls == [1] and trust.shared()


@posix_only
def test_tmpdir_fallback_is_made_0700(tmp_path, monkeypatch):
    for var in ("VPYTHON_VIRTUALENV_ROOT", "HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    root = resolve_root(None)
    assert root == os.path.join(str(tmp_path), f"vpython-root_{os.getuid()}")
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700


@posix_only
def test_restricted_umask_and_its_restore(monkeypatch):
    monkeypatch.setattr(fs, "_user_umask", None)
    os.umask(0o002)
    fs.restrict_umask(shared=False)
    assert os.umask(0o022) == 0o022
    fs.restore_umask()
    assert os.umask(0o022) == 0o002
    monkeypatch.setattr(fs, "_user_umask", None)
    os.umask(0o077)
    fs.restrict_umask(shared=True)
    assert os.umask(0o022) == 0o007  # group may write a shared root; others never
    assert fs.user_file_mode() == 0o600  # a user's file still gets the user's own umask


@posix_only
def test_audit_names_what_others_could_write(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "f").write_text("x")
    os.chmod(tmp_path / "a" / "f", 0o666)
    os.chmod(tmp_path / "a" / "b", 0o775)
    (tmp_path / "a" / "x.lock").write_text("")
    os.chmod(tmp_path / "a" / "x.lock", 0o666)  # lock files are never read: not reported
    found = trust.audit(str(tmp_path / "a"))
    assert [f.split(":")[0] for f in found] == [str(tmp_path / "a" / "b"), str(tmp_path / "a" / "f")]
    assert "writable by its group" in found[0] and "writable by anyone" in found[1]
