"""The cold path: make sure the env for a spec exists, and point the warm path at it.

Three ways to know what to build, cheapest first: the per-digest plan
(vpython.env.plan: no spec parsing, no interpreter probe, no lock), else the slow path
(vpython.env.resolve: spec → interpreter → lock → artifacts). Then store entries and the
env are built (vpython.store.packages, vpython.env.build) under the shared store lock,
the spec pointer is written, and a few stale envs are pruned (vpython.store.prune).

A first run overlaps its phases (``_build``): the env's skeleton is made in a thread
while the wheels download; each wheel is unpacked as soon as it is in, while the others
still download; each entry is byte-compiled as soon as it is published, by this run
while the source fits a small budget, else by a detached worker that goes on after the
script has started (vpython.store.compiler). On a terminal the whole build is one live
progress line (vpython.log.status).

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

    from vpython.env.prefetch import Prefetch
    from vpython.env.resolve import Resolved, RunFlags
    from vpython.settings.sources import Sources
    from vpython.spec.discover import DiscoveredSpec
    from vpython.store.packages import FetchMany, OnReady
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
    log.status.start()
    from vpython.errors import BuildError

    try:
        return _provision(discovered, layout=layout, flags=flags, digest=digest, install_only=install_only)
    except BuildError as e:
        e.hint = _default_version_hint(discovered, flags, str(e)) + (e.hint or "")
        raise
    except OSError as e:
        if is_disk_error(e):
            raise cache_write_error(e, layout.root) from None
        raise
    finally:
        log.status.finish()


def _default_version_hint(discovered: DiscoveredSpec, flags: RunFlags, message: str) -> str:
    """For a failed sdist build of a .vpython3 that names no python_version: the original
    vpython3 ran those on its default, Python 3.8, where their old pins (gevent 1.5.0, say)
    publish wheels; vpython's default is the Python it runs on. Say so first."""
    import re

    if discovered.kind != "textproto" or flags.interpreter or "for CPython 3.8." in message:
        return ""
    if re.search(r"^\s*python_version\s*:", discovered.text, re.M):
        return ""
    return (
        f"{discovered.path or 'the spec'} names no python_version, and the original vpython3 ran such "
        'specs on Python 3.8: add python_version: "3.8" to it, or run with -vpython-interpreter '
        "python3.8; or "
    )


def _provision(
    discovered: DiscoveredSpec, *, layout: Layout, flags: RunFlags, digest: str, install_only: bool = False
) -> fastpath.Pointer:
    from vpython.env.build import write_pointer
    from vpython.env.plan import load_plan, save_plan

    plan = load_plan(layout, digest, discovered)
    prefetch: Prefetch | _NoPrefetch = _NoPrefetch()
    resolved: Resolved | None = None
    warnings: list[str] = []
    sources: Sources | None = None  # on a plan hit, computed only if something must be fetched after all
    interp: TargetInterpreter
    artifacts: Sequence[LockedArtifact]
    try:
        if plan is not None:
            log.debug(f"plan hit for {digest}: env {plan.key}")
            for w in plan.warnings:
                log.warning(w)
            interp, artifacts, key = plan.interp, plan.artifacts, plan.key
        else:
            from vpython.env.prefetch import Prefetch
            from vpython.env.resolve import collect_warnings, resolve

            prefetch = Prefetch(layout)
            with collect_warnings() as warnings:
                resolved = resolve(discovered, layout, flags, digest, before_resolving=prefetch)
            interp, artifacts, key, sources = (
                resolved.interp,
                resolved.artifacts,
                resolved.key,
                resolved.sources,
            )
        if not os.path.exists(os.path.join(layout.env_dir(key), "pyvenv.cfg")):
            # No wait for the prefetch: a wheel it is still fetching or unpacking is
            # waited for on that wheel's own lock, the others go ahead.
            _build_env(discovered, layout, flags, key, interp, artifacts, sources)
        else:
            prefetch.join()
            _resume_compile(layout, key, interp, artifacts)
    finally:
        prefetch.join()  # never leave its threads writing when this run ends or fails
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


def _build_env(
    discovered: DiscoveredSpec,
    layout: Layout,
    flags: RunFlags,
    key: str,
    interp: TargetInterpreter,
    artifacts: Sequence[LockedArtifact],
    sources: Sources | None,
) -> None:
    """Build env ``key`` (under the shared store lock: GC's store sweep cannot delete an
    entry between our check that it exists and the moment it is linked)."""
    from vpython.store.locks import flocked, store_lock_path

    def fetch_many(missing: Sequence[LockedArtifact], on_ready: OnReady | None = None) -> dict[str, str]:
        nonlocal sources
        from vpython.store import wheels

        # A wheel built from an sdist is used where the builder stored it (its entry
        # under store/built), not copied into the wheel store: nothing to download.
        built = {a.sha256: a.path for a in missing if getattr(a, "built_from", None) and a.path}
        got: dict[str, str] = {}
        for a in missing:
            path = built.get(a.sha256)
            if path:
                got[a.sha256] = path
                if on_ready is not None:
                    on_ready(a, path, False)
        rest = [a for a in missing if a.sha256 not in built]
        if not rest:
            return got
        if sources is None:
            from vpython.env.resolve import sources_for

            sources = sources_for(discovered, layout, flags)
        got.update(wheels.fetch_all(rest, layout, sources, progress=log.progress, on_ready=on_ready))
        return got

    with flocked(store_lock_path(layout), exclusive=False):
        _build(layout, key, interp, artifacts, fetch_many, discovered)
    log.status.finish(packages=len(artifacts))


def _resume_compile(
    layout: Layout, key: str, interp: TargetInterpreter, artifacts: Sequence[LockedArtifact]
) -> None:
    """The env exists (``vpython install`` again, a new spec resolving to it): if a
    background compile of its entries was killed, start another (one stat per entry)."""
    import sys

    from vpython.store import packages
    from vpython.store.compiler import resume

    site_rel = packages.site_packages_rel(interp.version, sys.platform == "win32")
    resume(layout, interp, key, [packages.entry_dir(layout, a, interp) for a in artifacts], site_rel)


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


class _NoPrefetch:
    def join(self) -> None:
        pass


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
    from vpython.store.link import EntryChanged, discard_changed

    skeleton = _Skeleton(interp, layout)
    try:
        verify = False
        for attempt in (1, 2):
            entries = _entries(layout, key, interp, artifacts, fetch_many, verify)
            skeleton.join()
            if artifacts:  # an env of no packages (vpython -V, no spec) is quick: nothing to show
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
                    direct_urls={
                        entries[a.sha256]: (a.direct_url, a.sha256) for a in artifacts if a.direct_url
                    },
                )
                return
            except EntryChanged as e:
                if attempt == 2:
                    raise IntegrityError(
                        f"{e}, again after it was rebuilt",
                        hint="something keeps changing the store's files; check who writes "
                        "into the envs and the cache",
                    ) from None
                log.warning(
                    f"{e}; rebuilding it (an env's file edited in place changes every env sharing it)"
                )
                discard_changed(e, layout)
                verify = True
    finally:
        skeleton.join()


def _entries(
    layout: Layout,
    key: str,
    interp: TargetInterpreter,
    artifacts: Sequence[LockedArtifact],
    fetch_many: FetchMany,
    verify: bool,
) -> dict[str, str]:
    """The env's store entries, built if missing (unpacked as the wheels arrive), and
    byte-compiled as vpython.store.compiler decides: here while small, else by a worker
    that finishes after the script has started."""
    import sys

    from vpython.store import packages
    from vpython.store.compiler import Plan
    from vpython.store.pyc import is_compiled

    site_rel = packages.site_packages_rel(interp.version, sys.platform == "win32")
    dirs = [packages.entry_dir(layout, a, interp) for a in artifacts]
    # What is left to compile, in wheel bytes: the new entries and any still uncompiled
    # (prefetched while resolving, or left by a worker that was killed).
    uncompiled = sum(a.size or 0 for a, d in zip(artifacts, dirs) if not is_compiled(d))
    plan = Plan(layout, interp, key, dirs, site_rel, wheel_bytes=uncompiled)
    try:
        for d in dirs:  # already stored (a prefetched pin, say): compiling starts now
            if os.path.isdir(d):
                plan.entry_ready(d)
        entries = packages.ensure_entries(
            artifacts,
            layout,
            interp,
            fetch_many,
            progress=log.progress,
            verify=verify,
            on_entry=plan.entry_ready,
        )
        plan.finish()
    except BaseException:
        plan.abort()
        raise
    checkpoint("compiled")  # compiled here, or handed to the worker
    if plan.deferred:
        log.progress(f"byte-compiling {plan.deferred} package(s) in the background")
    return entries


class _Skeleton:
    """The env's empty venv template (vpython.env.build), made in a thread while the
    wheels download: on a first run virtualenv takes ~0.2 s of it. Best effort: if it
    fails here, ``assemble`` makes it (and reports the error) itself."""

    def __init__(self, interp: TargetInterpreter, layout: Layout) -> None:
        import threading

        self._thread: threading.Thread | None = threading.Thread(
            target=self._run, args=(interp, layout), name="vpython-skeleton", daemon=True
        )
        self._thread.start()

    @staticmethod
    def _run(interp: TargetInterpreter, layout: Layout) -> None:
        from vpython.env import build

        try:
            build._skeleton_template(interp, layout)
        except Exception:  # noqa: BLE001, S110 - assemble makes it again and reports why
            pass

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
