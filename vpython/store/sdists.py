"""Wheels built from sdists: once per (sdist sha256, interpreter ABI, platform), kept forever.

Real specs pin versions that PyPI has only as sdists (psutil 5.7.2, PyYAML 5.3.1, ...).
``built_wheel()`` returns a wheel in the store built from such an sdist for one
interpreter, building it the first time (``uv build --wheel``, isolated PEP 517 on that
interpreter: ``vpython.store.sdist_uv``; for Python 2.7, which uv cannot drive, pip 20.3.4
from vpython's tool dir: ``vpython.store.sdist_pip27``)::

    <root>/v1/store/sdists/<sdist sha256>/<sdist filename>          fetched once, verified
    <root>/v1/store/built/<sdist sha256>/<abi>-<platform>/<wheel>   the built wheel (0444)
    <root>/v1/store/built/<sdist sha256>/<abi>-<platform>/build.json
    <root>/v1/store/built/<sdist sha256>/<abi>-<platform>/build.log
    <root>/v1/store/built/<sdist sha256>/.<abi>-<platform>.lock     one builder at a time
    <root>/v1/logs/<name>-<version>-<abi>-<platform>.log            the last failed build's log

The key: the sdist's sha256 (what was built), the interpreter's most specific ABI tag
(``cp311``, ``cp37m``, ``cp313t``: version, debug and free-threading ABI) and its most
specific platform tag (``manylinux_2_36_x86_64``, ``macosx_14_0_arm64``, ``win_amd64``).
The platform tag is the first of the interpreter's own ``sys_tags()`` that is not the
bare ``linux_x86_64`` a local build is labelled with: it carries the libc flavour and
version (glibc 2.36, musl 1.2) or the macOS release the extension was compiled and linked
against, so a cache root shared between machines (an NFS home, a mounted volume) never
hands a wheel linked against a newer libc to an older system (the cost: a libc or OS
upgrade builds each such wheel once more).

``build.json`` records the sdist and wheel sha256 (the wheel's is what an env manifest
records), the machinery and its version, the interpreter and the seconds the build took.

Concurrency and crashes: a builder holds the store lock shared (so GC never sweeps its
work dir) and the entry's ``flock``; concurrent callers wait on that lock and then use the
published entry. A build runs in ``<root>/v1/tmp/sdist-*``; the wheel is checked
(``vpython.store.sdist_check``) and the entry published by one ``rename`` of a complete
directory, so a SIGKILL at any point leaves only a work dir that nothing reads.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vpython import log
from vpython.errors import UserError, VPythonError
from vpython.faults import checkpoint

if TYPE_CHECKING:
    from vpython.interpreters.model import Interpreter
    from vpython.settings.sources import Sources
    from vpython.store.root import Layout

META = "build.json"
BUILD_LOG = "build.log"
META_FORMAT = 1


@dataclass(frozen=True)
class SdistRef:
    """An sdist as a lock (PEP 751 ``sdist``) or a resolver names it. ``url`` or ``path``
    says where to get it; ``sha256`` (and ``size`` when known) what it must be."""

    name: str
    version: str
    filename: str
    sha256: str
    url: str | None = None
    path: str | None = None
    size: int | None = None
    direct_url: str | None = None  # PEP 610, for an sdist named by ``name @ url``


@dataclass(frozen=True)
class BuiltWheel:
    path: str  # the wheel inside the store entry (read-only)
    filename: str
    sha256: str  # the built wheel's own sha256: what an env's manifest records
    size: int
    key: str  # "<abi>-<platform>", e.g. "cp311-manylinux_2_36_x86_64"
    built: bool  # True if this call built it, False if it was already in the store


# --------------------------------------------------------------------------- layout


def sdists_dir(layout: Layout) -> str:
    return os.path.join(layout.base, "store", "sdists")


def built_dir(layout: Layout) -> str:
    return os.path.join(layout.base, "store", "built")


def logs_dir(layout: Layout) -> str:
    return os.path.join(layout.base, "logs")


def build_key(interp: Interpreter) -> str:
    """``<abi>-<platform>``: the interpreter's most specific ABI tag, and its most specific
    platform tag that names a libc or OS release (see the module doc)."""
    from vpython.interpreters.tags import target_tags

    tags = target_tags(interp)
    # packaging puts the bare ``linux_<arch>`` (what local builds are labelled) first; the
    # next one (``manylinux_2_36_x86_64``) says which glibc the build links against.
    versioned = [t.platform for t in tags if not t.platform.startswith("linux_") and t.platform != "any"]
    return f"{tags[0].abi}-{versioned[0] if versioned else tags[0].platform}"


def entry_dir(layout: Layout, sdist_sha256: str, key: str) -> str:
    return os.path.join(built_dir(layout), sdist_sha256, key)


def _read_entry(entry: str, key: str) -> BuiltWheel | None:
    """The published entry at ``entry``, or None if there is none (or it is unusable)."""
    try:
        with open(os.path.join(entry, META), encoding="utf-8") as f:
            meta = json.load(f)
        wheel = meta["wheel"]
        path = os.path.join(entry, wheel["filename"])
        if os.path.basename(wheel["filename"]) != wheel["filename"] or not os.path.isfile(path):
            return None
        return BuiltWheel(path, wheel["filename"], wheel["sha256"], int(wheel["size"]), key, False)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def built_entries(parent: str) -> list[tuple[str, str | None]]:
    """[(key, the built wheel's sha256 or None when build.json is unreadable)] of the
    published entries under ``store/built/<sdist sha256>`` (lock files and nothing
    else skipped), for gc and ``vpython cache info``."""
    try:
        names = sorted(os.listdir(parent))
    except OSError:
        return []
    out: list[tuple[str, str | None]] = []
    for key in names:
        if key.startswith(".") or not os.path.isdir(os.path.join(parent, key)):
            continue
        entry = _read_entry(os.path.join(parent, key), key)
        out.append((key, entry.sha256 if entry else None))
    return out


def find_built(sdist: SdistRef, interp: Interpreter, layout: Layout) -> BuiltWheel | None:
    """The stored wheel built from ``sdist`` for ``interp``, or None. Builds nothing."""
    _check_ref(sdist)
    key = build_key(interp)
    return _read_entry(entry_dir(layout, sdist.sha256, key), key)


def _check_ref(sdist: SdistRef) -> None:
    from packaging.utils import InvalidSdistFilename, canonicalize_name, parse_sdist_filename
    from packaging.version import InvalidVersion, Version

    from vpython.store.wheels import _check_sha256

    _check_sha256(sdist)  # the sha256 names directories: never let it be a path
    try:
        name, version = parse_sdist_filename(sdist.filename)
        same = canonicalize_name(name) == canonicalize_name(sdist.name) and version == Version(sdist.version)
    except (InvalidSdistFilename, InvalidVersion) as e:
        raise UserError(
            f"{sdist.filename}: not an sdist of {sdist.name} {sdist.version} ({e})",
            hint="re-create the lock with `vpython lock`",
        ) from None
    if not same:
        raise UserError(
            f"{sdist.filename} is an sdist of {name} {version}, not of {sdist.name} {sdist.version}",
            hint="re-create the lock with `vpython lock`",
        )


# --------------------------------------------------------------------------- the API


def built_wheel(
    sdist: SdistRef,
    interp: Interpreter,
    sources: Sources,
    layout: Layout,
    *,
    allow_build: bool = True,
    wheel_dirs: tuple[str, ...] = (),
) -> BuiltWheel:
    """The wheel built from ``sdist`` for ``interp`` (a probed ``Interpreter``), from the
    store, or built now from ``sources`` (``settings.Sources``: the build requirements come
    from the same index / find-links / offline setting as the run) into ``layout``'s store.

    ``allow_build=False`` (``--only-binary``) raises UserError naming the package, whether
    or not an earlier run built the wheel, so a strict run's outcome never depends on what
    this machine's cache happens to hold. ``wheel_dirs`` are local directories searched for
    the sdist file before its url (as for wheels). Raises IntegrityError when the sdist does
    not match its sha256 or size (before anything is built), BuildError when the build
    fails or yields an unusable wheel; nothing is stored then.
    """
    from vpython.store.sdist_errors import build_refused

    _check_ref(sdist)
    if not allow_build:
        raise build_refused(sdist.name, sdist.version, sdist.filename, interp)
    if interp.implementation != "cpython" or not (
        tuple(interp.version[:2]) >= (3, 6) or tuple(interp.version[:2]) == (2, 7)
    ):
        # uv builds for 3.6+; 2.7 has its own machinery (vpython.store.sdist_pip27).
        raise VPythonError(
            f"cannot build {sdist.name} {sdist.version} from source for {interp.describe()}: "
            "vpython builds sdists for CPython 2.7 and 3.6+ only",
            hint=f"supply a wheel of {sdist.name} {sdist.version} with --find-links / VPYTHON_FIND_LINKS",
        )
    job = _Job(sdist, interp, sources, layout, build_key(interp))
    hit = _read_entry(job.entry, job.key)
    if hit is not None:
        return hit
    from vpython.store.locks import flocked, store_lock_path
    from vpython.store.root import cache_write_error

    try:
        with flocked(store_lock_path(layout), exclusive=False):
            lock = os.path.join(built_dir(layout), sdist.sha256, f".{job.key}.lock")
            with flocked(lock, exclusive=True, blocking=False) as got:
                if got:
                    return _build_locked(job, wheel_dirs)
            log.progress(f"waiting for another vpython building {sdist.name} {sdist.version}")
            with flocked(lock, exclusive=True):
                return _build_locked(job, wheel_dirs)
    except OSError as e:
        raise cache_write_error(e, layout.root) from None


@dataclass(frozen=True)
class _Job:
    sdist: SdistRef
    interp: Interpreter
    sources: Sources
    layout: Layout
    key: str

    @property
    def entry(self) -> str:
        return entry_dir(self.layout, self.sdist.sha256, self.key)


def _build_locked(job: _Job, wheel_dirs: tuple[str, ...]) -> BuiltWheel:
    import shutil
    import tempfile

    from vpython.store.wheels import fetch_one

    hit = _read_entry(job.entry, job.key)  # published by the holder we waited for
    if hit is not None:
        return hit
    # Fetched and checked against its sha256 and size before anything runs.
    sdist_file = fetch_one(job.sdist, job.layout, job.sources, wheel_dirs, store_dir=sdists_dir(job.layout))
    os.makedirs(job.layout.tmp, exist_ok=True)
    work = tempfile.mkdtemp(prefix="sdist-", dir=job.layout.tmp)
    try:
        return _build_in(job, work, sdist_file)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_machinery(
    job: _Job, work: str, sdist_file: str, out: str, build_log: str
) -> tuple[int, dict[str, str]]:
    """(exit status, machinery record): ``uv build`` (``sdist_uv``) for 3.6+, with the build
    constraints that apply (``sdist_constraints``); pip 20.3.4 from vpython's tool dir
    (``sdist_pip27``) for 2.7, which uv cannot drive (no constraints: none are needed there)."""
    sdist = job.sdist
    if job.interp.version[0] < 3:
        from vpython.store import sdist_pip27
        from vpython.store.tools import ensure_tool

        pip_dir = ensure_tool(job.layout, job.sources, sdist_pip27.PIP_TOOL)
        status = sdist_pip27.run_build(
            pip_dir, sdist_file, job.interp.path, job.sources, work, out, build_log
        )
        return status, {"tool": sdist_pip27.TOOL, "version": "pip 20.3.4"}
    from vpython.store.sdist_constraints import constraints_for
    from vpython.store.sdist_uv import TOOL, run_build, uv_version
    from vpython.uvbin import uv_binary

    uv = uv_binary()
    constraints = constraints_for(sdist.name, sdist.version, job.sources)
    if constraints:
        log.info(f"building {sdist.name} {sdist.version} with build constraints {', '.join(constraints)}")
    status = run_build(
        uv, sdist_file, job.interp.path, job.sources, work, out, build_log, constraints=constraints
    )
    machinery = {"tool": TOOL, "version": uv_version(uv)}
    if constraints:
        machinery["build-constraints"] = ", ".join(constraints)
    return status, machinery


def _build_in(job: _Job, work: str, sdist_file: str) -> BuiltWheel:
    from vpython.store.sdist_errors import build_failed

    sdist = job.sdist
    out = os.path.join(work, "out")
    os.makedirs(out)
    build_log = os.path.join(work, BUILD_LOG)
    log.progress(f"building {sdist.name} {sdist.version} from source (first time only)")
    start = time.monotonic()
    status, machinery = _run_machinery(job, work, sdist_file, out, build_log)
    seconds = time.monotonic() - start
    checkpoint("sdist-built")
    wheels = sorted(n for n in os.listdir(out) if n.endswith(".whl"))
    detail = _failure(job, status, wheels, out)
    if detail is not None:
        text, kept = _keep_failed_log(job, build_log)
        raise build_failed(
            sdist.name,
            sdist.version,
            sdist.filename,
            job.interp,
            detail=detail,
            log_text=text,
            log_path=kept,
            offline=job.sources.offline,
        )
    return _publish(job, work, os.path.join(out, wheels[0]), build_log, machinery, seconds)


def _failure(job: _Job, status: int, wheels: list[str], out: str) -> str | None:
    """Why the build's result cannot be used, or None."""
    from vpython.interpreters.tags import target_tags
    from vpython.store.sdist_check import wheel_problem

    if status == 127:
        return "the build tool could not be started"
    if status != 0:
        return f"the build failed (exit status {status})"
    if len(wheels) != 1:
        return f"the build produced {len(wheels)} wheels (expected one): {', '.join(wheels) or 'none'}"
    tags = target_tags(job.interp)
    problem = wheel_problem(os.path.join(out, wheels[0]), job.sdist.name, job.sdist.version, tags)
    return f"the built wheel is unusable: {problem}" if problem else None


def _redacted_log(path: str) -> str:
    from vpython.settings.credentials import redact

    try:
        with open(path, "rb") as f:
            return redact(f.read().decode("utf-8", "replace"))
    except OSError:
        return ""


def _keep_failed_log(job: _Job, build_log: str) -> tuple[str, str]:
    """(log text, where it is kept): ``<root>/v1/logs/<name>-<version>-<key>.log``, the last
    failure of that build (one file per build that ever failed, replaced on each retry)."""
    from vpython.fs import write_atomic

    text = _redacted_log(build_log)
    logs = logs_dir(job.layout)
    kept = os.path.join(logs, f"{job.sdist.name}-{job.sdist.version}-{job.key}.log")
    try:
        os.makedirs(logs, exist_ok=True)
        write_atomic(kept, text)
    except OSError:
        kept = build_log + " (could not be kept: the cache root is not writable)"
    return text, kept


def _metadata(job: _Job, wheel: BuiltWheel, machinery: dict[str, str], seconds: float) -> dict[str, object]:
    sdist, interp = job.sdist, job.interp
    return {
        "format": META_FORMAT,
        "sdist": {
            "name": sdist.name,
            "version": sdist.version,
            "filename": sdist.filename,
            "sha256": sdist.sha256,
        },
        "wheel": {"filename": wheel.filename, "sha256": wheel.sha256, "size": wheel.size},
        "key": job.key,
        "interpreter": {
            "path": interp.path,
            "version": interp.version_string,
            "implementation": interp.implementation,
            "identity": interp.identity_key,
        },
        "machinery": machinery,
        "seconds": round(seconds, 3),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _publish(
    job: _Job, work: str, wheel: str, build_log: str, machinery: dict[str, str], seconds: float
) -> BuiltWheel:
    """Move the checked wheel, its log and build.json into one new directory and rename it
    into place: readers see no entry or a complete one."""
    from vpython.fs import write_atomic
    from vpython.store.wheels import sha256_file

    staged = os.path.join(work, "entry")
    os.makedirs(staged)
    filename = os.path.basename(wheel)
    os.replace(wheel, os.path.join(staged, filename))
    os.chmod(os.path.join(staged, filename), 0o444)
    path = os.path.join(job.entry, filename)
    staged_wheel = os.path.join(staged, filename)
    built = BuiltWheel(
        path, filename, sha256_file(staged_wheel), os.path.getsize(staged_wheel), job.key, True
    )
    write_atomic(os.path.join(staged, BUILD_LOG), _redacted_log(build_log))
    meta = _metadata(job, built, machinery, seconds)
    write_atomic(os.path.join(staged, META), json.dumps(meta, indent=1, sort_keys=True) + "\n")
    checkpoint("sdist-publish")
    if os.path.lexists(job.entry):  # unreadable leftovers (we hold the lock): move them aside
        os.rename(job.entry, os.path.join(work, "stale-entry"))
    os.rename(staged, job.entry)
    log.debug(f"built {filename} from {job.sdist.filename} in {seconds:.1f}s: {job.entry}")
    return built
