"""``Interpreter``: what a probe learned about one binary, the record other layers receive."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MIN_VERSION = (3, 8)
PY27 = (2, 7)  # also supported, for text-proto specs (Chromium's .vpython files) only
UNSUPPORTED_2 = (
    "Python 2.7 is not supported by vpython for this kind of spec; only text-proto specs "
    "(.vpython, .vpython3, [VPYTHON:BEGIN] blocks) run on 2.7, other envs need CPython 3.8+"
)

_RELEASE_RANK = {"alpha": 0, "beta": 1, "candidate": 2, "final": 3}
_RELEASE_SUFFIX = {"alpha": "a", "beta": "b", "candidate": "rc"}
_IMPLEMENTATION_NAMES = {"cpython": "CPython", "pypy": "PyPy"}


@dataclass(frozen=True)
class Interpreter:
    """A probed interpreter. Equality and hashing use the identity, not the path spelling."""

    path: str
    version: tuple[int, ...]  # (3, 11, 7)
    implementation: str  # "cpython"
    cache_tag: str | None  # "cpython-311" (None on 2.7)
    abiflags: str  # sys.abiflags ("" on Windows and for plain builds; "t" free-threaded, "d" debug)
    platform: str  # sysconfig.get_platform(): "linux-x86_64", "macosx-11.0-arm64", "win-amd64"
    is_64bit: bool  # sys.maxsize > 2**32
    purelib: str  # relative layout of a venv's purelib: "lib/python3.11/site-packages", "Lib/site-packages"
    platlib: str
    identity: tuple[str, int, int]  # identity.probe_identity(): (realpath, st_size, st_mtime_ns)
    releaselevel: str = "final"
    serial: int = 0
    probe: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    cache_dir: str | None = field(default=None, compare=False, repr=False)

    @property
    def realpath(self) -> str:
        return self.identity[0]

    @property
    def identity_key(self) -> str:
        return f"{self.identity[0]}:{self.identity[1]}:{self.identity[2]}"

    @property
    def version_string(self) -> str:
        """PEP 440 spelling of the full version: "3.11.7", "3.13.0rc1"."""
        v = ".".join(map(str, self.version))
        if self.releaselevel != "final":
            v += _RELEASE_SUFFIX.get(self.releaselevel, "") + str(self.serial)
        return v

    @property
    def supported(self) -> bool:
        return self.implementation == "cpython" and tuple(self.version[:2]) >= MIN_VERSION

    @property
    def is_py27(self) -> bool:
        """A CPython 2.7: envs for text-proto specs only (old tools: vpython.store.tools)."""
        return self.implementation == "cpython" and tuple(self.version[:2]) == PY27

    @property
    def sort_key(self) -> tuple[tuple[int, ...], int, int]:
        return (tuple(self.version), _RELEASE_RANK.get(self.releaselevel, 0), self.serial)

    def describe(self) -> str:
        impl = _IMPLEMENTATION_NAMES.get(self.implementation, self.implementation)
        return f"{impl} {self.version_string} ({self.path})"
