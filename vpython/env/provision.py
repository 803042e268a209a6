"""The cold path: spec text → parsed spec → interpreter → lock → wheels → store → env.

Everything heavy (protobuf, packaging, virtualenv, installer, uv) is imported here and
only here, after the warm-path lookup has missed.

Each spec digest that was built once also gets a *plan* (``locks/<digest>.plan.json``):
the interpreter, the selected artifacts and the env key that the slow path computed.
A cold env whose plan is still valid (its env deleted, say by gc, while the store and
the resolution remain) skips spec parsing, interpreter probing, settings, the lock and
``packaging`` altogether and goes straight to linking. The plan is keyed by the same
spec digest as the warm-path pointer (spec text, lockfile bytes, settings, config
file, platform) and is used only while the interpreter's identity, the lock it was
selected from (size, mtime, inode), the spec and lock paths and the vpython version
are unchanged; any difference is a miss, and the slow path writes a new plan. Like the
pointer, a plan keeps its interpreter while that binary is unchanged: a newer matching
Python installed later is chosen when the spec, its lock or the settings change.
"""

from __future__ import annotations

import contextlib
import json
import os

from vpython import FORMAT_VERSION, __version__, log
from vpython.env import fastpath
from vpython.errors import IntegrityError, UserError
from vpython.faults import checkpoint
from vpython.spec.load import parse_discovered, spec_hash

PLAN_FORMAT = f"vpython-plan/1/{FORMAT_VERSION}"


def choose_interpreter(spec, flags, layout):
    from vpython.interpreters.select import select_interpreter

    version = spec.python_version or (spec.tool or {}).get("python-version", "")
    return select_interpreter(
        version=version,
        requires_python=spec.requires_python,
        explicit=getattr(flags, "interpreter", None),
        cache_dir=layout.interpreters,
    )


def check_closed(requirements, lock, source: str) -> None:
    """A text-proto spec lists its whole package set: resolution may not add to it."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pinned = {canonicalize_name(Requirement(r).name) for r in requirements.requirements}
    extra = sorted(
        (str(p.name), str(p.version)) for p in lock.packages if canonicalize_name(str(p.name)) not in pinned
    )
    if extra:
        listed = ", ".join(f"{n}=={v}" for n, v in extra)
        first = extra[0]
        raise UserError(
            f"{source}: the spec is not closed: it does not list {listed}, which the listed packages "
            "depend on (text-proto specs must pin every dependency)",
            hint=(
                f'add  wheel: < name: "infra/python/wheels/{first[0]}-py3" version: "version:{first[1]}" >'
                " (or the PyPI name) for each missing package"
            ),
        )


def obtain_lock(discovered, spec, interp, sources, layout, digest, tags, environment):
    """The lock that governs this run: the user's lockfile if fresh, else a cached
    resolution, else a new resolution (cached under the spec digest)."""
    from vpython.lock import pylock
    from vpython.spec.normalize import normalize_spec

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
    requirements = normalize_spec(spec, tags)
    if not requirements.requirements:
        return None, None
    from vpython.lock.engine_uv import compile_pylock

    log.progress(f"resolving {len(requirements.requirements)} requirement(s) for {interp.path}")
    text = compile_pylock(
        list(requirements.requirements), sources, python=interp.path, context=discovered.path or "the spec"
    )
    # The cache root must hold no credentials (a direct reference's URL may carry
    # some); downloads get them back from Sources.credential_urls.
    from vpython.settings.credentials import strip_credentials_in_text

    text = strip_credentials_in_text(text)
    lock, _ = pylock.parse_lock_text(text, "<resolution>")
    if requirements.closed:
        check_closed(requirements, lock, discovered.path or "spec")
    os.makedirs(layout.locks, exist_ok=True)
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".lock-", dir=layout.locks)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, cached)
    return lock, cached


def _direct_reference_urls(spec, tags) -> tuple:
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


def _mark_direct_references(spec, tags, artifacts):
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


def _build(layout, key, interp, artifacts, fetch_many, discovered) -> None:
    """Store entries, then the env. Entries are checked file by file while they are
    linked; one that changed since it was built (an env file edited in place) stops the
    assembly before anything is published: every entry is then checked, the changed
    ones rebuilt from their verified wheels, and the env assembled once more."""
    from vpython.env.build import assemble
    from vpython.store import packages

    verify = False
    for attempt in (1, 2):
        entries = packages.ensure_entries(
            artifacts, layout, interp, fetch_many, progress=log.progress, verify=verify
        )
        log.progress(f"assembling env {key[:12]} ({len(artifacts)} package(s))")
        try:
            assemble(
                layout,
                key,
                interp,
                [entries[a.sha256] for a in artifacts],
                {
                    "interpreter": interp.path,
                    "spec": discovered.origin,
                    "packages": [f"{a.name}=={a.version}" for a in artifacts],
                    "wheels": {a.filename: a.sha256 for a in artifacts},
                    "entries": sorted(os.path.basename(entries[a.sha256]) for a in artifacts),
                },
                direct_urls={entries[a.sha256]: (a.direct_url, a.sha256) for a in artifacts if a.direct_url},
            )
            return
        except packages.EntryChanged as e:
            if attempt == 2:
                raise IntegrityError(
                    f"{e}, again after it was rebuilt",
                    hint="something keeps changing the store's files; check who writes "
                    "into the envs and the cache",
                ) from None
            log.warning(f"{e}; rebuilding it (an env's file edited in place changes every env sharing it)")
            packages.discard_changed(e, layout)
            verify = True


# --------------------------------------------------------------------------- plans


class PlanInterpreter:
    """What building needs of an Interpreter (see vpython.interpreters.model), from a plan."""

    __slots__ = ("cache_tag", "path", "version")

    def __init__(self, path: str, version: tuple, cache_tag: str) -> None:
        self.path = path
        self.version = version
        self.cache_tag = cache_tag


class PlanArtifact:
    """An Artifact (vpython.lock.pylock) read back from a plan, with the same attributes,
    without importing the lock machinery (tomllib, packaging, dataclasses)."""

    REQUIRED = ("name", "version", "filename", "sha256")

    def __init__(self, fields: dict) -> None:
        for f in self.REQUIRED:
            if not isinstance(fields[f], str):
                raise TypeError(f)
        self.direct_url = None
        self.__dict__.update(fields)


class Plan:
    __slots__ = ("artifacts", "interp", "key", "warnings")

    def __init__(self, interp, artifacts: list, key: str, warnings: list) -> None:
        self.interp = interp
        self.artifacts = artifacts
        self.key = key
        self.warnings = warnings


def plan_path(layout, digest: str) -> str:
    return os.path.join(layout.locks, digest + ".plan.json")


def _stamp(path: str | None):
    """What changes when a lock file is rewritten, deleted or replaced."""
    if path is None:
        return None
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def load_plan(layout, digest: str, discovered):
    """The plan for ``digest`` if it is still valid (module docstring), else None."""
    from vpython.env.build import env_key

    try:
        with open(plan_path(layout, digest), encoding="utf-8") as f:
            data = json.load(f)
        if (
            data["format"] != PLAN_FORMAT
            or data["vpython"] != __version__
            or data["digest"] != digest
            or data["spec_path"] != discovered.path
            or data["lock_path"] != discovered.lock_path
        ):
            return None
        i = data["interpreter"]
        if fastpath.interpreter_id(i["path"]) != i["id"] or _stamp(data["lock_source"]) != data["lock_stamp"]:
            return None
        interp = PlanInterpreter(i["path"], tuple(i["version"]), i["cache_tag"])
        artifacts = [PlanArtifact(a) for a in data["artifacts"]]
        key = env_key(interp, artifacts)
        if key != data["env_key"]:
            return None
        return Plan(interp, artifacts, key, [str(w) for w in data["warnings"]])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, unreadable or stale: the slow path writes a new one


def save_plan(layout, digest: str, discovered, interp, artifacts, key: str, lock_source, warnings) -> None:
    from vpython.env.build import write_new
    from vpython.settings.credentials import strip_credentials

    if any(a.url and strip_credentials(a.url) != a.url for a in artifacts):
        # A hand-written lock whose URLs carry credentials: the cache root holds none, so
        # such a spec gets no plan (it only runs the slow path again).
        log.debug(f"no plan for {digest}: a locked URL carries credentials")
        return

    data = {
        "format": PLAN_FORMAT,
        "vpython": __version__,
        "digest": digest,
        "spec_path": discovered.path,
        "lock_path": discovered.lock_path,
        "interpreter": {
            "path": interp.path,
            "id": fastpath.interpreter_id(interp.path),
            "version": list(interp.version),
            "cache_tag": interp.cache_tag,
        },
        "lock_source": lock_source,
        "lock_stamp": _stamp(lock_source),
        "artifacts": [dict(vars(a)) for a in artifacts],  # every field, whatever Artifact grows
        "env_key": key,
        "warnings": warnings,
    }
    try:
        text = json.dumps(data, indent=1, sort_keys=True)
    except (TypeError, ValueError) as e:  # a field JSON cannot hold: no plan, only slower
        log.debug(f"cannot save the plan for {digest}: {e}")
        return
    try:
        os.makedirs(layout.locks, exist_ok=True)
        tmp = write_new(layout.locks, ".lock-", text)
        os.replace(tmp, plan_path(layout, digest))
    except OSError as e:  # a read-only cache only costs speed
        log.debug(f"cannot save the plan for {digest}: {e}")


@contextlib.contextmanager
def _collect_warnings(echo: bool = True):
    """The slow path's warnings (about the spec, the lock, the interpreter), kept so a
    plan hit shows the user the same ones."""
    seen: list = []
    original = log.warning

    def warning(msg: str) -> None:
        if msg not in seen:
            seen.append(msg)
        if echo:
            original(msg)

    log.warning = warning
    try:
        yield seen
    finally:
        log.warning = original


def _resolve(discovered, layout, flags, digest):
    """The slow path: (interpreter, artifacts, env key, lock source, sources)."""
    import dataclasses

    from vpython.env.build import env_key
    from vpython.interpreters.tags import marker_environment, target_tags
    from vpython.lock import pylock
    from vpython.settings.sources import load_sources

    spec = parse_discovered(discovered)
    interp = choose_interpreter(spec, flags, layout)
    tags = target_tags(interp)
    environment = marker_environment(interp)
    base_dir = os.path.dirname(discovered.path) if discovered.path else os.getcwd()
    sources = load_sources(flags=flags, spec_tool=spec.tool, base_dir=base_dir)
    sources = dataclasses.replace(sources, credential_urls=_direct_reference_urls(spec, tags))
    lock, lock_source = obtain_lock(discovered, spec, interp, sources, layout, digest, tags, environment)
    artifacts = []
    if lock is not None:
        artifacts = pylock.select_artifacts(
            lock,
            source=lock_source,
            environment=environment,
            tags=tags,
            platform_label=f"{interp.path} ({'.'.join(map(str, interp.version))})",
        )
    artifacts = _mark_direct_references(spec, tags, artifacts)
    return interp, artifacts, env_key(interp, artifacts), lock_source, sources


def _sources_for(discovered, layout, flags):
    """The package sources of a plan hit that must fetch after all (a store entry is
    missing or changed): what the slow path would have used, its warnings not repeated."""
    import dataclasses

    from vpython.interpreters.tags import target_tags
    from vpython.settings.sources import load_sources

    with _collect_warnings(echo=False):
        spec = parse_discovered(discovered, quiet=True)
        base_dir = os.path.dirname(discovered.path) if discovered.path else os.getcwd()
        sources = load_sources(flags=flags, spec_tool=spec.tool, base_dir=base_dir)
        tags = target_tags(choose_interpreter(spec, flags, layout))
        return dataclasses.replace(sources, credential_urls=_direct_reference_urls(spec, tags))


def provision(discovered, *, layout, flags, digest, install_only: bool = False):
    """Make sure the env for ``discovered`` exists; return its Pointer.

    A cache root that cannot take writes (disk full, quota, read-only mount) is a clear
    error naming the root, not a traceback; every writer publishes by rename, so what
    is left behind is only work files that no reader opens and gc removes."""
    from vpython.store.root import cache_write_error, is_disk_error

    try:
        return _provision(discovered, layout=layout, flags=flags, digest=digest, install_only=install_only)
    except OSError as e:
        if is_disk_error(e):
            raise cache_write_error(e, layout.root) from None
        raise


def _provision(discovered, *, layout, flags, digest, install_only: bool = False):
    from vpython.env.build import write_pointer
    from vpython.store.locks import flocked, store_lock_path

    plan = load_plan(layout, digest, discovered)
    if plan is not None:
        log.debug(f"plan hit for {digest}: env {plan.key}")
        for w in plan.warnings:
            log.warning(w)
        interp, artifacts, key, warnings = plan.interp, plan.artifacts, plan.key, plan.warnings
        sources = None  # computed only if something must be fetched after all
    else:
        with _collect_warnings() as warnings:
            interp, artifacts, key, lock_source, sources = _resolve(discovered, layout, flags, digest)
    env_dir = layout.env_dir(key)
    if not os.path.exists(os.path.join(env_dir, "pyvenv.cfg")):

        def fetch_many(missing):
            nonlocal sources
            from vpython.store import wheels

            if sources is None:
                sources = _sources_for(discovered, layout, flags)
            return wheels.fetch_all(missing, layout, sources, progress=log.progress)

        # Shared store lock: GC's store sweep (exclusive) cannot delete an entry
        # between our check that it exists and the moment it is linked.
        with flocked(store_lock_path(layout), exclusive=False):
            _build(layout, key, interp, artifacts, fetch_many, discovered)
    if plan is None:
        save_plan(layout, digest, discovered, interp, artifacts, key, lock_source, warnings)
    pointer = fastpath.Pointer(key, interp.path, fastpath.interpreter_id(interp.path))
    write_pointer(layout, digest, pointer)
    checkpoint("pointer")
    if not install_only:
        from vpython.store.gc import prune_some

        # Mark the env used now, so this very prune does not take an old env that a
        # new spec just resolved to (the caller locks it only after we return).
        try:
            with open(layout.env_lock(key), "a"):
                pass
            os.utime(layout.env_lock(key))
        except OSError:
            pass
        prune_some(layout)
    return pointer
