"""Minimal leveled logging to stderr, and the cold run's progress display. Stdlib
``logging`` costs ~20 ms to import, so the warm path uses this instead.

Progress (``progress`` for a phase, ``status`` for the counts) is shown three ways:

* stderr is a terminal, default level: one live line, redrawn in place as packages are
  fetched and unpacked (``vpython: fetching 7/19 packages, 12.3/34.0 MB, 5/19 unpacked,
  building psutil``),
  the way uv and pip draw theirs; it is erased when the run is ready, leaving one
  summary line (``vpython: installed 19 packages in 1.42s``);
* ``-vpython-log-level warning`` or more verbose, or stderr not a terminal (CI logs,
  ``2>file``): a plain line per phase, as issue 14 asks;
* ``-vpython-log-level error`` given explicitly: no progress at all (warnings and
  errors only).

The warm path never starts the display, so it prints nothing.
"""

from __future__ import annotations

import os
import sys

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
_level = [LEVELS["debug"] if os.environ.get("VPYTHON_LOG_TRACE") else LEVELS["error"]]


_progress_off = [False]  # -vpython-log-level error given explicitly: no progress at all


def set_level(name: str | None) -> None:
    if name:
        _level[0] = LEVELS[name]
        _progress_off[0] = name == "error"


class quiet:
    """``with log.quiet():`` silences every message (warnings too) for a rehearsal pass
    whose messages the real pass prints again. A class, not contextlib: no import."""

    def __enter__(self) -> None:
        self._saved = _level[0]
        _level[0] = 1000

    def __exit__(self, *exc: object) -> None:
        _level[0] = self._saved


def enabled(name: str) -> bool:
    return LEVELS[name] >= _level[0]


def _write(text: str) -> None:
    status.clear()  # a message never lands in the middle of the live line
    sys.stderr.write(text)
    sys.stderr.flush()


def _emit(name: str, msg: str) -> None:
    if LEVELS[name] >= _level[0]:
        _write(f"vpython: {name}: {msg}\n" if name != "info" else f"vpython: {msg}\n")


def debug(msg: str) -> None:
    _emit("debug", msg)


def info(msg: str) -> None:
    _emit("info", msg)


def warning(msg: str) -> None:
    # Warnings are shown at the default level too: they are about the user's files, which
    # may quote hostile input: long lines are cut as in errors.
    if LEVELS["warning"] >= _level[0] or _level[0] == LEVELS["error"]:
        if len(msg) > _MAX_WARNING:  # (vpython.errors cuts each line of an error the same way)
            msg = f"{msg[:800]} ... [{len(msg) - 1000} characters cut] ... {msg[-200:]}"
        _write(f"vpython: warning: {msg}\n")


def _plain() -> bool:
    """Phase lines, one per phase: at -vpython-log-level warning or more verbose, and at
    the default level when stderr is not a terminal (a CI log shows what a slow first
    run was doing; the live line would be noise there)."""
    if _level[0] <= LEVELS["warning"]:
        return True
    if _level[0] > LEVELS["error"] or _progress_off[0]:  # log.quiet(), or asked for errors only
        return False
    try:
        return not sys.stderr.isatty()
    except (AttributeError, ValueError):
        return True


_MAX_WARNING = 4000


def progress(msg: str) -> None:
    """A phase of long work (resolving, fetching, building, assembling): a plain line
    (``_plain``), or the live line's text on a terminal."""
    if _plain():
        _write(f"vpython: {msg}\n")
    else:
        status.phase(msg)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f}"


class Status:
    """The live progress line of one cold run (see the module docstring).

    ``start`` turns it on when stderr is a terminal at the default level; every other
    method is then safe to call from any thread, and a no-op when it is off. Redraws
    are throttled to one per ``INTERVAL`` seconds, except when the phase changes."""

    INTERVAL = 0.08

    def __init__(self) -> None:
        self.live = False
        self._drawn = False
        self._phase = ""
        self._fetch = self._fetched = self._bytes = self._total_bytes = 0
        self._unpack = self._unpacked = 0
        self._building: list[str] = []
        self._built = 0
        self._last = 0.0
        self._t0 = 0.0
        self._lock: object = None

    def start(self) -> None:
        """Called once the warm path has missed and a cold build begins."""
        if self.live or _plain() or _level[0] > LEVELS["error"] or _progress_off[0]:
            return
        try:
            if not sys.stderr.isatty():
                return
        except (AttributeError, ValueError):
            return
        import threading
        import time

        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self.live = True

    def expect(self, *, fetch: int = 0, nbytes: int = 0, unpack: int = 0) -> None:
        """More work is known: ``fetch`` downloads of ``nbytes`` in all, ``unpack`` wheels."""
        if self.live:
            with self._lock:  # type: ignore[attr-defined]
                self._fetch += fetch
                self._total_bytes += nbytes
                self._unpack += unpack
            self._draw()

    def advance(self, *, nbytes: int = 0, fetched: int = 0, unpacked: int = 0) -> None:
        if self.live:
            with self._lock:  # type: ignore[attr-defined]
                self._bytes += nbytes
                self._fetched += fetched
                self._unpacked += unpacked
            self._draw(force=bool(fetched or unpacked))

    def building(self, name: str, done: bool = False) -> None:
        """The hook for wheels built from sdists: ``building(name)`` when a build starts,
        ``building(name, done=True)`` when it ends (either way)."""
        if self.live:
            with self._lock:  # type: ignore[attr-defined]
                if done:
                    if name in self._building:
                        self._building.remove(name)
                        self._built += 1
                else:
                    self._building.append(name)
            self._draw(force=True)

    def phase(self, msg: str) -> None:
        if self.live:
            self._phase = msg
            self._draw(force=True)

    def _text(self) -> str:
        """The phase's own text, or while packages are still coming in, its first word
        and the counts: ``fetching 7/19 packages, 12.3/34.0 MB, 5/19 unpacked``."""
        busy = self._fetched < self._fetch or self._unpacked < self._unpack or self._building
        if not busy:
            return f"vpython: {self._phase}"
        parts = []
        if self._fetch:
            parts.append(f"{self._fetched}/{self._fetch} packages")
        if self._total_bytes:
            parts.append(f"{_mb(min(self._bytes, self._total_bytes))}/{_mb(self._total_bytes)} MB")
        elif self._bytes:
            parts.append(f"{_mb(self._bytes)} MB")
        if self._unpack:
            parts.append(f"{self._unpacked}/{self._unpack} unpacked")
        if self._building:
            parts.append(f"building {', '.join(self._building)}")
        if self._built:
            parts.append(f"{self._built} built")
        word = self._phase.split(" ", 1)[0] if self._phase else "working"
        return f"vpython: {word} {', '.join(parts)}"

    def _draw(self, force: bool = False) -> None:
        import time

        now = time.monotonic()
        with self._lock:  # type: ignore[attr-defined]
            if not force and now - self._last < self.INTERVAL:
                return
            self._last = now
            text = self._text()
            try:
                width = os.get_terminal_size(sys.stderr.fileno()).columns or 80  # 0: size unknown
            except (OSError, ValueError, AttributeError):
                width = 80
            if len(text) >= width:
                text = text[: max(width - 2, 10)] + "…"
            try:
                sys.stderr.write(f"\r{text}\x1b[K")
                sys.stderr.flush()
            except (OSError, ValueError):
                return
            self._drawn = True

    def clear(self) -> None:
        """Erase the live line (before another message, or at the end)."""
        if self.live and self._drawn:
            try:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            self._drawn = False

    def finish(self, packages: int | None = None) -> None:
        """End of the cold build: erase the line; with ``packages``, the build succeeded
        and installed that many: say so in one line that stays."""
        if not self.live:
            return
        import time

        self.clear()
        self.live = False
        if packages:
            seconds = time.monotonic() - self._t0
            sys.stderr.write(f"vpython: installed {packages} package(s) in {seconds:.2f}s\n")
            sys.stderr.flush()


status = Status()
