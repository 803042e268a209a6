"""Test support: wheel builders, a local package index and environment isolation.

Nothing here touches PyPI: tests build the wheels they need (``make_wheel``) and serve
them from 127.0.0.1 (``serve_index``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .index import IndexServer, serve_index
from .wheels import (
    EVIL_KINDS,
    ZIP_BOMB_SIZE,
    escape_name,
    expand_tag,
    import_name,
    make_evil_wheel,
    make_wheel,
    make_wheel_variants,
    normalize_name,
    read_record,
    record_hash,
    sha256_file,
    wheel_filename,
)

__all__ = [
    "EVIL_KINDS", "ZIP_BOMB_SIZE", "IndexServer", "build_wheelhouse", "escape_name", "expand_tag",
    "import_name", "isolate_environ", "make_evil_wheel", "make_wheel", "make_wheel_variants",
    "normalize_name", "read_record", "record_hash", "serve_index", "sha256_file", "uv_binary",
    "wheel_filename", "ISOLATED_PREFIXES",
]

# Variables stripped from every test's environment: the machine's pip config
# (find-links, extra index URLs), uv settings and vpython settings must never leak in.
ISOLATED_PREFIXES = ("PIP_", "UV_", "VPYTHON_")


def isolate_environ(monkeypatch, uv_cache_dir: str | os.PathLike) -> None:
    """Strip PIP_*/UV_*/VPYTHON_* and pin the few settings that keep tools hermetic.

    * ``PIP_CONFIG_FILE=/dev/null``: pip then reads no config file at all (not even
      /etc/pip.conf), so no find-links / extra-index-url from the machine.
    * ``PIP_DISABLE_PIP_VERSION_CHECK=1``, ``PIP_NO_INPUT=1``: no network self-check, no prompts.
    * ``UV_NO_CONFIG=1``: uv ignores uv.toml / pyproject ``[tool.uv]`` files.
    * ``UV_CACHE_DIR``: a per-session directory (shared by the tests of one session so uv
      does not re-download, but never the developer's cache).
    * ``UV_PYTHON_DOWNLOADS=never``: uv must not fetch interpreters from the network.
    * ``VPYTHON_SEEDS=0``: no pip/setuptools/wheel in text-proto envs (see below).
    """
    for key in list(os.environ):
        if key.startswith(ISOLATED_PREFIXES):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("PIP_NO_INPUT", "1")
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(uv_cache_dir))
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    # Text-proto envs are seeded with pip/setuptools/wheel from the index; the tests'
    # loopback indexes serve tiny wheels only, so seeding is off unless a test (of the
    # seeds: tests/integration/test_seeds.py) turns it back on.
    monkeypatch.setenv("VPYTHON_SEEDS", "0")


def uv_binary() -> str | None:
    """Path of the uv executable (the ``uv`` package's, else PATH's), or None."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except Exception:  # ImportError, or the package without its binary
        return shutil.which("uv")


def build_wheelhouse(directory: str | os.PathLike) -> Path:
    """The standard small wheelhouse the ``wheelhouse`` fixture serves.

    * ``tinyapp 1.0`` requires ``tinydep>=1``
    * ``tinydep 1.0`` and ``tinydep 1.1``
    * ``tinycli 1.0`` with a console script ``tinycli = tinycli:main`` (prints "tinycli 1.0")
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    make_wheel(d, "tinyapp", "1.0", requires=["tinydep>=1"])
    make_wheel(d, "tinydep", "1.0")
    make_wheel(d, "tinydep", "1.1")
    make_wheel(d, "tinycli", "1.0", entry_points={"console_scripts": {"tinycli": "tinycli:main"}})
    return d
