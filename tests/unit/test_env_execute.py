"""vpython.env.execute: the child's environment, and handing the process over."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from vpython.env.execute import child_environ

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_child_environ_isolates_but_keeps_pythonpath():
    base = {
        "PYTHONHOME": "/x",
        "__PYVENV_LAUNCHER__": "/y",
        "PYTHONPATH": "/mine",
        "PATH": "/usr/bin",
        "A": "1",
    }
    env = child_environ("/envs/k", "/envs/k/bin", base)
    assert "PYTHONHOME" not in env and "__PYVENV_LAUNCHER__" not in env
    assert env["PYTHONNOUSERSITE"] == "1" and env["VIRTUAL_ENV"] == "/envs/k"
    assert env["PYTHONPATH"] == "/mine" and env["A"] == "1"
    assert env["PATH"] == "/envs/k/bin" + os.pathsep + "/usr/bin"
    assert base["PYTHONHOME"] == "/x"  # the caller's mapping is not changed
    assert child_environ("/e", "/e/bin", {})["PATH"] == "/e/bin"


def test_child_environ_defaults_to_this_process(monkeypatch):
    monkeypatch.setenv("VPYTHON_TEST_MARK", "here")
    assert child_environ("/e", "/e/bin")["VPYTHON_TEST_MARK"] == "here"


def test_exec_python_replaces_the_process_keeping_the_lock_fd(tmp_path):
    """A real exec: argv and environment pass through, and the kept fd (the env's use
    lock) stays open in the script."""
    lock = tmp_path / "k.lock"
    lock.write_text("")
    script = (
        "import json, os, sys; "
        "print(json.dumps([sys.argv, os.environ['MARK'], os.fstat(int(sys.argv[1])).st_ino]))"
    )
    launcher = (
        "import os, sys; sys.path.insert(0, sys.argv[1]); from vpython.env.execute import exec_python\n"
        "fd = os.open(sys.argv[2], os.O_RDONLY)\n"
        f"exec_python(sys.executable, ['-c', {script!r}, str(fd)], dict(os.environ, MARK='m'), (fd,))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", launcher, ROOT, str(lock)], capture_output=True, text=True, check=True
    )
    argv, mark, ino = json.loads(r.stdout)
    assert argv[0] == "-c" and argv[1].isdigit() and len(argv) == 2  # python's argv, as given
    assert mark == "m" and ino == os.stat(lock).st_ino
