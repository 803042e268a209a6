"""vpython.interpreters.select: python_version / requires-python / explicit path rules."""

from __future__ import annotations

import os
import sys

import pytest

from tests.support import pythons
from tests.support.pythons import pyenv_python, pyenv_python27
from vpython.errors import InterpreterError, UserError
from vpython.interpreters import select as S
from vpython.interpreters.discover import default_interpreter_path, find_interpreters
from vpython.interpreters.model import Interpreter

# pytest fixtures shared by the tests of vpython.interpreters
fresh_memo = pythons.fresh_memo


def test_python2_is_refused_with_a_hint_unless_the_spec_is_text_proto():
    for v in ("2.7", "2", "2.7.18"):
        with pytest.raises(InterpreterError) as e:
            S.select_interpreter(version=v)
        assert "Python 2.7 is not supported by vpython for this kind of spec" in str(e.value)
        assert "only text-proto specs" in str(e.value) and '"3.8"' in e.value.hint
        assert e.value.exit_code == 2
    with pytest.raises(InterpreterError, match="3.7 is not supported"):
        S.select_interpreter(version="3.7")
    with pytest.raises(InterpreterError, match="3.7 is not supported"):
        S.select_interpreter(version="3.7", allow_27=True)


def test_explicit_python27_is_refused_for_other_specs_and_taken_for_text_proto(tmp_path):
    python = pyenv_python27()
    if python is None:
        pytest.skip("no pyenv Python 2.7")
    with pytest.raises(InterpreterError, match="Python 2.7 is not supported by vpython"):
        S.select_interpreter(explicit=python)
    interp = S.select_interpreter(explicit=python, allow_27=True, cache_dir=str(tmp_path))
    assert interp.version[:2] == (2, 7) and interp.is_py27 and not interp.supported
    assert interp.cache_tag == "cpython-27" and interp.probe["libc"]  # glibc via ctypes on pyenv's 2.7


def test_python_version_27_finds_the_installed_27(tmp_path):
    python = pyenv_python27()
    if python is None:
        pytest.skip("no pyenv Python 2.7")
    for v in ("2.7", "2"):
        interp = S.select_interpreter(version=v, allow_27=True, cache_dir=str(tmp_path))
        assert interp.version[:2] == (2, 7)


def test_python_version_27_without_a_27_says_how_to_get_one(monkeypatch, tmp_path):
    real = S.find_interpreters
    monkeypatch.setattr(S, "find_interpreters", lambda cache_dir=None: [i for i in real(cache_dir) if not i.is_py27])
    with pytest.raises(InterpreterError) as e:
        S.select_interpreter(version="2.7", allow_27=True, cache_dir=str(tmp_path))
    assert e.value.key == "python_version" and "needs a CPython 2.7, and none is installed" in e.value.message
    assert "pyenv install 2.7.18" in e.value.hint and "-vpython-interpreter" in e.value.hint


def test_bad_requests_are_user_errors():
    with pytest.raises(UserError, match="not a version"):
        S.select_interpreter(version="three")
    with pytest.raises(UserError, match="requires-python"):
        S.select_interpreter(requires_python=">=>3")


def test_explicit_path_wins(tmp_path, capsys):
    python = pyenv_python(12) or pyenv_python(10) or sys.executable
    interp = S.select_interpreter(version="3.11", explicit=python, cache_dir=str(tmp_path))
    assert interp.path == os.path.abspath(python)
    if interp.version[:2] != (3, 11):
        assert "does not match" in capsys.readouterr().err
    with pytest.raises(InterpreterError, match="does not exist"):
        S.select_interpreter(explicit=str(tmp_path / "python3.42"))
    with pytest.raises(InterpreterError, match="not found on PATH"):
        S.select_interpreter(explicit="python3.42-surely-not-installed")


def test_explicit_shim_resolves_to_the_real_binary(tmp_path):
    shim = tmp_path / "python3"
    shim.write_text(f"#!/bin/sh\nexec '{os.path.realpath(sys.executable)}' \"$@\"\n")
    shim.chmod(0o755)
    interp = S.select_interpreter(explicit=str(shim), cache_dir=str(tmp_path / "c"))
    assert interp.realpath == os.path.realpath(sys.executable)


def test_default_is_the_running_interpreter(tmp_path):
    interp = S.select_interpreter(cache_dir=str(tmp_path))
    assert interp.realpath == os.path.realpath(default_interpreter_path())
    assert interp.version == tuple(sys.version_info[:3])


def test_version_selection_against_real_interpreters(tmp_path):
    found = [i for i in find_interpreters(str(tmp_path)) if i.supported]
    newest = max(found, key=lambda i: i.sort_key)
    assert S.select_interpreter("3", cache_dir=str(tmp_path)).sort_key == newest.sort_key
    for interp in found:
        mm = f"{interp.version[0]}.{interp.version[1]}"
        best = max((i for i in found if i.version[:2] == interp.version[:2]), key=lambda i: i.sort_key)
        assert S.select_interpreter(mm, cache_dir=str(tmp_path)).version == best.version
        exact = S.select_interpreter(".".join(map(str, interp.version)), cache_dir=str(tmp_path))
        assert exact.version == interp.version


def test_requires_python_prefers_the_running_interpreter(tmp_path):
    me = sys.version_info
    got = S.select_interpreter(requires_python=f">={me[0]}.{me[1]}", cache_dir=str(tmp_path))
    assert got.realpath == os.path.realpath(default_interpreter_path())
    older = [i for i in find_interpreters(str(tmp_path)) if i.supported and i.version[:2] < me[:2]]
    if older:
        got = S.select_interpreter(requires_python=f"<{me[0]}.{me[1]}", cache_dir=str(tmp_path))
        assert got.version == max(older, key=lambda i: i.sort_key).version


def _fake(path, version, level="final"):
    return Interpreter(path=path, version=version, implementation="cpython", cache_tag=f"cpython-3{version[1]}",
                         abiflags="", platform="linux-x86_64", is_64bit=True,
                         purelib=f"lib/python3.{version[1]}/site-packages",
                         platlib=f"lib/python3.{version[1]}/site-packages",
                         identity=(path, 1, 1), releaselevel=level)


def test_selection_rules_with_fake_interpreters(monkeypatch):
    pool = [_fake("/a/3.12.1", (3, 12, 1)), _fake("/a/3.13.0rc1", (3, 13, 0), "candidate"),
            _fake("/a/3.11.4", (3, 11, 4)), _fake("/a/3.11.9", (3, 11, 9)), _fake("/a/3.10.2", (3, 10, 2)),
            _fake("/a/3.7.1", (3, 7, 1))]
    default = pool[4]  # "running" 3.10.2
    monkeypatch.setattr(S, "find_interpreters", lambda cache_dir=None: list(pool))
    monkeypatch.setattr(S, "default_interpreter_path", lambda: default.path)
    monkeypatch.setattr(S, "probe", lambda path, cache_dir=None: next(i for i in pool if i.path == path))
    sel = S.select_interpreter
    assert sel("3.11").path == "/a/3.11.9"
    assert sel("3.11.4").path == "/a/3.11.4"
    assert sel("3").path == "/a/3.13.0rc1"
    assert sel("3.13").path == "/a/3.13.0rc1"
    assert sel().path == default.path
    assert sel(requires_python=">=3.9").path == default.path  # the running one satisfies
    assert sel(requires_python=">=3.11").path == "/a/3.13.0rc1"  # newest satisfying
    assert sel(requires_python=">=3.11,<3.13").path == "/a/3.12.1"
    assert sel("3.11", requires_python="<3.11.5").path == "/a/3.11.4"
    with pytest.raises(InterpreterError) as e:
        sel("3.9")
    msg = str(e.value)
    assert 'python_version "3.9"' in msg and "CPython 3.11.9 (/a/3.11.9)" in msg and "3.7.1 (/a/3.7.1) [unsupported]" in msg
    assert "pyenv install 3.9" in e.value.hint and "-vpython-interpreter" in e.value.hint
    with pytest.raises(InterpreterError, match='requires-python "<3.8"'):
        sel(requires_python="<3.8")
