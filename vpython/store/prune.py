"""Passive pruning: what a cold run does to keep the cache from growing without bound.

The foreground part (``prune_some``, after a cold build) is a few stats and at most
``PRUNE_MAX`` renames: a few stale envs go into ``tmp/gone-*``. Deleting them, and at
most once a day a full store sweep (vpython.store.gc with the passive age), happens in a
detached low-priority process (``background_main``), so the user's run never waits for
it.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from vpython.store.envs import delete_env, empty_trash, env_last_use, list_envs

if TYPE_CHECKING:
    from vpython.store.root import Layout

PRUNE_AGE = 7 * 24 * 3600
PRUNE_MAX = 3
SWEEP_INTERVAL = 24 * 3600  # passive store sweeps: at most this often


def prune_some(
    layout: Layout, max_age: float = PRUNE_AGE, limit: int = PRUNE_MAX, background: bool = True
) -> list[str]:
    """Passive pruning after a build: a few stale envs, oldest first; bounded work.

    The foreground part is a few stats and at most ``limit`` renames. The deletion of
    what was renamed, and (at most once per SWEEP_INTERVAL, see ``_claim_sweep``) a
    store sweep, run in a detached process (``background``; without it, deletion is
    immediate and there is no sweep). Returns the keys of the envs deleted."""
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


def _claim_sweep(layout: Layout, now: float) -> bool:
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


def spawn_background(layout: Layout, sweep: bool) -> bool:
    """Start ``background_main`` in a detached process (vpython.store.detach); do not
    wait for it. False where none can be started: explicit `vpython gc` deletes the trash
    there."""
    from vpython.store.detach import run_detached

    return run_detached(
        "vpython-gc",
        "from vpython.store.prune import background_main; background_main(sys.argv[2], sys.argv[3] == '1')",
        [layout.root, "1" if sweep else "0"],
    )


def background_main(root: str, sweep: bool) -> None:
    """The detached worker: empty the trash, then (if due) sweep like ``vpython gc``
    with the passive age. Never an error to anyone: it has no terminal."""
    from vpython.store.gc import collect
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
