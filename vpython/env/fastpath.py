"""The warm path: find an existing env for a spec without parsing it. Stdlib only.

A run hashes the raw spec text together with everything else that could change the
environment (lockfile bytes, interpreter choice, package-source settings, this
machine's platform) into a *spec digest*. After the first successful build,
``<root>/v1/specs/<digest>`` points at the env. A warm run is then: discovery (a few
stats and one read), this lookup (one small read, two stats), a shared flock, a utime
and ``execve``. protobuf, packaging, virtualenv, filelock and pex are never imported.
"""

from __future__ import annotations

import os
import sys

from vpython import FORMAT_VERSION
from vpython.fs import same_file
from vpython.interpreters.identity import interpreter_id
from vpython.settings import SETTINGS_ENV
from vpython.store.trust import check_dir, check_stat

# typing costs ~2 ms to import and this module is on the warm path; mypy reads the
# block below (it treats any name TYPE_CHECKING as true), the interpreter skips it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from hashlib import _Hash

    from vpython.store.root import Layout


def _sha256() -> _Hash:
    # The builtin module avoids loading OpenSSL through hashlib (~3 ms on the warm path).
    # typeshed has no stubs for the builtin modules: they are the same type as hashlib's.
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]  # CPython <= 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found]  # CPython >= 3.12
        except ImportError:
            from hashlib import sha256
    h: _Hash = sha256()
    return h


def _file_bytes(path: str | None) -> bytes:
    if not path:
        return b"-"
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b"-"


def spec_digest(
    kind: str, text: str, lock_path: str | None, settings: Sequence[str | None], config_path: str | None
) -> str:
    """The key of ``specs/<digest>``: everything that could change the env (module docstring)."""
    h = _sha256()

    def put(part: str | bytes) -> None:
        data = part if isinstance(part, bytes) else str(part).encode("utf-8", "surrogateescape")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)

    put("vpython-spec-digest/" + FORMAT_VERSION)
    put(kind)
    put(text)
    put(_file_bytes(lock_path))
    for item in settings:
        put(item if item is not None else "\0")
    for name in SETTINGS_ENV:
        put(os.environ.get(name, "\0"))
    put(_file_bytes(config_path))
    put(sys.platform)
    put(os.uname().machine if hasattr(os, "uname") else os.environ.get("PROCESSOR_ARCHITECTURE", ""))
    return h.hexdigest()[:40]


class Pointer:
    """Contents of ``specs/<digest>``: which env, built on which interpreter."""

    __slots__ = ("env_key", "interpreter", "interpreter_id")

    def __init__(self, env_key: str, interpreter: str, interpreter_id: str) -> None:
        self.env_key = env_key
        self.interpreter = interpreter
        self.interpreter_id = interpreter_id

    def dump(self) -> str:
        return f"env={self.env_key}\ninterpreter={self.interpreter}\ninterpreter_id={self.interpreter_id}\n"

    @classmethod
    def load(cls, path: str) -> Pointer | None:
        """The pointer at ``path``; None if it is missing or malformed. A pointer someone
        else could have written is refused (vpython.store.trust), and its env key must be
        a key (hex), never a path."""
        try:
            with open(path, "rb") as f:
                check_stat(path, os.fstat(f.fileno()), "the spec pointer")
                text = f.read().decode("utf-8")
            fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
            key = fields["env"]
            if not key or key.strip("0123456789abcdef"):  # an env key, never a path ("../x")
                return None
            return cls(key, fields["interpreter"], fields["interpreter_id"])
        except (OSError, KeyError, ValueError):
            return None


def env_python(env_dir: str) -> str:
    if sys.platform == "win32":
        return os.path.join(env_dir, "Scripts", "python.exe")
    return os.path.join(env_dir, "bin", "python")


def env_bin(env_dir: str) -> str:
    return os.path.join(env_dir, "Scripts" if sys.platform == "win32" else "bin")


def acquire_shared(lock_path: str, blocking: bool) -> int | None:
    """Open the env's use lock and take it shared. Returns the fd, or None if it is
    held exclusively (GC deleting it) and ``blocking`` is false."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        # A read-only root (a cache baked into an image, a ro mount): flock works on a
        # read-only fd, so a complete env there still runs; GC cannot touch it anyway.
        try:
            fd = os.open(lock_path, os.O_RDONLY)
        except OSError:
            return None
    try:
        import fcntl
    except ImportError:  # Windows: msvcrt locks are exclusive-only; rely on rename-based GC
        return fd
    flags = fcntl.LOCK_SH | (0 if blocking else fcntl.LOCK_NB)
    try:
        fcntl.flock(fd, flags)
    except OSError:
        os.close(fd)
        return None
    return fd


def lookup(layout: Layout, digest: str) -> tuple[Pointer, int] | None:
    """Return (pointer, lock_fd) for a usable env, or None. On success the caller owns
    the fd (shared lock, kept across exec)."""
    if not check_dir(layout.specs):
        return None
    pointer = Pointer.load(layout.spec_pointer(digest))
    if pointer is None:
        return None
    try:
        if interpreter_id(pointer.interpreter) != pointer.interpreter_id:
            return None
    except OSError:
        return None
    lock_path = layout.env_lock(pointer.env_key)
    fd = acquire_shared(lock_path, blocking=False)
    if fd is None:
        return None
    if not same_file(fd, lock_path):  # GC replaced the lock file between open and flock
        os.close(fd)
        return None
    env_dir = layout.env_dir(pointer.env_key)
    # Checked after taking the lock: GC deletes only under the exclusive lock, so an
    # env seen now stays until we exit. The env dir and envs/ must be ours (trust).
    if not (check_dir(layout.envs) and check_dir(env_dir, "the env")) or not os.path.exists(
        os.path.join(env_dir, "pyvenv.cfg")
    ):
        os.close(fd)
        return None
    try:
        os.utime(layout.env_lock(pointer.env_key))  # last use, read by pruning
    except OSError:
        pass
    return pointer, fd
