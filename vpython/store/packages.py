"""The package store: each wheel unpacked once per interpreter, frozen, byte-compiled.

An entry ``<root>/v1/store/packages/<wheel sha256>-<cache tag>/`` mirrors the layout
of a venv (``lib/pythonX.Y/site-packages/...``, ``include/...``, data files at the
root), so assembling an env is one hardlink per file. Installation itself is
``installer``'s (vpython.store.unpack: archive checks first, RECORD hashes checked as
each member is written, entry points rendered with a placeholder shebang that each env's
link rewrites). Files are frozen: read-only, listed in the entry's manifest
(vpython.store.manifest), which linking (vpython.store.link) checks every file against.
``.pyc`` are added to a published entry afterwards (vpython.store.pyc, scheduled by
vpython.store.compiler), compiled once by the target interpreter, hardlinked into every
env (importlib rewrites ``co_filename`` to the env path on load).

A first run is a pipeline (``ensure_entries``): each wheel is unpacked in a thread as
soon as its download completes, while the others still download (zlib and writes release
the GIL), and each entry is published the moment it is complete, so its compilation can
start. Entries are built in a temp dir and published by rename; a crash leaves only
garbage in ``tmp/`` that is never read. A failure (a hash mismatch, a hostile wheel)
stops the rest: queued work is cancelled, what is running finishes or removes its work
dir, and nothing of the failed wheel is kept.

``zipfile``, ``tempfile``, ``concurrent.futures`` and ``installer`` load only when an
entry is built.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from vpython import fs, log
from vpython.errors import IntegrityError
from vpython.faults import checkpoint
from vpython.store.archive import check_archive as check_archive  # re-exported: its historical home
from vpython.store.locks import path_lock
from vpython.store.manifest import META_DIR
from vpython.store.manifest import entry_intact as entry_intact  # re-exported
from vpython.store.wheels import discard_stored, sha256_file

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from concurrent.futures import Future
    from typing import Optional

    from vpython.store.protocols import LockedArtifact, TargetInterpreter
    from vpython.store.root import Layout

    # fetch_many(artifacts, on_ready) -> {sha256: stored wheel path}, calling
    # on_ready(artifact, path, fresh) as each one is stored (fresh: verified just now,
    # while it was fetched), as vpython.store.wheels.fetch_all does.
    OnReady = Callable[[LockedArtifact, str, bool], None]
    FetchMany = Callable[[Sequence[LockedArtifact], Optional[OnReady]], dict[str, str]]


UNPACK_THREADS = max(2, os.cpu_count() or 1)
# Wheels this large are unpacked by a child process (vpython.store.unpack.unpack_in_child):
# ~40 ms to start, then off this process's GIL.
CHILD_BYTES = int(os.environ.get("VPYTHON_UNPACK_CHILD_BYTES", str(8 << 20)))


def site_packages_rel(version: tuple[int, ...], windows: bool = False) -> str:
    """Where a venv's site-packages is, relative to the venv."""
    if windows:
        return "Lib/site-packages"
    return f"lib/python{version[0]}.{version[1]}/site-packages"


def entry_name(artifact: LockedArtifact, cache_tag: str | None) -> str:
    """The store entry dir's name: one per wheel and target interpreter's .pyc tag."""
    return f"{artifact.sha256}-{cache_tag}"


def entry_dir(layout: Layout, artifact: LockedArtifact, interp: TargetInterpreter) -> str:
    return os.path.join(layout.packages, entry_name(artifact, interp.cache_tag))


def ensure_entries(
    artifacts: Sequence[LockedArtifact],
    layout: Layout,
    interp: TargetInterpreter,
    fetch_many: FetchMany,
    progress: Callable[[str], None] | None = None,
    verify: bool = False,
    on_entry: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Make sure every artifact has a store entry for ``interp``.

    An existing entry is taken as it is: ``link_entry`` checks each of its files as it
    links it. ``verify`` (after a link found a changed entry) checks every existing
    entry first and discards the changed ones, so they are rebuilt here.

    ``fetch_many`` is called only for the artifacts whose entry is missing, so a warm
    store needs no wheels at all. ``on_entry(entry dir)`` is called (from an unpacking
    thread) as each new entry is published. Returns {sha256: entry dir}.
    """
    result = {}
    missing = []
    for artifact in artifacts:
        final = entry_dir(layout, artifact, interp)
        result[artifact.sha256] = final
        if os.path.isdir(final):
            if not verify or entry_intact(final):
                continue
            fs.discard_tree(final, layout.tmp)  # edited in place somewhere: rebuild from the wheel
        missing.append(artifact)
    if missing:
        _build_entries(missing, result, layout, interp, fetch_many, progress, on_entry)
    return result


def _build_entries(
    missing: list[LockedArtifact],
    finals: dict[str, str],
    layout: Layout,
    interp: TargetInterpreter,
    fetch_many: FetchMany,
    progress: Callable[[str], None] | None,
    on_entry: Callable[[str], None] | None,
) -> None:
    """Build the entries of ``missing`` (their final dirs in ``finals``, by sha256),
    each unpacked as soon as its wheel is in the store, published as soon as it is done."""
    import functools
    import heapq
    import threading
    from concurrent.futures import ThreadPoolExecutor

    site_rel = site_packages_rel(interp.version, sys.platform == "win32")
    os.makedirs(layout.packages, exist_ok=True)
    os.makedirs(layout.tmp, exist_ok=True)
    log.status.expect(unpack=len(missing))
    pool = ThreadPoolExecutor(max_workers=min(UNPACK_THREADS, len(missing)))
    futures: list[Future[None]] = []
    # The largest wheel that has arrived is unpacked first: the big ones (numpy, pandas)
    # arrive last and take longest, so they must not queue behind the small ones.
    waiting: list[tuple[int, int]] = []  # (-size, seq) of jobs
    jobs: dict[int, Callable[[], None]] = {}
    lock = threading.Lock()

    def largest_first() -> None:
        with lock:
            _, seq = heapq.heappop(waiting)
            job = jobs.pop(seq)
        job()

    def on_ready(artifact: LockedArtifact, wheel_path: str, fresh: bool = False) -> None:
        job = functools.partial(
            _build_one,
            artifact,
            wheel_path,
            fresh,
            finals[artifact.sha256],
            layout,
            site_rel,
            interp,
            fetch_many,
            on_entry,
        )
        with lock:
            jobs[len(futures)] = job
            heapq.heappush(waiting, (-_size(wheel_path), len(futures)))
        futures.append(pool.submit(largest_first))  # one task per job: each takes the largest left

    try:
        fetch_many(missing, on_ready)
        if progress:  # the downloads are done; the last unpacks (and compiles) may not be
            progress(f"unpacking and compiling {len(missing)} package(s)")
        for f in futures:
            f.result()  # the first error is raised; finally: the rest are stopped
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _build_one(
    artifact: LockedArtifact,
    wheel_path: str,
    fresh: bool,
    final: str,
    layout: Layout,
    site_rel: str,
    interp: TargetInterpreter,
    fetch_many: FetchMany,
    on_entry: Callable[[str], None] | None,
) -> None:
    """Unpack one wheel into a work dir, freeze it and publish it by rename, unless
    another thread or process (a prefetch, a concurrent cold run) is doing just that:
    then wait for it (the entry's build lock) and take its entry."""
    with path_lock(layout, build_lock_path(layout, final)):
        if not os.path.isdir(final):
            _unpack_entry(artifact, wheel_path, fresh, final, layout, site_rel, interp, fetch_many)
    log.status.advance(unpacked=1)
    if on_entry is not None:
        on_entry(final)


def build_lock_path(layout: Layout, entry: str) -> str:
    return os.path.join(os.path.dirname(layout.packages), "building", os.path.basename(entry) + ".lock")


def _unpack_entry(
    artifact: LockedArtifact,
    wheel_path: str,
    fresh: bool,
    final: str,
    layout: Layout,
    site_rel: str,
    interp: TargetInterpreter,
    fetch_many: FetchMany,
) -> None:
    import tempfile

    from vpython.store.unpack import record_warning, unpack_frozen, unpack_in_child

    if not fresh:  # verified when it was stored, maybe long ago: check it again
        wheel_path = _verified_wheel(artifact, wheel_path, layout, fetch_many)
    work = tempfile.mkdtemp(prefix="pkg-", dir=layout.tmp)
    published = False
    try:
        os.mkdir(os.path.join(work, META_DIR))
        big = _size(wheel_path) >= CHILD_BYTES and os.name == "posix"
        issues = (unpack_in_child if big else unpack_frozen)(
            wheel_path, artifact.filename, work, site_rel, interp.version
        )
        if issues:
            log.warning(record_warning(artifact.filename, issues))
        checkpoint("unpacked")
        try:
            os.rename(work, final)
            published = True
        except OSError:
            if not os.path.isdir(final):
                raise
            # Another process published the same entry first; theirs is as good.
    finally:
        if not published:
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
    wheel_path = fetch_many([artifact], None)[artifact.sha256]
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
