"""The package store: each wheel unpacked once per interpreter, byte-compiled, frozen.

An entry ``<root>/v1/store/packages/<wheel sha256>-<cache tag>/`` mirrors the layout
of a venv (``lib/pythonX.Y/site-packages/...``, ``include/...``, data files at the
root), so assembling an env is one hardlink per file. Installation itself is
``installer``'s (PEP 427: RECORD, .data dirs, path containment); this module builds
entries, and adds:

* archive checks before anything is written (``check_archive``): no absolute or ``..``
  names, no symlink members, a cap on the unpacked size (zip bombs), RECORD hashes
  validated;
* entry-point scripts are rendered here with a placeholder shebang, like ``.data``
  scripts; linking rewrites that first line for the env's python (a ``/bin/sh``
  trampoline, as ``installer`` writes, when that path has spaces or is too long);
* ``.pyc`` compiled once here by the target interpreter, so every env's first run is
  as fast as its hundredth (importlib rewrites ``co_filename`` to the env path on load);
* files are frozen: read-only, listed in the entry's manifest (vpython.store.manifest),
  which linking (vpython.store.link) checks every file against.

Entries are built in a temp dir and published by rename; a crash leaves only garbage
in ``tmp/`` that is never read.

``zipfile``, ``subprocess``, ``tempfile`` and ``installer`` load only when an entry is
built.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from typing import TYPE_CHECKING

from vpython import fs, log
from vpython.errors import IntegrityError
from vpython.faults import checkpoint
from vpython.store.manifest import META_DIR, PLACEHOLDER_PYTHON, SCRIPTS, entry_intact, freeze
from vpython.store.wheels import discard_stored, sha256_file

if TYPE_CHECKING:
    import zipfile
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any, BinaryIO

    from installer.destinations import SchemeDictionaryDestination
    from installer.scripts import ScriptSection
    from installer.utils import Scheme

    from vpython.store.protocols import LockedArtifact, TargetInterpreter
    from vpython.store.root import Layout

    # fetch_many(artifacts) -> {sha256: stored wheel path}
    FetchMany = Callable[[Sequence[LockedArtifact]], dict[str, str]]

MAX_UNPACKED = int(os.environ.get("VPYTHON_MAX_WHEEL_UNPACKED_BYTES", str(4 << 30)))
MAX_RATIO = 1000  # compressed:uncompressed above this on a large member is a bomb
# The whole archive, once it unpacks to more than TOTAL_RATIO_FLOOR: many members, each
# too small for the per-member check, add up to a bomb (48 x 15 MiB of zeros in 0.7 MB;
# tests/reliability/test_regression_zip_bomb_many_members.py). Real wheels compress
# 2-10:1.
MAX_TOTAL_RATIO = int(os.environ.get("VPYTHON_MAX_WHEEL_RATIO", "200"))
TOTAL_RATIO_FLOOR = 64 << 20


def site_packages_rel(version: tuple[int, ...], windows: bool = False) -> str:
    """Where a venv's site-packages is, relative to the venv."""
    if windows:
        return "Lib/site-packages"
    return f"lib/python{version[0]}.{version[1]}/site-packages"


def entry_name(artifact: LockedArtifact, cache_tag: str | None) -> str:
    """The store entry dir's name: one per wheel and target interpreter's .pyc tag."""
    return f"{artifact.sha256}-{cache_tag}"


_BAD_WHEEL_HINT = "the wheel is malformed or was tampered with; nothing was installed from it"
_BOMB_HINT = "nothing was installed from it; if the wheel is genuine, raise {}"


def check_archive(path: str, display: str) -> None:
    """Refuse archives that could write outside their target or exhaust the disk.
    Errors name the wheel as ``display`` (its file name) in their ``path``."""
    import zipfile

    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise IntegrityError(
            f"not a valid wheel (zip) file: {e}", path=display, hint=_BAD_WHEEL_HINT
        ) from None
    total = compressed = 0
    with zf:
        for info in zf.infolist():
            compressed += info.compress_size
            total += info.file_size
            _check_member(info, display, total)
    if total > TOTAL_RATIO_FLOOR and total > MAX_TOTAL_RATIO * max(compressed, 1):
        raise IntegrityError(
            f"unpacks to {total} bytes from {compressed}, a ratio above {MAX_TOTAL_RATIO}:1; "
            f"refusing (zip bomb?)",
            path=display,
            hint=_BOMB_HINT.format("VPYTHON_MAX_WHEEL_RATIO"),
        )


def _check_member(info: zipfile.ZipInfo, display: str, total: int) -> None:
    """One archive member: a safe name, not a symlink, and (with ``total``, the unpacked
    size so far) not part of a bomb."""
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise IntegrityError(
            f"refusing member {name!r}: absolute path or '..' escapes the install dir",
            path=display,
            hint=_BAD_WHEEL_HINT,
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise IntegrityError(
            f"refusing member {name!r}: symbolic links are not allowed in wheels",
            path=display,
            hint=_BAD_WHEEL_HINT,
        )
    if total > MAX_UNPACKED:
        raise IntegrityError(
            f"unpacks to more than {MAX_UNPACKED} bytes; refusing (zip bomb?)",
            path=display,
            hint=_BOMB_HINT.format("VPYTHON_MAX_WHEEL_UNPACKED_BYTES"),
        )
    if info.file_size > (16 << 20) and info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
        raise IntegrityError(
            f"member {name!r} has a compression ratio above {MAX_RATIO}:1; refusing (zip bomb?)",
            path=display,
            hint=_BAD_WHEEL_HINT,
        )


def versioned_script(dist_name: str, name: str, version: tuple[int, ...]) -> str:
    """pip's and setuptools' versioned script names for the target Python.

    Their wheels name scripts after the Python that built them (pip 20.3.4's wheel has
    ``pip3.8`` and ``easy_install-3.8``); pip renames them for the Python it installs into
    (``pip2``, ``pip2.7``), and so does vpython, whose seeds are these wheels."""
    import re

    dist = dist_name.lower().replace("-", "_")
    if dist == "pip":
        m = re.fullmatch(r"pip(\d)(\.\d+)?", name)
        if m:
            return f"pip{version[0]}" + (f".{version[1]}" if m.group(2) else "")
    elif dist == "setuptools" and re.fullmatch(r"easy_install-\d\.\d+", name):
        return f"easy_install-{version[0]}.{version[1]}"
    return name


class _StoreDestination:
    """Factory for an installer destination that renders entry-point scripts with the
    placeholder interpreter (each env's link rewrites that shebang)."""

    @staticmethod
    def make(
        root: str, site_rel: str, dist_name: str, version: tuple[int, ...]
    ) -> SchemeDictionaryDestination:
        from installer.destinations import SchemeDictionaryDestination
        from installer.records import RecordEntry

        py = f"python{version[0]}.{version[1]}"
        scheme: dict[str, str] = {
            "purelib": os.path.join(root, site_rel),
            "platlib": os.path.join(root, site_rel),
            "headers": os.path.join(root, "include", "site", py, dist_name),
            "scripts": os.path.join(root, "bin"),
            "data": root,
        }

        entry_points: set[str] = set()
        skipped: set[int] = set()  # ids of the RecordEntry returned for skipped .data scripts

        class Destination(SchemeDictionaryDestination):
            def write_script(self, name: str, module: str, attr: str, section: ScriptSection) -> RecordEntry:
                name = versioned_script(dist_name, name, version)
                rel = os.path.relpath(os.path.join(scheme["scripts"], name), scheme["purelib"])
                if not os.path.lexists(os.path.join(scheme["scripts"], name)):
                    super().write_script(name, module, attr, section)
                entry_points.add(name)
                # Listed in RECORD without a hash: the env's copy differs in its shebang.
                return RecordEntry(rel.replace(os.sep, "/"), None, None)

            def write_file(
                self, scheme: Scheme, path: Any, stream: BinaryIO, is_executable: bool
            ) -> RecordEntry:
                # pylint 1.8.4 and 2.7.4 (corpus pins) ship bin/pylint twice: a .data script
                # and a console-script entry point, which installer writes first. pip keeps
                # the entry point's wrapper and lists the file once; so does this.
                if scheme == "scripts" and str(path) in entry_points:
                    marker = RecordEntry(str(path), None, None)
                    skipped.add(id(marker))
                    return marker
                return super().write_file(scheme, path, stream, is_executable)

            def finalize_installation(
                self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
            ) -> None:
                kept = [(s, r) for s, r in records if id(r) not in skipped]
                super().finalize_installation(scheme, record_file_path, kept)

        return Destination(scheme, interpreter=PLACEHOLDER_PYTHON, script_kind="posix")


def _unpack(wheel_path: str, display: str, work: str, site_rel: str, version: tuple[int, ...]) -> None:
    import zipfile
    from pathlib import Path

    from installer import install
    from installer.exceptions import InstallerError
    from installer.sources import WheelFile
    from installer.utils import parse_wheel_filename

    check_archive(wheel_path, display)
    dist_name = parse_wheel_filename(os.path.basename(wheel_path)).distribution
    dest = _StoreDestination.make(work, site_rel, dist_name, version)
    try:
        with WheelFile.open(Path(wheel_path)) as source:
            try:
                source.validate_record(validate_contents=True)
            except Exception as e:  # installer raises _WheelFileValidationError  # noqa: BLE001
                raise IntegrityError(
                    f"RECORD does not match the archive: {e}", path=display, hint=_BAD_WHEEL_HINT
                ) from None
            install(source, dest, additional_metadata={"INSTALLER": b"vpython\n"})
    except IntegrityError:
        raise
    except (InstallerError, ValueError, KeyError, zipfile.BadZipFile, FileExistsError) as e:
        raise IntegrityError(f"cannot install wheel: {e}", path=display, hint=_BAD_WHEEL_HINT) from None


def compile_dirs(python: str, dirs: list[str], version: tuple[int, ...] = (3,)) -> None:
    """Byte-compile with the target interpreter, in parallel. Failures are ignored (some
    wheels ship py2-only test files), as the original vpython does. Python 2.7 has no
    ``-I`` and its compileall no ``-j``: it gets ``-E -s`` and one process."""
    if not dirs:
        return
    import subprocess

    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "PYTHONPATH", "PYTHONHOME")}
    flags = (
        ["-E", "-s", "-m", "compileall", "-q"]
        if version[0] < 3
        else ["-I", "-m", "compileall", "-q", "-q", "-j", "0"]
    )
    subprocess.run(
        [python, *flags, *dirs],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )


def ensure_entries(
    artifacts: Sequence[LockedArtifact],
    layout: Layout,
    interp: TargetInterpreter,
    fetch_many: FetchMany,
    progress: Callable[[str], None] | None = None,
    verify: bool = False,
) -> dict[str, str]:
    """Make sure every artifact has a store entry for ``interp``.

    An existing entry is taken as it is: ``link_entry`` checks each of its files as it
    links it. ``verify`` (after a link found a changed entry) checks every existing
    entry first and discards the changed ones, so they are rebuilt here.

    ``fetch_many(artifacts) -> {sha256: wheel path}`` is called only for the artifacts
    whose entry is missing, so a warm store needs no wheels at all. Returns
    {sha256: entry dir}.
    """
    result = {}
    missing = []
    for artifact in artifacts:
        final = os.path.join(layout.packages, entry_name(artifact, interp.cache_tag))
        result[artifact.sha256] = final
        if os.path.isdir(final):
            if not verify or entry_intact(final):
                continue
            fs.discard_tree(final, layout.tmp)  # edited in place somewhere: rebuild from the wheel
        missing.append(artifact)
    if missing:
        _build_entries(missing, result, layout, interp, fetch_many, progress)
    return result


def _build_entries(
    missing: list[LockedArtifact],
    finals: dict[str, str],
    layout: Layout,
    interp: TargetInterpreter,
    fetch_many: FetchMany,
    progress: Callable[[str], None] | None,
) -> None:
    """Build the entries of ``missing`` (their final dirs in ``finals``, by sha256):
    unpack all first, then one parallel compile for all of them, then publish each by
    rename."""
    import tempfile

    site_rel = site_packages_rel(interp.version, sys.platform == "win32")
    os.makedirs(layout.packages, exist_ok=True)
    os.makedirs(layout.tmp, exist_ok=True)
    wheel_paths = fetch_many(missing)
    building: list[tuple[str, str]] = []  # (work dir, final dir)
    try:
        for artifact in missing:
            wheel_path = _verified_wheel(artifact, wheel_paths[artifact.sha256], layout, fetch_many)
            work = tempfile.mkdtemp(prefix="pkg-", dir=layout.tmp)
            building.append((work, finals[artifact.sha256]))
            os.mkdir(os.path.join(work, META_DIR))
            _unpack(wheel_path, artifact.filename, work, site_rel, interp.version)
            checkpoint("unpacked")
            # Entry points are rendered into bin/ (see _StoreDestination); an empty list
            # keeps vpython versions that generate them per env from doing it twice.
            with open(os.path.join(work, META_DIR, SCRIPTS), "w", encoding="utf-8") as f:
                json.dump([], f)
        if progress:
            progress(f"unpacking and compiling {len(building)} package(s)")
        compile_dirs(interp.path, [os.path.join(w, site_rel) for w, _ in building], tuple(interp.version))
        checkpoint("compiled")
        for work, final in building:
            freeze(work)
            try:
                os.rename(work, final)
            except OSError:
                if not os.path.isdir(final):
                    raise
                # Another process published the same entry first; theirs is as good.
                fs.remove_tree(work)
        building = []
    finally:
        for work, _ in building:
            fs.remove_tree(work)


def _verified_wheel(artifact: LockedArtifact, wheel_path: str, layout: Layout, fetch_many: FetchMany) -> str:
    """``wheel_path`` if its bytes still have the locked sha256. A stored wheel that
    went bad on disk since it was verified is discarded and fetched again once (the
    fetch verifies it on arrival); only a second mismatch is an error."""
    ident, actual = _hash_with_identity(wheel_path)
    if actual == artifact.sha256:
        return wheel_path
    log.warning(
        f"stored {artifact.filename} ({wheel_path}) does not have the locked sha256 "
        f"{artifact.sha256} any more (it has {actual}); fetching it again"
    )
    discard_stored(layout, artifact, ident)
    wheel_path = fetch_many([artifact])[artifact.sha256]
    _, actual = _hash_with_identity(wheel_path)
    if actual != artifact.sha256:
        raise IntegrityError(
            f"hash mismatch for stored {artifact.filename}: expected sha256 {artifact.sha256}, "
            f"file {wheel_path} has sha256 {actual} even after fetching it again",
            path=wheel_path,
            hint="something keeps changing the cache's files; check the disk and who writes there",
        )
    return wheel_path


def _hash_with_identity(path: str) -> tuple[tuple[int, int], str]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino), sha256_file(path)
