"""vpython.log: levels, and the cold run's progress (live line on a terminal, plain lines)."""

from __future__ import annotations

import io

import pytest

from vpython import log


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def stderr(monkeypatch):
    def make(tty: bool, level: str | None = None):
        stream = _Tty() if tty else io.StringIO()
        monkeypatch.setattr(log.sys, "stderr", stream)
        monkeypatch.setattr(log, "status", log.Status())
        monkeypatch.setattr(log, "_level", [log.LEVELS[level or "error"]])
        monkeypatch.setattr(log, "_progress_off", [False])
        return stream

    return make


def _frames(text: str) -> list[str]:
    return [f[: -len("\x1b[K")] for f in text.split("\r") if f.endswith("\x1b[K") and f != "\x1b[K"]


def test_a_terminal_gets_one_live_line_with_counts_builds_and_a_summary(stderr, monkeypatch):
    out = stderr(tty=True)
    monkeypatch.setattr(log.Status, "INTERVAL", 0.0)  # draw every update
    log.status.start()
    log.progress("resolving 3 requirement(s)")
    log.status.expect(fetch=2, nbytes=3_000_000, unpack=2)
    log.progress("fetching 2 wheel(s) (3.0 MB)")
    log.status.advance(nbytes=1_500_000)
    log.status.advance(fetched=1, unpacked=1)
    log.status.building("psutil 5.8.0")  # the hook sdist builds call
    log.warning("careful")  # a message erases the line first, never lands inside it
    log.status.building("psutil 5.8.0", done=True)
    log.status.advance(nbytes=1_500_000, fetched=1, unpacked=1)
    log.progress("assembling env abc (2 package(s))")
    log.status.finish(packages=2)
    text = out.getvalue()
    frames = _frames(text)
    assert frames[0] == "vpython: resolving 3 requirement(s)"
    assert "vpython: fetching 0/2 packages, 1.5/3.0 MB, 0/2 unpacked" in frames
    assert "vpython: fetching 1/2 packages, 1.5/3.0 MB, 1/2 unpacked, building psutil 5.8.0" in frames
    assert frames[-1] == "vpython: assembling env abc (2 package(s))"
    assert "\r\x1b[Kvpython: warning: careful\n" in text
    assert text.endswith("\r\x1b[Kvpython: installed 2 package(s) in " + text.rsplit(" in ", 1)[1])
    assert not log.status.live


@pytest.mark.parametrize("level", ["info", "warning"])
def test_asked_for_it_a_pipe_or_terminal_gets_plain_phase_lines(stderr, level):
    for tty in (False, True):
        out = stderr(tty=tty, level=level)
        log.status.start()
        log.progress("resolving 1 requirement(s)")
        log.status.expect(fetch=1, nbytes=10, unpack=1)
        log.status.advance(nbytes=10, fetched=1, unpacked=1)
        log.status.finish(packages=1)
        assert out.getvalue() == "vpython: resolving 1 requirement(s)\n"


def test_the_default_level_in_a_pipe_shows_plain_phase_lines(stderr):
    # Issue 14: plain lines when stderr is not a terminal (a CI log), no live line.
    out = stderr(tty=False)
    log.status.start()
    log.progress("resolving 1 requirement(s)")
    log.status.expect(fetch=1)
    log.status.building("x")
    log.status.finish(packages=1)
    assert out.getvalue() == "vpython: resolving 1 requirement(s)\n"


@pytest.mark.parametrize("tty", [True, False])
def test_log_level_error_given_explicitly_shows_no_progress(stderr, tty):
    out = stderr(tty=tty)
    log.set_level("error")
    log.status.start()
    log.progress("resolving 1 requirement(s)")
    log.status.expect(fetch=1)
    log.status.finish(packages=1)
    log.warning("still shown")
    assert out.getvalue() == "vpython: warning: still shown\n"
