"""Shared fixtures. Keep logic in tests/support; this file only wires it to pytest."""

from __future__ import annotations

import os
import sys

import pytest

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO not in sys.path:  # `pytest` (not `python -m pytest`) must import vpython and tests.support too
    sys.path.insert(0, _REPO)

from tests.support import build_wheelhouse, isolate_environ, serve_index  # noqa: E402


@pytest.fixture(scope="session")
def uv_cache_dir(tmp_path_factory):
    """uv's cache for this session (per xdist worker): never the developer's cache."""
    return tmp_path_factory.mktemp("uv-cache")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, uv_cache_dir):
    """No PIP_*/UV_*/VPYTHON_* from the machine; pip reads no config file; see isolate_environ."""
    isolate_environ(monkeypatch, uv_cache_dir)


@pytest.fixture
def wheelhouse(tmp_path):
    """A directory with tinyapp 1.0 (-> tinydep>=1), tinydep 1.0 and 1.1, tinycli 1.0 (console script)."""
    return build_wheelhouse(tmp_path / "wheelhouse")


@pytest.fixture
def local_index(wheelhouse):
    """An IndexServer over ``wheelhouse``: .url is http://127.0.0.1:PORT/simple/."""
    with serve_index(wheelhouse) as index:
        yield index


@pytest.fixture
def vpython_root(tmp_path, monkeypatch, isolated_env):
    """An empty vpython cache root, exported as VPYTHON_VIRTUALENV_ROOT."""
    root = tmp_path / "vpython-root"
    root.mkdir()
    monkeypatch.setenv("VPYTHON_VIRTUALENV_ROOT", str(root))
    return root
