"""The private-package error: a closed spec pins something no configured source has.

Chromium's specs name CIPD packages, and a few of those never existed on PyPI
(``infra_libs``, ``expect_tests``: Chromium-internal) or only at a version CIPD built
itself (``opencv-python`` 2.4.13.2). When the resolver fails, ``missing_packages`` asks
the sources directly (``settings.listing``) which pins they lack, and returns one error
that names the spec file and the line of the first such entry, every missing package
and version, and the three ways to supply them: a directory of wheels
(``VPYTHON_FIND_LINKS`` / ``-vpython-find-links``), a private index
(``-vpython-index-url`` / ``index-url`` in the config file), or the config file's
``[cipd]`` map (``vpython.settings.compat``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vpython import log
from vpython.errors import ResolutionError, UserError

if TYPE_CHECKING:
    from vpython.settings.listing import File
    from vpython.settings.sources import Sources
    from vpython.spec.model import Spec, WheelEntry


@dataclass(frozen=True)
class Missing:
    """One pin the sources lack: the whole project (``versions`` empty) or that version."""

    name: str
    specifier: str  # "==2.3.0"
    versions: tuple[str, ...]  # the versions the sources do have (newest last)
    entry: WheelEntry | None  # the spec's entry for it
    seed: bool = False  # one of the seeds vpython adds (settings.seeds), not the spec's


def entries_by_project(spec: Spec) -> dict[str, list[WheelEntry]]:
    from vpython.settings.compat import cipd_map
    from vpython.spec import cipd

    table = cipd_map()
    out: dict[str, list[WheelEntry]] = {}
    for entry in spec.wheels:
        try:
            project = cipd.pypi_name(entry.name, entry=entry, path=spec.path)
            specifier = cipd.pypi_specifier(entry.version, entry=entry, path=spec.path)
        except UserError:
            continue
        chosen = cipd.mapped(entry, project, specifier, table)
        if chosen is not None:
            out.setdefault(chosen[0], []).append(entry)
    return out


def _versions(files: list[File]) -> list[str]:
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )
    from packaging.version import Version

    found: set[Version] = set()
    for f in files:
        try:
            if f.filename.endswith(".whl"):
                found.add(parse_wheel_filename(f.filename)[1])
            elif f.filename.endswith((".tar.gz", ".zip")):
                found.add(parse_sdist_filename(f.filename)[1])
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
    return [str(v) for v in sorted(found)]


def _check_pin(text: str, sources: Sources) -> Missing | None:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from vpython.settings.listing import project_files

    req = Requirement(text)
    name = str(canonicalize_name(req.name))
    files = project_files(name, sources)
    if files is None:
        return Missing(name, str(req.specifier), (), None)
    # PEP 592: a yanked file still serves an exact pin (futures 3.1.1 is yanked on PyPI).
    exact = any(s.operator in ("==", "===") for s in req.specifier)
    versions = _versions([f for f in files if exact or not f.yanked])
    if req.specifier and not any(req.specifier.contains(v, prereleases=True) for v in versions):
        return Missing(name, str(req.specifier), tuple(versions), None)
    return None


def missing_packages(
    spec: Spec, pins: Sequence[str], sources: Sources, seeds: Sequence[str] = ()
) -> ResolutionError | None:
    """The private-package error for the ``pins`` (PEP 508 texts the resolver was given)
    that no source has, or None when every pin exists there (or the sources cannot be
    read: the resolver's own error then stands). ``seeds`` are the pins vpython added."""
    from concurrent.futures import ThreadPoolExecutor

    from vpython.settings.listing import ListingError

    if sources.offline and not sources.find_links:
        return None
    pins = [p for p in pins if "@" not in p]
    try:
        with ThreadPoolExecutor(max_workers=min(8, max(1, len(pins)))) as pool:
            found = [m for m in pool.map(lambda p: _check_pin(p, sources), pins) if m is not None]
    except (ListingError, ValueError) as e:
        log.debug(f"cannot tell which pins the sources lack: {e}")
        return None
    if not found:
        return None
    by_project = entries_by_project(spec)
    seed_names = {s.split("==")[0] for s in seeds}
    missing = [
        Missing(m.name, m.specifier, m.versions, None, seed=True)
        if m.name in seed_names
        else Missing(m.name, m.specifier, m.versions, _first(by_project.get(m.name)))
        for m in found
    ]
    return _error(spec, missing, sources)


def _first(entries: list[WheelEntry] | None) -> WheelEntry | None:
    return entries[0] if entries else None


def _describe(m: Missing) -> str:
    what = f"{m.name}{m.specifier}"
    if m.entry is not None:
        what += (
            f" (wheel {m.entry.name!r}, line {m.entry.line})"
            if m.entry.line
            else f" (wheel {m.entry.name!r})"
        )
    elif m.seed:
        what += " (a seed vpython adds to text-proto envs)"
    if m.versions:
        shown = ", ".join(m.versions[-5:])
        what += f": the sources have {m.name} but not that version (newest: {shown})"
    else:
        from vpython.spec.cipd import CHROMIUM_INTERNAL

        what += ": no configured source has this project"
        if m.name in CHROMIUM_INTERNAL:
            what += f" ({CHROMIUM_INTERNAL[m.name]}; only Chromium's CIPD had it)"
    return what


def _error(spec: Spec, missing: list[Missing], sources: Sources) -> ResolutionError:
    from vpython.settings.credentials import redact

    listed = [m for m in missing if m.entry is not None] or missing
    first = listed[0]
    where = ", ".join(redact(u) for u in [*sources.index_urls(), *sources.find_links]) or "none"
    lines = "\n".join(f"  - {_describe(m)}" for m in missing)
    version = first.specifier[2:] if first.specifier.startswith("==") else ""
    key = f'"{first.name}=={version}"' if version else first.name
    target = f'"{first.name}==<version>"' if first.versions else '"<project>"'
    hint = (
        "supply the package: put its wheel in a directory and pass it with VPYTHON_FIND_LINKS=/path/to/wheels "
        "(or -vpython-find-links /path/to/wheels), or point -vpython-index-url (or index-url in the config "
        f"file) at a private index that has it, or map it in the config file: [cipd] {key} = {target} "
        f"(or {key} = false to leave it out)"
    )
    if first.seed:
        hint = (
            f"the index lacks the {first.name} {version} that vpython seeds text-proto envs with: set another "
            f'version in the config file ([seeds] {first.name} = "<version>"), leave it out ({first.name} = false), '
            "or turn seeding off (seeds = false, or VPYTHON_SEEDS=0)"
        )
    return ResolutionError(
        f"{first.name}{first.specifier} is not published on the configured package sources ({where}):\n{lines}",
        path=spec.path,
        line=first.entry.line if first.entry is not None else None,
        hint=hint,
    )
