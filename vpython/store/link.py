"""Linking a store entry into an env: one hardlink per file, each checked as it goes.

``link_entry`` hardlinks (copies, across filesystems) every file the entry's manifest
lists into the env's work dir, and checks the file it just linked (one ``lstat`` of the
inode the env now holds) against the manifest. An entry whose files no longer match
(someone edited an env file in place) raises ``EntryChanged``: the env is not published,
the caller discards the entry (``discard_changed``), rebuilds it from the verified
wheel and links again.

A wheel may not replace the env's own files (``bin/python*``, ``pyvenv.cfg``, activation
scripts, anything the skeleton holds, the env's metadata): a ``.data/scripts/python3``
would otherwise become the env's interpreter. Two wheels shipping the same path is an
error naming both (``FileConflict``) unless the bytes are the same (namespace packages'
identical ``__init__.py``): pip lets the later one win without a word, which makes what
runs depend on install order.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from vpython import fs
from vpython.errors import IntegrityError, UserError
from vpython.store.manifest import META_DIR, SCRIPTS, legacy_link_info, read_link_info, read_manifest

if TYPE_CHECKING:
    from vpython.store.manifest import ManifestEntry
    from vpython.store.root import Layout


class EntryChanged(Exception):
    """A store entry does not match its manifest (seen while linking it): it must be
    rebuilt before any env links it. Not a user error: the caller rebuilds and retries."""

    def __init__(self, entry: str, detail: str, ident: tuple[int, int] | None) -> None:
        super().__init__(f"store entry {entry} changed since it was built: {detail}")
        self.entry = entry
        self.ident = ident  # (st_dev, st_ino) of the entry dir that was linked from


class FileConflict(UserError):
    """Two of the spec's wheels ship different files at one path."""


def _env_owns(rel: str) -> bool:
    """The env's own files, which no wheel may write: its interpreter links, its config,
    activation scripts and vpython's record (whatever the skeleton holds is refused too,
    when linking finds it there)."""
    head, _, name = rel.partition(os.sep)
    if not name:  # top level
        return head in ("pyvenv.cfg", ".vpython-env.json")
    if head not in ("bin", "Scripts") or os.sep in name:
        return False
    if name.startswith(("activate", "deactivate")):
        return True
    version = name[len("python") :].removesuffix(".exe").removesuffix("w")
    return name.startswith("python") and (version == "" or version.replace(".", "").isdigit())


def _same_bytes(a: str, b: str) -> bool:
    try:
        if os.path.getsize(a) != os.path.getsize(b):
            return False
        with open(a, "rb") as fa, open(b, "rb") as fb:
            while True:
                x, y = fa.read(1 << 16), fb.read(1 << 16)
                if x != y:
                    return False
                if not x:
                    return True
    except OSError:
        return False


def _same_source(pyc_a: str, pyc_b: str) -> bool:
    """Two ``__pycache__/<name>.<tag>.pyc`` compiled from the same bytes of ``<name>.py``
    differ anyway (the source's mtime and path are in them): the same file."""

    def source(pyc: str) -> str:
        cache_dir, name = os.path.split(pyc)
        return os.path.join(os.path.dirname(cache_dir), name.split(".", 1)[0] + ".py")

    if not pyc_a.endswith(".pyc") or os.path.basename(os.path.dirname(pyc_a)) != "__pycache__":
        return False
    return _same_bytes(source(pyc_a), source(pyc_b))


def _project(dist: str) -> str:
    return dist.rsplit("-", 1)[0]


def _claim(rel: str, src: str, dist: str, owners: dict[str, tuple[str, str]]) -> bool:
    """Record that ``dist`` puts ``src`` at ``rel``; False when an earlier wheel put the
    same bytes there already (skip it). Raises for the env's own files and for conflicts."""
    if not rel.startswith("lib") and _env_owns(rel):  # most files are below lib/: one compare
        raise _not_the_wheels(rel, dist, "")
    earlier = owners.get(rel)
    if earlier is None:
        owners[rel] = (dist, src)
        return True
    if src and (_same_bytes(earlier[1], src) or _same_source(earlier[1], src)):
        return False
    raise FileConflict(
        f"{earlier[0]} and {dist} both install {rel}, with different contents",
        hint=(
            f"drop {_project(earlier[0])} or {_project(dist)} from the spec, or pin versions that do not "
            "overlap: which file won would depend on the install order"
        ),
    )


def _not_the_wheels(rel: str, dist: str, how: str) -> IntegrityError:
    return IntegrityError(
        f"{dist} would overwrite the env's own {rel}{how}: refused",
        hint=(
            f"drop {_project(dist)} from the spec: a wheel may not replace the env's interpreter, "
            "pyvenv.cfg, activation scripts or other skeleton files"
        ),
    )


def discard_changed(error: EntryChanged, layout: Layout) -> None:
    """Discard the entry ``error`` is about, unless it was replaced meanwhile: another
    run that found the same change may already have published a rebuilt entry, which
    must not be thrown away in turn."""
    try:
        st = os.stat(error.entry)
    except FileNotFoundError:
        return
    if error.ident is not None and (st.st_dev, st.st_ino) == error.ident:
        fs.discard_tree(error.entry, layout.tmp)


class _LinkPlan:
    """What linking one entry needs, read from its ``.vpython`` dir."""

    __slots__ = ("dirs", "ident", "manifest", "rewrite", "scripts")

    def __init__(self, entry: str) -> None:
        try:
            est = os.stat(entry)
        except FileNotFoundError:
            raise EntryChanged(entry, "it is gone", None) from None
        self.ident = (est.st_dev, est.st_ino)
        try:
            self.manifest: list[ManifestEntry] = read_manifest(entry)
            info = read_link_info(entry)
            self.scripts: list[dict[str, str]] = []
            if info is None:
                with open(os.path.join(entry, META_DIR, SCRIPTS), encoding="utf-8") as f:
                    self.scripts = json.load(f)
                info = legacy_link_info(entry, self.manifest)
            self.dirs, self.rewrite = info
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise EntryChanged(entry, f"its metadata cannot be read ({e})", self.ident) from None


def link_entry(
    entry: str,
    env_dir: str,
    made: set[str] | None = None,
    owners: dict[str, tuple[str, str]] | None = None,
) -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
    """Hardlink every file of ``entry`` into ``env_dir`` (copy across filesystems),
    checking each against the manifest as it goes.

    Returns the scripts to generate (``.vpython/scripts.json``: only entries built
    before entry points were rendered into the store) and the (src, dst) files with a
    placeholder shebang, which are rewritten, not linked. ``made``: dirs already made in
    ``env_dir`` (shared by the entries of one env); ``owners``: which wheel put each file
    there so far (shared the same way; module docstring): raises ``FileConflict`` for two
    wheels' different files at one path, ``IntegrityError`` for a wheel's file over one
    of the env's own.

    Raises EntryChanged if a file is missing or its size, mtime or read-only mode is
    not what the manifest says. The check is an ``lstat`` of the file just linked (the
    inode the env now holds), not of the store path before it: nothing can slip in
    between. The caller then discards the work dir: an env never holds a changed file.
    """
    plan = _LinkPlan(entry)
    owners = {} if owners is None else owners
    dist = _dist_of(plan, entry)
    for spec in plan.scripts:  # entry points the env generates itself (older entries)
        _claim(os.path.join("bin", spec["name"]), "", dist, owners)
    dst_prefix = env_dir + os.sep
    _make_dirs(dst_prefix, plan.dirs, set() if made is None else made)
    src_prefix = entry + os.sep  # rel is normalised and relative
    rewrites = []
    can_link = True
    link, lstat = os.link, os.lstat
    for rel, size, mtime in plan.manifest:
        src = src_prefix + rel
        dst = dst_prefix + rel
        if not _claim(rel, src, dist, owners):
            continue  # the same bytes are there already, from another wheel
        try:
            if rel in plan.rewrite:
                if os.path.lexists(dst):  # no wheel's (``_claim``): the skeleton's
                    raise _not_the_wheels(rel, dist, " (from the env's skeleton)")
                st = lstat(src)
                rewrites.append((src, dst))
            elif can_link:
                try:
                    link(src, dst)
                except FileExistsError:  # no wheel's (``_claim``): the skeleton's
                    raise _not_the_wheels(rel, dist, " (from the env's skeleton)") from None
                except FileNotFoundError:
                    raise
                except OSError:  # another filesystem, or too many links: copy from now on
                    can_link = False
                st = lstat(dst) if can_link else _copy_checked(src, dst)
            else:
                st = _copy_checked(src, dst)
        except FileExistsError:  # copying: no wheel's (``_claim``), so the skeleton's
            raise _not_the_wheels(rel, dist, " (from the env's skeleton)") from None
        except FileNotFoundError:
            raise EntryChanged(entry, f"{rel} is missing", plan.ident) from None
        if st.st_size != size or st.st_mtime_ns != mtime or st.st_mode & 0o222:
            raise EntryChanged(entry, f"{rel} was modified", plan.ident)
    return plan.scripts, rewrites


def _make_dirs(dst_prefix: str, dirs: list[str], made: set[str]) -> None:
    for d in dirs:
        if d not in made:
            try:
                os.mkdir(dst_prefix + d)
            except FileExistsError:
                pass  # from the skeleton (bin, lib/...) or another entry
            made.add(d)


def _dist_of(plan: _LinkPlan, entry: str) -> str:
    """``name-version`` of an entry (its .dist-info), else the entry's dir name."""
    marker = ".dist-info" + os.sep
    for rel, _, _ in plan.manifest:
        i = rel.find(marker)
        if i >= 0:
            return os.path.basename(rel[:i])
    return os.path.basename(entry)


def _copy_checked(src: str, dst: str) -> os.stat_result:
    """Copy ``src`` (its stat taken first, so the check is of what was copied)."""
    import shutil

    st = os.lstat(src)
    if os.path.lexists(dst):
        raise FileExistsError(dst)
    shutil.copy2(src, dst)
    return st
