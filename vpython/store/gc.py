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
