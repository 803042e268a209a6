"""The one PEP 751 writer every lock engine goes through: the bytes depend only on the
resolution (``render_lock``: ``tomli_w``, fixed key order, validated with the reader,
``vpython.lock.pylock``, before anyone sees it; ``write_lock``: ``fs.write_atomic``, so a
reader sees the old lock or the new one)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from vpython.errors import LockError

if TYPE_CHECKING:
    from vpython.lock.model import LockedWheel, LockResult
    from vpython.lock.targets import Target


LOCK_VERSION = "1.0"
CREATED_BY = "vpython"


def environments_for(targets: Iterable[Target]) -> list[str]:
    """PEP 751 ``environments``: one ``sys_platform`` marker per operating system the
    lock targets, so an installer on another OS refuses the lock up front (pip, uv and
    ``packaging.pylock`` all check it) instead of installing only its pure wheels.

    Deliberately only ``sys_platform``: ``platform_machine`` reports the OS, not the
    interpreter (32-bit Python on 64-bit Windows says ``AMD64``, an x86_64 Python under
    Rosetta says ``x86_64``), and ``python_version`` would refuse a newer interpreter that
    the lock's pure wheels and ``requires-python`` allow; wheel tags already keep binary
    wheels to their own machine and interpreter.
    """
    return sorted({f"sys_platform == '{t.environment()['sys_platform']}'" for t in targets})


def lock_document(
    result: LockResult, *, spec_hash: str, exclude_newer: str | None = None, spec_path: str | None = None
) -> dict[str, Any]:
    """The PEP 751 document for a LockResult, keys in a fixed order.

    Deliberately absent: ``upload-time`` (a timestamp that changes nothing an installer
    does; the ``exclude-newer`` cutoff, when used, is recorded in ``[tool.vpython]``
    instead), absolute paths (local wheels get a ``path`` relative to the lockfile),
    credentials (stripped from every URL), ``packages.dependencies`` (informational
    only, and not every engine reports it) and the engine that resolved (the bytes
    depend only on the resolution; ``vpython lock`` logs the engine instead).

    ``spec_path`` (the spec's path relative to the lockfile, '/'-separated) is recorded
    as ``[tool.vpython] spec`` so that ``vpython lock`` can refuse to overwrite the lock
    of another spec whose name maps to the same file.
    """
    doc: dict[str, Any] = {"lock-version": LOCK_VERSION, "created-by": CREATED_BY}
    if result.targets:
        doc["environments"] = environments_for(result.targets)
    if result.requires_python:
        doc["requires-python"] = result.requires_python
    packages = []
    for p in result.packages:
        entry: dict[str, Any] = {"name": p.name, "version": p.version}
        if p.marker:
            entry["marker"] = p.marker
        if p.index:
            entry["index"] = p.index
        if p.sdist is not None:  # only when some target has no wheel: it builds from this
            entry["sdist"] = _file_table(p.sdist)
        if p.wheels or p.sdist is None:
            entry["wheels"] = [_file_table(w) for w in p.wheels]
        packages.append(entry)
    doc["packages"] = packages
    tool: dict[str, Any] = {}
    if spec_path:
        tool["spec"] = spec_path
    tool["spec-hash"] = spec_hash
    tool["targets"] = sorted(t.key for t in result.targets)
    if exclude_newer:
        tool["exclude-newer"] = exclude_newer
    doc["tool"] = {"vpython": tool}
    return doc


def _file_table(w: LockedWheel) -> dict[str, Any]:
    """A PEP 751 ``wheels`` element or ``sdist`` table: name, path or url, size, hashes."""
    table: dict[str, Any] = {"name": w.filename}
    if w.path is not None:
        table["path"] = w.path
    else:
        table["url"] = w.url
    if w.size is not None:
        table["size"] = w.size
    table["hashes"] = {"sha256": w.sha256}
    return table


def render_lock(
    result: LockResult, *, spec_hash: str, exclude_newer: str | None = None, spec_path: str | None = None
) -> str:
    """Lockfile text; validated with packaging.pylock before anyone sees it."""
    import tomli_w

    text = tomli_w.dumps(
        lock_document(result, spec_hash=spec_hash, exclude_newer=exclude_newer, spec_path=spec_path)
    )
    from vpython.lock.pylock import parse_lock_text  # the reader imports this module

    parse_lock_text(text, "<generated lock>")
    return text


def write_lock(path: str, text: str) -> bool:
    """Atomically replace ``path`` with ``text``; False when it already had those bytes.

    An existing lockfile keeps its permission bits; a new one gets the umask's default
    (it is the user's file, checked in beside the spec)."""
    from vpython.fs import user_file_mode, write_atomic

    data = text.encode("utf-8")
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    except FileNotFoundError:
        pass
    except OSError as e:
        raise LockError(
            f"cannot read the lockfile: {e.strerror}", path=path, hint="check the file's permissions"
        ) from None
    try:
        write_atomic(path, data, mode=user_file_mode(), keep_mode=True, prefix=".pylock-")
    except OSError as e:
        raise LockError(
            f"cannot write the lockfile: {e.strerror or e}",
            path=path,
            hint="check that its directory is writable and the disk is not full",
        ) from None
    return True
