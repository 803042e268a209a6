"""What resolver engines hand to the lock writer, and what the writer writes.

Both engines (uv, pex) are reduced to ``Candidate`` records: a package version, every
wheel the resolver saw for it, and the set of targets on which it is installed. From
there one code path (``vpython.lock.select``) picks the wheels, derives markers and
feeds one writer (``vpython.lock.pylock_write.render_lock``), so the engine cannot show in
the PEP 751 output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vpython.lock.targets import Target


@dataclass(frozen=True)
class RawWheel:
    """A wheel (or, as ``Candidate.sdist``, an sdist) as an engine reported it."""

    filename: str
    sha256: str
    url: str | None = None  # remote URL (may still carry credentials: stripped on write)
    path: str | None = None  # absolute local path (find-links / file: URLs)
    size: int | None = None


@dataclass(frozen=True)
class Candidate:
    name: str  # PEP 503 normalized
    version: str
    wheels: tuple[RawWheel, ...]
    installed_on: frozenset[str]  # Target.key of every target that installs this package
    has_sdist_only: bool = False
    sdist: RawWheel | None = None  # the version's sdist, when the engine reported it


@dataclass(frozen=True)
class LockedWheel:
    filename: str
    sha256: str
    url: str | None = None  # credential-free
    path: str | None = None  # relative to the lockfile's directory, '/'-separated
    size: int | None = None


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str
    marker: str | None
    wheels: tuple[LockedWheel, ...]  # sorted by filename
    index: str | None = None
    targets: tuple[str, ...] = ()  # Target.key where installed (not written; for reports)
    # Recorded only when some target that installs the package has no wheel for it: that
    # target builds the wheel from this sdist (vpython.store.sdists).
    sdist: LockedWheel | None = None
    builds: tuple[str, ...] = ()  # Target.key of the targets that must build (not written)


@dataclass(frozen=True)
class Gap:
    """A package that a target installs but cannot get a wheel for."""

    name: str
    version: str
    target: str  # Target.key
    available: tuple[str, ...] = ()  # wheel filenames the resolver offered

    def describe(self) -> str:
        offered = ", ".join(self.available) if self.available else "none"
        return f"{self.name} {self.version} has no wheel for {self.target} (wheels: {offered})"

    def describe_build(self) -> str:
        """The words for a target that installs the package by building its sdist."""
        return f"{self.name} {self.version} has no wheel for {self.target}: built from its sdist there"


@dataclass(frozen=True)
class LockResult:
    """One resolution, selected per target: what the writer renders."""

    packages: list[LockedPackage]
    targets: list[Target]
    engine: str
    requires_python: str
    gaps: list[Gap] = field(default_factory=list)
    builds: list[Gap] = field(default_factory=list)  # (package, target) pairs built from the sdist
