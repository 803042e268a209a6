"""Who byte-compiles a new env's store entries, and when (the how: vpython.store.pyc).

Compiling everything W2 installs (numpy, pandas, rich, httpx, pydantic: 42 MB of
source in 2,700 modules) takes ~6 s on two cores, three times the rest of a first run,
while the script imports a quarter of it. So entries are published uncompiled as they
are unpacked (vpython.store.packages), and a ``Plan`` decides, entry by entry as each
arrives:

* while the source seen so far fits ``INLINE_BYTES`` (64 KiB: a few small modules;
  and what is left to compile came in at most ``INLINE_WHEEL_BYTES`` of wheels), the
  run compiles the entry itself, on drivers niced below the unpacking, while the other
  wheels still download, and waits for these before linking the env. Tiny specs (a
  test's wheels) are thus compiled before their first start, every time. Measured on
  W1 (requests, 1.1 MB of source), compiling all of it here cost the first run ~80 ms
  more than leaving it to the worker, which runs on the other core while the script
  starts (docs/benchmarks.md);
* past that budget, one detached worker process at low priority (``spawn`` →
  ``worker_main``) compiles the rest after the run has moved on, and links each
  ``.pyc`` into the env as soon as both exist: the script may already be running, and
  imports what is there (Python ignores a missing ``.pyc``; nothing it reads is ever
  partial).

A worker dies with nothing to clean (vpython.store.pyc); entries it did not finish are
compiled by the next run that links them, which finds them without ``.vpython/compiled``.
(``VPYTHON_TEST_KILL_AT=compiling`` makes a worker SIGKILL itself after its first
``.pyc``: the crash-safety tests' way to kill one mid-way.)
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import TYPE_CHECKING

from vpython.faults import checkpoint
from vpython.store.locks import path_lock
from vpython.store.pyc import (
    Drivers,
    compile_entry,
    compile_lock_path,
    compiled_pycs,
    is_compiled,
    link_pyc,
    pending,
    publish,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from concurrent.futures import Future, ThreadPoolExecutor

    from vpython.store.protocols import TargetInterpreter
    from vpython.store.root import Layout

INLINE_BYTES = int(os.environ.get("VPYTHON_COMPILE_INLINE_BYTES", str(64 << 10)))
# A build fetching more than this (wheels, compressed) compiles nothing itself: it is big
# enough that its source will not fit the budget, and compiling the first small packages
# to arrive would only compete with unpacking the big ones.
INLINE_WHEEL_BYTES = 8 << 20
WORKER_NICE = 10
INLINE_NICE = 5  # the run's own drivers yield to its unpacking threads
WORKER_DEADLINE = 600.0  # seconds a worker waits for entries or the env to appear


class _Interp:
    __slots__ = ("cache_tag", "path", "version")

    def __init__(self, path: str, version: tuple[int, ...], cache_tag: str | None) -> None:
        self.path, self.version, self.cache_tag = path, version, cache_tag


class Plan:
    """The compile plan of one env build (see the module docstring). ``entries``: all of
    the env's store entry dirs; ``wheel_bytes``: the size of the wheels of the entries
    not compiled yet (over INLINE_WHEEL_BYTES, the run compiles nothing itself); ``entry_ready`` for each one
    this run publishes, as it does; ``finish`` once all exist, before the env is linked."""

    def __init__(
        self,
        layout: Layout,
        interp: TargetInterpreter,
        env_key: str,
        entries: Sequence[str],
        site_rel: str,
        wheel_bytes: int = 0,
    ) -> None:
        self.layout, self.interp, self.env_key, self.site_rel = layout, interp, env_key, site_rel
        self.entries = list(entries)
        self.budget = INLINE_BYTES if wheel_bytes <= INLINE_WHEEL_BYTES else 0
        self.seen: set[str] = set()
        self.spawned = False
        self.inline = 0  # entries compiled by this run
        self.deferred = 0  # entries left to the worker
        self._drivers: Drivers | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list[Future[bool]] = []
        self._lock = threading.Lock()

    def entry_ready(self, entry: str) -> None:
        """``entry`` is published (or was there already): compile it here while the
        budget lasts, else leave it to the worker (spawned the first time). Called from
        the unpacking threads."""
        with self._lock:
            if entry in self.seen:
                return
            self.seen.add(entry)
            if is_compiled(entry):
                return
            items = pending(entry, self.site_rel, self.interp.cache_tag)
            if not items:
                _mark_compiled(entry)  # nothing to compile (or built by a vpython that compiled inline)
                return
            size = sum(s for _, _, s in items)
            if size <= self.budget:
                self.budget -= size
                self._submit(entry)
            else:  # too big for what is left of the budget: the worker's (smaller ones may still fit)
                self.deferred += 1
                self._spawn()

    def _submit(self, entry: str) -> None:
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._drivers = Drivers(self.interp, self.layout.packages, nice=INLINE_NICE)
            self._pool = ThreadPoolExecutor(max_workers=2)
        self._futures.append(self._pool.submit(self._compile_here, entry))

    def _compile_here(self, entry: str) -> bool:
        """True if compiled here; False if another process holds it (the worker then
        links it into this env when that one is done)."""
        assert self._drivers is not None
        try:
            with path_lock(self.layout, compile_lock_path(self.layout, entry), blocking=False) as got:
                if not got:
                    return False
                if not is_compiled(entry):
                    compile_entry(entry, self.site_rel, self.interp.cache_tag, self._drivers)
        except (OSError, ValueError):
            pass  # a read-only or full store: the env works without .pyc
        return True

    def finish(self) -> str:
        """Every entry exists: settle the rest, wait for what this run compiles. Returns
        what happened, for the progress line: "" (nothing to compile), "compiled", or
        "background"."""
        for entry in self.entries:
            self.entry_ready(entry)
        busy = False
        for f in self._futures:
            busy |= not f.result()
        self._close()
        if busy:
            self._spawn()
        if self.spawned:
            return "background"
        return "compiled" if self._futures else ""

    def _close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._drivers is not None:
            self._drivers.close()
        self._pool = self._drivers = None

    def abort(self) -> None:
        """The build failed: stop compiling (what is done stays valid)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._close()

    def _spawn(self) -> None:
        if self.spawned:
            return
        self.spawned = True
        job: dict[str, object] = {
            "root": self.layout.root,
            "python": self.interp.path,
            "version": list(self.interp.version),
            "cache_tag": self.interp.cache_tag,
            "site_rel": self.site_rel,
            "env": self.env_key,
            "pid": os.getpid(),
            "entries": [os.path.basename(e) for e in self.entries],
        }
        if not spawn(job):
            self.spawned = False  # no detached process here (Windows): compile in this run
            self.budget = 1 << 62
            for entry in self.entries:
                if entry in self.seen and not is_compiled(entry):
                    self._submit(entry)


def resume(
    layout: Layout, interp: TargetInterpreter, env_key: str, entries: Sequence[str], site_rel: str
) -> bool:
    """For a built env: start a worker if one of its entries is still uncompiled (the
    worker that had it was killed, or is still running: the new one then waits for it
    and only links). True if one was started."""
    if all(is_compiled(e) or not os.path.isdir(e) for e in entries):
        return False
    plan = Plan(layout, interp, env_key, entries, site_rel)
    plan._spawn()
    return plan.spawned


def _mark_compiled(entry: str) -> None:
    try:
        publish(entry, [])
    except OSError:
        pass


def spawn(job: dict[str, object]) -> bool:
    """Start ``worker_main(job)`` in a detached process (vpython.store.detach, as the
    background gc sweep is), so it is not a child of the script this process becomes."""
    from vpython.store.detach import run_detached

    return run_detached(
        "vpython-compile",
        "from vpython.store.compiler import worker_main; worker_main(sys.argv[2])",
        [json.dumps(job)],
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but not ours to signal
    return True


def worker_main(job_text: str) -> None:
    """The detached worker: compile the job's entries as they appear (each under its
    compile lock), linking their ``.pyc`` into the env once it is published. Never an
    error to anyone: it has no terminal, and whatever it leaves undone the next run
    that needs it does."""
    try:
        os.nice(WORKER_NICE)
    except (AttributeError, OSError):
        pass
    try:
        _work(json.loads(job_text))
    except Exception:  # noqa: BLE001, S110 - best effort; a missing .pyc only costs time
        pass


def _work(job: dict[str, object]) -> None:
    from vpython.store.locks import flocked, store_lock_path
    from vpython.store.root import Layout

    layout = Layout(str(job["root"]))
    interp = _Interp(str(job["python"]), tuple(job["version"]), job["cache_tag"])  # type: ignore[arg-type]
    site_rel, pid = str(job["site_rel"]), int(job["pid"])  # type: ignore[call-overload]
    env_dir = layout.env_dir(str(job["env"]))
    remaining = [os.path.join(layout.packages, str(n)) for n in job["entries"]]  # type: ignore[attr-defined]
    drivers = Drivers(interp, layout.packages)
    ready = [False]

    def env_ready() -> bool:
        if not ready[0]:
            ready[0] = os.path.isfile(os.path.join(env_dir, "pyvenv.cfg"))
        return ready[0]

    done: list[str] = []
    deadline = time.monotonic() + WORKER_DEADLINE
    try:
        while remaining and time.monotonic() < deadline:
            progressed = False
            for entry in list(remaining):
                if not os.path.isdir(entry):
                    if env_ready() or not _alive(pid):
                        remaining.remove(entry)  # rebuilt or collected, or its run died
                    continue
                # The store lock (shared, as builds hold it): gc's sweep does not delete
                # the entry while .pyc are written into it.
                with (
                    flocked(store_lock_path(layout), exclusive=False),
                    path_lock(layout, compile_lock_path(layout, entry), blocking=False) as got,
                ):
                    if not got:
                        continue  # someone else compiles it: back to it later
                    if not os.path.isdir(entry):
                        continue  # collected meanwhile
                    if not is_compiled(entry):

                        def on_file(rel: str, entry: str = entry) -> None:
                            checkpoint("compiling")  # tests kill the worker here, mid-way
                            if env_ready():
                                link_pyc(env_dir, entry, [rel])

                        compile_entry(entry, site_rel, interp.cache_tag, drivers, on_file)
                remaining.remove(entry)
                done.append(entry)
                progressed = True
                if env_ready():
                    link_pyc(env_dir, entry, compiled_pycs(entry))
            if not progressed and remaining:
                time.sleep(0.05)
        while not env_ready() and _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if env_ready():
            for entry in done:
                link_pyc(env_dir, entry, compiled_pycs(entry))
    finally:
        drivers.close()
