"""``vpython gc``: delete unused envs, then everything in the store that no env needs.

``collect`` runs in two parts. First the env phase: every env unused for the threshold
is deleted under its own exclusive use lock (vpython.store.envs; an env in use is never
deleted). Then the store sweep, under the exclusive store lock taken without blocking:
every build holds that lock shared from its first store lookup until its env is
published (vpython.env.provision), so what a build is about to link, copy or lock cannot
disappear under it, and every env published before the sweep is seen by it. The sweep
is one function per kind of thing it collects (``SWEEPS``, run in that order: the spec
pointers sweep decides which cached resolutions stay).

Passive pruning after cold builds (a few envs, and this sweep at most once a day in a
detached process) is vpython.store.prune.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vpython import fs
from vpython.store.envs import (
    TRASH_PREFIX,
    delete_env,
    env_is_held,
    env_last_use,
    list_envs,
    read_env_meta,
    try_exclusive,
)
from vpython.store.root import list_names
from vpython.store.sizes import FreedBytes

if TYPE_CHECKING:
    from collections.abc import Callable

    from vpython.store.root import Layout

LEFTOVER_AGE = 3600  # work files of writers older than this are crashed writers'
SKELETON_META = ".vpython-skeleton.json"  # written by vpython.env.build


@dataclass
class GcReport:
    """What ``collect`` deleted (or would delete, on a dry run), by kind, and what it kept."""

    envs_deleted: list[str] = field(default_factory=list)
    envs_held: list[str] = field(default_factory=list)
    envs_kept: list[str] = field(default_factory=list)
    packages_deleted: list[str] = field(default_factory=list)
    wheels_deleted: list[str] = field(default_factory=list)
    built_deleted: list[str] = field(default_factory=list)  # "<sdist sha256>/<abi>-<platform>"
    sdists_deleted: list[str] = field(default_factory=list)
    pointers_deleted: list[str] = field(default_factory=list)
    skeletons_deleted: list[str] = field(default_factory=list)
    build_locks_deleted: list[str] = field(default_factory=list)
    cached_locks_deleted: list[str] = field(default_factory=list)
    tmp_deleted: list[str] = field(default_factory=list)
    pex_cache_deleted: list[str] = field(default_factory=list)
    tool_caches_deleted: list[str] = field(default_factory=list)  # tool-cache/<tool>: uv's, pex's
    bytes_freed: int = 0
    store_busy: bool = False  # a build held the store lock: the store sweep was skipped


def collect(layout: Layout, older_than: float, dry_run: bool = False) -> GcReport:
    """Delete envs unused for ``older_than`` seconds (never a held one), then, under the
    exclusive store lock, every store entry, wheel, spec pointer, skeleton template,
    build-lock file and cached resolution that no remaining env or pointer needs, and
    pex's build cache when no build has used it for ``older_than``."""
    from vpython.store.locks import flocked, store_lock_path

    report = GcReport()
    freed = FreedBytes()
    now = time.time()
    _collect_envs(layout, older_than, dry_run, now, report, freed)
    _envs_collected(layout)
    with flocked(store_lock_path(layout), exclusive=True, blocking=False, read_only_ok=dry_run) as got:
        if not got:
            report.store_busy = True  # a build is running: sweep next time
        else:
            # Everything from here on is decided under the lock: an env published after
            # the env phase (by a build that has since released its shared lock) is seen
            # here, so its entries, wheels and pointer stay; no build can publish meanwhile.
            sweep = Sweep(layout, report, freed, now, older_than, dry_run)
            for phase in SWEEPS:
                phase(sweep)
    report.bytes_freed = freed.total()
    return report


def _collect_envs(
    layout: Layout, older_than: float, dry_run: bool, now: float, report: GcReport, freed: FreedBytes
) -> None:
    """The env phase: delete (or, dry, count) every env unused for ``older_than``."""
    for key in list_envs(layout):
        if now - env_last_use(layout, key) <= older_than:
            report.envs_kept.append(key)
            continue
        if dry_run:
            if env_is_held(layout, key):
                report.envs_held.append(key)
            else:
                freed.add(layout.env_dir(key))
                report.envs_deleted.append(key)
        elif delete_env(layout, key, before=freed.add):
            report.envs_deleted.append(key)
        else:
            report.envs_held.append(key)


def _envs_collected(layout: Layout) -> None:
    """Called between the env phase and the store sweep; tests inject a concurrent
    build here (tests/integration/test_store.py)."""


class Sweep:
    """The state of one store sweep: what the envs that remain use, and the deleter
    that records and measures every deletion (and only pretends, on a dry run)."""

    def __init__(
        self,
        layout: Layout,
        report: GcReport,
        freed: FreedBytes,
        now: float,
        older_than: float,
        dry_run: bool,
    ) -> None:
        self.layout = layout
        self.report = report
        self.freed = freed
        self.now = now
        self.older_than = older_than
        self.dry_run = dry_run
        self.remaining = set(list_envs(layout)) - (set(report.envs_deleted) if dry_run else set())
        self.entries: set[str] = set()  # store/packages names the remaining envs link
        self.shas: set[str] = set()  # store/wheels sha256s they were built from
        self.skeletons: set[str] = set()  # skeleton templates they were copied from
        self.legacy_envs = False  # an env built before envs recorded their skeleton
        self.live_pointers: set[str] = set()  # spec digests whose pointer stays (sweep_pointers)
        for key in self.remaining:
            meta = read_env_meta(layout, key)
            self.entries.update(meta.get("entries", []))
            self.shas.update((meta.get("wheels") or {}).values())
            if meta.get("skeleton"):
                self.skeletons.add(meta["skeleton"])
            else:
                self.legacy_envs = True

    def delete(self, path: str, into: list[str], name: str) -> None:
        into.append(name)
        self.freed.add(path)
        if not self.dry_run:
            _remove(path)

    def age(self, path: str) -> float | None:
        """Seconds since ``path`` was modified (None if it is gone)."""
        try:
            return self.now - os.lstat(path).st_mtime
        except OSError:
            return None


def sweep_pointers(s: Sweep) -> None:
    """Spec pointers to envs that are gone only cost a failed lookup, but they accumulate.
    Written by builds after they release the store lock, so one may appear while we
    sweep: it names an env in ``remaining`` (published before), and is kept."""
    specs = s.layout.specs
    for name in list_names(specs):
        path = os.path.join(specs, name)
        try:
            live = _pointer_env(path) in s.remaining
        except OSError:
            live = True  # unreadable now (being replaced?): leave it
        if live:
            s.live_pointers.add(name)
        else:
            s.delete(path, s.report.pointers_deleted, name)


def sweep_packages(s: Sweep) -> None:
    """Store entries no remaining env links."""
    for name in list_names(s.layout.packages):
        if name not in s.entries:
            s.delete(os.path.join(s.layout.packages, name), s.report.packages_deleted, name)


def sweep_wheels(s: Sweep) -> None:
    """Stored wheels no remaining env was built from."""
    for sha in list_names(s.layout.wheels):
        if sha not in s.shas:
            s.delete(os.path.join(s.layout.wheels, sha), s.report.wheels_deleted, sha)


def sweep_built(s: Sweep) -> None:
    """Wheels built from sdists (store/built/<sdist sha256>/<abi>-<platform>) whose wheel
    no remaining env was built from, once older than the threshold: a build publishes its
    entry before the env that uses it (under the shared store lock, but not the same
    hold), so a fresh entry may belong to an env still being assembled. A directory left
    with only its lock files goes too (builders take those under the shared store lock)."""
    from vpython.store.sdists import built_dir, built_entries

    base = built_dir(s.layout)
    for sdist_sha in list_names(base):
        parent = os.path.join(base, sdist_sha)
        kept = 0
        for key, wheel_sha in built_entries(parent):
            entry = os.path.join(parent, key)
            age = s.age(entry)
            if wheel_sha in s.shas or age is None or age <= s.older_than:
                kept += 1
                continue
            s.delete(entry, s.report.built_deleted, f"{sdist_sha}/{key}")
        if not kept and not s.dry_run:
            _remove(parent)


def sweep_sdists(s: Sweep) -> None:
    """Fetched sdists (store/sdists/<sha256>) that no built wheel remains from, once older
    than the threshold (kept while a wheel from them is: another interpreter may need
    its own build)."""
    from vpython.store.sdists import built_dir, built_entries, sdists_dir

    base = sdists_dir(s.layout)
    built = built_dir(s.layout)
    for sha in list_names(base):
        remaining = [
            key
            for key, _ in built_entries(os.path.join(built, sha))
            if f"{sha}/{key}" not in s.report.built_deleted
        ]
        path = os.path.join(base, sha)
        age = s.age(path)
        if remaining or age is None or age <= s.older_than:
            continue
        s.delete(path, s.report.sdists_deleted, sha)


def sweep_skeletons(s: Sweep) -> None:
    """Skeleton templates: builds copy them under the shared store lock (never held
    here). One no env uses, or whose interpreter is gone or was replaced, goes; the next
    build for that interpreter makes it again (~0.15 s)."""
    for name in list_names(s.layout.skeletons):
        path = os.path.join(s.layout.skeletons, name)
        has_meta = os.path.isfile(os.path.join(path, SKELETON_META))
        used = name in s.skeletons or (s.legacy_envs and not has_meta)
        if not used or (has_meta and not _skeleton_usable(path)):
            s.delete(path, s.report.skeletons_deleted, name)


def sweep_build_locks(s: Sweep) -> None:
    """filelock files of envs that are gone. Builders take them only inside the shared
    store lock, so none is held or waited on now; the non-blocking flock is a second
    guard (a builder from an older vpython that takes no store lock)."""
    envs = s.layout.envs
    env_names = set(list_envs(s.layout))
    try:
        names = sorted(os.listdir(envs))
    except OSError:
        names = []
    for name in names:
        if not (name.startswith(".") and name.endswith(".build.lock")):
            continue
        key = name[1 : -len(".build.lock")]
        if key in env_names and key not in s.report.envs_deleted:
            continue
        path = os.path.join(envs, name)
        fd = try_exclusive(path)
        if fd is None:
            continue
        try:
            s.delete(path, s.report.build_locks_deleted, name)
        finally:
            os.close(fd)


def sweep_cached_locks(s: Sweep) -> None:
    """Cached resolutions and build plans (locks/<spec digest>.pylock.toml, .plan.json;
    keyed by the same digest as specs/<digest>) of specs whose pointer is gone: one per
    spec ever run otherwise. A fresh one may belong to a build that has not written its
    pointer yet; the age threshold keeps it."""
    for name in list_names(s.layout.locks):
        if name.split(".", 1)[0] in s.live_pointers:
            continue
        path = os.path.join(s.layout.locks, name)
        age = s.age(path)
        if age is not None and age > s.older_than:
            s.delete(path, s.report.cached_locks_deleted, name)


def sweep_pex_cache(s: Sweep) -> None:
    """pex's build cache (`vpython build --format pex`): builds use it under the shared
    store lock and touch it first, so one untouched for the threshold goes whole."""
    try:
        age = s.now - os.stat(s.layout.pex_root).st_mtime
    except OSError:
        return
    if age > s.older_than:
        s.delete(s.layout.pex_root, s.report.pex_cache_deleted, "pex-root")


def sweep_tool_caches(s: Sweep) -> None:
    """The resolvers' caches (``tool-cache/uv``, ``tool-cache/pex``): each resolution
    touches its tool's dir first, so one untouched for the threshold goes whole."""
    for name in list_names(s.layout.tool_cache):
        path = os.path.join(s.layout.tool_cache, name)
        age = s.age(path)
        if age is not None and age > s.older_than:
            s.delete(path, s.report.tool_caches_deleted, name)


def sweep_leftovers(s: Sweep) -> None:
    """Work dirs of builders that crashed (nothing live is older than LEFTOVER_AGE), trash
    (renamed there by deferred deletes, never read by anyone), and temp files of writers
    that publish by rename (envs, spec pointers, cached locks, interpreter probes,
    skeleton templates): a SIGKILL between create and rename leaves them behind."""
    layout = s.layout
    leftovers = [(layout.tmp, n) for n in list_names(layout.tmp)]
    for base, prefix in (
        (layout.envs, ".tmp-"),
        (layout.specs, ".ptr-"),
        (layout.locks, ".lock-"),
        (layout.interpreters, ".probe-"),
        (layout.skeletons, ".tmp-"),
    ):
        if os.path.isdir(base):
            leftovers += [(base, n) for n in os.listdir(base) if n.startswith(prefix)]
    for base, name in leftovers:
        path = os.path.join(base, name)
        age = s.age(path)
        if age is None:
            continue
        if age > LEFTOVER_AGE or (base == layout.tmp and name.startswith(TRASH_PREFIX)):
            s.delete(path, s.report.tmp_deleted, name)


# The store sweep's phases, in order (sweep_pointers fills live_pointers for sweep_cached_locks).
SWEEPS: tuple[Callable[[Sweep], None], ...] = (
    sweep_pointers,
    sweep_packages,
    sweep_wheels,
    sweep_built,
    sweep_sdists,
    sweep_skeletons,
    sweep_build_locks,
    sweep_cached_locks,
    sweep_pex_cache,
    sweep_tool_caches,
    sweep_leftovers,
)


def _remove(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            fs.remove_tree(path)
        else:
            os.unlink(path)
    except OSError:
        pass


def _pointer_env(path: str) -> str | None:
    """The env key a spec pointer names (None if it names none). Raises OSError."""
    with open(path, encoding="utf-8") as f:
        return next((line[4:] for line in f.read().splitlines() if line.startswith("env=")), None)


def _skeleton_usable(path: str) -> bool:
    """The template's interpreter still exists and is the same binary."""
    try:
        with open(os.path.join(path, SKELETON_META), encoding="utf-8") as f:
            info: dict[str, Any] = json.load(f)
        from vpython.interpreters.identity import interpreter_id

        return bool(interpreter_id(info["interpreter"]) == info["interpreter_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
