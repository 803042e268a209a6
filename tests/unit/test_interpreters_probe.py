"""vpython.interpreters.probe: one spawn per binary, cached on disk by identity."""

from __future__ import annotations

import os
import sys
import sysconfig

import pytest

from tests.support import pythons
from tests.support.pythons import pyenv_python27
from vpython.errors import InterpreterError
from vpython.interpreters import probe as probe_mod
from vpython.interpreters.probe import probe
from vpython.interpreters.tags import marker_environment

# pytest fixtures shared by the tests of vpython.interpreters
fresh_memo = pythons.fresh_memo
spawns = pythons.spawns


def test_probe_describes_the_running_interpreter(tmp_path):
    interp = probe(sys.executable, str(tmp_path))
    assert interp.version == tuple(sys.version_info[:3])
    assert interp.implementation == "cpython" and interp.supported
    assert interp.cache_tag == sys.implementation.cache_tag
    assert interp.abiflags == getattr(sys, "abiflags", "")
    assert interp.platform == sysconfig.get_platform()
    assert interp.is_64bit == (sys.maxsize > 2**32)
    expected = "Lib/site-packages" if os.name == "nt" else f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"
    assert interp.purelib == expected
    real = os.path.realpath(sys.executable)
    st = os.stat(real)
    assert interp.identity == (real, st.st_size, st.st_mtime_ns)
    from packaging.markers import default_environment

    assert marker_environment(interp) == default_environment()


def test_probe_cache_hit_does_not_spawn(tmp_path, spawns, monkeypatch):
    cache = str(tmp_path / "cache")
    first = probe(sys.executable, cache)
    assert len(spawns) == 1
    assert len(os.listdir(cache)) == 1
    probe_mod.clear_memo()  # a new process: only the disk cache remains
    second = probe(sys.executable, cache)
    assert len(spawns) == 1 and second == first and second.probe == first.probe
    # another identity (rebuilt binary: new mtime) is a miss
    probe_mod.clear_memo()
    real_identity = probe_mod.probe_identity
    monkeypatch.setattr(probe_mod, "probe_identity", lambda p: real_identity(p)[:2] + (1,))
    probe(sys.executable, cache)
    assert len(spawns) == 2 and len(os.listdir(cache)) == 2


def test_probe_without_cache_dir_memoizes_in_process(spawns):
    probe(sys.executable)
    probe(sys.executable)
    assert len(spawns) == 1


def test_corrupt_cache_is_ignored(tmp_path, spawns):
    cache = tmp_path / "cache"
    probe(sys.executable, str(cache))
    for f in cache.iterdir():
        f.write_text("{not json")
    probe_mod.clear_memo()
    assert probe(sys.executable, str(cache)).version == tuple(sys.version_info[:3])
    assert len(spawns) == 2


def test_probe_runs_on_python27():
    python = pyenv_python27()
    if python is None:
        pytest.skip("no pyenv Python 2.7")
    interp = probe(python)
    assert interp.version[:2] == (2, 7) and interp.implementation == "cpython" and not interp.supported


def test_probe_errors(tmp_path):
    with pytest.raises(InterpreterError, match="not found"):
        probe(str(tmp_path / "nope"))
    fake = tmp_path / "python3.99"
    fake.write_text("#!/bin/sh\necho hello\n")
    fake.chmod(0o755)
    with pytest.raises(InterpreterError, match="does not look like a Python"):
        probe(str(fake))
    broken = tmp_path / "python3.98"
    broken.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(InterpreterError, match=r"exit 3.*boom"):
        probe(str(broken))
