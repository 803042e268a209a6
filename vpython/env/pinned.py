"""A closed pin set for Python 2.7, taken from the index file by file (uv cannot target 2.7).

A text-proto spec pins every package exactly, so no resolver is needed: for each pin,
the sources' files of that project (``settings.listing``: PEP 691 JSON or PEP 503
pages, find-links directories) are filtered by version, ``Requires-Python`` and
yanked status, and the best wheel for the interpreter's own tag list is taken (its
order is the preference); a pin with no fitting wheel takes its sdist, which is built
once for the interpreter (``vpython.store.sdist_pip27``). The result is pylock text like
uv's, so the cache, the plan and the artifact selection treat it as any resolution.

Yanked files (PEP 592) serve exact pins only, as pip and uv do.

The closure check reads each chosen wheel's ``Requires-Dist`` (PEP 658 metadata from
the index, or the file's own ``METADATA``) and warns, as ``env.closure`` does, about
what the spec does not list.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from vpython.errors import ResolutionError

if TYPE_CHECKING:
    from vpython.interpreters.model import Interpreter
    from vpython.settings.listing import File
    from vpython.settings.sources import Sources
    from vpython.spec.model import Spec


def _parsed(f: File) -> tuple[str, object, frozenset[str]] | None:
    """(kind "wheel"/"sdist", Version, wheel tag strings) of a file, or None."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if f.filename.endswith(".whl"):
            _, version, _, tags = parse_wheel_filename(f.filename)
            return "wheel", version, frozenset(str(t) for t in tags)
        if f.filename.endswith((".tar.gz", ".zip")):
            return "sdist", parse_sdist_filename(f.filename)[1], frozenset()
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def _fits_python(f: File, python: str) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if not f.requires_python:
        return True
    try:
        return SpecifierSet(f.requires_python).contains(python, prereleases=True)
    except InvalidSpecifier:
        return True  # as pip does: an unreadable Requires-Python does not exclude the file


def choose(pin: str, files: list[File], rank: dict[str, int], python: str) -> File | None:
    """The file to install for ``pin``: the newest version the pin allows that has a wheel
    for these tags (best ``rank``) or else an sdist; None when no file fits."""
    from packaging.requirements import Requirement

    req = Requirement(pin)
    exact = any(s.operator in ("==", "===") for s in req.specifier)  # PEP 592: yanked files serve those
    by_version: dict[object, list[tuple[str, File, frozenset[str]]]] = {}
    for f in files:
        parsed = _parsed(f)
        if parsed is None or (f.yanked and not exact) or not _fits_python(f, python):
            continue
        kind, version, tags = parsed
        if req.specifier.contains(str(version), prereleases=True):
            by_version.setdefault(version, []).append((kind, f, tags))
    for version in sorted(by_version, reverse=True):  # type: ignore[type-var]  # packaging Versions
        wheels = [
            (min(rank[t] for t in tags if t in rank), f)
            for kind, f, tags in by_version[version]
            if kind == "wheel" and any(t in rank for t in tags)
        ]
        if wheels:
            return min(wheels, key=lambda w: (w[0], w[1].filename))[1]
        sdists = sorted(
            (f for kind, f, _ in by_version[version] if kind == "sdist"),
            key=lambda f: (not f.filename.endswith(".tar.gz"), f.filename),
        )
        if sdists:
            return sdists[0]
    return None


def _entry(name: str, version: str, f: File) -> dict[str, object]:
    """One pylock ``[[packages]]`` table for file ``f``."""
    from vpython.store.wheels import sha256_file

    sha = f.sha256 or (sha256_file(f.path) if f.path else None)
    if not sha:
        raise ResolutionError(
            f"the index gives no sha256 for {f.filename} ({f.source})",
            hint="use an index that publishes file hashes (PEP 503 #sha256= fragments or PEP 691 JSON)",
        )
    archive: dict[str, object] = {"path": f.path} if f.path else {"url": f.url}
    size = f.size if f.size is not None else (os.path.getsize(f.path) if f.path else None)
    if size is not None:
        archive["size"] = size
    archive["hashes"] = {"sha256": sha.lower()}
    key = "wheels" if f.filename.endswith(".whl") else "sdist"
    return {"name": name, "version": version, key: [archive] if key == "wheels" else archive}


def resolve_pins(
    spec: Spec, pins: Sequence[str], seeds: Sequence[str], interp: Interpreter, sources: Sources
) -> str:
    """Pylock text for exactly ``pins`` on ``interp`` (module docstring). Raises the
    private-package error for pins no source has, ResolutionError for pins that have no
    file for this interpreter."""
    from concurrent.futures import ThreadPoolExecutor

    import tomli_w
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from vpython.interpreters.tags import target_tags
    from vpython.settings.listing import project_files
    from vpython.spec.private import entries_by_project, missing_packages

    rank = {str(t): i for i, t in enumerate(target_tags(interp))}
    python = interp.version_string
    names = [str(canonicalize_name(Requirement(p).name)) for p in pins]
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(pins)))) as pool:
        listings = list(pool.map(lambda n: project_files(n, sources), names))
    chosen: dict[str, File] = {}
    unfit = []
    for pin, name, files in zip(pins, names, listings):
        f = choose(pin, files or [], rank, python)
        if f is None:
            unfit.append(pin)
        else:
            chosen[name] = f
    if unfit:
        private = missing_packages(spec, unfit, sources, seeds)
        if private is not None:
            raise private
        entry = next(iter(entries_by_project(spec).get(names[list(pins).index(unfit[0])], ())), None)
        raise ResolutionError(
            f"no file of {', '.join(unfit)} fits {interp.describe()} (no wheel with its tags, no sdist, "
            "or Requires-Python excludes it)",
            path=spec.path,
            line=entry.line if entry is not None else None,
            hint="pin a version that supports Python 2.7, or supply a wheel with VPYTHON_FIND_LINKS",
        )
    packages = []
    for name in names:
        version = str(_parsed(chosen[name])[1])  # type: ignore[index]  # chosen files parse
        packages.append(_entry(name, version, chosen[name]))
    _check_closure(spec, pins, chosen, interp, sources)
    doc = {
        "lock-version": "1.0",
        "created-by": "vpython",
        "requires-python": f"=={interp.version[0]}.{interp.version[1]}.*",
        "packages": packages,
    }
    return tomli_w.dumps(doc)


def _requires(f: File, sources: Sources) -> list[str]:
    """The Requires-Dist lines of a chosen wheel ([] when they cannot be read cheaply)."""
    import email.parser
    import zipfile

    data = b""
    try:
        if f.path:
            with zipfile.ZipFile(f.path) as zf:
                meta = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
                data = zf.read(meta[0]) if meta else b""
        elif f.url and f.has_metadata:
            from vpython.settings.listing import _open

            with _open(f.url + ".metadata", sources) as resp:
                data = resp.read()
    except (OSError, zipfile.BadZipFile, ValueError):
        return []
    msg = email.parser.BytesParser().parsebytes(data, headersonly=True)
    return [str(v) for v in msg.get_all("Requires-Dist") or []]


def _check_closure(
    spec: Spec, pins: Sequence[str], chosen: dict[str, File], interp: Interpreter, sources: Sources
) -> None:
    """Warn (``env.closure.report_gaps``) about dependencies of the chosen wheels that the
    pins do not include, with their markers evaluated for ``interp``."""
    from concurrent.futures import ThreadPoolExecutor

    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    from vpython.env.closure import report_gaps
    from vpython.interpreters.tags import marker_environment

    env = dict(marker_environment(interp), extra="")
    wheels = {n: f for n, f in chosen.items() if f.filename.endswith(".whl")}
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(wheels)))) as pool:
        requires = dict(zip(wheels, pool.map(lambda f: _requires(f, sources), wheels.values())))
    parents: dict[str, list[str]] = {}
    for name, lines in requires.items():
        for line in lines:
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            if req.marker is not None and not req.marker.evaluate(env):
                continue
            dep = str(canonicalize_name(req.name))
            if dep not in chosen:
                parents.setdefault(dep, []).append(name)
    if parents:
        report_gaps(spec, pins, [(d, "") for d in sorted(parents)], parents)
