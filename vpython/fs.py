"""Small file-system primitives every layer uses. Stdlib only (imported on the warm path).

``write_atomic`` is the one way vpython replaces a file: readers see the old bytes or the
whole new ones, never a part, and a crash leaves at most a ``<prefix>*`` temp file that
gc sweeps. ``tempfile`` is not imported: it costs ~3 ms and pulls in ``random``.
"""

from __future__ import annotations

import os


def new_temp_file(parent: str, prefix: str, mode: int = 0o644) -> tuple[int, str]:
    """Create a new file ``<parent>/<prefix><pid>-<random>`` (O_EXCL) and return (fd, path)."""
    for _ in range(100):
        path = os.path.join(parent, f"{prefix}{os.getpid()}-{os.urandom(4).hex()}")
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), path
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temp file in {parent}")


def file_identity(path: str) -> str:
    """``size:mtime_ns:inode`` of ``path`` (follows symlinks): changes when the file is
    rewritten, replaced or rebuilt. Raises OSError if it is gone."""
    st = os.stat(path)
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def same_file(fd: int, path: str) -> bool:
    """Whether the open ``fd`` is still the file at ``path`` (not unlinked or replaced)."""
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


# The umask the user started vpython with, once ``restrict_umask`` changed it: files the
# user owns (a lockfile beside the spec) are still created with it, and the script gets
# it back before exec (``restore_umask``).
_user_umask: int | None = None
_our_umask: int | None = None  # what restrict_umask set


def restrict_umask(shared: bool) -> None:
    """What this process creates in the cache root must not be writable by others
    (vpython.store.trust): add 022 to the umask, or for a root shared on purpose make it
    ``(user's & 007) | 002`` (group-writable, never world-writable). One syscall when
    the user's umask is 022 already (this runs on every warm start)."""
    global _user_umask, _our_umask
    current = os.umask(0o022)
    if _user_umask is None:
        _user_umask = current
    _our_umask = (_user_umask & 0o007) | 0o002 if shared else _user_umask | 0o022
    if _our_umask != 0o022:
        os.umask(_our_umask)


def restore_umask() -> None:
    """Give the user's umask back (before exec'ing their script)."""
    if _user_umask is not None and _user_umask != _our_umask:
        os.umask(_user_umask)


def user_file_mode(mode: int = 0o666) -> int:
    """``mode`` minus the user's own umask (not the restricted one): for files that are
    the user's, outside the cache (a new lockfile beside its spec)."""
    return mode & ~(_user_umask if _user_umask is not None else _current_umask())


def dir_mode() -> int:
    """The mode ``os.makedirs`` gives a new directory in the cache root now (under
    ``restrict_umask``'s umask when it ran), for directories made another way."""
    return 0o777 & ~(_our_umask if _our_umask is not None else _current_umask())


def _current_umask() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def _umask_default(mode: int) -> int:
    return mode & ~_current_umask()


def write_atomic(
    path: str,
    data: bytes | str,
    *,
    mode: int | None = 0o644,
    keep_mode: bool = False,
    prefix: str = ".tmp-",
) -> None:
    """Replace ``path`` with ``data`` in one ``os.replace``.

    The temp file lives beside ``path`` (same file system, so the rename is atomic).
    ``mode`` is applied exactly (umask ignored); ``mode=None`` means 0o666 minus the umask,
    as ``open()`` would create it. ``keep_mode`` keeps an existing file's permission bits
    (a user's checked-in lockfile keeps its mode). OSError propagates: callers turn it
    into their own one-line error; the temp file is gone either way.
    """
    parent = os.path.dirname(path) or "."
    if isinstance(data, str):
        data = data.encode("utf-8")
    final_mode = _umask_default(0o666) if mode is None else mode
    if keep_mode:
        try:
            final_mode = os.stat(path).st_mode & 0o7777
        except OSError:
            pass
    fd, tmp = new_temp_file(parent, prefix, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, final_mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def remove_tree(path: str) -> None:
    """``shutil.rmtree`` that also removes store trees, whose files and directories are
    read-only on purpose (a directory's write bit is restored just before its entries go).
    Errors on single entries are ignored: what remains is swept by gc later."""
    import shutil

    def onerror(func, p, exc_info):  # type: ignore[no-untyped-def]
        try:
            os.chmod(os.path.dirname(p), 0o755)
            os.chmod(p, 0o755)
            func(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=onerror)


def discard_tree(path: str, trash_parent: str) -> None:
    """Take ``path`` away in one rename (readers see it whole or not at all), then delete it.

    The rename goes into a fresh directory below ``trash_parent`` (same file system). If
    ``path`` is already gone (another process discarded it), nothing happens."""
    os.makedirs(trash_parent, exist_ok=True)
    for _ in range(100):
        trash = os.path.join(trash_parent, f"trash-{os.getpid()}-{os.urandom(4).hex()}")
        try:
            os.mkdir(trash, 0o700)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"cannot create a trash directory in {trash_parent}")
    try:
        os.rename(path, os.path.join(trash, "entry"))
    except OSError:
        pass  # someone else discarded it already
    remove_tree(trash)
