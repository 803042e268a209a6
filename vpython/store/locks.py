"""Shared/exclusive advisory file locks (``flock``), for what ``filelock`` does not
cover: readers that must coexist (runs sharing an env or the store) against a writer
that must be alone (GC). Locks die with their process, so a crashed holder never
blocks anyone. ``path_lock`` is the one-holder lock with a self-removing file, used per
wheel (downloads), per store entry (unpacking, byte-compiling)."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from vpython import fs

if TYPE_CHECKING:
    from collections.abc import Iterator

    from vpython.store.root import Layout


@contextlib.contextmanager
def flocked(
    path: str, *, exclusive: bool, blocking: bool = True, read_only_ok: bool = False
) -> Iterator[bool]:
    """Yield True with the lock held, or False if ``blocking`` is off and it is busy.

    ``read_only_ok`` (readers: ``gc --dry-run``, ``cache verify``): on a root that cannot
    take writes (a read-only mount, an image-baked cache) the lock is taken on a read-only
    fd (flock works on one), and when the lock file does not exist there, nobody can be
    writing that root: proceed without it. Otherwise the OSError propagates."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        if not read_only_ok:
            raise
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            yield True
            return
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


@contextlib.contextmanager
def exclusive_build_lock(path: str) -> Iterator[None]:
    """One builder per cache entry, released when the holder dies.

    On POSIX this is the same ``flock`` on the same file that ``filelock.UnixFileLock``
    takes, without the ~30 ms its import adds to every cold run. Windows has no
    ``fcntl``: there ``filelock`` (``msvcrt`` locking) keeps concurrent cold runs to one
    build, which is what it is a dependency for."""
    try:
        import fcntl  # noqa: F401
    except ImportError:  # pragma: no cover - Windows
        import filelock

        os.makedirs(os.path.dirname(path), exist_ok=True)
        with filelock.FileLock(path):
            yield
        return
    with flocked(path, exclusive=True):
        yield


def store_lock_path(layout: Layout) -> str:
    """The store lock: shared by every build, exclusive for gc's store sweep and repair."""
    return os.path.join(layout.base, "store.lock")


@contextlib.contextmanager
def path_lock(layout: Layout, path: str, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``path``; yields False (not held) when ``blocking``
    is off and someone else holds it. Used per wheel (downloads) and per store entry
    (byte-compilation, vpython.store.pyc).

    The holder unlinks the lock file before it lets go, so lock files do not pile up,
    one per wheel ever fetched. A waiter that opened the file before that unlink then
    holds a lock on a name nobody uses any more: it sees the path no longer names its
    inode and starts over on the current file (the same check as the env use lock)."""
    from vpython.store.root import cache_write_error

    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: concurrent runs may do the work twice
        yield True
        return
    fd = -1
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                os.close(fd)
                fd = -1
                break
            except BaseException:
                os.close(fd)
                raise
            if fs.same_file(fd, path):
                break
            os.close(fd)
    except OSError as e:
        raise cache_write_error(e, layout.root) from None
    if fd < 0:
        yield False
        return
    try:
        yield True
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
        os.close(fd)
