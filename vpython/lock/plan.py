"""What a lock run decides before any resolver runs: the targets, the resolver input, the
sources and cutoff, the engine (``make_plan`` -> ``Plan``).

The order a run goes through: ``lock.plan`` (here) -> ``lock.resolve`` (one resolution,
wheel selection, the lockfile text) -> ``lock.pylock`` (the file). ``lock.early`` starts uv
from a provisional plan while the real one is made; ``lock.freshness`` compares a lockfile
with a plan.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NoReturn

from vpython import log
from vpython.errors import UserError
from vpython.lock import targets as tg

if TYPE_CHECKING:
    from collections.abc import Iterable

    from packaging.requirements import Requirement

    from vpython.lock.targets import Target
    from vpython.settings.sources import SourceFlags, Sources
    from vpython.spec.discover import DiscoveredSpec
    from vpython.spec.model import Spec

ENGINES = ("uv", "pex")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?$")

PythonVersion = tuple[int, ...]  # (3, 11) or (3, 11, 4)


@dataclass(frozen=True)
class Plan:
    """Everything a lock run needs, decided before any resolver runs."""

    discovered: DiscoveredSpec
    spec: Spec
    lock_path: str
    targets: list[Target]
    requirements: list[str]  # PEP 508 strings handed to the resolver (markers included)
    closed: bool
    sources: Sources
    engine: str
    spec_hash: str
    # closed specs: target key -> {project name: its pin}
    expected: dict[str, dict[str, Requirement]] = field(default_factory=dict)
    target_origin: str = ""
    spec_path: str = ""  # the spec relative to the lockfile ([tool.vpython] spec)
    # Where the resolver keeps its cache: <root>/v1/tool-cache (never ~/.cache).
    tool_cache: str | None = field(default=None, compare=False)


# ------------------------------------------------------------------------ single decisions


def engine_name(flag: str | None) -> str:
    """``--engine`` > ``VPYTHON_LOCK_ENGINE`` > uv."""
    name = flag or os.environ.get("VPYTHON_LOCK_ENGINE") or "uv"
    if name not in ENGINES:
        where = "--engine" if flag else "VPYTHON_LOCK_ENGINE"
        raise UserError(f"{where}={name}: unknown lock engine", hint="choose uv (default) or pex")
    return name


def validate_exclude_newer(value: str | None, where: str = "--exclude-newer") -> str | None:
    """The cutoff stripped, None for None; a UserError naming ``where`` if it is no timestamp."""
    if value is None:
        return None
    if not _TIMESTAMP.match(value.strip()):
        raise UserError(
            f"{where} {value!r}: not a timestamp",
            hint="use RFC 3339, e.g. 2026-01-31T00:00:00Z, or a date 2026-01-31",
        )
    return value.strip()


def spec_python(spec: Spec) -> str:
    """The Python version the spec itself names ("" when it names none)."""
    return spec.python_version or str((spec.tool or {}).get("python-version", "") or "")


# ------------------------------------------------------------------------ Python version


def default_python(
    spec: Spec, explicit_interpreter: str | None = None, cache_dir: str | None = None
) -> PythonVersion:
    """The Python version a lock targets when nothing names one.

    The spec's own version (text proto ``python_version``, ``[tool.vpython]
    python-version``); else the lowest minor that satisfies ``requires-python`` and
    that some installed interpreter has; else the interpreter given with
    ``--interpreter``; else the running interpreter's.
    """
    from vpython.interpreters import select

    where = spec.path or "spec"
    text = spec_python(spec)
    if text:
        if len(text.split(".")) >= 2:
            return tg.parse_python_version(text, f"{where}: python version")
        # "3": whichever 3.x interpreter the runner would pick.
        return tuple(select.select_interpreter(version=text, cache_dir=cache_dir).version[:2])
    if spec.requires_python:
        return _lowest_for_requires_python(spec, where, cache_dir)
    if explicit_interpreter:
        return tuple(
            select.select_interpreter(explicit=explicit_interpreter, cache_dir=cache_dir).version[:2]
        )
    return tuple(sys.version_info[:2])


def _lowest_for_requires_python(spec: Spec, where: str, cache_dir: str | None) -> PythonVersion:
    """The lowest installed minor that satisfies ``requires-python``; warns when runs would
    use another one (the lock would then not be what runs install)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from vpython.interpreters import discover

    try:
        wanted = SpecifierSet(spec.requires_python)
    except InvalidSpecifier:
        raise UserError(
            f"requires-python {spec.requires_python!r} is not a PEP 440 specifier",
            path=spec.path,
            key="requires-python",
            hint='write a specifier such as ">=3.10"',
        ) from None
    versions = sorted(
        {
            tuple(i.version[:2])
            for i in discover.find_interpreters(cache_dir)
            if i.supported and wanted.contains(i.version_string, prereleases=True)
        }
    )
    if not versions:
        raise UserError(
            f"{where}: no installed interpreter satisfies requires-python {spec.requires_python!r}",
            hint="pass --python X.Y to lock for a version anyway",
        )
    from vpython.interpreters import select

    chosen: PythonVersion = versions[0]
    try:
        runner = tuple(
            select.select_interpreter(requires_python=spec.requires_python, cache_dir=cache_dir).version[:2]
        )
    except UserError:
        runner = chosen
    if runner != chosen:
        log.warning(
            f"{where}: locking for Python {chosen[0]}.{chosen[1]} (the lowest installed version that "
            f"satisfies requires-python {spec.requires_python!r}), but runs here use "
            f"{runner[0]}.{runner[1]}; set [tool.vpython] python-version, or pass "
            f"--python {chosen[0]}.{chosen[1]} --python {runner[0]}.{runner[1]}"
        )
    return chosen


# ------------------------------------------------------------------------ targets


def choose_targets(
    spec: Spec,
    *,
    platforms: Iterable[str] = (),
    pythons: Iterable[str] = (),
    interpreter: str | None = None,
    cache_dir: str | None = None,
) -> tuple[list[Target], str]:
    """(targets, where they came from).

    ``--platform`` > ``[tool.vpython] platforms`` > the text proto's
    ``verify_pep425_tag`` list > ``DEFAULT_PLATFORMS``; each for ``--python`` versions,
    else the spec's Python (see ``default_python``). A full tag (``cp311-cp311-X``)
    carries its own Python version.
    """
    versions = [tg.parse_python_version(p) for p in pythons]
    cache: list[list[PythonVersion]] = []

    def default() -> list[PythonVersion]:
        # Asked only when some platform does not carry its own version: discovering
        # interpreters is the slow part.
        if versions:
            return versions
        if not cache:
            cache.append([default_python(spec, interpreter, cache_dir)])
        return cache[0]

    where = spec.path or "spec"
    out: list[Target] = []
    tool_platforms = (spec.tool or {}).get("platforms")
    platforms = list(platforms)
    if platforms:
        origin = "--platform"
        for p in platforms:
            out += tg.parse_target(p, default(), "--platform")
    elif tool_platforms:
        origin = "[tool.vpython] platforms"
        for p in tool_platforms:
            out += tg.parse_target(p, default(), f"{where}: [tool.vpython] platforms")
    elif spec.verify_pep425_tags:
        origin = "verify_pep425_tag"
        for tag in spec.verify_pep425_tags:
            found = tg.from_pep425(tag, default(), f"{where}: verify_pep425_tag")
            if versions:
                found = [replace(t, python=v, abi="") for t in found for v in versions]
            out += found
    else:
        origin = "default platforms"
        for p in tg.DEFAULT_PLATFORMS:
            out += tg.parse_target(p, default(), "default platform")
    return tg.dedupe(out), origin


# ------------------------------------------------------------------------ the plan


def _cutoff(
    exclude_newer: str | None, sources: Sources, previous: dict[str, Any] | None, lock_path: str
) -> tuple[str | None, str]:
    """(the exclude-newer cutoff, where it came from): ``--exclude-newer`` (``none`` drops
    it) > the settings > the one the current lockfile recorded."""
    cutoff = validate_exclude_newer(exclude_newer) if exclude_newer not in (None, "none") else None
    origin = "--exclude-newer"
    if exclude_newer is None and sources.exclude_newer:
        origin = f"exclude-newer ({sources.origin.get('exclude-newer')})"
        cutoff = validate_exclude_newer(sources.exclude_newer, origin)
    if exclude_newer is None and cutoff is None and previous:
        from vpython.lock.pylock import recorded

        kept = recorded(previous).get("exclude-newer")
        if isinstance(kept, str) and kept:
            log.info(f"keeping the lock's exclude-newer cutoff {kept} (pass --exclude-newer none to drop it)")
            cutoff, origin = kept, f"[tool.vpython] exclude-newer of {lock_path}"
    return cutoff, origin


def _refuse_pex_cutoff(cutoff: str, origin: str) -> NoReturn:
    # pex passes the cutoff to pip as --uploaded-prior-to, which needs pip >= 26; pex's
    # own (vendored) pip is 20.3.4 and any other pip would first be downloaded from an
    # index: refuse now rather than fail (or go online) half-way.
    raise UserError(
        f"the pex engine cannot apply the exclude-newer cutoff {cutoff} (from {origin}): pex "
        "resolves with its bundled pip 20.3.4, which cannot filter files by upload time",
        hint="lock with --engine uv (the default), or pass --exclude-newer none to lock without a cutoff",
    )


def _resolver_input(spec: Spec, targets: list[Target]) -> tuple[list[str], dict[str, dict[str, Requirement]]]:
    """(requirements for the resolver, each target's exact pins for a closed spec)."""
    if spec.closed:
        from vpython.lock.closed import closed_requirements

        return closed_requirements(spec, targets)
    return sorted(spec.dependencies), {}


def make_plan(
    discovered: DiscoveredSpec,
    *,
    flags: SourceFlags | None,
    platforms: Iterable[str] = (),
    pythons: Iterable[str] = (),
    engine: str | None = None,
    exclude_newer: str | None = None,
    previous: dict[str, Any] | None = None,
    cache_dir: str | None = None,
    spec: Spec | None = None,
    tool_cache: str | None = None,
) -> Plan:
    """The plan for locking ``discovered``. ``spec`` is given by ``lock.early`` (a
    provisional read); then no spec hash is computed (the real plan has it)."""
    from vpython.lock.pylock import spec_path_in_lock
    from vpython.settings.sources import load_sources
    from vpython.spec.load import parse_discovered, spec_hash

    lock_path = discovered.lock_path
    if discovered.kind == "empty" or not lock_path:
        raise UserError(
            f"nothing to lock: {discovered.origin}",
            hint="pass a script with a spec, or a .vpython3 / vpython.toml file",
        )
    provisional = spec is not None
    if spec is None:
        spec = parse_discovered(discovered)
    chosen, origin = choose_targets(
        spec,
        platforms=platforms,
        pythons=pythons,
        interpreter=getattr(flags, "interpreter", None),
        cache_dir=cache_dir,
    )
    if not chosen:
        raise UserError("no lock targets", hint="pass --platform TAG")
    base_dir = os.path.dirname(discovered.path) if discovered.path else os.getcwd()
    sources = load_sources(flags=flags, spec_tool=spec.tool, base_dir=base_dir)
    cutoff, cutoff_origin = _cutoff(exclude_newer, sources, previous, lock_path)
    sources = replace(sources, exclude_newer=cutoff)
    engine = engine_name(engine)
    if engine == "pex" and cutoff:
        _refuse_pex_cutoff(cutoff, cutoff_origin)
    requirements, expected = _resolver_input(spec, chosen)
    return Plan(
        discovered=discovered,
        spec=spec,
        lock_path=lock_path,
        targets=chosen,
        requirements=requirements,
        closed=spec.closed,
        sources=sources,
        engine=engine,
        spec_hash="" if provisional else spec_hash(discovered),
        expected=expected,
        target_origin=origin,
        spec_path=spec_path_in_lock(lock_path, discovered.path) if discovered.path else "",
        tool_cache=tool_cache,
    )
