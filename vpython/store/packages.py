"""The package store: each wheel unpacked once per interpreter, byte-compiled, frozen.

An entry ``<root>/v1/store/packages/<wheel sha256>-<cache tag>/`` mirrors the layout
of a venv (``lib/pythonX.Y/site-packages/...``, ``include/...``, data files at the
root), so assembling an env is one hardlink per file. Installation itself is
``installer``'s (PEP 427: RECORD, .data dirs, path containment); vpython adds:

* archive checks before anything is written: no absolute or ``..`` names, no symlink
  members, a cap on the unpacked size (zip bombs), RECORD hashes validated;
* entry-point scripts are rendered here with a placeholder shebang, like ``.data``
  scripts; linking rewrites that first line for the env's python (a ``/bin/sh``
  trampoline, as ``installer`` writes, when that path has spaces or is too long);
* ``.pyc`` compiled once here by the target interpreter, so every env's first run is
  as fast as its hundredth (importlib rewrites ``co_filename`` to the env path on load);
* files are made read-only and listed with size and mtime in ``.vpython/manifest``;
  ``.vpython/link.json`` lists the entry's dirs and the files to rewrite, not link.
  Linking checks each file (one ``lstat`` of what was just linked): an entry whose
  files no longer match (someone edited an env file in place: hardlinks share the
  inode) is never published into an env; the caller rebuilds it from the verified
  wheel and links again.

Entries are built in a temp dir and published by rename; a crash leaves only garbage
in ``tmp/`` that is never read.

Only what linking needs is imported at module level: ``zipfile``, ``subprocess``,
``tempfile``, ``shutil`` and ``installer`` load when an entry is built or discarded.
"""

from __future__ import annotations

import json
import os
import stat
import sys

from vpython import fs
from vpython.errors import IntegrityError
from vpython.faults import checkpoint

PLACEHOLDER_PYTHON = "/__vpython_env_python__"
META_DIR = ".vpython"
MAX_UNPACKED = int(os.environ.get("VPYTHON_MAX_WHEEL_UNPACKED_BYTES", str(4 << 30)))
MAX_RATIO = 1000  # compressed:uncompressed above this on a large member is a bomb
# The whole archive, once it unpacks to more than TOTAL_RATIO_FLOOR: many members, each
# too small for the per-member check, add up to a bomb (48 x 15 MiB of zeros in 0.7 MB;
# tests/reliability/test_regression_zip_bomb_many_members.py). Real wheels compress
# 2-10:1.
MAX_TOTAL_RATIO = int(os.environ.get("VPYTHON_MAX_WHEEL_RATIO", "200"))
TOTAL_RATIO_FLOOR = 64 << 20


def site_packages_rel(version: tuple, windows: bool = False) -> str:
    if windows:
        return "Lib/site-packages"
    return f"lib/python{version[0]}.{version[1]}/site-packages"


LINK_INFO = "link.json"


class EntryChanged(Exception):
    """A store entry does not match its manifest (seen while linking it): it must be
    rebuilt before any env links it. Not a user error: the caller rebuilds and retries."""

    def __init__(self, entry: str, detail: str, ident: tuple | None) -> None:
        super().__init__(f"store entry {entry} changed since it was built: {detail}")
        self.entry = entry
        self.ident = ident  # (st_dev, st_ino) of the entry dir that was linked from


def discard_changed(error: EntryChanged, layout) -> None:
    """Discard the entry ``error`` is about, unless it was replaced meanwhile: another
    run that found the same change may already have published a rebuilt entry, which
    must not be thrown away in turn."""
    try:
        st = os.stat(error.entry)
    except FileNotFoundError:
        return
    if error.ident is not None and (st.st_dev, st.st_ino) == error.ident:
        fs.discard_tree(error.entry, layout.tmp)


def entry_name(artifact, cache_tag: str) -> str:
    return f"{artifact.sha256}-{cache_tag}"


def check_archive(path: str, display: str) -> None:
    """Refuse archives that could write outside their target or exhaust the disk."""
    import zipfile

    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise IntegrityError(f"{display}: not a valid wheel (zip) file: {e}") from None
    total = compressed = 0
    with zf:
        for info in zf.infolist():
            compressed += info.compress_size
            name = info.filename
            parts = name.replace("\\", "/").split("/")
            if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
                raise IntegrityError(
                    f"{display}: refusing member {name!r}: absolute path or '..' escapes the install dir"
                )
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise IntegrityError(
                    f"{display}: refusing member {name!r}: symbolic links are not allowed in wheels"
                )
            total += info.file_size
            if total > MAX_UNPACKED:
                raise IntegrityError(
                    f"{display}: unpacks to more than {MAX_UNPACKED} bytes; refusing (zip bomb?)",
                    hint="raise VPYTHON_MAX_WHEEL_UNPACKED_BYTES if this wheel is really that large",
                )
            if (
                info.file_size > (16 << 20)
                and info.compress_size
                and info.file_size / info.compress_size > MAX_RATIO
            ):
                raise IntegrityError(
                    f"{display}: member {name!r} has a compression ratio above {MAX_RATIO}:1; refusing (zip bomb?)"
                )
    if total > TOTAL_RATIO_FLOOR and total > MAX_TOTAL_RATIO * max(compressed, 1):
        raise IntegrityError(
            f"{display}: unpacks to {total} bytes from {compressed}, a ratio above {MAX_TOTAL_RATIO}:1; "
            f"refusing (zip bomb?)",
            hint="raise VPYTHON_MAX_WHEEL_RATIO if this wheel is really that compressible",
        )


class _StoreDestination:
    """Factory for an installer destination that renders entry-point scripts with the
    placeholder interpreter (each env's link rewrites that shebang)."""

    @staticmethod
    def make(root: str, site_rel: str, dist_name: str, version: tuple):
        from installer.destinations import SchemeDictionaryDestination
        from installer.records import RecordEntry

        py = f"python{version[0]}.{version[1]}"
        scheme = {
            "purelib": os.path.join(root, site_rel),
            "platlib": os.path.join(root, site_rel),
            "headers": os.path.join(root, "include", "site", py, dist_name),
            "scripts": os.path.join(root, "bin"),
            "data": root,
        }

        class Destination(SchemeDictionaryDestination):
            def write_script(self, name, module, attr, section):
                rel = os.path.relpath(os.path.join(scheme["scripts"], name), scheme["purelib"])
                if not os.path.lexists(os.path.join(scheme["scripts"], name)):
                    # A .data script of the same name keeps its place (as when envs
                    # generated entry points first and .data scripts overwrote them).
                    super().write_script(name, module, attr, section)
                # Listed in RECORD without a hash: the env's copy differs in its shebang.
                return RecordEntry(rel.replace(os.sep, "/"), None, None)

        return Destination(scheme, interpreter=PLACEHOLDER_PYTHON, script_kind="posix")


def _unpack(wheel_path: str, display: str, work: str, site_rel: str, version: tuple) -> None:
    import zipfile

    from installer import install
    from installer.exceptions import InstallerError
    from installer.sources import WheelFile
    from installer.utils import parse_wheel_filename

    check_archive(wheel_path, display)
    dist_name = parse_wheel_filename(os.path.basename(wheel_path)).distribution
    dest = _StoreDestination.make(work, site_rel, dist_name, version)
    try:
        with WheelFile.open(wheel_path) as source:
            try:
                source.validate_record(validate_contents=True)
            except Exception as e:  # installer raises _WheelFileValidationError  # noqa: BLE001
                raise IntegrityError(f"{display}: RECORD does not match the archive: {e}") from None
            install(source, dest, additional_metadata={"INSTALLER": b"vpython\n"})
    except IntegrityError:
        raise
    except (InstallerError, ValueError, KeyError, zipfile.BadZipFile, FileExistsError) as e:
        raise IntegrityError(f"{display}: cannot install wheel: {e}") from None


_PLACEHOLDER_SHEBANG = b"#!" + PLACEHOLDER_PYTHON.encode()


def _freeze(root: str) -> None:
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
            if rel_dir == "bin" and _has_placeholder(p):
                rewrite.append(rel)
    with open(os.path.join(root, META_DIR, "manifest"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(root, META_DIR, LINK_INFO), "w", encoding="utf-8") as f:
        json.dump({"dirs": dirs, "rewrite": rewrite}, f)


def _parse_manifest(text: str) -> list:
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


def read_manifest(entry: str) -> list:
    with open(os.path.join(entry, META_DIR, "manifest"), encoding="utf-8") as f:
        return _parse_manifest(f.read())


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


def compile_dirs(python: str, dirs: list) -> None:
    """Byte-compile with the target interpreter, in parallel. Failures are ignored (some
    wheels ship py2-only test files), as the original vpython does."""
    if not dirs:
        return
    import subprocess

    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "PYTHONPATH", "PYTHONHOME")}
    subprocess.run(
        [python, "-I", "-m", "compileall", "-q", "-q", "-j", "0", *dirs],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )


def ensure_entries(artifacts: list, layout, interp, fetch_many, progress=None, verify: bool = False) -> dict:
    """Make sure every artifact has a store entry for ``interp``.

    An existing entry is taken as it is: ``link_entry`` checks each of its files as it
    links it. ``verify`` (after a link found a changed entry) checks every existing
    entry first and discards the changed ones, so they are rebuilt here.

    ``fetch_many(artifacts) -> {sha256: wheel path}`` is called only for the artifacts
    whose entry is missing, so a warm store needs no wheels at all. Returns
    {sha256: entry dir}. Entries are (re)built by unpacking all first, then one
    parallel compile for all of them, then publishing each by rename.
    """
    cache_tag = interp.cache_tag
    site_rel = site_packages_rel(interp.version, sys.platform == "win32")
    result = {}
    missing = []
    for artifact in artifacts:
        final = os.path.join(layout.packages, entry_name(artifact, cache_tag))
        result[artifact.sha256] = final
        if os.path.isdir(final):
            if not verify or entry_intact(final):
                continue
            fs.discard_tree(final, layout.tmp)  # edited in place somewhere: rebuild from the wheel
        missing.append(artifact)
    if not missing:
        return result
    import tempfile

    from vpython.store import wheels

    os.makedirs(layout.packages, exist_ok=True)
    os.makedirs(layout.tmp, exist_ok=True)
    wheel_paths = fetch_many(missing)
    building = []  # (artifact, work dir, final dir)
    try:
        for artifact in missing:
            wheel_path = _verified_wheel(artifact, wheel_paths[artifact.sha256], layout, fetch_many, wheels)
            final = result[artifact.sha256]
            work = tempfile.mkdtemp(prefix="pkg-", dir=layout.tmp)
            building.append((artifact, work, final))
            os.mkdir(os.path.join(work, META_DIR))
            _unpack(wheel_path, artifact.filename, work, site_rel, interp.version)
            checkpoint("unpacked")
            # Entry points are rendered into bin/ (see _StoreDestination); an empty list
            # keeps vpython versions that generate them per env from doing it twice.
            with open(os.path.join(work, META_DIR, "scripts.json"), "w", encoding="utf-8") as f:
                json.dump([], f)
        if building:
            if progress:
                progress(f"unpacking and compiling {len(building)} package(s)")
            compile_dirs(interp.path, [os.path.join(w, site_rel) for _, w, _ in building])
            checkpoint("compiled")
        for _artifact, work, final in building:
            _freeze(work)
            try:
                os.rename(work, final)
            except OSError:
                if not os.path.isdir(final):
                    raise
                # Another process published the same entry first; theirs is as good.
                fs.remove_tree(work)
        building = []
    finally:
        for _, work, _ in building:
            fs.remove_tree(work)
    return result


def _verified_wheel(artifact, wheel_path: str, layout, fetch_many, wheels) -> str:
    """``wheel_path`` if its bytes still have the locked sha256. A stored wheel that
    went bad on disk since it was verified is discarded and fetched again once (the
    fetch verifies it on arrival); only a second mismatch is an error."""
    ident, actual = _hash_with_identity(wheel_path, wheels)
    if actual == artifact.sha256:
        return wheel_path
    from vpython import log

    log.warning(
        f"stored {artifact.filename} ({wheel_path}) does not have the locked sha256 "
        f"{artifact.sha256} any more (it has {actual}); fetching it again"
    )
    wheels.discard_stored(layout, artifact, ident)
    wheel_path = fetch_many([artifact])[artifact.sha256]
    _, actual = _hash_with_identity(wheel_path, wheels)
    if actual != artifact.sha256:
        raise IntegrityError(
            f"hash mismatch for stored {artifact.filename}: expected sha256 {artifact.sha256}, "
            f"file {wheel_path} has sha256 {actual} even after fetching it again",
            hint="something keeps changing the cache's files; check the disk and who writes there",
        )
    return wheel_path


def _hash_with_identity(path: str, wheels) -> tuple:
    st = os.stat(path)
    return (st.st_dev, st.st_ino), wheels.sha256_file(path)


def _link_info(entry: str):
    """(dirs, rewrite set) from ``.vpython/link.json``; None for an entry built before
    link info existed (its dirs come from the manifest, its scripts from scripts.json)."""
    try:
        with open(os.path.join(entry, META_DIR, LINK_INFO), encoding="utf-8") as f:
            info = json.load(f)
    except FileNotFoundError:
        return None
    return info["dirs"], set(info["rewrite"])


def link_entry(entry: str, env_dir: str, made: set | None = None) -> tuple:
    """Hardlink every file of ``entry`` into ``env_dir`` (copy across filesystems),
    checking each against the manifest as it goes.

    Returns the scripts to generate (``.vpython/scripts.json``: only entries built
    before entry points were rendered into the store) and the (src, dst) files with a
    placeholder shebang, which are rewritten, not linked. ``made``: dirs already made in
    ``env_dir`` (shared by the entries of one env).

    Raises EntryChanged if a file is missing or its size, mtime or read-only mode is
    not what the manifest says. The check is an ``lstat`` of the file just linked (the
    inode the env now holds), not of the store path before it: nothing can slip in
    between. The caller then discards the work dir: an env never holds a changed file.
    """
    if made is None:
        made = set()
    try:
        est = os.stat(entry)
    except FileNotFoundError:
        raise EntryChanged(entry, "it is gone", None) from None
    ident = (est.st_dev, est.st_ino)
    try:
        manifest = read_manifest(entry)
        info = _link_info(entry)
        if info is None:
            with open(os.path.join(entry, META_DIR, "scripts.json"), encoding="utf-8") as f:
                scripts = json.load(f)
            dirs, rewrite = _legacy_link_info(entry, manifest)
        else:
            scripts = []
            dirs, rewrite = info
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise EntryChanged(entry, f"its metadata cannot be read ({e})", ident) from None
    dst_prefix = env_dir + os.sep
    for d in dirs:
        if d not in made:
            try:
                os.mkdir(dst_prefix + d)
            except FileExistsError:
                pass  # from the skeleton (bin, lib/...) or another entry
            made.add(d)
    src_prefix = entry + os.sep  # rel is normalised and relative
    rewrites = []
    can_link = True
    link, lstat = os.link, os.lstat
    for rel, size, mtime in manifest:
        src = src_prefix + rel
        dst = dst_prefix + rel
        try:
            if rel in rewrite:
                st = lstat(src)
                rewrites.append((src, dst))
            elif can_link:
                try:
                    link(src, dst)
                except FileExistsError:
                    can_link = _relink(src, dst)  # same file from two packages: last wins, as with pip
                except FileNotFoundError:
                    raise
                except OSError:  # another filesystem, or too many links: copy from now on
                    can_link = False
                st = lstat(dst) if can_link else _copy_checked(src, dst)
            else:
                st = _copy_checked(src, dst)
        except FileNotFoundError:
            raise EntryChanged(entry, f"{rel} is missing", ident) from None
        if st.st_size != size or st.st_mtime_ns != mtime or st.st_mode & 0o222:
            raise EntryChanged(entry, f"{rel} was modified", ident)
    return scripts, rewrites


def _relink(src: str, dst: str) -> bool:
    os.unlink(dst)
    try:
        os.link(src, dst)
    except FileNotFoundError:
        raise
    except OSError:
        return False
    return True


def _copy_checked(src: str, dst: str):
    """Copy ``src`` (its stat taken first, so the check is of what was copied)."""
    import shutil

    st = os.lstat(src)
    if os.path.lexists(dst):
        os.unlink(dst)
    shutil.copy2(src, dst)
    return st


def _legacy_link_info(entry: str, manifest: list) -> tuple:
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
        and _has_placeholder(os.path.join(entry, rel))
    }
    return sorted(dirs), rewrite


def _has_placeholder(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(len(_PLACEHOLDER_SHEBANG)) == _PLACEHOLDER_SHEBANG
