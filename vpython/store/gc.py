"""Pruning and garbage collection.

An env is deleted only under its exclusive use lock, taken without blocking: a running
script holds the shared lock across exec, so an env in use is never deleted. Deletion
renames the env out of place first, so no reader ever sees half an env. Last use is the
mtime of ``envs/<key>.lock``, touched by every run (warm runs included).
"""

from __future__ import annotations

import json
import os
import time

from vpython import log

PRUNE_AGE = 7 * 24 * 3600
PRUNE_MAX = 3


def _try_exclusive(lock_path: str):
    try:
        fd = os.open(lock_path, os.O_RDWR)
    except OSError:
        return None
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:  # pragma: no cover - Windows
        pass
    except OSError:
        os.close(fd)
        return None
    return fd


def env_last_use(layout, key: str) -> float:
    try:
        return os.stat(layout.env_lock(key)).st_mtime
    except OSError:
        try:
            return os.stat(layout.env_dir(key)).st_mtime
        except OSError:
            return 0.0


def list_envs(layout) -> list:
    try:
        names = os.listdir(layout.envs)
    except OSError:
        return []
    return sorted(n for n in names if not n.startswith(".") and not n.endswith(".lock")
                  and os.path.isdir(os.path.join(layout.envs, n)))


def delete_env(layout, key: str) -> bool:
    """Delete env ``key`` if nobody holds it. Returns True if deleted."""
    from vpython.store.packages import _discard

    lock_path = layout.env_lock(key)
    if not os.path.exists(lock_path):
        open(lock_path, "a").close()
    fd = _try_exclusive(lock_path)
    if fd is None:
        log.debug(f"env {key} is in use; not deleting it")
        return False
    try:
        _discard(layout.env_dir(key), layout)
        try:
            os.unlink(lock_path)
        except OSError:
            pass
    finally:
        os.close(fd)
    return True


def prune_some(layout, max_age: float = PRUNE_AGE, limit: int = PRUNE_MAX) -> list:
    """Passive pruning after a build: a few stale envs, oldest first; bounded work."""
    now = time.time()
    stale = []
    for key in list_envs(layout):
        last = env_last_use(layout, key)
        if now - last > max_age:
            stale.append((last, key))
    deleted = []
    for _, key in sorted(stale)[:limit]:
        if delete_env(layout, key):
            deleted.append(key)
    return deleted


def referenced_entries(layout) -> tuple:
    """(package entry names, wheel sha256s) referenced by the remaining envs."""
    entries, shas = set(), set()
    for key in list_envs(layout):
        meta = os.path.join(layout.env_dir(key), ".vpython-env.json")
        try:
            with open(meta, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue
        entries.update(data.get("entries", []))
        shas.update(data.get("wheels", {}).values())
    return entries, shas


def _unique_size(paths_iter) -> int:
    """Bytes on disk, counting each inode once (envs hardlink the store)."""
    seen, total = set(), 0
    for path in paths_iter:
        for dirpath, _, filenames in os.walk(path):
            for name in filenames:
                try:
                    st = os.lstat(os.path.join(dirpath, name))
                except OSError:
                    continue
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


def _entries_in(path: str) -> list:
    try:
        return sorted(n for n in os.listdir(path) if not n.startswith("."))
    except OSError:
        return []


class GcReport:
    def __init__(self):
        self.envs_deleted, self.envs_held, self.envs_kept = [], [], []
        self.packages_deleted, self.wheels_deleted, self.pointers_deleted = [], [], []
        self.tmp_deleted = []
        self.bytes_freed = 0
        self.store_busy = False


def collect(layout, older_than: float, dry_run: bool = False) -> GcReport:
    """Delete envs unused for ``older_than`` seconds (never a held one), then every
    store entry, wheel and spec pointer that no remaining env references."""
    from vpython.store.locks import flocked, store_lock_path
    from vpython.store.packages import _discard, _rmtree

    report = GcReport()
    now = time.time()
    for key in list_envs(layout):
        if now - env_last_use(layout, key) <= older_than:
            report.envs_kept.append(key)
            continue
        size = _unique_size([layout.env_dir(key)])
        if dry_run:
            report.envs_deleted.append(key)
            report.bytes_freed += size
        elif delete_env(layout, key):
            report.envs_deleted.append(key)
            report.bytes_freed += size
        else:
            report.envs_held.append(key)
    remaining = set(list_envs(layout)) - (set(report.envs_deleted) if dry_run else set())
    # Spec pointers to envs that are gone only cost a failed lookup, but they accumulate.
    for name in _entries_in(layout.specs):
        p = os.path.join(layout.specs, name)
        try:
            with open(p, encoding="utf-8") as f:
                env = next((line[4:] for line in f.read().splitlines() if line.startswith("env=")), None)
        except OSError:
            continue
        if env not in remaining:
            report.pointers_deleted.append(name)
            if not dry_run:
                try:
                    os.unlink(p)
                except OSError:
                    pass
    with flocked(store_lock_path(layout), exclusive=True, blocking=False) as got:
        if not got:
            report.store_busy = True  # a build is running: sweep next time
            return report
        entries, shas = set(), set()
        for key in remaining:
            try:
                with open(os.path.join(layout.env_dir(key), ".vpython-env.json"), encoding="utf-8") as f:
                    meta = json.load(f)
            except (OSError, ValueError):
                continue
            entries.update(meta.get("entries", []))
            shas.update(meta.get("wheels", {}).values())
        for name in _entries_in(layout.packages):
            if name not in entries:
                path = os.path.join(layout.packages, name)
                report.packages_deleted.append(name)
                report.bytes_freed += _unique_size([path])
                if not dry_run:
                    _discard(path, layout)
        for sha in _entries_in(layout.wheels):
            if sha not in shas:
                path = os.path.join(layout.wheels, sha)
                report.wheels_deleted.append(sha)
                report.bytes_freed += _unique_size([path])
                if not dry_run:
                    _rmtree(path)
        # Work dirs of builders that crashed: nothing live is older than an hour.
        leftovers = [(layout.tmp, n) for n in _entries_in(layout.tmp)]
        # Temp files of writers that publish by rename (envs, spec pointers, cached locks,
        # interpreter probes): a SIGKILL between create and rename leaves them behind.
        for base, prefix in ((layout.envs, ".tmp-"), (layout.specs, ".ptr-"), (layout.locks, ".lock-"),
                             (layout.interpreters, ".probe-")):
            if os.path.isdir(base):
                leftovers += [(base, n) for n in os.listdir(base) if n.startswith(prefix)]
        for base, name in leftovers:
            path = os.path.join(base, name)
            try:
                age = now - os.lstat(path).st_mtime
            except OSError:
                continue
            if age > 3600:
                report.tmp_deleted.append(name)
                if not dry_run:
                    if os.path.isdir(path):
                        _rmtree(path)
                    else:
                        os.unlink(path)
    return report
