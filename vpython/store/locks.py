"""Shared/exclusive advisory file locks (``flock``), for what ``filelock`` does not
cover: readers that must coexist (runs sharing an env or the store) against a writer
that must be alone (GC). Locks die with their process, so a crashed holder never
blocks anyone."""

from __future__ import annotations

import contextlib
import os


@contextlib.contextmanager
def flocked(path: str, *, exclusive: bool, blocking: bool = True):
    """Yield True with the lock held, or False if ``blocking`` is off and it is busy."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no shared locks; proceed
            yield True
            return
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fd, mode | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def store_lock_path(layout) -> str:
    return os.path.join(layout.base, "store.lock")
