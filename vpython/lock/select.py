"""From a resolver's candidates to the packages a lockfile lists.

Per package, keep only the wheels some target installs: for every target whose marker
selects the package, the wheel that target's installer would pick (best-ranked tag,
``packaging.tags.create_compatible_tags_selector``, the same selector
``packaging.pylock`` installs with). A target that selects a package and has no
compatible wheel is a ``Gap``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from vpython.errors import ResolutionError
from vpython.lock import markers
from vpython.lock.model import Candidate, Gap, LockedPackage, LockedWheel, RawWheel
from vpython.settings.credentials import strip_credentials

if TYPE_CHECKING:
    from packaging.tags import Tag

    from vpython.lock.targets import Target
    from vpython.settings.sources import Sources

    # packaging.tags.create_compatible_tags_selector: (item, its tags) pairs -> items, best first
    Selector = Callable[[Iterable[tuple[Any, AbstractSet[Tag]]]], Iterator[Any]]


def _wheel_tags(filename: str) -> frozenset[Tag]:
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        return parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return frozenset()


def wheel_version(filename: str, fallback: str) -> str:
    """The version as the wheel names it (engines normalise differently: "1" vs "1.0")."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        return str(parse_wheel_filename(filename)[1])
    except InvalidWheelFilename:
        return fallback


def relative_path(path: str, lock_dir: str) -> str:
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(lock_dir))
    return rel.replace(os.sep, "/")


def lock_wheel(raw: RawWheel, lock_dir: str) -> LockedWheel:
    if raw.path:
        size = raw.size
        try:
            size = os.path.getsize(raw.path)
        except OSError:
            pass
        return LockedWheel(
            raw.filename, raw.sha256.lower(), path=relative_path(raw.path, lock_dir), size=size
        )
    return LockedWheel(raw.filename, raw.sha256.lower(), url=strip_credentials(raw.url or ""), size=raw.size)


def _index_for(raw: RawWheel, sources: Sources | None) -> str | None:
    """The index a remote wheel came from, when that is unambiguous."""
    if raw.path or not raw.url or sources is None:
        return None
    indexes = sources.index_urls()
    remote_links = [fl for fl in sources.find_links if "://" in fl and not fl.startswith("file:")]
    if len(indexes) == 1 and not remote_links:
        return strip_credentials(indexes[0])
    return None


_SELECTORS: dict[Target, Selector] = {}


def selector_for(target: Target) -> Selector:
    """``packaging.tags.create_compatible_tags_selector`` for a target (cached)."""
    sel = _SELECTORS.get(target)
    if sel is None:
        from packaging.tags import create_compatible_tags_selector

        sel = _SELECTORS[target] = create_compatible_tags_selector(target.tags())
    return sel


def select_packages(
    candidates: Iterable[Candidate],
    targets: Sequence[Target],
    *,
    lock_dir: str,
    sources: Sources | None = None,
) -> tuple[list[LockedPackage], list[Gap]]:
    """Return (sorted [LockedPackage], [Gap])."""
    selectors = {t.key: selector_for(t) for t in targets}
    packages = []
    gaps = []
    seen: dict[tuple[str, str], str] = {}  # (target key, name) -> version: engines must lock one
    for c in candidates:
        on = [t for t in targets if t.key in c.installed_on]
        if not on:
            continue
        version = c.version
        if c.wheels:
            version = wheel_version(c.wheels[0].filename, c.version)
        tagged = [(w, _wheel_tags(w.filename)) for w in c.wheels]
        chosen = {}
        for t in on:
            other = seen.get((t.key, c.name))
            if other is not None and other != version:
                raise ResolutionError(
                    f"the resolver selected two versions of {c.name} ({other} and {version}) for {t.key}",
                    hint="lock the platforms separately (--platform), or pin one version of it",
                )
            seen[(t.key, c.name)] = version
            best = next(selectors[t.key](tagged), None)
            if best is None:
                gaps.append(Gap(c.name, version, t.key, tuple(sorted(w.filename for w in c.wheels))))
                continue
            chosen[best.filename] = best
        if not chosen:
            continue
        wheels = tuple(lock_wheel(w, lock_dir) for _, w in sorted(chosen.items()))
        indexes = {_index_for(w, sources) for w in chosen.values()}
        index = indexes.pop() if len(indexes) == 1 else None
        try:
            marker = markers.synthesize(c.installed_on, targets)
        except ValueError as e:
            raise ResolutionError(
                f"cannot express where {c.name} {version} is installed: {e}",
                hint="lock these platforms separately",
            ) from None
        packages.append(
            LockedPackage(c.name, version, marker, wheels, index, tuple(sorted(t.key for t in on)))
        )
    packages.sort(key=lambda p: (p.name, p.marker or "", p.version))
    gaps.sort(key=lambda g: (g.name, g.target))
    return packages, gaps


def raise_for_gaps(gaps: Sequence[Gap], context: str) -> None:
    if not gaps:
        return
    lines = "\n".join(f"  - {g.describe()}" for g in gaps)
    first = gaps[0]
    raise ResolutionError(
        f"{context}: {len(gaps)} package/platform pair(s) have no compatible wheel:\n{lines}",
        hint=(
            f"pick a version of {first.name} that publishes a wheel for {first.target}, "
            f"or drop the platform (--platform / [tool.vpython] platforms / verify_pep425_tag)"
        ),
    )
