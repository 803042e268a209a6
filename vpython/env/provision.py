"""The cold path: spec text → parsed spec → interpreter → lock → wheels → store → env.

Everything heavy (protobuf, packaging, virtualenv, filelock, installer, uv) is imported
here and only here, after the warm-path lookup has missed.
"""

from __future__ import annotations

import dataclasses
import os

from vpython import log
from vpython.env import fastpath
from vpython.errors import IntegrityError, UserError
from vpython.faults import checkpoint


def parse_discovered(discovered):
    from vpython.spec.model import Spec
    from vpython.spec.parse import parse_spec

    if discovered.kind == "empty":
        return Spec()
    spec = parse_spec(discovered.kind, discovered.text, discovered.path, discovered.line_offset)
    for w in spec.warnings:
        log.warning(w)
    return spec


def choose_interpreter(spec, flags, layout):
    from vpython.interpreters import select_interpreter

    version = spec.python_version or (spec.tool or {}).get("python-version", "")
    return select_interpreter(
        version=version,
        requires_python=spec.requires_python,
        explicit=getattr(flags, "interpreter", None),
        cache_dir=layout.interpreters,
    )


def spec_hash(discovered) -> str:
    """What a lockfile records to detect that its spec changed."""
    import hashlib

    return hashlib.sha256(f"{discovered.kind}\n{discovered.text}".encode()).hexdigest()


def check_closed(requirements, lock, source: str) -> None:
    """A text-proto spec lists its whole package set: resolution may not add to it."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pinned = {canonicalize_name(Requirement(r).name) for r in requirements.requirements}
    extra = sorted((str(p.name), str(p.version)) for p in lock.packages if canonicalize_name(str(p.name)) not in pinned)
    if extra:
        listed = ", ".join(f"{n}=={v}" for n, v in extra)
        first = extra[0]
        raise UserError(
            f"{source}: the spec is not closed: it does not list {listed}, which the listed packages "
            "depend on (text-proto specs must pin every dependency)",
            hint=(f'add  wheel: < name: "infra/python/wheels/{first[0]}-py3" version: "version:{first[1]}" >'
                  " (or the PyPI name) for each missing package"),
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
    cached = os.path.join(layout.locks, digest + ".pylock.toml")
    if os.path.isfile(cached):
        lock, _ = pylock.read_lock(cached)
        return lock, cached
    requirements = normalize_spec(spec, tags)
    if not requirements.requirements:
        return None, None
    from vpython.lock.engine_uv import compile_pylock

    log.progress(f"resolving {len(requirements.requirements)} requirement(s) for {interp.path}")
    text = compile_pylock(list(requirements.requirements), sources, python=interp.path,
                          context=discovered.path or "the spec")
    # The cache root must hold no credentials (a direct reference's URL may carry
    # some); downloads get them back from Sources.credential_urls.
    from vpython.settings import strip_credentials_in_text

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

    from vpython.settings import strip_credentials
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
    return [dataclasses.replace(a, direct_url=direct[canonicalize_name(a.name)])
            if canonicalize_name(a.name) in direct else a for a in artifacts]


def _build(layout, key, interp, artifacts, fetch_many, discovered) -> None:
    """Store entries, then the env. Entries are checked file by file while they are
    linked; one that changed since it was built (an env file edited in place) stops the
    assembly before anything is published: every entry is then checked, the changed
    ones rebuilt from their verified wheels, and the env assembled once more."""
    from vpython.env.build import assemble
    from vpython.store import packages

    verify = False
    for attempt in (1, 2):
        entries = packages.ensure_entries(artifacts, layout, interp, fetch_many, progress=log.progress,
                                          verify=verify)
        log.progress(f"assembling env {key[:12]} ({len(artifacts)} package(s))")
        try:
            assemble(layout, key, interp, [entries[a.sha256] for a in artifacts], {
                "interpreter": interp.path,
                "spec": discovered.origin,
                "packages": [f"{a.name}=={a.version}" for a in artifacts],
                "wheels": {a.filename: a.sha256 for a in artifacts},
                "entries": sorted(os.path.basename(entries[a.sha256]) for a in artifacts),
            }, direct_urls={entries[a.sha256]: (a.direct_url, a.sha256) for a in artifacts if a.direct_url})
            return
        except packages.EntryChanged as e:
            if attempt == 2:
                raise IntegrityError(f"{e}, again after it was rebuilt",
                                     hint="something keeps changing the store's files; check who writes "
                                          "into the envs and the cache") from None
            log.warning(f"{e}; rebuilding it (an env's file edited in place changes every env sharing it)")
            packages._discard(e.entry, layout)
            verify = True


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
    from vpython.env.build import env_key, write_pointer
    from vpython.interpreters import marker_environment, target_tags
    from vpython.lock import pylock
    from vpython.settings import load_sources
    from vpython.store import wheels
    from vpython.store.locks import flocked, store_lock_path

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
        artifacts = pylock.select_artifacts(lock, source=lock_source, environment=environment, tags=tags,
                                            platform_label=f"{interp.path} ({'.'.join(map(str, interp.version))})")
    artifacts = _mark_direct_references(spec, tags, artifacts)
    key = env_key(interp, artifacts)
    env_dir = layout.env_dir(key)
    if not os.path.exists(os.path.join(env_dir, "pyvenv.cfg")):
        def fetch_many(missing):
            return wheels.fetch_all(missing, layout, sources, progress=log.progress)

        # Shared store lock: GC's store sweep (exclusive) cannot delete an entry
        # between our check that it exists and the moment it is linked.
        with flocked(store_lock_path(layout), exclusive=False):
            _build(layout, key, interp, artifacts, fetch_many, discovered)
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
