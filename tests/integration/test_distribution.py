"""The published form of vpython: the wheel built from pyproject.toml, installed into a
fresh venv, runs the README's example through its own ``vpython`` command.

Nothing here imports the checkout's ``vpython`` in the child processes: the wheel is
built from a copy of the distribution's inputs, installed with ``--no-deps`` into a venv
that sees the machine's site-packages only for the runtime dependencies (protobuf,
packaging, virtualenv, uv ...; the test must not need PyPI), and the venv's ``vpython``
must be the one that runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support import make_wheel, serve_index

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DIST_NAME = "vpython-hermetic"
# What the sdist/wheel is made of (pyproject.toml's [tool.setuptools] and readme/license).
INPUTS = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "vpython", "scripts", "launcher")

# A stand-in for PyPI's rich, just the API examples/hello_rich.py uses, served from the
# loopback index so the example runs unchanged and offline.
FAKE_RICH = {
    "rich/__init__.py": "",
    "rich/table.py": (
        "class Table:\n"
        "    def __init__(self, title=''):\n"
        "        self.title, self.rows = title, []\n"
        "    def add_column(self, name):\n"
        "        pass\n"
        "    def add_row(self, *cells):\n"
        "        self.rows.append(cells)\n"
    ),
    "rich/console.py": (
        "class Console:\n"
        "    def print(self, table):\n"
        "        print(table.title)\n"
        "        for row in table.rows:\n"
        "            print(' | '.join(row))\n"
    ),
}


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def _run(cmd: list, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=600, **kw)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _build_wheel(tmp_path: Path) -> Path:
    """``pip wheel`` of a copy of the distribution's inputs, with the installed build
    backend (no build isolation: no network)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in INPUTS:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(REPO / name, src / name)
    out = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "-w", out, src], env=_clean_env())
    (wheel,) = out.glob("*.whl")
    return wheel


def test_the_built_wheel_runs_the_example_from_a_fresh_venv(tmp_path, vpython_root):
    wheel = _build_wheel(tmp_path)
    assert wheel.name.startswith(DIST_NAME.replace("-", "_") + "-")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert f"Name: {DIST_NAME}\n" in meta and "License: Apache-2.0\n" in meta
    assert "Description-Content-Type: text/markdown" in meta and "# vpython" in meta  # README as long description
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert {n.split("/")[-1] for n in names if "/scripts/" in n} == {"vpython", "vpython3", "vpython-py"}
    # With a C compiler (gcc is on these machines) vpython/vpython3 are the native launcher
    # and the wheel is tagged for the platform; vpython-py is the Python fallback it uses.
    if shutil.which("cc") or shutil.which("gcc"):
        with zipfile.ZipFile(wheel) as zf:
            launcher = zf.read(next(n for n in names if n.endswith("/scripts/vpython")))
        assert launcher[:4] == b"\x7fELF" and "-py3-none-any" not in wheel.name

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", venv], env=_clean_env())
    py = venv / "bin" / "python"
    _run([py, "-m", "pip", "install", "--no-deps", "--no-index", wheel], env=_clean_env())
    # The venv's own copy is what imports, not the checkout or an editable install.
    where = _run([py, "-c", "import vpython; print(vpython.__file__)"], env=_clean_env(), cwd=tmp_path)
    assert Path(where.stdout.strip()).resolve().is_relative_to(venv.resolve()), where.stdout

    wheels = tmp_path / "index"
    make_wheel(wheels, "rich", "13.0", files=FAKE_RICH)
    example = tmp_path / "hello_rich.py"
    shutil.copy2(REPO / "examples" / "hello_rich.py", example)
    with serve_index(wheels) as index:
        env = _clean_env(VPYTHON_INDEX_URL=index.url, VPYTHON_VIRTUALENV_ROOT=str(vpython_root))
        for command in ("vpython", "vpython3"):
            proc = _run([venv / "bin" / command, example], env=env, cwd=tmp_path)
            lines = proc.stdout.splitlines()
            assert lines[0] == "vpython", proc.stdout
            version, prefix = lines[1].split(" | ")
            assert prefix.startswith(str(vpython_root)), proc.stdout  # ran in a vpython env
            assert version.count(".") == 2
    assert len(index.requests) > 0  # resolved from the loopback index
