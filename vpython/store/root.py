"""Where the cache lives and how it is laid out. Stdlib only (warm path).

Root: ``-vpython-root`` > ``VPYTHON_VIRTUALENV_ROOT`` (counts when set, even empty) >
``<user cache dir>/vpython-root.<uid>``; an empty result falls back to
``$TMPDIR/vpython-root_<uid>`` as the original does. Everything below the root lives
under a versioned directory (``v<FORMAT_VERSION>``) so incompatible layouts never mix.
"""

from __future__ import annotations

import os
import sys

from vpython import FORMAT_VERSION


def _uid() -> int:
    getuid = getattr(os, "getuid", None)
    return getuid() if getuid else 0


def user_cache_dir() -> str:
    """The platform's per-user cache directory ("" when it cannot be determined)."""
    if sys.platform == "win32":
        return os.environ.get("LOCALAPPDATA", "")
    if sys.platform == "darwin":
        home = os.environ.get("HOME", "")
        return os.path.join(home, "Library", "Caches") if home else ""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return xdg
    home = os.environ.get("HOME", "")
    return os.path.join(home, ".cache") if home else ""


def resolve_root(flag_value: str | None) -> str:
    """The absolute cache root for this run."""
    if flag_value is not None:
        root = flag_value
    elif "VPYTHON_VIRTUALENV_ROOT" in os.environ:
        root = os.environ["VPYTHON_VIRTUALENV_ROOT"]
    else:
        cache = user_cache_dir()
        root = os.path.join(cache, f"vpython-root.{_uid()}") if cache else ""
    if not root:
        import tempfile  # rare fallback; tempfile costs ~7 ms to import

        root = os.path.join(tempfile.gettempdir(), f"vpython-root_{_uid()}")
    return os.path.abspath(os.path.expanduser(root))


class Layout:
    """Paths of one cache root. Pure string joins: creating nothing, importing nothing."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.base = os.path.join(root, "v" + FORMAT_VERSION)
        self.envs = os.path.join(self.base, "envs")
        self.specs = os.path.join(self.base, "specs")
        self.locks = os.path.join(self.base, "locks")  # resolutions cached per spec digest
        self.wheels = os.path.join(self.base, "store", "wheels")
        self.packages = os.path.join(self.base, "store", "packages")
        self.interpreters = os.path.join(self.base, "interpreters")
        self.tmp = os.path.join(self.base, "tmp")

    def env_dir(self, key: str) -> str:
        return os.path.join(self.envs, key)

    def env_lock(self, key: str) -> str:
        # Outside the env dir so GC can take it, delete the env, and leave the lock file.
        return os.path.join(self.envs, key + ".lock")

    def spec_pointer(self, digest: str) -> str:
        return os.path.join(self.specs, digest)


# errno names of failures that mean "this cache root cannot take writes" (disk full,
# quota, read-only mount, permissions): reported as a clear error, never a traceback.
_DISK_ERRNOS = ("ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "EFBIG", "EMLINK")


def is_disk_error(e: OSError) -> bool:
    import errno

    return e.errno in {getattr(errno, n) for n in _DISK_ERRNOS if hasattr(errno, n)}


def cache_write_error(e: OSError, root: str):
    """A VPythonError for ``e`` (raised while writing under ``root``) that names the
    root, the file when known, and what to do."""
    import errno

    from vpython.errors import VPythonError

    what = e.strerror or str(e)
    where = f" ({e.filename})" if e.filename else ""
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.EFBIG):
        hint = ("free space there, or point -vpython-root / VPYTHON_VIRTUALENV_ROOT at a filesystem "
                "with room; nothing half-written is used, the next run starts over")
    else:
        hint = ("the cache root must be writable; point -vpython-root / VPYTHON_VIRTUALENV_ROOT "
                "at a writable directory")
    return VPythonError(f"cannot write to the vpython cache at {root}: {what}{where}", hint=hint)
