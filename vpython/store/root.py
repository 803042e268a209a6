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

# typing costs ~2 ms to import and this module is on the warm path; mypy reads the
# block below (it treats any name TYPE_CHECKING as true), the interpreter skips it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from vpython.errors import VPythonError


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


def resolve_root(flag_value: str | None, *, check: bool = True, warm: bool = False) -> str:
    """The absolute cache root for this run, checked for who may write it
    (vpython.store.trust: refused when someone else could; the umask is set so that
    nothing this process creates there is writable by others): the root, its parent and
    ``v1/``, and, unless ``warm`` (the run path: its lookup checks what it reads, its cold
    path the rest), every top-level directory of ``v1/``. ``check=False`` only locates it
    (``vpython cache``: ``verify`` reports what is unsafe instead)."""
    source = None  # who chose the root, for the error when it is not a directory
    if flag_value is not None:
        root, source = flag_value, "-vpython-root/--root"
    elif "VPYTHON_VIRTUALENV_ROOT" in os.environ:
        root, source = os.environ["VPYTHON_VIRTUALENV_ROOT"], "VPYTHON_VIRTUALENV_ROOT"
    else:
        cache = user_cache_dir()
        root = os.path.join(cache, f"vpython-root.{_uid()}") if cache else ""
    fallback = not root
    if fallback:
        import tempfile  # rare fallback; tempfile costs ~7 ms to import

        root = os.path.join(tempfile.gettempdir(), f"vpython-root_{_uid()}")
    root = os.path.abspath(os.path.expanduser(root))
    from vpython.store import trust

    if check:
        known = trust.check_root(root, source, fallback)
    else:
        known = None
        trust.note_opt_in()
    _check_directory(root, source, known)
    if check and not warm:
        check_layout(Layout(root))
    return root


def _check_directory(root: str, source: str | None, known: os.stat_result | None = None) -> None:
    """A root (or an ancestor) that is a regular file would fail deep inside the first
    ``makedirs`` with a NotADirectoryError traceback; say so here instead. No stat on the
    warm path (``known``: the root's stat, a directory, from the trust check); ancestors
    are looked at only when the root does not exist."""
    import stat

    if known is not None and stat.S_ISDIR(known.st_mode):
        return
    path = root
    while True:
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):  # missing, or below a file: walk up
            parent = os.path.dirname(path)
            if parent == path:
                return
            path = parent
            continue
        except OSError:
            return  # permissions etc.: reported by the first write, with its own hint
        if stat.S_ISDIR(st.st_mode):
            return
        break
    from vpython.errors import UserError, VPythonError

    what = (
        f"{root} is not a directory"
        if path == root
        else f"{root} cannot be created: {path} is not a directory"
    )
    if source:
        raise UserError(
            f"the vpython cache root {what} (set by {source})",
            hint=f"point {source} at a directory (it is created if missing)",
        )
    raise VPythonError(
        f"the default vpython cache root {what}",
        hint="move that file away, or set VPYTHON_VIRTUALENV_ROOT to a directory",
    )


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
        # Made by vpython.env.build: per-interpreter venv templates, virtualenv's cache.
        self.skeletons = os.path.join(self.base, "skeletons")
        self.app_data = os.path.join(self.base, "virtualenv-app-data")
        # pex's build cache for `vpython build --format pex` (vpython.artifacts.build).
        self.pex_root = os.path.join(self.base, "pex-root")
        # The resolvers' own caches (uv's, pex's for `vpython lock --engine pex`): inside
        # the root, never ~/.cache, so the root is the one place to prune and to trust.
        self.tool_cache = os.path.join(self.base, "tool-cache")
        # mtime = when passive pruning last started a store sweep (vpython.store.prune).
        self.sweep_stamp = os.path.join(self.base, "last-sweep")

    def top_dirs(self) -> list[str]:
        """The directories right below ``v1/`` that vpython creates and reads."""
        store = os.path.dirname(self.wheels)
        return [
            *(self.envs, self.specs, self.locks, store, self.wheels, self.packages, self.interpreters),
            *(self.tmp, self.skeletons, self.app_data, self.pex_root, self.tool_cache),
        ]

    def env_dir(self, key: str) -> str:
        return os.path.join(self.envs, key)

    def env_lock(self, key: str) -> str:
        # Outside the env dir so GC can take it, delete the env, and leave the lock file.
        return os.path.join(self.envs, key + ".lock")

    def env_build_lock(self, key: str) -> str:
        # Taken by vpython.env.build.assemble (store.locks.exclusive_build_lock) while it builds ``key``.
        return os.path.join(self.envs, f".{key}.build.lock")

    def spec_pointer(self, digest: str) -> str:
        return os.path.join(self.specs, digest)

    def cached_lock(self, digest: str) -> str:
        # Keyed by the same spec digest as the pointer (vpython.env.resolve.obtain_lock).
        return os.path.join(self.locks, digest + ".pylock.toml")


def check_layout(layout: Layout) -> None:
    """The cold path's trust check (vpython.store.trust): every top-level directory of
    ``v1/`` is ours and not writable by others (a dozen lstats)."""
    from vpython.store.trust import check_dir

    for path in layout.top_dirs():
        check_dir(path)


def list_names(path: str) -> list[str]:
    """The sorted names in a cache directory, hidden (``.``) names skipped: the entries of
    ``store/packages``, ``store/wheels``, ``specs``, ``locks``, ``tmp``... ``[]`` when it
    cannot be listed (not made yet, or gone)."""
    try:
        return sorted(n for n in os.listdir(path) if not n.startswith("."))
    except OSError:
        return []


# errno names of failures that mean "this cache root cannot take writes" (disk full,
# quota, read-only mount, permissions): reported as a clear error, never a traceback.
# ENOTDIR: a path component below the root was replaced by a file after resolve_root
# checked it.
_DISK_ERRNOS = ("ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "EFBIG", "EMLINK", "ENOTDIR")


def is_disk_error(e: OSError) -> bool:
    import errno

    return e.errno in {getattr(errno, n) for n in _DISK_ERRNOS if hasattr(errno, n)}


def cache_write_error(e: OSError, root: str) -> VPythonError:
    """A VPythonError for ``e`` (raised while writing under ``root``) that names the
    root, the file when known, and what to do."""
    import errno

    from vpython.errors import VPythonError

    what = e.strerror or str(e)
    where = f" ({e.filename})" if e.filename else ""
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.EFBIG):
        hint = (
            "free space there, or point -vpython-root / VPYTHON_VIRTUALENV_ROOT at a filesystem "
            "with room; nothing half-written is used, the next run starts over"
        )
    else:
        hint = (
            "the cache root must be writable; point -vpython-root / VPYTHON_VIRTUALENV_ROOT "
            "at a writable directory"
        )
    return VPythonError(f"cannot write to the vpython cache at {root}: {what}{where}", hint=hint)
