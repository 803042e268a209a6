"""vpython.store.locks: shared/exclusive flocks that die with their holder."""

from __future__ import annotations

import os
import subprocess
import sys

from vpython.store.locks import exclusive_build_lock, flocked, store_lock_path
from vpython.store.root import Layout


def test_shared_holders_coexist_and_exclude_an_exclusive_one(tmp_path):
    path = str(tmp_path / "d" / "store.lock")
    with flocked(path, exclusive=False) as a, flocked(path, exclusive=False) as b:
        assert a and b  # two builds at once
        with flocked(path, exclusive=True, blocking=False) as gc:
            assert gc is False  # gc's sweep waits for another time
    with flocked(path, exclusive=True, blocking=False) as gc:
        assert gc is True
        with flocked(path, exclusive=False, blocking=False) as build:
            assert build is False


def test_a_lock_dies_with_its_holder(tmp_path):
    path = str(tmp_path / "l")
    code = (
        "import sys; sys.path.insert(0, sys.argv[2]); from vpython.store.locks import flocked\n"
        "with flocked(sys.argv[1], exclusive=True): print('held', flush=True); sys.stdin.read()\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    child = subprocess.Popen(
        [sys.executable, "-c", code, path, root], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout.readline() == b"held\n"
        with flocked(path, exclusive=False, blocking=False) as got:
            assert got is False
        child.kill()
        child.wait()
        with flocked(path, exclusive=False, blocking=False) as got:
            assert got is True
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_exclusive_build_lock_makes_its_dir_and_excludes_others(tmp_path):
    path = str(tmp_path / "envs" / ".k.build.lock")
    with exclusive_build_lock(path):
        with flocked(path, exclusive=True, blocking=False) as other:
            assert other is False
    assert store_lock_path(Layout(str(tmp_path))) == os.path.join(str(tmp_path), "v1", "store.lock")
