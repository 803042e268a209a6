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


# (name, version) pairs -> {(name, version): the sdist} (vpython.lock.sdist_lookup)
FindSdists = Callable[[Sequence[tuple[str, str]]], dict[tuple[str, str], RawWheel]]


def select_packages(
    candidates: Iterable[Candidate],
    targets: Sequence[Target],
    *,
    lock_dir: str,
    sources: Sources | None = None,
) -> tuple[list[LockedPackage], list[Gap]]:
    """Return (sorted [LockedPackage], [Gap]): ``select_with_builds`` without its list
    of builds and without looking sdists up (only the candidates' own)."""
    packages, gaps, _ = select_with_builds(candidates, targets, lock_dir=lock_dir, sources=sources)
    return packages, gaps


def select_with_builds(
    candidates: Iterable[Candidate],
    targets: Sequence[Target],
    *,
    lock_dir: str,
    sources: Sources | None = None,
    find_sdists: FindSdists | None = None,
) -> tuple[list[LockedPackage], list[Gap], list[Gap]]:
    """Return (sorted [LockedPackage], [Gap], [builds]).

    A target that installs a package without a compatible wheel builds it from the
    version's sdist (a ``builds`` entry) unless ``sources.only_binary``, or there is no
    sdist (a ``Gap``). The sdist comes from the engine's candidate or, when the engine
    reports none (pex never does; uv only when it had to resolve with builds allowed),
    from ``find_sdists``: both engines record the same sdist, so the same bytes."""
    selectors = {t.key: selector_for(t) for t in targets}
    allow_build = not (sources is not None and sources.only_binary)
    picked: list[tuple[Candidate, str, list[Target], dict[str, RawWheel], list[str]]] = []
    seen: dict[tuple[str, str], str] = {}  # (target key, name) -> version: engines must lock one
    for c in candidates:
        on = [t for t in targets if t.key in c.installed_on]
        if not on:
            continue
        version = c.version
        if c.wheels:
            version = wheel_version(c.wheels[0].filename, c.version)
        tagged = [(w, _wheel_tags(w.filename)) for w in c.wheels]
        chosen: dict[str, RawWheel] = {}
        without: list[str] = []  # target keys with no compatible wheel
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
                without.append(t.key)
            else:
                chosen[best.filename] = best
        picked.append((c, version, on, chosen, without))
    sdists = _sdists_for(picked, find_sdists) if allow_build else {}
    packages: list[LockedPackage] = []
    gaps: list[Gap] = []
    builds: list[Gap] = []
    for c, version, on, chosen, without in picked:
        sdist = sdists.get((c.name, version))
        for key in without:
            (builds if sdist else gaps).append(
                Gap(c.name, version, key, tuple(sorted(w.filename for w in c.wheels)))
            )
        if not chosen and not sdist:
            continue
        packages.append(
            _locked(c, version, on, chosen, sdist if without else None, without, targets, lock_dir, sources)
        )
    packages.sort(key=lambda p: (p.name, p.marker or "", p.version))
    gaps.sort(key=lambda g: (g.name, g.target))
    builds.sort(key=lambda g: (g.name, g.target))
    return packages, gaps, builds


def _sdists_for(
    picked: Sequence[tuple[Candidate, str, list[Target], dict[str, RawWheel], list[str]]],
    find_sdists: FindSdists | None,
) -> dict[tuple[str, str], RawWheel]:
    """The sdist of every package some target has no wheel for (looked up once, for all)."""
    out: dict[tuple[str, str], RawWheel] = {}
    wanted: list[tuple[str, str]] = []
    for c, version, _, _, without in picked:
        if not without:
            continue
        if c.sdist is not None:
            out[(c.name, version)] = c.sdist
        else:
            wanted.append((c.name, version))
    if wanted and find_sdists is not None:
        out.update(find_sdists(wanted))
    return out


def _locked(
    c: Candidate,
    version: str,
    on: list[Target],
    chosen: dict[str, RawWheel],
    sdist: RawWheel | None,
    builds: list[str],
    targets: Sequence[Target],
    lock_dir: str,
    sources: Sources | None,
) -> LockedPackage:
    wheels = tuple(lock_wheel(w, lock_dir) for _, w in sorted(chosen.items()))
    origins = list(chosen.values()) + ([sdist] if sdist else [])
    indexes = {_index_for(w, sources) for w in origins}
    index = indexes.pop() if len(indexes) == 1 else None
    try:
        marker = markers.synthesize(c.installed_on, targets)
    except ValueError as e:
        raise ResolutionError(
            f"cannot express where {c.name} {version} is installed: {e}",
            hint="lock these platforms separately",
        ) from None
    return LockedPackage(
        c.name,
        version,
        marker,
        wheels,
        index,
        tuple(sorted(t.key for t in on)),
        sdist=lock_wheel(sdist, lock_dir) if sdist else None,
        builds=tuple(sorted(builds)),
    )


def raise_for_gaps(gaps: Sequence[Gap], context: str, only_binary: bool = False) -> None:
    if not gaps:
        return
    lines = "\n".join(f"  - {g.describe()}" for g in gaps)
    first = gaps[0]
    raise ResolutionError(
        f"{context}: {len(gaps)} package/platform pair(s) have no compatible wheel"
        + (" (and building from sdists is turned off: --only-binary)" if only_binary else "")
        + f":\n{lines}",
        hint=(
            f"pick a version of {first.name} that publishes a wheel for {first.target}, "
            f"or drop the platform (--platform / [tool.vpython] platforms / verify_pep425_tag)"
            + (
                ", or allow builds from sdists (drop --only-binary / VPYTHON_ONLY_BINARY)"
                if only_binary
                else ""
            )
        ),
    )
