"""Whether a lockfile still serves its spec (``vpython lock --check``, and the reason
``vpython lock`` gives before re-locking).

A lock is fresh when it is ours (``[tool.vpython] spec`` names this spec, or nothing),
records the spec hash of the spec as it is now (``spec.load.spec_hash``) and covers
every target the spec asks for.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from vpython.errors import LockError

if TYPE_CHECKING:
    from vpython.lock.targets import Target


def staleness(
    lock_path: str, spec_hash: str, wanted_targets: Iterable[Target], spec_path: str | None = None
) -> str | None:
    """Why ``lock_path`` does not serve the spec (None = fresh)."""
    from vpython.lock.pylock import owner_conflict, read_lock, recorded

    if not os.path.isfile(lock_path):
        return "it does not exist"
    try:
        _, raw = read_lock(lock_path)
    except LockError as e:
        where = f"{e.key}: " if e.key else ""
        return f"it cannot be read ({where}{e.message})"
    other = owner_conflict(raw, lock_path, spec_path)
    if other:
        return f"it is the lock of another spec ({other})"
    table = recorded(raw)
    if table.get("spec-hash") != spec_hash:
        if table.get("spec-hash") is None:
            return "it records no spec hash (not written by vpython lock)"
        return "the spec changed since it was locked"
    have = {str(k) for k in table.get("targets") or ()}
    absent = sorted(t.key for t in wanted_targets if t.key not in have)
    if absent:
        return "it does not cover target(s) " + ", ".join(absent)
    return None
