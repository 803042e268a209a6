"""The package store: each wheel unpacked once per interpreter, byte-compiled, frozen.

An entry ``<root>/v1/store/packages/<wheel sha256>-<cache tag>/`` mirrors the layout
of a venv (``lib/pythonX.Y/site-packages/...``, ``include/...``, data files at the
root), so assembling an env is one hardlink per file. Installation itself is
``installer``'s (PEP 427: RECORD, .data dirs, path containment); vpython adds:

* archive checks before anything is written: no absolute or ``..`` names, no symlink
  members, a cap on the unpacked size (zip bombs), RECORD hashes validated;
* entry-point scripts are *not* stored (their shebang names one env's python): their
  specs go to ``.vpython/scripts.json`` and each env generates its own;
* ``.pyc`` compiled once here by the target interpreter, so every env's first run is
  as fast as its hundredth (importlib rewrites ``co_filename`` to the env path on load);
* files are made read-only and listed with size and mtime in ``.vpython/manifest``; an
  entry whose files no longer match (someone edited an env file in place: hardlinks
  share the inode) is detected on the next link and rebuilt from the verified wheel.

Entries are built in a temp dir and published by rename; a crash leaves only garbage
in ``tmp/`` that is never read.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile

from vpython.errors import IntegrityError
from vpython.faults import checkpoint
from vpython.lock.pylock import Artifact

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


def entry_name(artifact: Artifact, cache_tag: str) -> str:
    return f"{artifact.sha256}-{cache_tag}"


def check_archive(path: str, display: str) -> None:
    """Refuse archives that could write outside their target or exhaust the disk."""
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
                raise IntegrityError(f"{display}: refusing member {name!r}: absolute path or '..' escapes the install dir")
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise IntegrityError(f"{display}: refusing member {name!r}: symbolic links are not allowed in wheels")
            total += info.file_size
            if total > MAX_UNPACKED:
                raise IntegrityError(
                    f"{display}: unpacks to more than {MAX_UNPACKED} bytes; refusing (zip bomb?)",
                    hint="raise VPYTHON_MAX_WHEEL_UNPACKED_BYTES if this wheel is really that large",
                )
            if info.file_size > (16 << 20) and info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                raise IntegrityError(f"{display}: member {name!r} has a compression ratio above {MAX_RATIO}:1; refusing (zip bomb?)")
    if total > TOTAL_RATIO_FLOOR and total > MAX_TOTAL_RATIO * max(compressed, 1):
        raise IntegrityError(
            f"{display}: unpacks to {total} bytes from {compressed}, a ratio above {MAX_TOTAL_RATIO}:1; "
            f"refusing (zip bomb?)",
            hint="raise VPYTHON_MAX_WHEEL_RATIO if this wheel is really that compressible",
        )


class _StoreDestination:
    """Factory for an installer destination that defers entry-point scripts."""

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
            scripts: list = []

            def write_script(self, name, module, attr, section):
                self.scripts.append({"name": name, "module": module, "attr": attr, "section": section})
                # Listed in RECORD without a hash: each env writes its own copy.
                rel = os.path.relpath(os.path.join(scheme["scripts"], name), scheme["purelib"])
                return RecordEntry(rel.replace(os.sep, "/"), None, None)

        dest = Destination(scheme, interpreter=PLACEHOLDER_PYTHON, script_kind="posix")
        dest.scripts = []
        return dest


def _unpack(wheel_path: str, display: str, work: str, site_rel: str, version: tuple) -> list:
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
            except Exception as e:  # installer raises _WheelFileValidationError
                raise IntegrityError(f"{display}: RECORD does not match the archive: {e}") from None
            install(source, dest, additional_metadata={"INSTALLER": b"vpython\n"})
    except IntegrityError:
        raise
    except (InstallerError, ValueError, KeyError, zipfile.BadZipFile, FileExistsError) as e:
        raise IntegrityError(f"{display}: cannot install wheel: {e}") from None
    return dest.scripts


def _freeze(root: str) -> None:
    """Read-only files, and a manifest of (path, size, mtime) to detect later edits."""
    lines = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir == META_DIR:
            continue
        for name in sorted(filenames):
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            os.chmod(p, stat.S_IMODE(st.st_mode) & ~0o222)
            st = os.lstat(p)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            lines.append(f"{rel}\t{st.st_size}\t{st.st_mtime_ns}")
    with open(os.path.join(root, META_DIR, "manifest"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def read_manifest(entry: str) -> list:
    with open(os.path.join(entry, META_DIR, "manifest"), encoding="utf-8") as f:
        out = []
        for line in f.read().splitlines():
            rel, size, mtime = line.rsplit("\t", 2)
            out.append((rel, int(size), int(mtime)))
        return out


# Manifests of entries that ``entry_intact`` just checked, for ``link_entry`` to reuse
# (parsing one is ~40% of the check for a big package; W2's manifests hold ~6,900 lines).
_checked_manifests: dict = {}


def entry_intact(entry: str) -> bool:
    """Cheap integrity check (stat only) run before an entry is linked into an env."""
    _checked_manifests.pop(entry, None)
    try:
        manifest = read_manifest(entry)
        prefix = entry + os.sep
        for rel, size, mtime in manifest:
            st = os.lstat(prefix + rel)
            if st.st_size != size or st.st_mtime_ns != mtime or (st.st_mode & 0o222):
                return False
    except (OSError, ValueError):
        return False
    _checked_manifests[entry] = manifest
    return True


def compile_dirs(python: str, dirs: list) -> None:
    """Byte-compile with the target interpreter, in parallel. Failures are ignored (some
    wheels ship py2-only test files), as the original vpython does."""
    if not dirs:
        return
    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "PYTHONPATH", "PYTHONHOME")}
    subprocess.run(
        [python, "-I", "-m", "compileall", "-q", "-q", "-j", "0", *dirs],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )


def ensure_entries(artifacts: list, layout, interp, fetch_many, progress=None) -> dict:
    """Make sure every artifact has an intact store entry for ``interp``.

    ``fetch_many(artifacts) -> {sha256: wheel path}`` is called only for the artifacts
    whose entry is missing or corrupt, so a warm store needs no wheels at all.
    Returns {sha256: entry dir}. Entries are (re)built by unpacking all first, then
    one parallel compile for all of them, then publishing each by rename.
    """
    cache_tag = interp.cache_tag
    site_rel = site_packages_rel(interp.version, sys.platform == "win32")
    result = {}
    building = []  # (artifact, work dir, final dir)
    os.makedirs(layout.packages, exist_ok=True)
    os.makedirs(layout.tmp, exist_ok=True)
    missing = []
    for artifact in artifacts:
        final = os.path.join(layout.packages, entry_name(artifact, cache_tag))
        result[artifact.sha256] = final
        if os.path.isdir(final):
            if entry_intact(final):
                continue
            _discard(final, layout)  # edited in place somewhere: rebuild from the wheel
        _checked_manifests.pop(final, None)  # a rebuilt entry is linked from its own manifest
        missing.append(artifact)
    if not missing:
        return result
    wheel_paths = fetch_many(missing)
    try:
        from vpython.store.wheels import sha256_file

        for artifact in missing:
            wheel_path = wheel_paths[artifact.sha256]
            final = result[artifact.sha256]

            actual = sha256_file(wheel_path)
            if actual != artifact.sha256:
                raise IntegrityError(
                    f"hash mismatch for stored {artifact.filename}: expected sha256 {artifact.sha256}, "
                    f"file {wheel_path} has sha256 {actual}", hint="delete it; vpython fetches it again")
            work = tempfile.mkdtemp(prefix="pkg-", dir=layout.tmp)
            building.append((artifact, work, final))
            os.mkdir(os.path.join(work, META_DIR))
            scripts = _unpack(wheel_path, artifact.filename, work, site_rel, interp.version)
            checkpoint("unpacked")
            with open(os.path.join(work, META_DIR, "scripts.json"), "w", encoding="utf-8") as f:
                json.dump(scripts, f, sort_keys=True)
        if building:
            if progress:
                progress(f"unpacking and compiling {len(building)} package(s)")
            compile_dirs(interp.path, [os.path.join(w, site_rel) for _, w, _ in building])
            checkpoint("compiled")
        for artifact, work, final in building:
            _freeze(work)
            try:
                os.rename(work, final)
            except OSError:
                if not os.path.isdir(final):
                    raise
                # Another process published the same entry first; theirs is as good.
                _rmtree(work)
        building = []
    finally:
        for _, work, _ in building:
            _rmtree(work)
    return result


def _rmtree(path: str) -> None:
    def onerror(func, p, exc_info):
        try:
            os.chmod(os.path.dirname(p), 0o755)
            os.chmod(p, 0o755)
            func(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=onerror)


def _discard(entry: str, layout) -> None:
    trash = tempfile.mkdtemp(prefix="trash-", dir=layout.tmp)
    try:
        os.rename(entry, os.path.join(trash, "entry"))
    except OSError:
        pass  # someone else discarded it already
    _rmtree(trash)


def link_entry(entry: str, env_dir: str) -> list:
    """Hardlink every file of ``entry`` into ``env_dir`` (copy across filesystems).

    Returns the scripts to generate (from ``.vpython/scripts.json``) and the list of
    files with a placeholder shebang that must be rewritten, not linked.

    The file list comes from the entry's manifest (every file, written when the entry
    was frozen and just checked by ``entry_intact``) rather than a directory walk: for
    W2's ~6,900 files the walk's scandir/join work was about half the link time.
    """
    with open(os.path.join(entry, META_DIR, "scripts.json"), encoding="utf-8") as f:
        scripts = json.load(f)
    rewrite = []
    can_link = True
    made = set()
    bin_prefix = "bin" + os.sep
    manifest = _checked_manifests.pop(entry, None)
    if manifest is None:
        manifest = read_manifest(entry)
    src_prefix, dst_prefix = entry + os.sep, env_dir + os.sep  # rel is normalised and relative
    for rel, _size, _mtime in manifest:
        src = src_prefix + rel
        dst = dst_prefix + rel
        parent = os.path.dirname(rel)
        if parent and parent not in made:
            os.makedirs(os.path.join(env_dir, parent), exist_ok=True)
            made.add(parent)
        if rel.startswith(bin_prefix) and os.sep not in rel[len(bin_prefix):] and _has_placeholder(src):
            rewrite.append((src, dst))
            continue
        if can_link:
            try:
                os.link(src, dst)
                continue
            except FileExistsError:
                os.unlink(dst)  # same file from two packages: last wins, as with pip
                try:
                    os.link(src, dst)
                    continue
                except OSError:
                    can_link = False
            except OSError:
                can_link = False
        if os.path.lexists(dst):
            os.unlink(dst)
        shutil.copy2(src, dst)
    return scripts, rewrite


def _has_placeholder(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(len(PLACEHOLDER_PYTHON) + 2) == b"#!" + PLACEHOLDER_PYTHON.encode()


