"""Who may write the cache root: only the user who runs vpython (the rule ssh and pip apply).

vpython executes what the root holds: a spec pointer names an env, the env holds the
interpreter link and site-packages. Anyone who can write the root, a directory inside it
that vpython reads, or the root's parent (to swap the root for their own), can make the
next run execute their code. So (private roots, the default):

* the root is a directory owned by the effective uid and not writable by group or
  others; a symlink as the root is followed only when the link belongs to that uid or
  to root (as the kernel's ``protected_symlinks`` would);
* the root's parent belongs to that uid or to root, and is not writable by group or
  others unless it is sticky (``/tmp``): nobody else can rename the root away;
* ``v1/`` and, on the warm path, ``v1/specs``, ``v1/envs``, the pointer file read and the
  env dir it names: owned by that uid, not writable by group or others; the cold path and
  every subcommand check each top-level directory of ``v1/`` the same way;
* what vpython creates is not group/other-writable: ``resolve_root`` adds 022 to the
  umask (the script gets the user's own umask back before exec), and the ``$TMPDIR``
  fallback root is made ``0700``.

A violation is refused with the path, its owner and mode, and the fix. Deeper files
(store entries, an env's site-packages) are not stat'ed on every run: they were created
under the rules above; ``vpython cache verify`` audits all of them (``audit``).

A root shared by several users on purpose (a CI cache) is an explicit opt-in:
``VPYTHON_SHARED_ROOT=1``, or ``shared-root = true`` in the user's config file (read only
when the root is missing or fails the private rules, so a private warm run never parses
TOML). Then owners may differ and group write is allowed; world-writable directories are
still refused; vpython creates with umask ``(user's & 007) | 002`` so the group can
write. Windows has no uids: nothing is checked there.

Stdlib only (warm path): ``pwd`` is imported only to name an owner in an error.
"""

from __future__ import annotations

import os
import stat

from vpython import fs

SHARED_ENV = "VPYTHON_SHARED_ROOT"  # and `shared-root = true` in the config file (settings.sources)
_EUID: int | None = os.geteuid() if hasattr(os, "geteuid") else None
_shared = False  # decided by check_root for this process


def shared() -> bool:
    return _shared


def _env_opt_in() -> bool:
    return os.environ.get(SHARED_ENV, "").lower() in ("1", "true", "yes", "on")


def _config_opt_in() -> bool:
    from vpython.settings.sources import config_shared_root

    return config_shared_root()


def ok(st: os.stat_result) -> bool:
    """Whether a file or directory with this stat may be trusted (the module's rules)."""
    if _EUID is None:
        return True
    if _shared:
        return not st.st_mode & 0o002
    return st.st_uid == _EUID and not st.st_mode & 0o022


def _who(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def _unsafe_error(path: str, st: os.stat_result, role: str, source: str | None) -> Exception:
    """The refusal for ``path`` (``role`` says what it is to vpython)."""
    from vpython.errors import UserError, VPythonError

    mode = stat.S_IMODE(st.st_mode)
    facts = f"owner {_who(st.st_uid)}, mode {mode:04o}"
    shared_hint = f"a cache shared between users on purpose needs {SHARED_ENV}=1 (docs/reliability.md)"
    if _EUID is not None and st.st_uid != _EUID and not _shared:
        why = f"belongs to another user ({facts}; you are {_who(_EUID)})"
        fix = (
            f"it is only a cache: remove {path} (as its owner, or root) or point VPYTHON_VIRTUALENV_ROOT "
            f"/ -vpython-root at a directory of your own; {shared_hint}"
        )
    else:
        who = "anyone" if mode & 0o002 else "its group"
        why = f"is writable by {who} ({facts})"
        fix = f"chmod o-w {path}" if _shared else f"chmod go-w {path}; {shared_hint}"
    message = (
        f"refusing to use {role} {path}: it {why}; another user could put code in it that vpython would run"
    )
    cls = UserError if source else VPythonError
    return cls(message + (f" (root set by {source})" if source else ""), hint=fix)


def check_stat(path: str, st: os.stat_result, role: str = "the vpython cache entry") -> None:
    """Raise the refusal for ``path`` unless ``st`` passes (``ok``)."""
    if not ok(st):
        raise _unsafe_error(path, st, role, None)


def check_dir(path: str, role: str = "the vpython cache directory") -> bool:
    """One ``lstat``: False if ``path`` is missing; raises if it is not a trusted
    directory (a symlink counts as not a directory: vpython never makes one there)."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    if not stat.S_ISDIR(st.st_mode):
        from vpython.errors import VPythonError

        raise VPythonError(
            f"refusing to use {role} {path}: it is not a directory ({_kind(st)}, owner {_who(st.st_uid)})",
            hint=f"vpython makes only directories there: remove {path}",
        )
    check_stat(path, st, role)
    return True


def _kind(st: os.stat_result) -> str:
    if stat.S_ISLNK(st.st_mode):
        return "a symlink"
    if stat.S_ISREG(st.st_mode):
        return "a file"
    return "not a regular file"


def check_root(root: str, source: str | None, fallback: bool) -> os.stat_result | None:
    """The checks of the root, its parent and ``v1/`` (module docstring), then the umask
    for what this process creates. ``fallback``: the ``$TMPDIR`` root, made 0700. Three
    or four stats: this runs on every warm start. Returns the root's stat (its target's,
    for a symlink), None when it is missing."""
    global _shared
    if _EUID is None:
        return None
    _shared = _env_opt_in()
    try:
        st: os.stat_result | None = os.lstat(root)
    except OSError:
        st = None
    if st is None and fallback:
        try:
            os.mkdir(root, 0o700)  # atomically ours, or someone else's, refused below
        except FileExistsError:
            pass
        except OSError:
            return None  # an unwritable TMPDIR: the first write reports it, with its own hint
        st = os.lstat(root)
    if st is None and not _shared:
        _shared = _config_opt_in()  # a new root: made group-writable if shared on purpose
    if not _root_passes(root, st, source, final=False):
        if not _shared:
            _shared = _config_opt_in()
        _root_passes(root, st, source, final=True)  # raises
    fs.restrict_umask(_shared)
    if st is not None and stat.S_ISLNK(st.st_mode):
        try:
            return os.stat(root)
        except OSError:
            return None
    return st


def _root_passes(root: str, st: os.stat_result | None, source: str | None, final: bool) -> bool:
    """The root (``st``: its lstat, None if missing), its parent and ``v1/`` pass; if not,
    False, or with ``final`` the refusal."""
    if st is not None and stat.S_ISLNK(st.st_mode):
        if not _shared and st.st_uid not in (_EUID, 0):
            if final:
                raise _unsafe_error(root, st, "the vpython cache root (a symlink)", source)
            return False
        try:
            st = os.stat(root)
        except OSError:
            st = None  # dangling: the first write reports it
    if st is not None and not ok(st):
        if final:
            raise _unsafe_error(root, st, "the vpython cache root", source)
        return False
    if not _parent_ok(root, source, final):
        return False
    if st is None:
        return True
    base = os.path.join(root, "v" + _format_version())
    try:
        bst = os.lstat(base)
    except OSError:
        return True
    if ok(bst) and stat.S_ISDIR(bst.st_mode):
        return True
    if final:
        check_dir(base)
    return False


def _parent_ok(root: str, source: str | None, final: bool = False) -> bool:
    parent = os.path.dirname(root)
    try:
        pst = os.stat(parent)
    except OSError:
        return True  # missing: made by makedirs under our umask
    mode = pst.st_mode
    if _shared:
        good = not (mode & 0o002) or bool(mode & stat.S_ISVTX)
    else:
        good = pst.st_uid in (_EUID, 0) and (not (mode & 0o022) or bool(mode & stat.S_ISVTX))
    if good or not final:
        return good
    from vpython.errors import UserError, VPythonError

    facts = f"owner {_who(pst.st_uid)}, mode {stat.S_IMODE(mode):04o}, not sticky"
    cls = UserError if source else VPythonError
    raise cls(
        f"refusing to use the vpython cache root {root}: its directory {parent} can be written by others "
        f"({facts}), who could replace the root with their own",
        hint=(
            "point VPYTHON_VIRTUALENV_ROOT / -vpython-root at a directory below one only you (or root) can "
            f"write; a cache shared between users on purpose needs {SHARED_ENV}=1 (docs/reliability.md)"
        ),
    )


def _format_version() -> str:
    from vpython import FORMAT_VERSION

    return FORMAT_VERSION


def note_opt_in() -> None:
    """Decide the shared opt-in without checking the root (``resolve_root(check=False)``:
    ``cache verify`` reports what ``audit`` finds instead of refusing)."""
    global _shared
    _shared = _env_opt_in() or _config_opt_in()


def audit(root: str) -> list[str]:
    """``"<path>: <why>"`` for every directory, file or symlink below ``root`` (and the
    root) that fails the rules: what the warm path does not stat on every run. Symlinks
    are judged by their owner only (their mode means nothing), lock files not at all
    (nothing reads them: uv makes its cache's ``.lock`` 0666 on purpose)."""
    if _EUID is None:
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == root:
            filenames = [".", *filenames]
        for name in dirnames + filenames:
            path = dirpath if name == "." else os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if name.endswith(".lock") and stat.S_ISREG(st.st_mode):
                continue
            link = stat.S_ISLNK(st.st_mode)
            if (not _shared and st.st_uid not in (_EUID, 0)) if link else not ok(st):
                found.append(f"{path}: {_why(st)}")
    return found


def _why(st: os.stat_result) -> str:
    mode = stat.S_IMODE(st.st_mode)
    facts = f"owner {_who(st.st_uid)}, mode {mode:04o}"
    if _EUID is not None and st.st_uid != _EUID and not _shared:
        return f"belongs to another user ({facts})"
    return f"writable by {'anyone' if mode & 0o002 else 'its group'} ({facts})"
