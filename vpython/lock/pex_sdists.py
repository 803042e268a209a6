"""Exact pins that publish only an sdist, taken out of pex's resolution.

pex resolves for foreign platforms with pip's ``--only-binary :all:``, so such a pin fails
the whole resolve as "No matching distribution found for NAME". ``split_sdist_pins``
turns each pin an error names into a lock candidate of its own (its sdist, and any wheels,
found by ``vpython.lock.sdist_lookup``, the lookup the uv engine's locks use too), for
``vpython.lock.engine_pex`` to resolve the rest without it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from vpython import log

if TYPE_CHECKING:
    from vpython.errors import ResolutionError
    from vpython.lock.model import Candidate
    from vpython.lock.targets import Target
    from vpython.settings.sources import Sources

_NO_DISTRIBUTION = re.compile(r"No matching distribution found for ([A-Za-z0-9._-]+)")


def split_sdist_pins(
    requirements: list[str],
    error: ResolutionError,
    sources: Sources,
    targets: list[Target],
    cache_dir: str | None,
) -> tuple[list[str], list[Candidate]] | None:
    """(requirements without the sdist-only pins ``error`` names, their candidates), or
    None when it names none that the sources have an sdist of."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    from vpython.lock.model import Candidate
    from vpython.lock.sdist_lookup import find_files

    named = {canonicalize_name(n) for n in _NO_DISTRIBUTION.findall(error.message)}
    pinned: dict[int, tuple[Requirement, str]] = {}
    for i, text in enumerate(requirements):
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        specs = list(req.specifier)
        exact = len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version
        if exact and canonicalize_name(req.name) in named:
            pinned[i] = (req, specs[0].version)
    if not pinned:
        return None
    lowest = min(t.python[:2] for t in targets)
    found = find_files(
        [(r.name, v) for r, v in pinned.values()], sources, f"{lowest[0]}.{lowest[1]}", cache_dir=cache_dir
    )
    out = []
    for i, (req, version) in sorted(pinned.items()):
        if (req.name, version) not in found:
            continue
        # Its wheels too: the targets that have one install it, as in uv's locks.
        sdist, wheels = found[(req.name, version)]
        marker = req.marker
        on = [t.key for t in targets if marker is None or marker.evaluate(dict(t.environment()))]
        name = str(canonicalize_name(req.name))
        out.append((i, Candidate(name, version, wheels, frozenset(on), not wheels, sdist)))
    if not out:
        return None
    dropped = {i for i, _ in out}
    log.info(
        "pex: no wheel of " + ", ".join(c.name for _, c in out) + " for some target: locked with its sdist"
    )
    return [r for i, r in enumerate(requirements) if i not in dropped], [c for _, c in out]
