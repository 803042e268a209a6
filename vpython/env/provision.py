"""The cold path: make sure the env for a spec exists, and point the warm path at it.

Three ways to know what to build, cheapest first: the per-digest plan
(vpython.env.plan: no spec parsing, no interpreter probe, no lock), else the slow path
(vpython.env.resolve: spec → interpreter → lock → artifacts). Then store entries and the
env are built (vpython.store.packages, vpython.env.build) under the shared store lock,
the spec pointer is written, and a few stale envs are pruned (vpython.store.prune).

Everything heavy (protobuf, packaging, virtualenv, installer, uv) is imported only on
the paths that need it, after the warm-path lookup has missed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from vpython import log
from vpython.env import fastpath
from vpython.errors import IntegrityError
from vpython.faults import checkpoint
from vpython.interpreters.identity import interpreter_id

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vpython.env.resolve import Resolved, RunFlags
    from vpython.settings.sources import Sources
    from vpython.spec.discover import DiscoveredSpec
    from vpython.store.packages import FetchMany
    from vpython.store.protocols import LockedArtifact, TargetInterpreter
    from vpython.store.root import Layout


def provision(
    discovered: DiscoveredSpec, *, layout: Layout, flags: RunFlags, digest: str, install_only: bool = False
) -> fastpath.Pointer:
    """Make sure the env for ``discovered`` exists; return its Pointer.

    A cache root that cannot take writes (disk full, quota, read-only mount) is a clear
    error naming the root, not a traceback; every writer publishes by rename, so what
    is left behind is only work files that no reader opens and gc removes."""
    from vpython.store.root import cache_write_error, check_layout, is_disk_error

    check_layout(layout)  # the cold path reads every part of the root: all must be ours
    try:
        return _provision(discovered, layout=layout, flags=flags, digest=digest, install_only=install_only)
    except OSError as e:
        if is_disk_error(e):
            raise cache_write_error(e, layout.root) from None
        raise


def _provision(
    discovered: DiscoveredSpec, *, layout: Layout, flags: RunFlags, digest: str, install_only: bool = False
) -> fastpath.Pointer:
    from vpython.env.build import write_pointer
    from vpython.env.plan import load_plan, save_plan
    from vpython.store.locks import flocked, store_lock_path

    plan = load_plan(layout, digest, discovered)
    resolved: Resolved | None = None
    warnings: list[str] = []
    sources: Sources | None = None  # on a plan hit, computed only if something must be fetched after all
    interp: TargetInterpreter
    artifacts: Sequence[LockedArtifact]
    if plan is not None:
        log.debug(f"plan hit for {digest}: env {plan.key}")
        for w in plan.warnings:
            log.warning(w)
        interp, artifacts, key = plan.interp, plan.artifacts, plan.key
    else:
        from vpython.env.resolve import collect_warnings, resolve

        with collect_warnings() as warnings:
            resolved = resolve(discovered, layout, flags, digest)
        interp, artifacts, key, sources = resolved.interp, resolved.artifacts, resolved.key, resolved.sources
    if not os.path.exists(os.path.join(layout.env_dir(key), "pyvenv.cfg")):

        def fetch_many(missing: Sequence[LockedArtifact]) -> dict[str, str]:
            nonlocal sources
            from vpython.store import wheels

            # A wheel built from an sdist is used where the builder stored it (its entry
            # under store/built), not copied into the wheel store: nothing to download.
            built = {a.sha256: a.path for a in missing if getattr(a, "built_from", None) and a.path}
            rest = [a for a in missing if a.sha256 not in built]
            if not rest:
                return {k: v for k, v in built.items() if v}
            if sources is None:
                from vpython.env.resolve import sources_for

                sources = sources_for(discovered, layout, flags)
            got = wheels.fetch_all(rest, layout, sources, progress=log.progress)
            got.update({k: v for k, v in built.items() if v})
            return got

        # Shared store lock: GC's store sweep (exclusive) cannot delete an entry
        # between our check that it exists and the moment it is linked.
        with flocked(store_lock_path(layout), exclusive=False):
            _build(layout, key, interp, artifacts, fetch_many, discovered)
    if resolved is not None:
        save_plan(layout, digest, discovered, interp, artifacts, key, resolved.lock_source, warnings)
    pointer = fastpath.Pointer(key, interp.path, interpreter_id(interp.path))
    write_pointer(layout, digest, pointer)
    checkpoint("pointer")
    if not install_only:
        _prune(layout, key)
    return pointer


def _built_from(artifacts: Sequence[LockedArtifact]) -> dict[str, dict[str, str]]:
    """The manifest's record of wheels built from sdists: {wheel filename: sdist sha256}."""
    built = {
        a.filename: str(getattr(a, "built_from", "")) for a in artifacts if getattr(a, "built_from", None)
    }
    return {"built_from": built} if built else {}


def _prune(layout: Layout, key: str) -> None:
    """Passive pruning after a cold run (vpython.store.prune)."""
    from vpython.store.prune import prune_some

    # Mark the env used now, so this very prune does not take an old env that a
    # new spec just resolved to (the caller locks it only after we return).
    try:
        with open(layout.env_lock(key), "a"):
            pass
        os.utime(layout.env_lock(key))
    except OSError:
        pass
    prune_some(layout)


def _build(
    layout: Layout,
    key: str,
    interp: TargetInterpreter,
    artifacts: Sequence[LockedArtifact],
    fetch_many: FetchMany,
    discovered: DiscoveredSpec,
) -> None:
    """Store entries, then the env. Entries are checked file by file while they are
    linked; one that changed since it was built (an env file edited in place) stops the
    assembly before anything is published: every entry is then checked, the changed
    ones rebuilt from their verified wheels, and the env assembled once more."""
    from vpython.env.build import assemble
    from vpython.store import packages
    from vpython.store.link import EntryChanged, discard_changed

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
                    **_built_from(artifacts),
                    "entries": sorted(os.path.basename(entries[a.sha256]) for a in artifacts),
                },
                direct_urls={entries[a.sha256]: (a.direct_url, a.sha256) for a in artifacts if a.direct_url},
            )
            return
        except EntryChanged as e:
            if attempt == 2:
                raise IntegrityError(
                    f"{e}, again after it was rebuilt",
                    hint="something keeps changing the store's files; check who writes "
                    "into the envs and the cache",
                ) from None
            log.warning(f"{e}; rebuilding it (an env's file edited in place changes every env sharing it)")
            discard_changed(e, layout)
            verify = True
