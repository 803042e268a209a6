"""Build constraints for old sdists that no longer build with today's build requirements.

An isolated PEP 517 build installs the newest version of every build requirement the
sdist declares, and some old pins do not build with those: PyYAML 5.4.x and 6.0 declare
an unpinned ``Cython`` and fail with Cython 3 (``'build_ext' object has no attribute
'cython_sources'``; seen on google/angle's ``.vpython3``, which pins pyyaml 5.4.1).
The fix is a *build constraint* (``uv build --build-constraints``): the version range the
backend's requirements are resolved within, for that one build.

``DEFAULTS`` is vpython's table, keyed by package and version range; the config file's
``[build-constraints]`` table (and a spec's ``[tool.vpython] build-constraints``) adds
entries, and an entry there whose key selects the package replaces the defaults for it
(an empty list turns them off)::

    [build-constraints]
    "pyyaml>=5.4,<6.0.1" = ["cython<3"]
    "mypkg==1.2" = ["setuptools<60", "wheel<0.38"]

Constraints change how a wheel is built, not which sdist it is built from: the store
keeps a built wheel under the sdist's sha256, ABI and platform, and ``build.json``
records the constraints it was built with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from vpython.settings.sources import Sources

# (requirement selecting the sdists, the build constraints), with why.
DEFAULTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # PyYAML 5.4-6.0 ask for an unpinned Cython; Cython 3 broke their setup.py
    # (fixed in 6.0.1 by pinning cython<3 itself).
    ("pyyaml>=5.4,<6.0.1", ("cython<3",)),
)


def _matching(table: Iterable[tuple[str, tuple[str, ...]]], name: str, version: str) -> list[tuple[str, ...]]:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    out = []
    for selector, constraints in table:
        try:
            req = Requirement(selector)
        except InvalidRequirement:
            continue  # checked where the config is read; a bad default is a test failure
        if canonicalize_name(req.name) == canonicalize_name(name) and req.specifier.contains(
            version, prereleases=True
        ):
            out.append(constraints)
    return out


def constraints_for(name: str, version: str, sources: Sources) -> list[str]:
    """The build constraints for building ``name`` ``version`` (see the module docstring)."""
    chosen = _matching(sources.build_constraints, name, version) or _matching(DEFAULTS, name, version)
    return sorted({c for group in chosen for c in group})
