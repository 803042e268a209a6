"""vpython.env.fastpath: the spec digest, the spec pointer and the warm lookup."""

from __future__ import annotations

import fcntl
import os
import sys
import time

import pytest

from vpython.env import fastpath
from vpython.settings import SETTINGS_ENV
from vpython.store.root import Layout


def test_pointer_round_trips_and_garbage_is_no_pointer(tmp_path):
    p = fastpath.Pointer("a" * 32, "/usr/bin/python3", "1:2:3")
    (tmp_path / "ptr").write_text(p.dump())
    back = fastpath.Pointer.load(str(tmp_path / "ptr"))
    assert (back.env_key, back.interpreter, back.interpreter_id) == ("a" * 32, "/usr/bin/python3", "1:2:3")
    (tmp_path / "bad").write_text("env=x\n")  # no interpreter
    assert fastpath.Pointer.load(str(tmp_path / "bad")) is None
    assert fastpath.Pointer.load(str(tmp_path / "missing")) is None


def test_spec_digest_covers_everything_that_changes_the_env(tmp_path, monkeypatch):
    lock = tmp_path / "pylock.toml"
    lock.write_text("a")
    config = tmp_path / "config.toml"
    config.write_text("c")
    args = ("pep723", "text", str(lock), ("", "\0"), str(config))
    base = fastpath.spec_digest(*args)
    assert base == fastpath.spec_digest(*args) and len(base) == 40
    seen = {base}
    for changed in (
        ("toml", *args[1:]),
        (args[0], "text2", *args[2:]),
        (*args[:2], None, *args[3:]),
        (*args[:3], ("py", "\0"), args[4]),
        (*args[:3], ("", "x"), args[4]),
        (*args[:4], None),
    ):
        seen.add(fastpath.spec_digest(*changed))
    lock.write_text("b")  # the lockfile's bytes, not its name
    seen.add(fastpath.spec_digest(*args))
    config.write_text("d")
    seen.add(fastpath.spec_digest(*args))
    for name in SETTINGS_ENV:
        monkeypatch.setenv(name, "x")
        seen.add(fastpath.spec_digest(*args))
    assert len(seen) == 9 + len(SETTINGS_ENV)
    assert fastpath.spec_digest(*args[:3], ("", None), args[4]) == fastpath.spec_digest(*args)  # None is "\0"


def _published(tmp_path):
    """A built env and its pointer, on an "interpreter" we control."""
    layout = Layout(str(tmp_path / "root"))
    python = tmp_path / "python3"
    python.write_text("#!")
    key = "e" * 32
    os.makedirs(layout.env_dir(key))
    (tmp_path / "root" / "v1" / "envs" / key / "pyvenv.cfg").write_text("")
    os.makedirs(layout.specs)
    p = fastpath.Pointer(key, str(python), fastpath.interpreter_id(str(python)))
    with open(layout.spec_pointer("d"), "w") as f:
        f.write(p.dump())
    return layout, key, python


def test_lookup_holds_the_env_shared_and_records_last_use(tmp_path):
    layout, key, _ = _published(tmp_path)
    hit = fastpath.lookup(layout, "d")
    assert hit is not None
    pointer, fd = hit
    try:
        assert pointer.env_key == key
        assert time.time() - os.stat(layout.env_lock(key)).st_mtime < 60
        probe = os.open(layout.env_lock(key), os.O_RDWR)
        with pytest.raises(BlockingIOError):  # what gc's delete tries
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(probe)
    finally:
        os.close(fd)


def test_lookup_misses_on_a_new_interpreter_a_gone_env_or_a_gc_in_progress(tmp_path):
    layout, key, python = _published(tmp_path)
    assert fastpath.lookup(layout, "other-digest") is None
    gc_fd = os.open(layout.env_lock(key), os.O_RDWR | os.O_CREAT)
    fcntl.flock(gc_fd, fcntl.LOCK_EX)  # gc is deleting it
    assert fastpath.lookup(layout, "d") is None
    os.close(gc_fd)
    python.write_text("#! rebuilt")  # the interpreter binary changed
    assert fastpath.lookup(layout, "d") is None
    (tmp_path / "2").mkdir()
    layout, key, python = _published(tmp_path / "2")
    os.unlink(os.path.join(layout.env_dir(key), "pyvenv.cfg"))
    assert fastpath.lookup(layout, "d") is None


def test_env_paths():
    assert fastpath.env_python("/e") == (
        "/e/Scripts/python.exe" if sys.platform == "win32" else "/e/bin/python"
    )
    assert fastpath.env_bin("/e").endswith("bin") or fastpath.env_bin("/e").endswith("Scripts")


def test_the_builtin_sha256_is_sha256():
    h = fastpath._sha256()
    h.update(b"abc")
    assert h.hexdigest().startswith("ba7816bf")
