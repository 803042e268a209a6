"""vpython.interpreters.discover: PATH, pyenv and ``py -0p`` candidates, and the default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import pythons
from tests.support.pythons import MINORS, pyenv_python, pyenv_root
from vpython.interpreters import discover as D

REPO = Path(__file__).resolve().parents[2]

# pytest fixtures shared by the tests of vpython.interpreters
fresh_memo = pythons.fresh_memo


def test_find_interpreters_sees_pyenv_and_dedupes(tmp_path):
    found = D.find_interpreters(str(tmp_path))
    reals = [i.realpath for i in found]
    assert len(reals) == len(set(reals))
    assert os.path.realpath(sys.executable) in reals
    assert all(i.implementation == "cpython" for i in found)
    assert [i.sort_key for i in found] == sorted((i.sort_key for i in found), reverse=True)
    shims = str(pyenv_root() / "shims")
    assert not [i for i in found if i.path.startswith(shims)]
    for minor in MINORS:
        python = pyenv_python(minor)
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
    paths = D.candidate_paths()
    assert str(shim) not in paths and str(vbin / "python3.99") not in paths
    assert [os.path.realpath(p) for p in paths].count(os.path.realpath(sys.executable)) == 1
    assert not [p for p in paths if p.endswith("-config")]


def test_default_is_the_base_interpreter_from_inside_a_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    out = subprocess.run(
        [str(py), "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                        "from vpython.interpreters.discover import default_interpreter_path as d; print(d())", str(REPO)],
        capture_output=True, text=True, check=True).stdout.strip()
    assert not out.startswith(str(venv))
    assert os.path.realpath(out) == os.path.realpath(D.default_interpreter_path())


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
    monkeypatch.setattr(D.os, "name", "nt")
    try:
        found = D._py_launcher_candidates()
    finally:
        monkeypatch.setattr(D.os, "name", "posix")
    assert found == ["C:\\Python312\\python.exe",
                     "C:\\Users\\me\\AppData\\Local\\Programs\\Python\\Python311\\python.exe",
                     "C:\\Python39\\python.exe"]


def test_py_launcher_is_not_asked_outside_windows(tmp_path, monkeypatch):
    fake = tmp_path / "py"
    fake.write_text("#!/bin/sh\necho called > \"$0.called\"\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert D._py_launcher_candidates() == []
    assert not (tmp_path / "py.called").exists()
