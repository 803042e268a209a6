"""Byte-reproducible trees and atomic publication of build outputs.

A tree is normalised after it is written: every file gets mode 0755 (if any execute bit
was set) or 0644, every directory 0755, and every entry (symlinks included) the same
mtime: ``SOURCE_DATE_EPOCH`` when set, else 1980-01-01T00:00:00Z (the zip epoch pex and
wheels use). Absolute symlinks are refused: a remote cache turns them into copies of
whatever they point at on the builder (see docs/artifacts.md).

``tree_digest`` is the content hash of a tree: sha256 over one sorted line per entry
(path, type, mode, and the sha256 of the content or the symlink target).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Collection, Sequence

from vpython.errors import UserError, VPythonError
from vpython.faults import checkpoint

ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z


def epoch() -> int:
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return ZIP_EPOCH
    try:
        return int(value)
    except ValueError:
        raise UserError(
            f"SOURCE_DATE_EPOCH={value!r} is not an integer number of seconds",
            hint="unset it or set it to e.g. $(git log -1 --format=%ct)",
        ) from None


def _walk(root: str) -> list[tuple[str, str]]:
    """(relative path, absolute path) of every entry below ``root``, sorted, parents first."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            out.append((rel, p))
    out.sort(key=lambda e: e[0].split("/"))
    return out


def normalize_tree(root: str, mtime: int | None = None) -> None:
    """Fixed modes and mtimes everywhere; refuse absolute or escaping symlinks."""
    when = epoch() if mtime is None else mtime
    entries = _walk(root)
    for rel, p in entries:
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(p)
            resolved = os.path.normpath(os.path.join(os.path.dirname(rel), target))
            if os.path.isabs(target) or resolved.startswith(".."):
                raise VPythonError(
                    f"refusing to ship symlink {rel} -> {target}: it points outside the artifact",
                    hint="a wheel or --main script ships it; make the link relative and inside the package",
                )
            continue
        if stat.S_ISDIR(st.st_mode):
            os.chmod(p, 0o755)
        elif stat.S_ISREG(st.st_mode):
            os.chmod(p, 0o755 if st.st_mode & 0o111 else 0o644)
        else:
            raise VPythonError(
                f"refusing to ship {rel}: not a file, directory or symlink",
                hint="remove the special file (fifo, socket, device) from what the build packs",
            )
    # Children before parents: setting a child's mtime does not touch its parent's, but
    # creating/chmod-ing did, so parents go last.
    for _rel, p in reversed(entries):
        os.utime(p, (when, when), follow_symlinks=False)
    os.utime(root, (when, when))
    os.chmod(root, 0o755)


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tree_lines(root: str, exclude: Collection[str] = ()) -> list[str]:
    """One line per entry: ``path type mode sha256-or-link-target`` (sorted by path)."""
    lines = []
    for rel, p in _walk(root):
        if rel in exclude:
            continue
        st = os.lstat(p)
        mode = f"{stat.S_IMODE(st.st_mode):04o}"
        if stat.S_ISLNK(st.st_mode):
            lines.append(f"{rel}\tlink\t{mode}\t{os.readlink(p)}")
        elif stat.S_ISDIR(st.st_mode):
            lines.append(f"{rel}\tdir\t{mode}\t-")
        else:
            lines.append(f"{rel}\tfile\t{mode}\t{file_sha256(p)}")
    return lines


def tree_digest(root: str, exclude: Collection[str] = ()) -> str:
    return hashlib.sha256("".join(line + "\n" for line in tree_lines(root, exclude)).encode()).hexdigest()


# ------------------------------------------------------------------------ publication


def work_dir_beside(out: str) -> str:
    """A fresh temp dir in OUT's directory (same filesystem: the final step is a rename)."""
    parent = os.path.dirname(os.path.abspath(out)) or "."
    try:
        os.makedirs(parent, exist_ok=True)
        return tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.tmp-", dir=parent)
    except OSError as e:
        raise UserError(
            f"-o {out}: cannot create a work directory in {parent}: {e.strerror}",
            hint="pass an -o path in a writable directory",
        ) from None


def remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def publish(built: str, out: str) -> None:
    """Move ``built`` (file or dir) to ``out``, replacing what is there only at the end."""
    publish_all([(built, out)])


def publish_all(pairs: Sequence[tuple[str | None, str]]) -> None:
    """Put each ``built`` at its ``out`` (``built`` None: just remove ``out``), all or nothing.

    What may be replaced was checked before the build (``outputs.check``). Existing
    outputs are first renamed aside (in reverse order), then the new ones renamed in (in
    order), then the old ones deleted. On an error every ``out`` gets its old content
    back. A kill leaves each ``out`` old, new or absent (the old ones stay in
    ``.OUT.old-*``), and never a later output next to an earlier one it does not
    describe: a pex's SBOM (listed after the pex) is moved aside before the old pex and
    comes back only after the new pex is in place."""
    asides: list[tuple[str, str]] = []  # (old copy, out)
    placed: list[str] = []
    try:
        for _built, out in reversed(pairs):
            out = os.path.abspath(out)
            if os.path.lexists(out):
                old = tempfile.mktemp(prefix=f".{os.path.basename(out)}.old-", dir=os.path.dirname(out))
                os.rename(out, old)
                asides.append((old, out))
        for i, (built, out) in enumerate(pairs):
            if built is None:
                continue
            os.rename(built, os.path.abspath(out))
            placed.append(os.path.abspath(out))
            if i < len(pairs) - 1:
                checkpoint("artifact-partly-published")
    except BaseException:
        for out in placed:
            remove(out)
        for old, out in asides:
            try:
                os.rename(old, out)
            except OSError:
                pass
        raise
    for old, _out in asides:
        remove(old)
