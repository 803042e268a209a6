"""What the store needs of the things it is handed, as structural types.

The store sits beside ``lock`` (siblings may not import each other) and below ``env``,
so it cannot name ``vpython.lock.pylock.Artifact`` or the env's plan records; a
``Protocol`` says which attributes it reads, and both kinds satisfy it. Imported only
under ``TYPE_CHECKING`` (annotations), so ``typing`` is never loaded for it at run time.
"""

from __future__ import annotations

from typing import Protocol


class LockedArtifact(Protocol):
    """One locked wheel: vpython.lock.pylock.Artifact, or one read back from a plan."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def filename(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def path(self) -> str | None: ...  # an absolute local path (PEP 751 ``path``)
    @property
    def size(self) -> int | None: ...
    @property
    def direct_url(self) -> str | None: ...  # PEP 610: set for ``name @ url`` requirements


class TargetInterpreter(Protocol):
    """The interpreter an entry or env is built for: vpython.interpreters.Interpreter,
    or the env plan's record of one."""

    @property
    def path(self) -> str: ...
    @property
    def version(self) -> tuple[int, ...]: ...
    @property
    def cache_tag(self) -> str | None: ...  # "cpython-311": names the entry's .pyc
