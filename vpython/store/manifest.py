"""A store entry's own record of itself: ``.vpython/manifest`` and ``.vpython/link.json``.

``freeze`` (the last step of building an entry) makes every file read-only and lists it
with its size and mtime in ``manifest``; ``link.json`` lists the entry's dirs (parents
first) and the ``bin/`` scripts whose placeholder shebang each env rewrites instead of
linking. ``entry_intact`` checks an entry against its manifest with one ``lstat`` per
file: someone who edited an env file in place (hardlinks share the inode) changed the
entry too, and it must be rebuilt before any env links it again.

Stdlib only: read on every env assembly from a warm store.
"""

from __future__ import annotations

import json
import os
import stat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # One manifest line: (path relative to the entry, size, mtime in ns).
    ManifestEntry = tuple[str, int, int]
    # (the entry's dirs, parents first; the rel paths whose shebang each env rewrites)
    LinkInfo = tuple[list[str], set[str]]

META_DIR = ".vpython"
MANIFEST = "manifest"
LINK_INFO = "link.json"
SCRIPTS = "scripts.json"  # entry points an env generates itself (entries built before they were rendered)
# The interpreter entry-point and .data scripts name in the store; each env's link
# rewrites that first line for its own python (vpython.env.build).
PLACEHOLDER_PYTHON = "/__vpython_env_python__"
PLACEHOLDER_SHEBANG = b"#!" + PLACEHOLDER_PYTHON.encode()


def freeze(root: str) -> None:
    """Read-only files, a manifest of (path, size, mtime) to detect later edits, and the
    link info: every dir (parents first) and the scripts whose shebang each env rewrites."""
    lines, dirs, rewrite = [], [], []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir == ".":
            if META_DIR in dirnames:
                dirnames.remove(META_DIR)
        else:
            dirs.append(rel_dir)
        dirnames.sort()
        for name in sorted(filenames):
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            os.chmod(p, stat.S_IMODE(st.st_mode) & ~0o222)
            st = os.lstat(p)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            lines.append(f"{rel}\t{st.st_size}\t{st.st_mtime_ns}")
            if rel_dir == "bin" and has_placeholder(p):
                rewrite.append(rel)
    with open(os.path.join(root, META_DIR, MANIFEST), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(root, META_DIR, LINK_INFO), "w", encoding="utf-8") as f:
        json.dump({"dirs": dirs, "rewrite": rewrite}, f)


def parse_manifest(text: str) -> list[ManifestEntry]:
    """The lines of a manifest. Raises ValueError on a malformed line."""
    text = text.rstrip("\n")
    if not text:
        return []
    if text.count("\t") == 2 * (text.count("\n") + 1):
        # Every line is path<TAB>size<TAB>mtime: split all at once (half the time of a
        # per-line split for W2's ~7,600 lines).
        parts = text.replace("\n", "\t").split("\t")
        return list(zip(parts[0::3], map(int, parts[1::3]), map(int, parts[2::3])))
    out = []  # some path holds a tab
    for line in text.split("\n"):
        rel, size, mtime = line.rsplit("\t", 2)
        out.append((rel, int(size), int(mtime)))
    return out


def read_manifest(entry: str) -> list[ManifestEntry]:
    """The manifest of store entry ``entry``. Raises OSError or ValueError."""
    with open(os.path.join(entry, META_DIR, MANIFEST), encoding="utf-8") as f:
        return parse_manifest(f.read())


def entry_intact(entry: str) -> bool:
    """Full integrity check (stat only) of an entry, without linking it."""
    try:
        manifest = read_manifest(entry)
        prefix = entry + os.sep
        for rel, size, mtime in manifest:
            st = os.lstat(prefix + rel)
            if st.st_size != size or st.st_mtime_ns != mtime or (st.st_mode & 0o222):
                return False
    except (OSError, ValueError):
        return False
    return True


def read_link_info(entry: str) -> LinkInfo | None:
    """(dirs, rewrite set) from ``.vpython/link.json``; None for an entry built before
    link info existed (see ``legacy_link_info``). Raises OSError, ValueError, KeyError or
    TypeError when the file is there but unreadable."""
    try:
        with open(os.path.join(entry, META_DIR, LINK_INFO), encoding="utf-8") as f:
            info = json.load(f)
    except FileNotFoundError:
        return None
    return list(info["dirs"]), set(info["rewrite"])


def legacy_link_info(entry: str, manifest: list[ManifestEntry]) -> LinkInfo:
    """The link info of an entry built before ``link.json``: its dirs from the manifest,
    the scripts to rewrite by looking at the first bytes of each file in ``bin/``."""
    dirs = set()
    for rel, _, _ in manifest:
        parent = os.path.dirname(rel)
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = os.path.dirname(parent)
    bin_prefix = "bin" + os.sep
    rewrite = {
        rel
        for rel, _, _ in manifest
        if rel.startswith(bin_prefix)
        and os.sep not in rel[len(bin_prefix) :]
        and has_placeholder(os.path.join(entry, rel))
    }
    return sorted(dirs), rewrite


def has_placeholder(path: str) -> bool:
    """Whether the file at ``path`` starts with the placeholder shebang."""
    with open(path, "rb") as f:
        return f.read(len(PLACEHOLDER_SHEBANG)) == PLACEHOLDER_SHEBANG
