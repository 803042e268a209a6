"""vpython.store.root: where the cache lives, its layout, and its write errors."""

from __future__ import annotations

import errno
import os

import pytest

from vpython.errors import UserError, VPythonError
from vpython.store.root import Layout, cache_write_error, is_disk_error, list_names, resolve_root


def test_list_names_skips_hidden_names_and_missing_dirs(tmp_path):
    for name in ("b", "a", ".tmp-x", ".a.build.lock"):
        (tmp_path / name).touch()
    assert list_names(str(tmp_path)) == ["a", "b"]
    assert list_names(str(tmp_path / "missing")) == []
    assert list_names(str(tmp_path / "a")) == []  # a file, not a dir


def test_layout_is_versioned_and_keyed(tmp_path):
    layout = Layout(str(tmp_path))
    assert layout.base == os.path.join(str(tmp_path), "v1")
    assert layout.env_dir("k") == os.path.join(layout.envs, "k")
    assert layout.env_lock("k") == os.path.join(layout.envs, "k.lock")  # outside the env dir
    assert layout.env_build_lock("k") == os.path.join(layout.envs, ".k.build.lock")
    assert layout.spec_pointer("d") == os.path.join(layout.specs, "d")
    assert layout.cached_lock("d") == os.path.join(layout.locks, "d.pylock.toml")
    assert not os.path.exists(layout.base)  # pure string joins: nothing is created


def test_root_precedence_flag_env_default(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("VPYTHON_VIRTUALENV_ROOT", raising=False)
    assert resolve_root(None) == os.path.join(str(tmp_path / "xdg"), f"vpython-root.{os.getuid()}")
    monkeypatch.setenv("VPYTHON_VIRTUALENV_ROOT", str(tmp_path / "env"))
    assert resolve_root(None) == str(tmp_path / "env")
    assert resolve_root(str(tmp_path / "flag")) == str(tmp_path / "flag")


def test_a_file_as_root_is_a_user_error_naming_who_set_it(tmp_path, monkeypatch):
    afile = tmp_path / "f"
    afile.write_text("x")
    with pytest.raises(UserError, match="is not a directory") as e:
        resolve_root(str(afile))
    assert "-vpython-root" in str(e.value) and e.value.hint
    monkeypatch.setenv("VPYTHON_VIRTUALENV_ROOT", str(afile / "below"))
    with pytest.raises(UserError, match=f"cannot be created: {afile} is not a directory") as e:
        resolve_root(None)
    assert "VPYTHON_VIRTUALENV_ROOT" in str(e.value)
    assert afile.read_text() == "x"


def test_default_root_below_a_file_is_an_error_with_a_hint(tmp_path, monkeypatch):
    (tmp_path / "xdg").write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("VPYTHON_VIRTUALENV_ROOT", raising=False)
    with pytest.raises(VPythonError) as e:
        resolve_root(None)
    assert not isinstance(e.value, UserError) and "VPYTHON_VIRTUALENV_ROOT" in e.value.hint


def test_disk_errors_become_one_line_errors_naming_the_root():
    full = OSError(errno.ENOSPC, "No space left on device", "/r/v1/tmp/x")
    assert is_disk_error(full) and not is_disk_error(OSError(errno.ENOENT, "gone"))
    e = cache_write_error(full, "/r")
    assert str(e).startswith("cannot write to the vpython cache at /r: No space left on device (/r/v1/tmp/x)")
    assert "free space" in e.hint
    ro = cache_write_error(OSError(errno.EROFS, "Read-only file system"), "/r")
    assert "writable" in ro.hint and "(" not in ro.message  # no file name to show

