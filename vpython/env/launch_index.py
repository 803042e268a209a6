"""The launch index: what the native launcher (``launcher/``) checks instead of running Python.

A warm run through the Python path costs one CPython start before the env's own one. The
native launcher avoids it by trusting an *entry* this module writes after a run that the
launcher handed over (it sets ``VPYTHON_LAUNCHER_MISS``; ``cli/run.py`` removes it from
the environment and calls ``record``). The entry lists every fact the Python path's
answer rested on, so that a few ``stat`` calls tell the launcher whether the Python path
would still reach the same env:

- the identity (dev, inode, size, mtime, ctime) of every file whose *content* mattered:
  the spec file, the script (its text decides whether it has an inline block), the
  lockfile, the user config file, and the spec pointer ``specs/<digest>``;
- the paths discovery looked at and found empty (partner files, ``.vpython3`` /
  ``vpython.toml`` on the walk up) and the ``.gclient`` barriers, present or absent;
- the script's real path (a retargeted symlink changes where discovery looks);
- the environment variables the spec digest or discovery read (unset and empty differ);
- the interpreter identity the pointer was made with, and the env key to exec.

Format (line based, versioned by the first line; ``%XX`` escapes every byte outside
0x21-0x7e and ``%`` in a field)::

    vpython-launch-index 1
    version 0.1.0
    platform linux x86_64
    root /home/u/.cache/vpython-root.1000
    key script%20/src/tool.py
    env VPYTHON_INDEX_URL =http://...    |  unset VPYTHON_OFFLINE
    realpath /src/tool.py /src/tool.py
    file DEV INO SIZE MTIME_NS CTIME_NS /src/tool.py
    nofile /src/tool.py.vpython3          (not a regular file: discovery went past it)
    exists /src/.gclient | absent /src/pylock.tool.toml
    interpreter SIZE:MTIME_NS:INO /usr/bin/python3.11
    exec <env key>
    end

One file per target, ``<root>/v1/launch/<fnv-1a 64 of "<platform> <machine>\\n<key>">``,
where the key is ``script <abspath>`` or, for ``-m`` / ``-c`` / stdin (discovery starts
from the working directory), ``cwd <cwd>``. Written with ``fs.write_atomic``.

Only files that have not changed for ``MARGIN_NS`` are trusted by identity (a write in the
same timestamp tick as the one we saw would keep size and mtime), and the entry is written
only if discovery, run again *after* the stats were taken, gives the same spec digest: a
file changed while vpython ran (a cold build can take minutes) leaves an entry that can
never match, not a wrong one. Stdlib only; imported only when the launcher asked.
"""

from __future__ import annotations

import os
import stat as _stat
import sys
import time

from vpython import __version__, log
from vpython.env import fastpath
from vpython.fs import write_atomic
from vpython.interpreters.identity import interpreter_id
from vpython.settings import SETTINGS_ENV, config_path
from vpython.spec import discover as disc
from vpython.store.root import Layout

MAGIC = "vpython-launch-index 1"
MISS_ENV = "VPYTHON_LAUNCHER_MISS"  # set by the launcher when it hands a plain run over
# Read by the spec digest (SETTINGS_ENV), discovery (VPYTHON_DEFAULT_SPEC) and
# settings.config_path (XDG_CONFIG_HOME, HOME via expanduser).
RECORDED_ENV = SETTINGS_ENV + ("VPYTHON_DEFAULT_SPEC", "XDG_CONFIG_HOME", "HOME")
# Older than this, a file's identity stands for its content (2 s: FAT's granularity).
MARGIN_NS = 2_000_000_000
# What vpython/spec/inline.py looks for before anything else: a -c command holding
# either may carry its own spec, which the index does not describe.
INLINE_MARKERS = ("# /// script", "[VPYTHON:BEGIN]")
MAX_ENTRIES = 1000  # more than this and the oldest are dropped (they cost one slow run)
PLATFORMS = ("linux", "darwin")  # where launcher/ builds


class _Skip(Exception):
    """No entry can be written safely; the launcher keeps handing this run over."""


def _esc(s: str) -> str:
    return "".join(chr(c) if 0x21 <= c <= 0x7E and c != 0x25 else f"%{c:02X}" for c in os.fsencode(s))


def _fnv1a(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for c in data:
        h = ((h ^ c) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def entry_path(layout: Layout, key: str) -> str:
    """Where the entry for ``key`` (``script <abspath>`` / ``cwd <cwd>``) lives."""
    head = f"{sys.platform} {os.uname().machine}\n"
    return os.path.join(layout.base, "launch", _fnv1a(os.fsencode(head + key)))


def entry_key(target_kind: str, target: str | None, cwd: str) -> str | None:
    """The index key for a python command line, or None when the launcher serves no such run."""
    if target_kind == "script" and target is not None:
        return "script " + os.path.abspath(target)
    if target_kind in ("module", "stdin"):
        return "cwd " + cwd
    if target_kind == "command" and target is not None and not any(m in target for m in INLINE_MARKERS):
        return "cwd " + cwd
    return None


class _Trace:
    """The entry's lines, each checked now as the launcher will check it later."""

    def __init__(self, now_ns: int) -> None:
        self.lines: list[str] = []
        self.now_ns = now_ns

    def file(self, path: str, *, settled: bool = True) -> os.stat_result:
        st = os.stat(path)
        if not _stat.S_ISREG(st.st_mode):
            raise _Skip(f"{path} is not a regular file")
        if settled and not st.st_mtime_ns < self.now_ns - MARGIN_NS:
            raise _Skip(f"{path} changed in the last {MARGIN_NS // 10**9} s")
        self.lines.append(
            f"file {st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {_esc(path)}"
        )
        return st

    def nofile(self, path: str) -> None:
        """discover._is_file(path) was false: no regular file there."""
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            pass
        else:
            if _stat.S_ISREG(st.st_mode):
                raise _Skip(f"{path} appeared while vpython ran")
        self.lines.append(f"nofile {_esc(path)}")

    def barrier(self, path: str) -> bool:
        """discover._exists(path), recorded either way."""
        try:
            os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            self.lines.append(f"absent {_esc(path)}")
            return False
        self.lines.append(f"exists {_esc(path)}")
        return True

    def file_or_absent(self, path: str) -> None:
        """A file read by the spec digest (fastpath._file_bytes): its bytes, or nothing."""
        try:
            os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            self.lines.append(f"absent {_esc(path)}")
            return
        self.file(path)

    def realpath(self, path: str) -> str:
        real = os.path.realpath(path)
        self.lines.append(f"realpath {_esc(path)} {_esc(real)}")
        return real


def _walk(t: _Trace, start: str, winner: str | None) -> bool:
    """discover._walk, recorded; True when it stopped at ``winner``."""
    d = start
    while True:
        for name in disc.COMMON_NAMES:
            candidate = os.path.join(d, name)
            if candidate == winner:
                t.file(candidate)
                return True
            t.nofile(candidate)
        if t.barrier(os.path.join(d, disc.BARRIER)):
            return False
        parent = os.path.dirname(d)
        if parent == d:
            return False
        d = parent


def _default(t: _Trace, discovered: disc.DiscoveredSpec) -> None:
    """Nothing found on the way: VPYTHON_DEFAULT_SPEC, else the empty spec."""
    default = os.environ.get("VPYTHON_DEFAULT_SPEC") or None
    if default is None:
        if discovered.kind != disc.EMPTY_KIND:
            raise _Skip("discovery and the index disagree")
        return
    if not os.path.isabs(default):
        raise _Skip("VPYTHON_DEFAULT_SPEC is relative (the answer depends on the working directory)")
    if os.path.abspath(default) != discovered.path:
        raise _Skip("discovery and the index disagree")
    t.file(discovered.path)


def _trace_script(t: _Trace, target: str, discovered: disc.DiscoveredSpec) -> None:
    """discover._for_script for a file target (package directories: no entry)."""
    given = os.path.abspath(target)
    if not _stat.S_ISREG(os.stat(given).st_mode):
        raise _Skip(f"{target} is not a regular file")
    real = t.realpath(given)
    winner = discovered.path
    for base in (given, real) if real != given else (given,):
        partner = base + disc.PARTNER_SUFFIX
        if partner == winner:
            t.file(partner)
            return
        t.nofile(partner)
    t.file(real)  # its text decided whether it carries an inline block
    if winner == real:
        return
    if not _walk(t, os.path.dirname(real), winner):
        _default(t, discovered)


def _trace_cwd(t: _Trace, cwd: str, discovered: disc.DiscoveredSpec) -> None:
    """discover.discover for -m / -c / stdin: partner of the working directory, then the walk."""
    real = t.realpath(cwd)
    for base in (cwd, real):
        partner = base.rstrip(os.sep) + disc.PARTNER_SUFFIX
        if partner == discovered.path:
            t.file(partner)
            return
        t.nofile(partner)
    if not _walk(t, real, discovered.path):
        _default(t, discovered)


def build_entry(
    layout: Layout,
    target_kind: str,
    target: str | None,
    cwd: str,
    discovered: disc.DiscoveredSpec,
    digest: str,
    pointer: fastpath.Pointer,
    settings: tuple[str, ...],
) -> tuple[str, str]:
    """(entry path, entry text) for this run; raises _Skip or OSError when none is safe."""
    if sys.platform not in PLATFORMS:
        raise _Skip(f"no launcher on {sys.platform}")
    key = entry_key(target_kind, target, cwd)
    if key is None:
        raise _Skip(f"the launcher does not serve {target_kind} runs")
    t = _Trace(time.time_ns())
    t.lines += [
        MAGIC,
        f"version {_esc(__version__)}",
        f"platform {sys.platform} {_esc(os.uname().machine)}",
        f"root {_esc(layout.root)}",
        f"key {_esc(key)}",
    ]
    for name in RECORDED_ENV:
        value = os.environ.get(name)
        # "=" first: an empty value is still a field.
        t.lines.append(f"unset {name}" if value is None else f"env {name} ={_esc(value)}")
    if target_kind == "script":
        _trace_script(t, target or "", discovered)
    else:
        _trace_cwd(t, cwd, discovered)
    if discovered.lock_path:
        t.file_or_absent(discovered.lock_path)
    t.file_or_absent(config_path())
    # The pointer is replaced by rename, never rewritten: its identity pins its content.
    pointer_path = layout.spec_pointer(digest)
    before = t.file(pointer_path, settled=False)
    on_disk = fastpath.Pointer.load(pointer_path)
    after = os.stat(pointer_path)
    if (
        on_disk is None
        or (before.st_dev, before.st_ino) != (after.st_dev, after.st_ino)
        or (on_disk.env_key, on_disk.interpreter, on_disk.interpreter_id)
        != (pointer.env_key, pointer.interpreter, pointer.interpreter_id)
    ):
        raise _Skip("the spec pointer changed while vpython ran")
    if interpreter_id(pointer.interpreter) != pointer.interpreter_id:
        raise _Skip("the interpreter changed while vpython ran")
    t.lines.append(f"interpreter {_esc(pointer.interpreter_id)} {_esc(pointer.interpreter)}")
    t.lines.append(f"exec {_esc(pointer.env_key)}")
    # Discovery again, after every stat above: same digest, so the identities recorded
    # belong to the content this env was chosen for.
    again = disc.discover(
        target_kind=target_kind,
        target=target,
        cwd=cwd,
        default_spec=os.environ.get("VPYTHON_DEFAULT_SPEC") or None,
    )
    if (again.kind, again.path) != (discovered.kind, discovered.path) or fastpath.spec_digest(
        again.kind, again.text, again.lock_path, settings, config_path()
    ) != digest:
        raise _Skip("the spec changed while vpython ran")
    t.lines.append("end")
    return entry_path(layout, key), "\n".join(t.lines) + "\n"


def record(
    layout: Layout,
    target_kind: str,
    target: str | None,
    cwd: str,
    discovered: disc.DiscoveredSpec,
    digest: str,
    pointer: fastpath.Pointer,
    settings: tuple[str, ...],
    reason: str,
) -> None:
    """Write (or refresh) the entry for a run the launcher handed over. Never raises:
    without an entry the next run simply takes the Python path again."""
    from vpython.errors import VPythonError

    log.debug(f"launcher: {reason}")
    try:
        path, text = build_entry(layout, target_kind, target, cwd, discovered, digest, pointer, settings)
        data = text.encode("ascii")
        try:
            with open(path, "rb") as f:
                if f.read() == data:
                    return
            new = False
        except FileNotFoundError:
            new = True
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomic(path, data)
    except _Skip as e:
        log.debug(f"launch index: no entry: {e}")
        return
    except (OSError, VPythonError) as e:
        log.debug(f"launch index: no entry: {e}")
        return
    log.debug(f"launch index: wrote {path}")
    if new:
        _prune(os.path.dirname(path))


def _prune(directory: str) -> None:
    """Keep the index bounded: one entry per target ever run would otherwise accumulate.
    A dropped entry costs its target one Python-path run."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    now = time.time()
    aged = []
    for name in names:
        path = os.path.join(directory, name)
        try:
            mtime = os.lstat(path).st_mtime
        except OSError:
            continue
        if name.startswith("."):
            if now - mtime > 3600:  # a writer killed between create and rename
                _unlink(path)
        else:
            aged.append((mtime, path))
    if len(aged) > MAX_ENTRIES:
        for _, path in sorted(aged)[: len(aged) - MAX_ENTRIES * 3 // 4]:
            _unlink(path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
