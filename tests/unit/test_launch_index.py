"""vpython/env/launch_index.py: an entry records every path discovery looks at.

The tripwire: discovery runs with ``os.stat`` and ``open`` watched, and every path it
touched must appear in the entry (as a file identity, a path that must stay empty, a
barrier or a realpath). A discovery rule added later without teaching the index about it
fails here instead of letting the launcher run a stale env.
"""

from __future__ import annotations

import builtins
import os
import sys
import time

import pytest

from vpython.env import fastpath, launch_index
from vpython.interpreters.identity import interpreter_id
from vpython.settings import config_path
from vpython.spec import discover as disc
from vpython.store.root import Layout

KEY = "ab" * 16  # an env key is hex (fastpath.Pointer.load refuses anything else)

PEP723 = '# /// script\n# dependencies = ["tinyapp"]\n# ///\nprint(1)\n'
SPEC = 'python_version: "3.11"\n'


def _settle(root):
    old = time.time() - 3600
    for dirpath, _, files in os.walk(root):
        for f in files:
            os.utime(os.path.join(dirpath, f), (old, old))


def _unescape(field: str) -> str:
    out = bytearray()
    i = 0
    raw = field.encode("ascii")
    while i < len(raw):
        if raw[i] == 0x25:
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return os.fsdecode(bytes(out))


def _recorded(text: str) -> set:
    paths = set()
    for line in text.splitlines():
        f = line.split(" ")
        if f[0] in ("nofile", "exists", "absent"):
            paths.add(_unescape(f[1]))
        elif f[0] == "file":
            paths.add(_unescape(f[6]))
        elif f[0] == "realpath":
            paths.update((_unescape(f[1]), _unescape(f[2])))
    return paths


def _watched_discover(monkeypatch, **kw):
    probed = set()
    real_stat, real_open = os.stat, builtins.open

    def stat(path, *a, **k):
        probed.add(os.fspath(path))
        return real_stat(path, *a, **k)

    def opener(path, *a, **k):
        probed.add(os.fspath(path))
        return real_open(path, *a, **k)

    with monkeypatch.context() as m:
        m.setattr(os, "stat", stat)
        m.setattr(builtins, "open", opener)
        found = disc.discover(**kw)
    return found, probed


def _layout(name, t):
    """(target_kind, target, cwd) for a small tree under ``t``."""
    (t / "top" / ".gclient").parent.mkdir(parents=True)
    (t / "top" / ".gclient").write_text("")
    proj = t / "top" / "proj"
    proj.mkdir()
    if name == "inline":
        (proj / "s.py").write_text(PEP723)
        (proj / "pylock.s.toml").write_text("lock-version = '1.0'\n")
        return "script", str(proj / "s.py"), str(t)
    if name == "partner":
        (proj / "s.py").write_text("print(1)\n")
        (proj / "s.py.vpython3").write_text(SPEC)
        return "script", "top/proj/s.py", str(t)
    if name == "symlink-real-partner":
        (proj / "s.py").write_text("print(1)\n")
        (proj / "s.py.vpython3").write_text(SPEC)
        (t / "bin").mkdir()
        (t / "bin" / "tool").symlink_to(proj / "s.py")
        return "script", str(t / "bin" / "tool"), str(t)
    if name == "walk":
        (t / "top" / ".vpython3").write_text(SPEC)
        (proj / "a" / "b").mkdir(parents=True)
        (proj / "a" / "b" / "s.py").write_text("print(1)\n")
        return "script", str(proj / "a" / "b" / "s.py"), str(t)
    if name == "walk-toml":
        (proj / "vpython.toml").write_text('dependencies = ["tinyapp"]\n')
        (proj / "s.py").write_text("print(1)\n")
        return "script", str(proj / "s.py"), str(t)
    if name == "barrier-empty":
        (proj / ".gclient").mkdir()
        (proj / "s.py").write_text("print(1)\n")
        return "script", str(proj / "s.py"), str(t)
    if name == "default-spec":
        (proj / "s.py").write_text("print(1)\n")
        return "script", str(proj / "s.py"), str(t)
    if name == "module-cwd-partner":
        (t / "top" / "proj.vpython3").write_text(SPEC)
        return "module", "pkg", str(proj)
    if name == "command-walk":
        (t / "top" / "vpython.toml").write_text('dependencies = ["tinyapp"]\n')
        return "command", "print(1)", str(proj)
    if name == "stdin-empty":
        return "stdin", "-", str(proj)
    raise AssertionError(name)


LAYOUTS = ["inline", "partner", "symlink-real-partner", "walk", "walk-toml", "barrier-empty", "default-spec",
           "module-cwd-partner", "command-walk", "stdin-empty"]


@pytest.mark.parametrize("name", LAYOUTS)
def test_entry_covers_every_path_discovery_probes(name, tmp_path, monkeypatch):
    t = tmp_path / "tree"
    t.mkdir()
    kind, target, cwd = _layout(name, t)
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    default = None
    if name == "default-spec":
        (t / "default.vpython3").write_text(SPEC)
        default = str(t / "default.vpython3")
        monkeypatch.setenv("VPYTHON_DEFAULT_SPEC", default)
    _settle(t)
    found, probed = _watched_discover(monkeypatch, target_kind=kind, target=target, cwd=cwd, default_spec=default)
    settings = ("", "\0", "", "0")
    digest = fastpath.spec_digest(found.kind, found.text, found.lock_path, settings, config_path())
    layout = Layout(str(tmp_path / "root"))
    os.makedirs(layout.specs)
    pointer = fastpath.Pointer(KEY, sys.executable, interpreter_id(sys.executable))
    with open(layout.spec_pointer(digest), "w") as f:
        f.write(pointer.dump())
    path, text = launch_index.build_entry(layout, kind, target, cwd, found, digest, pointer, settings)
    assert path == launch_index.entry_path(layout, launch_index.entry_key(kind, target, cwd))
    recorded = _recorded(text)
    missing = {p for p in probed if p not in recorded and os.path.abspath(p) not in recorded}
    assert not missing, f"discovery looked at paths the index does not check: {sorted(missing)}\n{text}"
    if found.path:
        assert found.path in recorded
    if found.lock_path:
        assert found.lock_path in recorded
    assert config_path() in recorded
    assert f"\nexec {KEY}\n" in text and text.endswith("\nend\n")


def _entry_for(tmp_path, monkeypatch, kind, target, cwd, default=None):
    monkeypatch.chdir(cwd)
    found = disc.discover(target_kind=kind, target=target, cwd=cwd, default_spec=default)
    settings = ("", "\0", "", "0")
    digest = fastpath.spec_digest(found.kind, found.text, found.lock_path, settings, config_path())
    layout = Layout(str(tmp_path / "root"))
    os.makedirs(layout.specs, exist_ok=True)
    pointer = fastpath.Pointer(KEY, sys.executable, interpreter_id(sys.executable))
    with open(layout.spec_pointer(digest), "w") as f:
        f.write(pointer.dump())
    return launch_index.build_entry(layout, kind, target, cwd, found, digest, pointer, settings)


def test_no_entry_for_a_file_changed_within_the_margin(tmp_path, monkeypatch):
    (tmp_path / ".gclient").write_text("")
    script = tmp_path / "s.py"
    script.write_text(PEP723)
    with pytest.raises(launch_index._Skip, match="changed in the last"):
        _entry_for(tmp_path, monkeypatch, "script", str(script), str(tmp_path))
    _settle(tmp_path)
    _entry_for(tmp_path, monkeypatch, "script", str(script), str(tmp_path))


def test_no_entry_when_the_spec_changed_while_vpython_ran(tmp_path, monkeypatch):
    (tmp_path / ".gclient").write_text("")
    script = tmp_path / "s.py"
    script.write_text(PEP723)
    _settle(tmp_path)
    monkeypatch.chdir(tmp_path)
    found = disc.discover(target_kind="script", target=str(script), cwd=str(tmp_path))
    script.write_text(PEP723.replace("tinyapp", "tinydep"))  # after discovery, before the entry
    _settle(tmp_path)
    settings = ("", "\0", "", "0")
    digest = fastpath.spec_digest(found.kind, found.text, found.lock_path, settings, config_path())
    layout = Layout(str(tmp_path / "root"))
    os.makedirs(layout.specs)
    pointer = fastpath.Pointer(KEY, sys.executable, interpreter_id(sys.executable))
    with open(layout.spec_pointer(digest), "w") as f:
        f.write(pointer.dump())
    with pytest.raises(launch_index._Skip, match="the spec changed while vpython ran"):
        launch_index.build_entry(layout, "script", str(script), str(tmp_path), found, digest, pointer, settings)


def test_no_entry_for_package_directories_relative_default_specs_or_inline_commands(tmp_path, monkeypatch):
    (tmp_path / ".gclient").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__main__.py").write_text("print(1)\n")
    (tmp_path / "d.vpython3").write_text(SPEC)
    (tmp_path / "s.py").write_text("print(1)\n")
    _settle(tmp_path)
    with pytest.raises(launch_index._Skip, match="not a regular file"):
        _entry_for(tmp_path, monkeypatch, "script", str(tmp_path / "pkg"), str(tmp_path))
    monkeypatch.setenv("VPYTHON_DEFAULT_SPEC", "d.vpython3")
    with pytest.raises(launch_index._Skip, match="relative"):
        _entry_for(tmp_path, monkeypatch, "script", str(tmp_path / "s.py"), str(tmp_path), default="d.vpython3")
    assert launch_index.entry_key("command", "# /// script\n# ///\n", "/x") is None
    assert launch_index.entry_key("command", "# [VPYTHON:BEGIN]", "/x") is None
    assert launch_index.entry_key("none", None, "/x") is None
    assert launch_index.entry_key("command", "print(1)", "/x") == "cwd /x"


def test_escaping_round_trips_any_byte():
    raw = os.fsdecode(b"/a b/%/\n/\xff/=x")
    assert " " not in launch_index._esc(raw) and "\n" not in launch_index._esc(raw)
    assert _unescape(launch_index._esc(raw)) == raw


def test_prune_keeps_the_index_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(launch_index, "MAX_ENTRIES", 8)
    d = tmp_path / "launch"
    d.mkdir()
    for i in range(12):
        p = d / f"{i:016x}"
        p.write_text("x")
        os.utime(p, (1000 + i, 1000 + i))
    stale_tmp = d / ".tmp-1-abcd"
    stale_tmp.write_text("")
    os.utime(stale_tmp, (1000, 1000))
    launch_index._prune(str(d))
    left = sorted(p.name for p in d.iterdir())
    assert left == [f"{i:016x}" for i in range(6, 12)]  # the newest three quarters of the cap
