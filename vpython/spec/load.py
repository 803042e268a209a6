"""From a discovered spec to a parsed one, and the hash a lockfile records of it.

``discovered`` is what ``spec.discover`` found (kind, text, path, line offset). Parsing
imports the parser for that kind only (protobuf for text protos, tomllib for TOML).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vpython import log

if TYPE_CHECKING:
    from vpython.spec.discover import DiscoveredSpec
    from vpython.spec.model import Spec


def parse_discovered(discovered: DiscoveredSpec, quiet: bool = False) -> Spec:
    """The Spec for ``discovered``; its warnings are logged unless ``quiet``."""
    from vpython.spec.model import Spec
    from vpython.spec.parse import parse_spec

    if discovered.kind == "empty":
        return Spec()
    spec = parse_spec(discovered.kind, discovered.text, discovered.path, discovered.line_offset)
    if not quiet:
        for w in spec.warnings:
            log.warning(w)
    return spec


def spec_hash(discovered: DiscoveredSpec) -> str:
    """What a lockfile records (``[tool.vpython] spec-hash``) to detect that its spec changed."""
    import hashlib

    return hashlib.sha256(f"{discovered.kind}\n{discovered.text}".encode()).hexdigest()
