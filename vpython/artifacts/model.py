"""The records a build receives from the command line and passes between its steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from vpython.settings.sources import SourceFlags

if TYPE_CHECKING:
    from vpython.lock.pylock import Artifact

# [(locked wheel, its verified local file)], sorted by name.
Wheels = list[tuple["Artifact", str]]


@dataclass(frozen=True)
class Entry:
    """What the artifact runs: a ``--main`` script, or a ``--entry-point`` function."""

    name: str  # the launcher's file name (bin/NAME)
    main: str | None = None  # absolute path of the --main script
    module: str | None = None
    attr: str | None = None

    def function(self) -> tuple[str, str]:
        """(module, attr) of an ``--entry-point``; ValueError for a ``--main`` entry."""
        if self.module is None or self.attr is None:
            raise ValueError(f"entry {self.name!r} runs a script, not a function")
        return self.module, self.attr


class BuildFlags(SourceFlags, Protocol):
    """What a build reads of the runner's flags (``cli.flags.VPythonFlags`` is one); the
    package-source fields go on to ``settings.sources.load_sources``."""

    @property
    def root(self) -> str | None: ...

    @property
    def interpreter(self) -> str | None: ...
