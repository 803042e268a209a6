"""The in-memory spec: what a script says it needs, whatever format it came from.

Frozen dataclasses, stdlib only. Parsers (textproto, pep723/toml) produce a ``Spec``;
``normalize`` turns a Spec plus a target interpreter into a ``Requirements``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Where a spec came from (DiscoveredSpec.kind / Spec.kind).
KIND_TEXTPROTO = "textproto"  # .vpython3 file, -vpython-spec file, or [VPYTHON:BEGIN] block
KIND_PEP723 = "pep723"  # "# /// script" block
KIND_TOML = "toml"  # vpython.toml
KIND_EMPTY = "empty"  # nothing found


@dataclass(frozen=True)
class PEP425Tag:
    """A partial PEP 425 tag as written in a spec; empty fields are wildcards."""

    python: str = ""
    abi: str = ""
    platform: str = ""

    def is_zero(self) -> bool:
        return not (self.python or self.abi or self.platform)

    def __str__(self) -> str:
        return f"{self.python or '*'}-{self.abi or '*'}-{self.platform or '*'}"


@dataclass(frozen=True)
class WheelEntry:
    """One ``wheel { ... }`` entry of a text-proto spec (CIPD-style name and version)."""

    name: str
    version: str
    match_tag: tuple[PEP425Tag, ...] = ()
    not_match_tag: tuple[PEP425Tag, ...] = ()
    line: int | None = None  # 1-based line of the entry in its file, for error messages


@dataclass(frozen=True)
class Spec:
    """A parsed spec.

    Text-proto specs fill ``python_version``/``wheels``/``verify_pep425_tags`` and are
    *closed*: they list every package exactly. PEP 723 and vpython.toml specs fill
    ``dependencies``/``requires_python`` with PEP 508 / PEP 440 strings that a resolver
    turns into pins.
    """

    kind: str = KIND_EMPTY
    path: str | None = None  # file the spec was read from (the script, for inline blocks)
    python_version: str = ""  # text proto: "3", "3.11" or "3.11.4"; "" = default
    python_version_line: int | None = None  # 1-based line of python_version, for errors
    wheels: tuple[WheelEntry, ...] = ()
    verify_pep425_tags: tuple[PEP425Tag, ...] = ()
    dependencies: tuple[str, ...] = ()
    requires_python: str = ""  # PEP 440 specifier, e.g. ">=3.10"
    # [tool.vpython] settings of PEP 723 / vpython.toml specs (lock targets, indexes...).
    tool: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    warnings: tuple[str, ...] = ()

    @property
    def closed(self) -> bool:
        """True when the spec pins its whole package set (text-proto semantics)."""
        return self.kind == KIND_TEXTPROTO


@dataclass(frozen=True)
class Requirements:
    """A spec normalized for one target interpreter: what to hand to the resolver."""

    requirements: tuple[str, ...]  # sorted PEP 508 strings, e.g. ("six==1.16.0",)
    closed: bool  # exact pin set: resolution may not add packages
    requires_python: str = ""
