"""The slow path of provisioning: from a discovered spec to what its env is built from.

Parse the spec, choose the interpreter, load the package sources, choose the lock (the
user's lockfile if fresh, else a cached resolution, else a new resolution, cached under
the spec digest) and select the artifacts it installs on that interpreter. Everything
heavy (protobuf, packaging, uv, dataclasses) is imported here, only after the warm path
and the plan (vpython.env.plan) have missed.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vpython import fs, log
from vpython.errors import UserError
from vpython.spec.load import parse_discovered, spec_hash

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from typing import Protocol

    from packaging.pylock import Pylock
    from packaging.tags import Tag

    from vpython.interpreters.model import Interpreter
    from vpython.lock.pylock import Artifact
    from vpython.settings.sources import SourceFlags, Sources
    from vpython.spec.discover import DiscoveredSpec
    from vpython.spec.model import Requirements, Spec
    from vpython.store.root import Layout

    # before_resolving(spec, interp, tags, sources): a new resolution is about to start
    BeforeResolving = Callable[[Spec, Interpreter, Sequence[Tag], Sources], None]

    class RunFlags(SourceFlags, Protocol):
        """What provisioning reads of the command line (vpython.cli.flags.VPythonFlags)."""

        @property
        def interpreter(self) -> str | None: ...  # -vpython-interpreter


@dataclass(frozen=True)
class Resolved:
    """What the slow path chose: the env ``key`` to build on ``interp`` from
    ``artifacts``, selected from the lock at ``lock_source`` (None: nothing to install)."""

    interp: Interpreter
    artifacts: list[Artifact]
    key: str
    lock_source: str | None
    sources: Sources


def choose_interpreter(spec: Spec, flags: RunFlags, layout: Layout) -> Interpreter:
    """The interpreter the spec asks for (``-vpython-interpreter`` wins). An error about
    the spec's ``python_version`` names the spec file and line."""
    from vpython.errors import InterpreterError
    from vpython.interpreters.select import select_interpreter

    version = spec.python_version or (spec.tool or {}).get("python-version", "")
    try:
        interp = select_interpreter(
            version=version,
            requires_python=spec.requires_python,
            explicit=flags.interpreter,
            cache_dir=layout.interpreters,
            allow_27=spec.closed,
        )
    except InterpreterError as e:
        if e.key == "python_version" and e.path is None and spec.path:
            e.path, e.line = spec.path, spec.python_version_line
        raise
    if interp.version[0] < 3 and not spec.closed:
        raise InterpreterError(
            f"{interp.describe()} can run text-proto specs (.vpython, .vpython3, [VPYTHON:BEGIN] blocks) only: "
            "a PEP 723 / vpython.toml spec is resolved by uv, which does not support Python 2.7",
            path=spec.path,
            hint="choose a CPython 3.8+ with -vpython-interpreter, or write the spec as a .vpython file",
        )
    return interp


def check_closed(
    requirements: Requirements, lock: Pylock, source: str, *, strict: bool = False
) -> list[tuple[str, str]]:
    """(name, version) of what ``lock`` installs beyond a text-proto spec's pins (seeds
    count as listed when ``requirements`` has them). ``strict`` makes any of them an error;
    otherwise the caller warns (``env.closure``) and installs exactly the listed set."""
    from vpython.env.closure import unlisted

    extra = unlisted(list(requirements.requirements), lock)
    if extra and strict:
        listed = ", ".join(f"{n}=={v}" for n, v in extra)
        first = extra[0]
        raise UserError(
            "the spec is not closed: it does not list "
            f"{listed}, which the listed packages depend on (strict-closure is on)",
            path=source,
            hint=(
                f'add  wheel: < name: "infra/python/wheels/{first[0]}-py3" version: "version:{first[1]}" >'
                " (or the PyPI name) for each missing package"
            ),
        )
    return extra


def obtain_lock(
    discovered: DiscoveredSpec,
    spec: Spec,
    interp: Interpreter,
    sources: Sources,
    layout: Layout,
    digest: str,
    tags: Sequence[Tag],
    *,
    before_resolving: BeforeResolving | None = None,
) -> tuple[Pylock | None, str | None]:
    """The lock that governs this run and where it is: the user's lockfile if fresh, else
    a cached resolution, else a new resolution (cached under the spec digest). (None,
    None) when the spec requires nothing. ``before_resolving(spec, interp, tags,
    sources)`` is called just before a new resolution starts (vpython.env.prefetch)."""
    from vpython.lock import pylock

    lock_path = discovered.lock_path
    if lock_path and os.path.isfile(lock_path):
        lock, raw = pylock.read_lock(lock_path)
        recorded = ((raw.get("tool") or {}).get("vpython") or {}).get("spec-hash")
        if recorded is None or recorded == spec_hash(discovered):
            log.info(f"installing from lockfile {lock_path}")
            return lock, lock_path
        log.warning(
            f"{lock_path} is stale: {discovered.path} changed since it was locked; "
            f"resolving into the cache only (run `vpython lock {discovered.path}` to update the lockfile)"
        )
    cached = layout.cached_lock(digest)
    if os.path.isfile(cached):
        lock, _ = pylock.read_lock(cached)
        return lock, cached
    return _resolve_into_cache(discovered, spec, interp, sources, layout, tags, cached, before_resolving)


def _resolve_into_cache(
    discovered: DiscoveredSpec,
    spec: Spec,
    interp: Interpreter,
    sources: Sources,
    layout: Layout,
    tags: Sequence[Tag],
    cached: str,
    before_resolving: BeforeResolving | None = None,
) -> tuple[Pylock | None, str | None]:
    """Resolve the spec for ``interp`` and keep the resolution at ``cached``."""
    from vpython.lock import pylock
    from vpython.lock.engine_uv import compile_pylock
    from vpython.settings.compat import seeds_for
    from vpython.settings.credentials import strip_credentials_in_text
    from vpython.spec.normalize import normalize_spec

    requirements = normalize_spec(spec, tags)
    if not requirements.requirements and not (requirements.closed and seeds_for(tuple(interp.version))):
        return None, None  # nothing to install (a text-proto env still gets its seeds)
    log.progress(f"resolving {len(requirements.requirements)} requirement(s) for {interp.path}")
    context = discovered.path or "the spec"
    if before_resolving is not None:
        before_resolving(spec, interp, tags, sources)
    if requirements.closed and interp.version[0] < 3:  # uv cannot target 2.7: env.pinned
        from vpython.env.closure import seeded_pins
        from vpython.env.pinned import resolve_pins

        text = resolve_pins(spec, *seeded_pins(requirements, tuple(interp.version)), interp, sources)
    elif requirements.closed:  # exactly the listed pins, plus the seeds (env.closure)
        from vpython.env.closure import resolve_closed

        text = resolve_closed(spec, requirements, interp, sources, context, layout.tool_cache)
    else:
        text = compile_pylock(
            list(requirements.requirements),
            sources,
            python=interp.path,
            context=context,
            cache_dir=layout.tool_cache,
        )
    # The cache root must hold no credentials (a direct reference's URL may carry
    # some); downloads get them back from Sources.credential_urls.
    text = strip_credentials_in_text(text)
    lock, _ = pylock.parse_lock_text(text, "<resolution>")
    os.makedirs(layout.locks, exist_ok=True)
    fs.write_atomic(cached, text, mode=0o600, prefix=".lock-")
    return lock, cached


def direct_reference_urls(spec: Spec, tags: Sequence[Tag]) -> tuple[str, ...]:
    """The spec's ``name @ url`` URLs that carry credentials (for downloads only)."""
    from packaging.requirements import InvalidRequirement, Requirement

    from vpython.spec.normalize import normalize_spec

    out = []
    for text in normalize_spec(spec, tags).requirements:
        if "@" not in text:
            continue
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.url and "@" in req.url.split("://", 1)[-1].split("/", 1)[0]:
            out.append(req.url)
    return tuple(out)


def mark_direct_references(spec: Spec, tags: Sequence[Tag], artifacts: list[Artifact]) -> list[Artifact]:
    """Artifacts the spec names by ``name @ url`` carry that URL (PEP 610); packages
    installed by name and version from an index or find-links do not get one."""
    import dataclasses

    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    from vpython.settings.credentials import strip_credentials
    from vpython.spec.normalize import normalize_spec

    if not artifacts:
        return artifacts
    direct = {}
    for text in normalize_spec(spec, tags).requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.url:
            direct[canonicalize_name(req.name)] = strip_credentials(req.url)
    if not direct:
        return artifacts
    return [
        dataclasses.replace(a, direct_url=direct[canonicalize_name(a.name)])
        if canonicalize_name(a.name) in direct
        else a
        for a in artifacts
    ]


@contextlib.contextmanager
def collect_warnings(echo: bool = True) -> Iterator[list[str]]:
    """The slow path's warnings (about the spec, the lock, the interpreter), kept so a
    plan hit shows the user the same ones."""
    seen: list[str] = []
    original = log.warning

    def warning(msg: str) -> None:
        if msg not in seen:
            seen.append(msg)
        if echo:
            original(msg)

    log.warning = warning  # restored below; every module calls log.warning through the module
    try:
        yield seen
    finally:
        log.warning = original


def _base_dir(discovered: DiscoveredSpec) -> str:
    """Where the spec's relative find-links are relative to."""
    return os.path.dirname(discovered.path) if discovered.path else os.getcwd()


def resolve(
    discovered: DiscoveredSpec,
    layout: Layout,
    flags: RunFlags,
    digest: str,
    *,
    before_resolving: BeforeResolving | None = None,
) -> Resolved:
    """The slow path (module docstring); ``before_resolving``: see ``obtain_lock``."""
    import dataclasses

    from vpython.env.build import env_key
    from vpython.interpreters.tags import marker_environment, target_tags
    from vpython.lock import pylock
    from vpython.settings.sources import load_sources

    spec = parse_discovered(discovered)
    interp = choose_interpreter(spec, flags, layout)
    tags = target_tags(interp)
    environment = marker_environment(interp)
    sources = load_sources(flags=flags, spec_tool=spec.tool, base_dir=_base_dir(discovered))
    sources = dataclasses.replace(sources, credential_urls=direct_reference_urls(spec, tags))
    if interp.is_py27:  # its skeleton needs virtualenv 20.21.1: fetched with the run's sources
        from vpython.store.tools import ensure_tool

        ensure_tool(layout, sources, "virtualenv-py27")
    lock, lock_source = obtain_lock(
        discovered, spec, interp, sources, layout, digest, tags, before_resolving=before_resolving
    )
    artifacts: list[Artifact] = []
    if lock is not None and lock_source is not None:  # obtain_lock returns both or neither
        artifacts = pylock.select_artifacts(
            lock,
            source=lock_source,
            environment=environment,
            tags=tags,
            platform_label=f"{interp.path} ({'.'.join(map(str, interp.version))})",
        )
    artifacts = mark_direct_references(spec, tags, artifacts)
    from vpython.env.built import realize

    artifacts = realize(artifacts, interp, sources, layout)  # sdists -> the wheels built from them
    return Resolved(interp, artifacts, env_key(interp, artifacts), lock_source, sources)


def sources_for(discovered: DiscoveredSpec, layout: Layout, flags: RunFlags) -> Sources:
    """The package sources of a plan hit that must fetch after all (a store entry is
    missing or changed): what the slow path would have used, its warnings not repeated."""
    import dataclasses

    from vpython.interpreters.tags import target_tags
    from vpython.settings.sources import load_sources

    with collect_warnings(echo=False):
        spec = parse_discovered(discovered, quiet=True)
        sources = load_sources(flags=flags, spec_tool=spec.tool, base_dir=_base_dir(discovered))
        tags = target_tags(choose_interpreter(spec, flags, layout))
        return dataclasses.replace(sources, credential_urls=direct_reference_urls(spec, tags))
