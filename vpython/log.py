"""Minimal leveled logging to stderr. Stdlib ``logging`` costs ~20 ms to import, so the
warm path uses this instead."""

from __future__ import annotations

import os
import sys

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
_level = [LEVELS["debug"] if os.environ.get("VPYTHON_LOG_TRACE") else LEVELS["error"]]


def set_level(name: str | None) -> None:
    if name:
        _level[0] = LEVELS[name]


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


def _emit(name: str, msg: str) -> None:
    if LEVELS[name] >= _level[0]:
        sys.stderr.write(f"vpython: {name}: {msg}\n" if name != "info" else f"vpython: {msg}\n")


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
        sys.stderr.write(f"vpython: warning: {msg}\n")


_MAX_WARNING = 4000


def progress(msg: str) -> None:
    """Long work (downloads, builds) is announced when a person is watching."""
    if _level[0] <= LEVELS["info"] or (_level[0] <= LEVELS["error"] and sys.stderr.isatty()):
        sys.stderr.write(f"vpython: {msg}\n")
        sys.stderr.flush()
