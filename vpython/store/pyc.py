"""Byte-compiling a published store entry in place, and linking its ``.pyc`` into envs.

An entry is published (vpython.store.packages) before it is compiled; compiling adds to
it without ever making it inconsistent, so it may happen at any time after, in any
process (the run itself for small entries, a detached worker for large ones:
vpython.store.compiler), and be killed at any point:

1. the target interpreter compiles each ``.py`` of site-packages that the manifest lists
   without its ``.pyc``, to a temp file beside the final name, which it makes read-only
   and renames into place (``_DRIVER``): a ``.pyc`` exists whole or not at all;
2. ``.vpython/link.json`` gains the new ``__pycache__`` dirs, then ``.vpython/manifest``
   gains the new files, each by one ``os.replace``; a reader of the manifest (``link_entry``,
   ``entry_intact``, ``cache verify``) sees either the old list or one whose every file
   exists, read-only, as listed (link.json first: a reader that sees the new manifest
   finds the dirs too);
3. ``.vpython/compiled`` marks the entry done.

One compiler per entry at a time (``compile_lock``); a killed one leaves at most temp
files inside the entry's ``__pycache__`` dirs, which no manifest lists and the next
compiler of that entry removes. Python ignores a missing ``.pyc``, so an env linked
before (or while) its entries are compiled is correct, only slower to import; once they
are, ``link_pyc`` adds the ``.pyc`` to it (hardlinks, atomically, touching
``ENV_STAMP`` first so ``cache verify`` knows these files came later, not from an edit).
Envs built after an entry is compiled get its ``.pyc`` from the manifest, as any file.

The driver is plain Python 2.7/3.x (``py_compile``, no compileall flags), run by the
target interpreter. Timestamp-based ``.pyc`` (``SOURCE_DATE_EPOCH`` removed): they
record the source's mtime and size, which every env's hardlink of the source shares.
"""

from __future__ import annotations

import json
import os
import threading
from typing import TYPE_CHECKING

from vpython import fs
from vpython.store.manifest import LINK_INFO, MANIFEST, META_DIR, read_manifest

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable, Sequence

    from vpython.store.protocols import TargetInterpreter
    from vpython.store.root import Layout

COMPILED = "compiled"  # <entry>/.vpython/compiled: every .py that compiles has its .pyc listed
ENV_STAMP = ".vpython-pyc"  # <env>/.vpython-pyc: touched before .pyc are linked into a built env
_TEST_DIRS = frozenset(("tests", "test", "testing"))

# Reads "source<TAB>pyc" lines, answers "1" (compiled) or "0" per line. Python 2.7 and 3.
_DRIVER = r"""
import os, sys, py_compile
if len(sys.argv) > 1 and sys.argv[1] != '0':
    try:
        os.nice(int(sys.argv[1]))
    except (AttributeError, OSError):
        pass
inp = getattr(sys.stdin, 'buffer', sys.stdin)
py3 = sys.version_info[0] >= 3
for line in iter(inp.readline, b''):
    ok = '0'
    parts = line.rstrip(b'\n').split(b'\t')
    if len(parts) == 2:
        src, cfile = parts
        if py3:
            src, cfile = os.fsdecode(src), os.fsdecode(cfile)
        tmp = '%s.%d.tmp' % (cfile, os.getpid())
        try:
            if not os.path.isdir(os.path.dirname(cfile)):
                try:
                    os.mkdir(os.path.dirname(cfile))
                except OSError:
                    pass
            py_compile.compile(src, cfile=tmp, doraise=True)
            os.chmod(tmp, 292)
            os.rename(tmp, cfile)
            ok = '1'
        except Exception:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    sys.stdout.write(ok + '\n')
    sys.stdout.flush()
"""


def compile_lock_path(layout: Layout, entry: str) -> str:
    return os.path.join(os.path.dirname(layout.packages), "compiling", os.path.basename(entry) + ".lock")


def is_compiled(entry: str) -> bool:
    return os.path.exists(os.path.join(entry, META_DIR, COMPILED))


def cache_rel(src_rel: str, cache_tag: str | None) -> str:
    """Where the interpreter looks for the ``.pyc`` of ``src_rel`` (PEP 3147; beside the
    source for Python 2: its ``cache_tag`` is None, or the ``cpython-27`` that
    vpython.interpreters.probe names its store entries with, as 2.7 has no __pycache__)."""
    if not cache_tag or cache_tag.startswith("cpython-2"):
        return src_rel + "c"
    head, name = os.path.split(src_rel)
    return os.path.join(head, "__pycache__", f"{name[:-3]}.{cache_tag}.pyc")


def _is_test(rel: str) -> bool:
    parts = rel.split(os.sep)
    return bool(_TEST_DIRS.intersection(parts[:-1])) or parts[-1].startswith("test_")


def pending(entry: str, site_rel: str, cache_tag: str | None) -> list[tuple[str, str, int]]:
    """(source, pyc, source size) of each ``.py`` in the entry's site-packages whose
    ``.pyc`` its manifest does not list; test modules last (a script imports them least)."""
    try:
        manifest = read_manifest(entry)
    except (OSError, ValueError):
        return []
    listed = {rel for rel, _, _ in manifest}
    prefix = site_rel + os.sep
    out = []
    for rel, size, _ in manifest:
        # A name with a tab or newline would break the driver's line protocol: not compiled.
        if rel.endswith(".py") and rel.startswith(prefix) and not any(c in rel for c in "\t\n\r\0"):
            pyc = cache_rel(rel, cache_tag)
            if pyc not in listed:
                out.append((rel, pyc, size))
    out.sort(key=lambda t: _is_test(t[0]))
    return out


def source_bytes(entry: str, site_rel: str, cache_tag: str | None) -> int:
    return sum(size for _, _, size in pending(entry, site_rel, cache_tag))


class Drivers:
    """Up to ``jobs`` driver processes of the target interpreter, started on first use.
    Thread-safe: ``compile`` may be called from several threads at once."""

    def __init__(self, interp: TargetInterpreter, cwd: str, jobs: int | None = None, nice: int = 0) -> None:
        self.python = interp.path
        self.flags = ["-I"] if tuple(interp.version[:2]) >= (3, 4) else ["-E", "-s"]
        self.cwd, self.nice = cwd, nice
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self._idle: list[subprocess.Popen[bytes]] = []
        self._all: list[subprocess.Popen[bytes]] = []
        self._cond = threading.Condition()

    def _start(self) -> subprocess.Popen[bytes]:
        import subprocess

        env = {
            k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "PYTHONPATH", "PYTHONHOME")
        }
        return subprocess.Popen(
            [self.python, *self.flags, "-c", _DRIVER, str(self.nice)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self.cwd,
            env=env,
        )

    def _take(self) -> subprocess.Popen[bytes] | None:
        with self._cond:
            while not self._idle:
                if len(self._all) < self.jobs:
                    try:
                        proc = self._start()
                    except OSError:
                        return None
                    self._all.append(proc)
                    return proc
                self._cond.wait()
            return self._idle.pop()

    def _give(self, proc: subprocess.Popen[bytes] | None) -> None:
        with self._cond:
            if proc is not None:
                if proc.poll() is None:
                    self._idle.append(proc)
                else:
                    self._all.remove(proc)
            self._cond.notify()

    def _one(self, proc: subprocess.Popen[bytes], src: str, pyc: str) -> bool:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(os.fsencode(src) + b"\t" + os.fsencode(pyc) + b"\n")
        proc.stdin.flush()
        return proc.stdout.readline().strip() == b"1"

    def compile(
        self, items: Sequence[tuple[str, str]], on_done: Callable[[int], None] | None = None
    ) -> list[bool]:
        """Compile each (source, pyc) (absolute paths); which ones succeeded. ``on_done(i)``
        is called (from a worker thread) as item ``i`` is in place."""
        results = [False] * len(items)
        it = iter(range(len(items)))
        lock = threading.Lock()

        def work() -> None:
            proc = self._take()
            try:
                while proc is not None:
                    with lock:
                        i = next(it, None)
                    if i is None:
                        return
                    try:
                        results[i] = self._one(proc, *items[i])
                    except (OSError, ValueError):  # the driver died: this item is lost, the rest go on
                        self._give(proc)
                        proc = self._take()
                        continue
                    if results[i] and on_done is not None:
                        on_done(i)
            finally:
                self._give(proc)

        threads = [threading.Thread(target=work, daemon=True) for _ in range(min(self.jobs, len(items)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    def close(self) -> None:
        with self._cond:
            procs, self._all, self._idle = self._all, [], []
        for proc in procs:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
                proc.wait(timeout=10)
            except Exception:  # noqa: BLE001 - a stuck driver is killed, never waited on forever
                proc.kill()


def _remove_stale_temps(entry: str, items: Sequence[tuple[str, str, int]]) -> None:
    """Temp files of a compiler killed while writing (``<pyc>.<pid>.tmp``): the caller
    holds the entry's compile lock, so no live compiler owns them."""
    seen = set()
    for _, pyc, _ in items:
        d = os.path.join(entry, os.path.dirname(pyc))
        if d in seen:
            continue
        seen.add(d)
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for name in names:
            if name.endswith(".tmp") and ".pyc." in name:
                try:
                    os.unlink(os.path.join(d, name))
                except OSError:
                    pass


def compile_entry(
    entry: str,
    site_rel: str,
    cache_tag: str | None,
    drivers: Drivers,
    on_file: Callable[[str], None] | None = None,
) -> list[str]:
    """Compile what ``entry`` lacks and publish it (module docstring); the caller holds
    the entry's compile lock. ``on_file(pyc rel)`` is called as each ``.pyc`` lands.
    Returns the rel paths of the ``.pyc`` added."""
    items = pending(entry, site_rel, cache_tag)
    _remove_stale_temps(entry, items)
    done: list[str] = []
    if items:
        paths = [(os.path.join(entry, src), os.path.join(entry, pyc)) for src, pyc, _ in items]
        callback = None if on_file is None else (lambda i: on_file(items[i][1]))
        results = drivers.compile(paths, callback)
        done = [pyc for (_, pyc, _), ok in zip(items, results) if ok]
    publish(entry, done)
    return done


def publish(entry: str, new: Sequence[str]) -> None:
    """List the ``.pyc`` ``new`` (rel paths, already in place) in the entry's link info
    and manifest, then mark the entry compiled."""
    meta = os.path.join(entry, META_DIR)
    if new:
        lines, dirs = [], set()
        for rel in new:
            st = os.lstat(os.path.join(entry, rel))
            if st.st_mode & 0o222:  # written by a driver that could not chmod: freeze it
                os.chmod(os.path.join(entry, rel), st.st_mode & ~0o222 & 0o7777)
                st = os.lstat(os.path.join(entry, rel))
            lines.append(f"{rel}\t{st.st_size}\t{st.st_mtime_ns}\n")
            dirs.add(os.path.dirname(rel))
        info_path = os.path.join(meta, LINK_INFO)
        try:
            with open(info_path, encoding="utf-8") as f:
                info = json.load(f)
        except FileNotFoundError:
            info = None  # an entry from before link.json: its dirs are read from the manifest
        if info is not None:
            known = set(info["dirs"])
            info["dirs"] += sorted(d for d in dirs if d and d not in known)  # parents are listed already
            fs.write_atomic(info_path, json.dumps(info), prefix=".tmp-")
        with open(os.path.join(meta, MANIFEST), encoding="utf-8") as f:
            text = f.read()
        if text and not text.endswith("\n"):
            text += "\n"
        fs.write_atomic(os.path.join(meta, MANIFEST), text + "".join(lines), prefix=".tmp-")
    with open(os.path.join(meta, COMPILED), "w", encoding="utf-8"):
        pass


def compiled_pycs(entry: str) -> list[str]:
    """The ``.pyc`` an entry's manifest lists (rel paths)."""
    try:
        return [rel for rel, _, _ in read_manifest(entry) if rel.endswith(".pyc")]
    except (OSError, ValueError):
        return []


def link_pyc(env_dir: str, entry: str, rels: Sequence[str]) -> int:
    """Hardlink (copy across file systems) the entry's ``.pyc`` ``rels`` into the built
    env ``env_dir``, each by one rename over whatever is there (a ``.pyc`` the
    interpreter wrote itself, say); only where the env holds the source. Touches
    ``ENV_STAMP`` first. Returns how many were linked; errors skip the file."""
    if not rels:
        return 0
    try:
        with open(os.path.join(env_dir, ENV_STAMP), "a"):
            pass
        os.utime(os.path.join(env_dir, ENV_STAMP))
    except OSError:
        return 0  # the env is gone (pruned) or read-only
    linked = 0
    for rel in rels:
        src, dst = os.path.join(entry, rel), os.path.join(env_dir, rel)
        try:
            st = os.lstat(src)
            try:
                dt = os.lstat(dst)
                if (dt.st_dev, dt.st_ino) == (st.st_dev, st.st_ino):
                    continue
            except FileNotFoundError:
                pass
            if not _env_has_source(env_dir, rel):
                continue
            # One level only (__pycache__): never recreate the env's dirs above it, in
            # an env that was just deleted (renamed away) by gc or pruning.
            if os.path.basename(os.path.dirname(dst)) == "__pycache__":
                try:
                    os.mkdir(os.path.dirname(dst))
                except FileExistsError:
                    pass
            tmp = f"{dst}.{os.getpid()}.vpython-tmp"
            try:
                os.link(src, tmp)
            except OSError:
                import shutil

                shutil.copy2(src, tmp)
            os.replace(tmp, dst)
            linked += 1
        except OSError:
            continue
    return linked


def _env_has_source(env_dir: str, pyc_rel: str) -> bool:
    head, name = os.path.split(pyc_rel)
    if os.path.basename(head) == "__pycache__":
        src = os.path.join(os.path.dirname(head), name.split(".", 1)[0] + ".py")
    else:
        src = pyc_rel[:-1]
    return os.path.exists(os.path.join(env_dir, src))
