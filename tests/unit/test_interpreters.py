"""Interpreter discovery, probing, selection and target tags, against the real pyenv Pythons."""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from vpython import interpreters as I
from vpython.errors import InterpreterError, UserError

REPO = Path(__file__).resolve().parents[2]


def _pyenv_root() -> Path:
    root = os.environ.get("PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        try:
            root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            root = ""
    return Path(root or Path.home() / ".pyenv")


def _pyenv_python(minor: int) -> str | None:
    """The newest pyenv CPython 3.<minor>.x binary, or None."""
    best = None
    for d in glob.glob(str(_pyenv_root() / "versions" / f"3.{minor}.*")):
        m = re.fullmatch(r"3\.(\d+)\.(\d+)", os.path.basename(d))
        exe = os.path.join(d, "bin", f"python3.{minor}")
        if m and os.path.isfile(exe):
            key = int(m.group(2))
            if best is None or key > best[0]:
                best = (key, exe)
    return best[1] if best else None


def _pyenv_python27() -> str | None:
    hits = sorted(glob.glob(str(_pyenv_root() / "versions" / "2.7.*" / "bin" / "python2.7")))
    return hits[-1] if hits else None


MINORS = [8, 9, 10, 11, 12, 13]


@pytest.fixture(autouse=True)
def _fresh_memo():
    I.clear_memo()
    yield
    I.clear_memo()


@pytest.fixture
def spawns(monkeypatch):
    """Count interpreter spawns made by vpython.interpreters."""
    calls = []
    real = I._run

    def counting(cmd):
        calls.append(cmd)
        return real(cmd)

    monkeypatch.setattr(I, "_run", counting)
    return calls


# --------------------------------------------------------------------------- reference sys_tags()

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
def test_target_tags_equal_sys_tags_inside_each_pyenv_python(minor, tmp_path, packaging_for_38, spawns):
    python = _pyenv_python(minor)
    if python is None:
        pytest.skip(f"no pyenv CPython 3.{minor}")
    interp = I.probe(python, str(tmp_path))
    assert interp.version[:2] == (3, minor) and I.same_platform(interp)
    spawns.clear()
    ours = [str(t) for t in I.target_tags(interp)]
    assert spawns == []  # same platform: computed here, no spawn
    parent = packaging_for_38 if minor < 9 else _our_packaging_parent()
    assert ours == _reference_tags(python, parent)


@pytest.mark.parametrize("minor", [m for m in MINORS if m >= 9])
def test_tags_computed_inside_target_equal_sys_tags(minor, tmp_path, spawns):
    python = _pyenv_python(minor)
    if python is None:
        pytest.skip(f"no pyenv CPython 3.{minor}")
    interp = I.probe(python, str(tmp_path))
    inside = [str(t) for t in I._tags_in_target(interp)]
    assert inside == _reference_tags(python, _our_packaging_parent())
    # cached by identity: a second call does not spawn
    I.clear_memo()
    spawns.clear()
    assert [str(t) for t in I._tags_in_target(I.probe(python, str(tmp_path)))] == inside
    assert spawns == []


def test_every_found_interpreter_matches_its_sys_tags(tmp_path):
    parent = _our_packaging_parent()
    checked = 0
    for interp in I.find_interpreters(str(tmp_path)):
        if interp.version[:2] >= (3, 9):
            assert [str(t) for t in I.target_tags(interp)] == _reference_tags(interp.path, parent), interp
            checked += 1
    assert checked >= 1


def test_other_platform_is_computed_inside_the_target(tmp_path, spawns):
    interp = I.probe(sys.executable, str(tmp_path))
    other = dataclasses.replace(interp, platform="linux-someotherarch")
    assert not I.same_platform(other)
    spawns.clear()
    tags = I.target_tags(other)
    assert len(spawns) == 1 and "-I" in spawns[0]
    from packaging.tags import sys_tags

    assert tags == list(sys_tags())  # what that interpreter (ours, really) says


def test_tags_fall_back_when_packaging_cannot_run_in_target(tmp_path, monkeypatch, capsys):
    interp = I.probe(sys.executable, str(tmp_path))
    monkeypatch.setattr(I, "_run_probe", lambda path, extra=(): {"tags_error": "ImportError: nope"})
    monkeypatch.setattr(I, "_read_cache", lambda *a: None)
    tags = [str(t) for t in I._tags_in_target(interp)]
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    assert tags[0] == f"cp{sys.version_info[0]}{sys.version_info[1]}-cp{sys.version_info[0]}{sys.version_info[1]}-{plat}"
    assert "py3-none-any" in tags


def test_cpython_abis_match_packaging():
    from packaging.tags import _cpython_abis

    interp = I.probe(sys.executable)
    # A private helper: packaging 26.4 made it a generator, earlier releases return a list.
    assert I.cpython_abis(interp) == list(_cpython_abis(sys.version_info[:2]))


# --------------------------------------------------------------------------- probing

def test_probe_describes_the_running_interpreter(tmp_path):
    interp = I.probe(sys.executable, str(tmp_path))
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

    assert I.marker_environment(interp) == default_environment()


def test_probe_cache_hit_does_not_spawn(tmp_path, spawns, monkeypatch):
    cache = str(tmp_path / "cache")
    first = I.probe(sys.executable, cache)
    assert len(spawns) == 1
    assert len(os.listdir(cache)) == 1
    I.clear_memo()  # a new process: only the disk cache remains
    second = I.probe(sys.executable, cache)
    assert len(spawns) == 1 and second == first and second.probe == first.probe
    # another identity (rebuilt binary: new mtime) is a miss
    I.clear_memo()
    real_identity = I._identity
    monkeypatch.setattr(I, "_identity", lambda p: real_identity(p)[:2] + (1,))
    I.probe(sys.executable, cache)
    assert len(spawns) == 2 and len(os.listdir(cache)) == 2


def test_probe_without_cache_dir_memoizes_in_process(spawns):
    I.probe(sys.executable)
    I.probe(sys.executable)
    assert len(spawns) == 1


def test_corrupt_cache_is_ignored(tmp_path, spawns):
    cache = tmp_path / "cache"
    I.probe(sys.executable, str(cache))
    for f in cache.iterdir():
        f.write_text("{not json")
    I.clear_memo()
    assert I.probe(sys.executable, str(cache)).version == tuple(sys.version_info[:3])
    assert len(spawns) == 2


def test_probe_runs_on_python27():
    python = _pyenv_python27()
    if python is None:
        pytest.skip("no pyenv Python 2.7")
    interp = I.probe(python)
    assert interp.version[:2] == (2, 7) and interp.implementation == "cpython" and not interp.supported


def test_probe_errors(tmp_path):
    with pytest.raises(InterpreterError, match="not found"):
        I.probe(str(tmp_path / "nope"))
    fake = tmp_path / "python3.99"
    fake.write_text("#!/bin/sh\necho hello\n")
    fake.chmod(0o755)
    with pytest.raises(InterpreterError, match="does not look like a Python"):
        I.probe(str(fake))
    broken = tmp_path / "python3.98"
    broken.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(InterpreterError, match=r"exit 3.*boom"):
        I.probe(str(broken))


# --------------------------------------------------------------------------- discovery

def test_find_interpreters_sees_pyenv_and_dedupes(tmp_path):
    found = I.find_interpreters(str(tmp_path))
    reals = [i.realpath for i in found]
    assert len(reals) == len(set(reals))
    assert os.path.realpath(sys.executable) in reals
    assert all(i.implementation == "cpython" for i in found)
    assert [i.sort_key for i in found] == sorted((i.sort_key for i in found), reverse=True)
    shims = str(_pyenv_root() / "shims")
    assert not [i for i in found if i.path.startswith(shims)]
    for minor in MINORS:
        python = _pyenv_python(minor)
        if python:
            assert os.path.realpath(python) in reals, minor


def test_discovery_skips_shims_and_dedupes_symlinks(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "python3.99"
    shim.write_text("#!/usr/bin/env bash\nexec pyenv exec python3.99 \"$@\"\n")
    shim.chmod(0o755)
    (bindir / "python3").symlink_to(os.path.realpath(sys.executable))
    (bindir / "python3-config").write_text("#!/bin/sh\n")
    root = tmp_path / "pyenv"
    vbin = root / "versions" / "3.99.0" / "bin"
    vbin.mkdir(parents=True)
    (vbin / "python3.99").write_text("#!/bin/sh\n")
    (vbin / "python3.99").chmod(0o755)
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setenv("PYENV_ROOT", str(root))
    paths = I.candidate_paths()
    assert str(shim) not in paths and str(vbin / "python3.99") not in paths
    assert [os.path.realpath(p) for p in paths].count(os.path.realpath(sys.executable)) == 1
    assert not [p for p in paths if p.endswith("-config")]


def test_default_is_the_base_interpreter_from_inside_a_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    out = subprocess.run(
        [str(py), "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                        "from vpython.interpreters import default_interpreter_path as d; print(d())", str(REPO)],
        capture_output=True, text=True, check=True).stdout.strip()
    assert not out.startswith(str(venv))
    assert os.path.realpath(out) == os.path.realpath(I.default_interpreter_path())


# --------------------------------------------------------------------------- selection

def test_python2_is_refused_with_a_hint():
    for v in ("2.7", "2", "2.7.18"):
        with pytest.raises(InterpreterError) as e:
            I.select_interpreter(version=v)
        assert "Python 2.7 is not supported by vpython; envs need CPython 3.8+" in str(e.value)
        assert '"3.8"' in e.value.hint
        assert e.value.exit_code == 2
    with pytest.raises(InterpreterError, match="3.7 is not supported"):
        I.select_interpreter(version="3.7")


def test_explicit_python27_is_refused():
    python = _pyenv_python27()
    if python is None:
        pytest.skip("no pyenv Python 2.7")
    with pytest.raises(InterpreterError, match="Python 2.7 is not supported by vpython"):
        I.select_interpreter(explicit=python)


def test_bad_requests_are_user_errors():
    with pytest.raises(UserError, match="not a version"):
        I.select_interpreter(version="three")
    with pytest.raises(UserError, match="requires-python"):
        I.select_interpreter(requires_python=">=>3")


def test_explicit_path_wins(tmp_path, capsys):
    python = _pyenv_python(12) or _pyenv_python(10) or sys.executable
    interp = I.select_interpreter(version="3.11", explicit=python, cache_dir=str(tmp_path))
    assert interp.path == os.path.abspath(python)
    if interp.version[:2] != (3, 11):
        assert "does not match" in capsys.readouterr().err
    with pytest.raises(InterpreterError, match="does not exist"):
        I.select_interpreter(explicit=str(tmp_path / "python3.42"))
    with pytest.raises(InterpreterError, match="not found on PATH"):
        I.select_interpreter(explicit="python3.42-surely-not-installed")


def test_explicit_shim_resolves_to_the_real_binary(tmp_path):
    shim = tmp_path / "python3"
    shim.write_text(f"#!/bin/sh\nexec '{os.path.realpath(sys.executable)}' \"$@\"\n")
    shim.chmod(0o755)
    interp = I.select_interpreter(explicit=str(shim), cache_dir=str(tmp_path / "c"))
    assert interp.realpath == os.path.realpath(sys.executable)


def test_default_is_the_running_interpreter(tmp_path):
    interp = I.select_interpreter(cache_dir=str(tmp_path))
    assert interp.realpath == os.path.realpath(I.default_interpreter_path())
    assert interp.version == tuple(sys.version_info[:3])


def test_version_selection_against_real_interpreters(tmp_path):
    found = [i for i in I.find_interpreters(str(tmp_path)) if i.supported]
    newest = max(found, key=lambda i: i.sort_key)
    assert I.select_interpreter("3", cache_dir=str(tmp_path)).sort_key == newest.sort_key
    for interp in found:
        mm = f"{interp.version[0]}.{interp.version[1]}"
        best = max((i for i in found if i.version[:2] == interp.version[:2]), key=lambda i: i.sort_key)
        assert I.select_interpreter(mm, cache_dir=str(tmp_path)).version == best.version
        exact = I.select_interpreter(".".join(map(str, interp.version)), cache_dir=str(tmp_path))
        assert exact.version == interp.version


def test_requires_python_prefers_the_running_interpreter(tmp_path):
    me = sys.version_info
    got = I.select_interpreter(requires_python=f">={me[0]}.{me[1]}", cache_dir=str(tmp_path))
    assert got.realpath == os.path.realpath(I.default_interpreter_path())
    older = [i for i in I.find_interpreters(str(tmp_path)) if i.supported and i.version[:2] < me[:2]]
    if older:
        got = I.select_interpreter(requires_python=f"<{me[0]}.{me[1]}", cache_dir=str(tmp_path))
        assert got.version == max(older, key=lambda i: i.sort_key).version


def _fake(path, version, level="final"):
    return I.Interpreter(path=path, version=version, implementation="cpython", cache_tag=f"cpython-3{version[1]}",
                         abiflags="", platform="linux-x86_64", is_64bit=True,
                         purelib=f"lib/python3.{version[1]}/site-packages",
                         platlib=f"lib/python3.{version[1]}/site-packages",
                         identity=(path, 1, 1), releaselevel=level)


def test_selection_rules_with_fake_interpreters(monkeypatch):
    pool = [_fake("/a/3.12.1", (3, 12, 1)), _fake("/a/3.13.0rc1", (3, 13, 0), "candidate"),
            _fake("/a/3.11.4", (3, 11, 4)), _fake("/a/3.11.9", (3, 11, 9)), _fake("/a/3.10.2", (3, 10, 2)),
            _fake("/a/3.7.1", (3, 7, 1))]
    default = pool[4]  # "running" 3.10.2
    monkeypatch.setattr(I, "find_interpreters", lambda cache_dir=None: list(pool))
    monkeypatch.setattr(I, "default_interpreter_path", lambda: default.path)
    monkeypatch.setattr(I, "probe", lambda path, cache_dir=None: next(i for i in pool if i.path == path))
    sel = I.select_interpreter
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


# --------------------------------------------------------------------------- Windows py launcher

def test_py_launcher_listing_is_parsed(tmp_path, monkeypatch):
    """``py -0p`` output (py.exe 3.x format, default marked with ``*``) becomes candidates;
    other lines and non-.exe paths are ignored. Run against a fake ``py`` on PATH."""
    fake = tmp_path / "py"
    fake.write_text(
        "#!/bin/sh\n"
        "[ \"$1\" = -0p ] || exit 3\n"
        "cat <<'OUT'\n"
        " -V:3.12 *        C:\\Python312\\python.exe\n"
        " -V:3.11          C:\\Users\\me\\AppData\\Local\\Programs\\Python\\Python311\\python.exe\n"
        " -3.9-64          C:\\Python39\\python.exe\n"
        "Installed Pythons found by py Launcher for Windows\n"
        " -V:Astral/CPython3.13 C:\\tools\\py313\\python\n"
        "OUT\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.defpath)
    monkeypatch.setattr(I.os, "name", "nt")
    try:
        found = I._py_launcher_candidates()
    finally:
        monkeypatch.setattr(I.os, "name", "posix")
    assert found == ["C:\\Python312\\python.exe",
                     "C:\\Users\\me\\AppData\\Local\\Programs\\Python\\Python311\\python.exe",
                     "C:\\Python39\\python.exe"]


def test_py_launcher_is_not_asked_outside_windows(tmp_path, monkeypatch):
    fake = tmp_path / "py"
    fake.write_text("#!/bin/sh\necho called > \"$0.called\"\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert I._py_launcher_candidates() == []
    assert not (tmp_path / "py.called").exists()
