"""The machine's real Pythons (pyenv) and fixtures for tests of ``vpython.interpreters``."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from vpython.interpreters import probe as probe_mod

MINORS = [8, 9, 10, 11, 12, 13]


def pyenv_root() -> Path:
    root = os.environ.get("PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        try:
            root = subprocess.run(
                ["pyenv", "root"], capture_output=True, text=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            root = ""
    return Path(root or Path.home() / ".pyenv")


def pyenv_python(minor: int) -> str | None:
    """The newest pyenv CPython 3.<minor>.x binary, or None."""
    best = None
    for d in glob.glob(str(pyenv_root() / "versions" / f"3.{minor}.*")):
        m = re.fullmatch(r"3\.(\d+)\.(\d+)", os.path.basename(d))
        exe = os.path.join(d, "bin", f"python3.{minor}")
        if m and os.path.isfile(exe):
            key = int(m.group(2))
            if best is None or key > best[0]:
                best = (key, exe)
    return best[1] if best else None


def pyenv_python27() -> str | None:
    hits = sorted(glob.glob(str(pyenv_root() / "versions" / "2.7.*" / "bin" / "python2.7")))
    return hits[-1] if hits else None


@pytest.fixture(autouse=True)
def fresh_memo():
    """Each test starts with no in-process probe results (the disk cache is per tmp_path)."""
    probe_mod.clear_memo()
    yield
    probe_mod.clear_memo()


@pytest.fixture
def spawns(monkeypatch):
    """Count interpreter spawns made by vpython.interpreters (they all go through probe._run)."""
    calls = []
    real = probe_mod._run

    def counting(cmd):
        calls.append(cmd)
        return real(cmd)

    monkeypatch.setattr(probe_mod, "_run", counting)
    return calls
