"""The envs of a cache root: which exist, when each was last used, who holds one, and
deleting one safely.

An env is deleted only under its exclusive use lock, taken without blocking: a running
script holds the shared lock across exec (vpython.env.fastpath), so an env in use is
never deleted. Deletion renames the env out of place first, so no reader ever sees half
an env. Last use is the mtime of ``envs/<key>.lock``, touched by every run (warm runs
included).

A deferred delete (passive pruning, vpython.store.prune) only renames the env into
``tmp/gone-*``; ``empty_trash`` deletes those later, in a detached process.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from vpython import fs, log
from vpython.store.root import list_names

if TYPE_CHECKING:
    from collections.abc import Callable

    from vpython.store.root import Layout

ENV_META = ".vpython-env.json"  # written last by vpython.env.build: an env's record
TRASH_PREFIX = "gone-"  # tmp/gone-*: renamed out of place, nobody reads them; delete any time


def try_exclusive(lock_path: str) -> int | None:
    """The fd of ``lock_path`` with an exclusive ``flock`` taken without blocking, or
    None if the file cannot be opened or someone holds it (shared or exclusive)."""
    try:
        fd = os.open(lock_path, os.O_RDWR)
    except FileNotFoundError:
        return None
    except OSError:  # a read-only root: flock works on a read-only fd too
        try:
            fd = os.open(lock_path, os.O_RDONLY)
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


def env_last_use(layout: Layout, key: str) -> float:
    """When env ``key`` was last used (its use lock's mtime; the env dir's for an env
    without one; 0 when neither exists)."""
    try:
        return os.stat(layout.env_lock(key)).st_mtime
    except OSError:
        try:
            return os.stat(layout.env_dir(key)).st_mtime
        except OSError:
            return 0.0


def list_envs(layout: Layout) -> list[str]:
    """The keys of every env dir under ``envs/`` (work dirs, locks and files skipped)."""
    return [
        n for n in list_names(layout.envs) if not n.endswith(".lock") and os.path.isdir(layout.env_dir(n))
    ]


def read_env_meta(layout: Layout, key: str) -> dict[str, Any]:
    """Env ``key``'s ``.vpython-env.json`` (packages, wheels, entries, skeleton, spec...),
    or ``{}`` when it is missing or unreadable."""
    try:
        with open(os.path.join(layout.env_dir(key), ENV_META), encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def env_is_held(layout: Layout, key: str) -> bool:
    """True if a running script holds env ``key`` (probe: exclusive lock, released at once)."""
    lock_path = layout.env_lock(key)
    if not os.path.exists(lock_path):
        return False  # every run creates the lock before it execs: nobody is using it
    fd = try_exclusive(lock_path)
    if fd is None:
        return os.path.exists(lock_path)  # vanished meanwhile: deleted, so not held
    os.close(fd)
    return False


def _trash(path: str, layout: Layout) -> str | None:
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


def delete_env(
    layout: Layout, key: str, *, defer: bool = False, before: Callable[[str], object] | None = None
) -> bool:
    """Delete env ``key`` if nobody holds it. Returns True if deleted.

    ``defer``: only rename it into ``tmp/gone-*`` (see ``empty_trash``). ``before(path)``
    is called under the lock just before deletion (gc measures what it frees)."""

    lock_path = layout.env_lock(key)
    if not os.path.exists(lock_path):
        open(lock_path, "a").close()
    fd = try_exclusive(lock_path)
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


def empty_trash(layout: Layout) -> list[str]:
    """Delete every ``tmp/gone-*`` (renamed there by deferred deletes; never read)."""

    done = []
    for name in list_names(layout.tmp):
        if name.startswith(TRASH_PREFIX):
            fs.remove_tree(os.path.join(layout.tmp, name))
            done.append(name)
    return done
