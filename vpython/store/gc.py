"""Pruning and garbage collection.

An env is deleted only under its exclusive use lock, taken without blocking: a running
script holds the shared lock across exec, so an env in use is never deleted. Deletion
renames the env out of place first, so no reader ever sees half an env. Last use is the
mtime of ``envs/<key>.lock``, touched by every run (warm runs included).

Store entries, wheels, skeleton templates and build-lock files are deleted only under
the exclusive store lock, taken without blocking: every build holds it shared from its
first store lookup until its env is published (vpython.env.provision), so what a build
is about to link, copy or lock cannot disappear under it, and every env published
before the sweep is seen by it.

Passive pruning (``prune_some``, after cold builds) only renames: a few stale envs go
into ``tmp/gone-*``. Deleting them, and at most once a day a full sweep of the store,
happens in a detached low-priority process, so the user's run never waits for it.
"""

from __future__ import annotations

import json
import os
import time

from vpython import fs, log

PRUNE_AGE = 7 * 24 * 3600
PRUNE_MAX = 3
SWEEP_INTERVAL = 24 * 3600  # passive store sweeps: at most this often
LEFTOVER_AGE = 3600  # work files of writers older than this are crashed writers'
TRASH_PREFIX = "gone-"  # tmp/gone-*: renamed out of place, nobody reads them; delete any time
ENV_META = ".vpython-env.json"
SKELETON_META = ".vpython-skeleton.json"  # written by vpython.env.build


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
    return sorted(
        n
        for n in names
        if not n.startswith(".") and not n.endswith(".lock") and os.path.isdir(os.path.join(layout.envs, n))
    )


def read_env_meta(layout, key: str) -> dict:
    try:
        with open(os.path.join(layout.env_dir(key), ENV_META), encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def env_is_held(layout, key: str) -> bool:
    """True if a running script holds env ``key`` (probe: exclusive lock, released at once)."""
    lock_path = layout.env_lock(key)
    if not os.path.exists(lock_path):
        return False  # every run creates the lock before it execs: nobody is using it
    fd = _try_exclusive(lock_path)
    if fd is None:
        return os.path.exists(lock_path)  # vanished meanwhile: deleted, so not held
    os.close(fd)
    return False


def _trash(path: str, layout):
    """Rename ``path`` into ``tmp/gone-*`` (one rename: cheap whatever its size).
    Returns the trash dir, or None if it could not be moved there."""
    import tempfile

    try:
        os.makedirs(layout.tmp, exist_ok=True)
        trash = tempfile.mkdtemp(prefix=TRASH_PREFIX, dir=layout.tmp)
    except OSError:
        return None
    try:
        os.rename(path, os.path.join(trash, "x"))
    except OSError:
        os.rmdir(trash)
        return None
    return trash


def delete_env(layout, key: str, *, defer: bool = False, before=None) -> bool:
    """Delete env ``key`` if nobody holds it. Returns True if deleted.

    ``defer``: only rename it into ``tmp/gone-*`` (see ``empty_trash``). ``before(path)``
    is called under the lock just before deletion (gc measures what it frees)."""

    lock_path = layout.env_lock(key)
    if not os.path.exists(lock_path):
        open(lock_path, "a").close()
    fd = _try_exclusive(lock_path)
    if fd is None:
        log.debug(f"env {key} is in use; not deleting it")
        return False
    try:
        env_dir = layout.env_dir(key)
        if before is not None:
            before(env_dir)
        if not (defer and _trash(env_dir, layout)):
            fs.discard_tree(env_dir, layout.tmp)
        try:
            os.unlink(lock_path)
        except OSError:
            pass
    finally:
        os.close(fd)
    return True


def empty_trash(layout) -> list:
    """Delete every ``tmp/gone-*`` (renamed there by deferred deletes; never read)."""

    done = []
    for name in _entries_in(layout.tmp):
        if name.startswith(TRASH_PREFIX):
            fs.remove_tree(os.path.join(layout.tmp, name))
            done.append(name)
    return done


def prune_some(layout, max_age: float = PRUNE_AGE, limit: int = PRUNE_MAX, background: bool = True) -> list:
    """Passive pruning after a build: a few stale envs, oldest first; bounded work.

    The foreground part is a few stats and at most ``limit`` renames. The deletion of
    what was renamed, and (at most once per SWEEP_INTERVAL, see ``_claim_sweep``) a
    store sweep, run in a detached process (``background``; without it, deletion is
    immediate and there is no sweep)."""
    now = time.time()
    stale = []
    for key in list_envs(layout):
        last = env_last_use(layout, key)
        if now - last > max_age:
            stale.append((last, key))
    deleted = []
    for _, key in sorted(stale)[:limit]:
        if delete_env(layout, key, defer=background):
            deleted.append(key)
    if background:
        sweep = _claim_sweep(layout, now)
        if deleted or sweep:
            spawn_background(layout, sweep)
    return deleted


def _claim_sweep(layout, now: float) -> bool:
    """True if a passive store sweep is due; the stamp is moved to ``now`` so that
    concurrent runs do not all start one. A new cache gets a stamp, not a sweep."""
    stamp = layout.sweep_stamp
    try:
        last = os.stat(stamp).st_mtime
    except FileNotFoundError:
        try:
            open(stamp, "a").close()
        except OSError:
            pass
        return False
    except OSError:
        return False
    if now - last < SWEEP_INTERVAL:
        return False
    try:
        os.utime(stamp, (now, now))
    except OSError:
        return False  # a read-only root: nothing to sweep there anyway
    return True


def spawn_background(layout, sweep: bool) -> bool:
    """Start ``background_main`` in a detached, low-priority process; do not wait for it.

    ``/bin/sh -c '... &'`` detaches it: the shell exits at once (we reap it), so the
    worker is not a child of the script this process is about to exec into (which would
    otherwise inherit a zombie or see it in ``os.wait()``). A fresh interpreter, not a
    fork: the caller may have threads, and nothing of its state is wanted."""
    import sys

    if os.name != "posix" or not sys.executable or not os.path.exists("/bin/sh"):
        return False  # explicit `vpython gc` deletes the trash there
    import subprocess

    import vpython

    where = os.path.dirname(os.path.dirname(os.path.abspath(vpython.__file__)))
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from vpython.store.gc import background_main; "
        "background_main(sys.argv[2], sys.argv[3] == '1')"
    )
    try:
        subprocess.run(
            [
                "/bin/sh",
                "-c",
                '"$@" </dev/null >/dev/null 2>&1 &',
                "vpython-gc",
                sys.executable,
                "-I",
                "-c",
                code,
                where,
                layout.root,
                "1" if sweep else "0",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def background_main(root: str, sweep: bool) -> None:
    """The detached worker: empty the trash, then (if due) sweep like ``vpython gc``
    with the passive age. Never an error to anyone: it has no terminal."""
    from vpython.store.root import Layout

    layout = Layout(root)
    try:
        os.nice(10)  # the user's run (and anything else) goes first
    except (AttributeError, OSError):
        pass
    try:
        empty_trash(layout)
        if sweep:
            report = collect(layout, PRUNE_AGE)
            if report.store_busy:  # a build is running: let the next cold run try again
                old = time.time() - 2 * SWEEP_INTERVAL
                os.utime(layout.sweep_stamp, (old, old))
    except Exception:  # noqa: BLE001, S110 - best effort; an explicit `vpython gc` reports errors
        pass


def referenced_entries(layout) -> tuple:
    """(package entry names, wheel sha256s) referenced by the remaining envs."""
    entries, shas = set(), set()
    for key in list_envs(layout):
        data = read_env_meta(layout, key)
        entries.update(data.get("entries", []))
        shas.update(data.get("wheels", {}).values())
    return entries, shas


def _unique_size(paths_iter) -> int:
    """Bytes on disk, counting each inode once (envs hardlink the store)."""
    seen, total = set(), 0
    for path in paths_iter:
        for _, st in walk_stats(path):
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


def walk_stats(path: str):
    """``(file path, lstat)`` for ``path`` itself if it is not a directory (a spec pointer,
    a cached lock), else for every file below it; files that vanish are skipped."""
    try:
        if not os.path.isdir(path) or os.path.islink(path):
            yield path, os.lstat(path)
            return
    except OSError:
        return
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            p = os.path.join(dirpath, name)
            try:
                yield p, os.lstat(p)
            except OSError:
                continue


class FreedBytes:
    """What deleting a set of paths frees: an inode counts only once every one of its
    links is inside the set (an env's files are mostly hardlinks into the store, so
    deleting the env alone frees only its own few files)."""

    def __init__(self) -> None:
        self._inodes: dict = {}  # (dev, ino) -> [links seen, st_nlink, size]

    def add(self, path: str) -> None:
        for _, st in walk_stats(path):
            rec = self._inodes.setdefault((st.st_dev, st.st_ino), [0, st.st_nlink, st.st_size])
            rec[0] += 1

    def total(self) -> int:
        return sum(size for seen, nlink, size in self._inodes.values() if seen >= nlink)


def _entries_in(path: str) -> list:
    try:
        return sorted(n for n in os.listdir(path) if not n.startswith("."))
    except OSError:
        return []


class GcReport:
    def __init__(self):
        self.envs_deleted, self.envs_held, self.envs_kept = [], [], []
        self.packages_deleted, self.wheels_deleted, self.pointers_deleted = [], [], []
        self.skeletons_deleted, self.build_locks_deleted, self.cached_locks_deleted = [], [], []
        self.tmp_deleted, self.pex_cache_deleted = [], []
        self.bytes_freed = 0
        self.store_busy = False


def _envs_collected(layout) -> None:
    """Called between the env phase and the store sweep; tests inject a concurrent
    build here (tests/integration/test_store.py)."""


def _remove(path: str) -> None:

    try:
        if os.path.isdir(path) and not os.path.islink(path):
            fs.remove_tree(path)
        else:
            os.unlink(path)
    except OSError:
        pass


def _pointer_env(path: str):
    try:
        with open(path, encoding="utf-8") as f:
            return next((line[4:] for line in f.read().splitlines() if line.startswith("env=")), None)
    except OSError:
        return False  # unreadable now (being replaced?): leave it


def _skeleton_usable(path: str) -> bool:
    """The template's interpreter still exists and is the same binary."""
    from vpython.interpreters.identity import interpreter_id  # what the skeleton's meta records

    try:
        with open(os.path.join(path, SKELETON_META), encoding="utf-8") as f:
            info = json.load(f)
        return interpreter_id(info["interpreter"]) == info["interpreter_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def collect(layout, older_than: float, dry_run: bool = False) -> GcReport:
    """Delete envs unused for ``older_than`` seconds (never a held one), then, under the
    exclusive store lock, every store entry, wheel, spec pointer, skeleton template,
    build-lock file and cached resolution that no remaining env or pointer needs, and
    pex's build cache when no build has used it for ``older_than``."""
    from vpython.store.locks import flocked, store_lock_path

    report = GcReport()
    freed = FreedBytes()
    now = time.time()
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
    _envs_collected(layout)
    with flocked(store_lock_path(layout), exclusive=True, blocking=False) as got:
        if not got:
            report.store_busy = True  # a build is running: sweep next time
            report.bytes_freed = freed.total()
            return report
        # Everything from here on is decided under the lock: an env published after the
        # env phase above (by a build that has since released its shared lock) is seen
        # here, so its entries, wheels and pointer stay; no build can publish meanwhile.
        remaining = set(list_envs(layout)) - (set(report.envs_deleted) if dry_run else set())
        metas = [read_env_meta(layout, key) for key in remaining]
        entries, shas, skeletons = set(), set(), set()
        legacy_envs = False
        for meta in metas:
            entries.update(meta.get("entries", []))
            shas.update((meta.get("wheels") or {}).values())
            if meta.get("skeleton"):
                skeletons.add(meta["skeleton"])
            else:
                legacy_envs = True  # built before envs recorded their skeleton

        def delete(path: str, into: list, name: str) -> None:
            into.append(name)
            freed.add(path)
            if not dry_run:
                _remove(path)

        # Spec pointers to envs that are gone only cost a failed lookup, but they accumulate.
        # Written by builds after they release the store lock, so one may appear while we
        # sweep: it names an env in ``remaining`` (published before), and is kept.
        live_pointers = set()
        for name in _entries_in(layout.specs):
            env = _pointer_env(os.path.join(layout.specs, name))
            if env is False or env in remaining:
                live_pointers.add(name)
            else:
                delete(os.path.join(layout.specs, name), report.pointers_deleted, name)
        for name in _entries_in(layout.packages):
            if name not in entries:
                delete(os.path.join(layout.packages, name), report.packages_deleted, name)
        for sha in _entries_in(layout.wheels):
            if sha not in shas:
                delete(os.path.join(layout.wheels, sha), report.wheels_deleted, sha)
        # Skeleton templates: builds copy them under the shared store lock (never held
        # here). One no env uses, or whose interpreter is gone or was replaced, goes; the
        # next build for that interpreter makes it again (~0.15 s).
        for name in _entries_in(layout.skeletons):
            path = os.path.join(layout.skeletons, name)
            has_meta = os.path.isfile(os.path.join(path, SKELETON_META))
            used = name in skeletons or (legacy_envs and not has_meta)
            if not used or (has_meta and not _skeleton_usable(path)):
                delete(path, report.skeletons_deleted, name)
        # filelock files of envs that are gone. Builders take them only inside the shared
        # store lock, so none is held or waited on now; the non-blocking flock is a second
        # guard (a builder from an older vpython that takes no store lock).
        env_names = set(list_envs(layout))
        try:
            names = sorted(os.listdir(layout.envs))
        except OSError:
            names = []
        for name in names:
            if not (name.startswith(".") and name.endswith(".build.lock")):
                continue
            key = name[1 : -len(".build.lock")]
            if key in env_names and key not in report.envs_deleted:
                continue
            path = os.path.join(layout.envs, name)
            fd = _try_exclusive(path)
            if fd is None:
                continue
            try:
                delete(path, report.build_locks_deleted, name)
            finally:
                os.close(fd)
        # Cached resolutions and build plans (locks/<spec digest>.pylock.toml, .plan.json;
        # keyed by the same digest as specs/<digest>) of specs whose pointer is gone: one
        # per spec ever run otherwise. A fresh one may belong to a build that has not
        # written its pointer yet; the age threshold keeps it.
        for name in _entries_in(layout.locks):
            if name.split(".", 1)[0] in live_pointers:
                continue
            path = os.path.join(layout.locks, name)
            try:
                age = now - os.lstat(path).st_mtime
            except OSError:
                continue
            if age > older_than:
                delete(path, report.cached_locks_deleted, name)
        # pex's build cache (`vpython build --format pex`): builds use it under the shared
        # store lock and touch it first, so one untouched for the threshold goes whole.
        try:
            pex_age = now - os.stat(layout.pex_root).st_mtime
        except OSError:
            pex_age = None
        if pex_age is not None and pex_age > older_than:
            delete(layout.pex_root, report.pex_cache_deleted, "pex-root")
        # Work dirs of builders that crashed: nothing live is older than an hour; trash
        # (renamed there by deferred deletes) is never read by anyone.
        leftovers = [(layout.tmp, n) for n in _entries_in(layout.tmp)]
        # Temp files of writers that publish by rename (envs, spec pointers, cached locks,
        # interpreter probes, skeleton templates): a SIGKILL between create and rename
        # leaves them behind.
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
            try:
                age = now - os.lstat(path).st_mtime
            except OSError:
                continue
            if age > LEFTOVER_AGE or (base == layout.tmp and name.startswith(TRASH_PREFIX)):
                delete(path, report.tmp_deleted, name)
    report.bytes_freed = freed.total()
    return report
