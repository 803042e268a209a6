"""Package markers derived from the set of targets that install a package.

Resolvers express "installed here, not there" in their own dialects (uv simplifies
universal markers its own way, pex records dependency markers, not package markers).
The lock writes one canonical form instead, computed from which of the lock's targets
install the package: the simplest expression over ``sys_platform``,
``platform_machine`` and ``python_version`` that is true on exactly those targets. It is
exact on every target the lock was made for, identical whichever engine resolved, and
reads like a marker a person would write (``sys_platform == 'win32'``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from itertools import combinations
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vpython.lock.targets import Target

ATTRIBUTES = ("sys_platform", "platform_machine", "python_version")


def _quote(value: str) -> str:
    if "'" in value:
        raise ValueError(f"marker value with a quote: {value!r}")
    return f"'{value}'"


def _single(attr: str, inside: set[str], outside: set[str]) -> str:
    if len(outside) < len(inside):
        return " and ".join(f"{attr} != {_quote(v)}" for v in sorted(outside))
    return " or ".join(f"{attr} == {_quote(v)}" for v in sorted(inside))


def _conj(attrs: Sequence[str], values: Sequence[str]) -> str:
    return " and ".join(f"{a} == {_quote(v)}" for a, v in zip(attrs, values))


def synthesize(installed_keys: Collection[str], targets: Iterable[Target]) -> str | None:
    """Marker true on exactly the targets in ``installed_keys`` (None = all of them).

    Raises ValueError when the targets cannot be told apart by markers (two targets
    with the same marker environment but different membership): a resolver decision
    markers cannot express.
    """
    envs = {t.key: t.environment() for t in targets}
    inside_keys = [k for k in envs if k in installed_keys]
    outside_keys = [k for k in envs if k not in installed_keys]
    if not inside_keys:
        raise ValueError("package installed on no target")
    if not outside_keys:
        return None
    for n in (1, 2, 3):
        for attrs in combinations(ATTRIBUTES, n):
            inside = {tuple(envs[k][a] for a in attrs) for k in inside_keys}
            outside = {tuple(envs[k][a] for a in attrs) for k in outside_keys}
            if inside & outside:
                continue
            if n == 1:
                return _single(attrs[0], {v[0] for v in inside}, {v[0] for v in outside})
            terms = [_conj(attrs, v) for v in sorted(inside)]
            if len(terms) == 1:
                return terms[0]
            return " or ".join(f"({t})" for t in terms)
    raise ValueError(
        "targets "
        + ", ".join(sorted(inside_keys))
        + " and "
        + ", ".join(sorted(outside_keys))
        + " have the same marker environment but resolve differently"
    )


def evaluator(marker_text: str | None) -> Callable[[Target], bool]:
    """A function Target -> bool for an engine's package marker (None = always)."""
    if not marker_text:
        return lambda target: True
    from packaging.markers import Marker

    marker = Marker(marker_text)

    def evaluate(target: Target) -> bool:
        env: dict[str, str | frozenset[str]] = dict(target.environment())
        env.update(extras=frozenset(), dependency_groups=frozenset())
        return marker.evaluate(env, context="lock_file")

    return evaluate
