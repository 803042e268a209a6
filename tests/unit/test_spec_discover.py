"""Discovery in isolation (no envs): order, lockfile naming, barriers, errors."""

from __future__ import annotations

import os

import pytest

from vpython.errors import SpecError, UserError
from vpython.spec.discover import discover, lock_path_for


def d(target, cwd, **kw):
    kind = kw.pop("kind", "script")
    return discover(target_kind=kind, target=str(target) if target else None, cwd=str(cwd), **kw)


def test_lock_path_naming(tmp_path):
    assert lock_path_for("/p/.vpython3") == "/p/pylock.vpython.toml"
    assert lock_path_for("/p/vpython.toml") == "/p/pylock.vpython.toml"
    assert lock_path_for("/p/tool.py.vpython3") == "/p/pylock.tool.toml"
    assert lock_path_for("/p/x.vpython3") == "/p/pylock.x.toml"
    assert lock_path_for("/p/run.py", inline_script=True) == "/p/pylock.run.toml"
    assert lock_path_for("/p/run", inline_script=True) == "/p/pylock.run.toml"


def test_order_partner_then_inline_then_walk(tmp_path):
    (tmp_path / ".gclient").write_text("")
    s = tmp_path / "a" / "s.py"
    s.parent.mkdir()
    s.write_text("# /// script\n# dependencies = []\n# ///\n")
    (tmp_path / ".vpython3").write_text("")
    assert d(s, tmp_path).kind == "pep723"
    (tmp_path / "a" / "s.py.vpython3").write_text('python_version: "3"\n')
    found = d(s, tmp_path)
    assert found.kind == "textproto" and found.path.endswith("s.py.vpython3")
    os.unlink(tmp_path / "a" / "s.py.vpython3")
    s.write_text("print(1)\n")
    found = d(s, tmp_path)
    assert found.path == str(tmp_path / ".vpython3") and found.lock_path == str(tmp_path / "pylock.vpython.toml")


def test_pep723_beats_vpython_block_and_offsets(tmp_path):
    (tmp_path / ".gclient").write_text("")
    s = tmp_path / "s.py"
    s.write_text("x = 1\n# [VPYTHON:BEGIN]\n# python_version: '3'\n# [VPYTHON:END]\n")
    found = d(s, tmp_path)
    assert found.kind == "textproto" and found.line_offset == 2 and "python_version" in found.text
    s.write_text(s.read_text() + "# /// script\n# dependencies = []\n# ///\n")
    assert d(s, tmp_path).kind == "pep723"


def test_toml_before_vpython3_in_one_dir_and_barrier(tmp_path):
    (tmp_path / "top.txt").write_text("")
    root = tmp_path / "r"
    (root / "sub").mkdir(parents=True)
    (root / ".vpython3").write_text("")
    (root / "vpython.toml").write_text('dependencies = []\n')
    s = root / "sub" / "s.py"
    s.write_text("")
    assert d(s, tmp_path).kind == "toml"
    (root / "sub" / ".gclient").write_text("")
    assert d(s, tmp_path).kind == "empty"


def test_default_spec_and_explicit(tmp_path):
    (tmp_path / ".gclient").write_text("")
    s = tmp_path / "s.py"
    s.write_text("")
    spec = tmp_path / "d.vpython3"
    spec.write_text("")
    assert d(s, tmp_path, default_spec=str(spec)).origin.startswith("VPYTHON_DEFAULT_SPEC")
    with pytest.raises(UserError, match="VPYTHON_DEFAULT_SPEC"):
        d(s, tmp_path, default_spec=str(tmp_path / "missing"))
    with pytest.raises(UserError, match="-vpython-spec"):
        d(s, tmp_path, explicit=str(tmp_path / "missing"))


def test_unterminated_inline_block_is_error(tmp_path):
    s = tmp_path / "s.py"
    s.write_text("# [VPYTHON:BEGIN]\n# python_version: '3'\n")
    with pytest.raises(SpecError):
        d(s, tmp_path)


def test_binary_script_is_not_scanned(tmp_path):
    (tmp_path / ".gclient").write_text("")
    s = tmp_path / "app.pyz"
    s.write_bytes(b"#!/usr/bin/env python3\nPK\x03\x04\x00\x00" + b"x" * 70000 + b"\n")
    assert d(s, tmp_path).kind == "empty"


def test_cwd_partner_quirk_for_non_script_targets(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "work.vpython3").write_text("")
    assert d(None, work, kind="command").path == str(tmp_path / "work.vpython3")


def test_missing_target_is_user_error(tmp_path):
    with pytest.raises(UserError, match="cannot run"):
        d(tmp_path / "nope.py", tmp_path)
    (tmp_path / "pkgdir").mkdir()
    with pytest.raises(UserError, match="__main__"):
        d(tmp_path / "pkgdir", tmp_path)


@pytest.mark.parametrize("kind", ["directory", "fifo", "device"])
def test_a_named_spec_that_is_not_a_regular_file_says_so(tmp_path, kind):
    from vpython.errors import UserError

    if kind == "directory":
        path, what = str(tmp_path), "a directory"
    elif kind == "fifo":
        path, what = str(tmp_path / "f"), "a FIFO"
        os.mkfifo(path)
    else:
        path, what = "/dev/null", "a device"
    with pytest.raises(UserError) as e:
        discover(target_kind="none", target=None, cwd=str(tmp_path), explicit=path)
    assert str(e.value).startswith(f"{path}: -vpython-spec: not a regular file ({what})")
