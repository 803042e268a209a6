"""The real wheels Python 2.7 envs need, for offline tests: a machine-local wheelhouse.

A 2.7 env is made by virtualenv 20.21.1 and its sdists are built by pip 20.3.4
(``vpython.store.tools``), and its seeds are pip 20.3.4, setuptools 44.1.1 and wheel
0.37.1. Tests cannot build stand-ins for these (they are the real tools), and must not
use the network, so they take the files from a wheelhouse on this machine, verified
against the sha256s vpython pins:

* ``$VPYTHON_TEST_TOOL_WHEELS``, else ``~/.cache/vpython-test-tools``;
* filled once from PyPI when ``VPYTHON_NETWORK_TESTS=1`` (``ensure_wheelhouse``);
* otherwise the tests that need it skip, saying how to fill it.

The files are passed to vpython as a find-links directory, which is where it looks for
its tool wheels first.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

import pytest

from vpython.store.tools import TOOLS

_PYPI = "https://files.pythonhosted.org/packages/"
# The 2.7 seeds besides pip (which is also the pip-py27 tool): (filename, sha256, url).
SEEDS27 = (
    ("setuptools-44.1.1-py2.py3-none-any.whl",
     "27a714c09253134e60a6fa68130f78c7037e5562c4f21f8f318f2ae900d152d5",
     _PYPI + "e1/b7/182161210a13158cd3ccc41ee19aadef54496b74f2817cc147006ec932b4/setuptools-44.1.1-py2.py3-none-any.whl"),
    ("wheel-0.37.1-py2.py3-none-any.whl",
     "4bdcd7d840138086126cd09254dc6195fb4fc6f01c050a1d7236f2630db1d22a",
     _PYPI + "27/d6/003e593296a85fd6ed616ed962795b2f87709c3eee2bca4f6d0fe55c6d00/wheel-0.37.1-py2.py3-none-any.whl"),
)


# Read when this module is imported (test collection): the autouse fixture that isolates
# every test strips VPYTHON_* from the environment before the test runs.
_NETWORK = os.environ.get("VPYTHON_NETWORK_TESTS") == "1"
_WHEELHOUSE = os.environ.get("VPYTHON_TEST_TOOL_WHEELS")


def wanted() -> list[tuple[str, str, str]]:
    """(filename, sha256, url) of every file the 2.7 tests need."""
    out = [(w.filename, w.sha256, w.url) for ws in TOOLS.values() for w in ws]
    return out + list(SEEDS27)


def wheelhouse_dir() -> Path:
    return Path(_WHEELHOUSE or Path.home() / ".cache" / "vpython-test-tools")


def _good(path: Path, sha256: str) -> bool:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    except OSError:
        return False


def ensure_wheelhouse() -> Path:
    """The wheelhouse with every wanted file (downloaded when network tests are on), or
    ``pytest.skip``."""
    d = wheelhouse_dir()
    missing = [(f, s, u) for f, s, u in wanted() if not _good(d / f, s)]
    if missing and _NETWORK:
        d.mkdir(parents=True, exist_ok=True)
        for filename, sha256, url in missing:
            data = urllib.request.urlopen(url, timeout=120).read()
            if hashlib.sha256(data).hexdigest() != sha256:
                raise AssertionError(f"{url}: sha256 mismatch")
            tmp = d / (filename + ".part")
            tmp.write_bytes(data)
            os.replace(tmp, d / filename)
        missing = []
    if missing:
        pytest.skip(f"the pinned Python 2.7 tool wheels ({', '.join(f for f, _, _ in missing)}) are not in "
                    f"{d}: run these tests once with VPYTHON_NETWORK_TESTS=1, or set VPYTHON_TEST_TOOL_WHEELS")
    return d
