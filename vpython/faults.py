"""Fault injection for crash-safety tests (cold path only).

``VPYTHON_TEST_KILL_AT=<checkpoint>`` makes the process SIGKILL itself when it reaches
that checkpoint, the way a power cut or OOM kill would: no cleanup handlers run. The
reliability suite uses it to prove that a crash at any stage leaves either nothing or
a complete entry. Checkpoints: fetched, unpacked, compiled, linked, published, pointer.

``VPYTHON_TEST_FAIL_AT=<checkpoint>:<ERRNO>`` (e.g. ``unpacked:ENOSPC``) raises that
OSError there instead, as a full or read-only disk would, for machines where the
tests cannot mount a small tmpfs.
"""

from __future__ import annotations

import os
import signal


def checkpoint(name: str) -> None:
    if os.environ.get("VPYTHON_TEST_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
    fail = os.environ.get("VPYTHON_TEST_FAIL_AT")
    if fail and fail.partition(":")[0] == name:
        import errno

        code = getattr(errno, fail.partition(":")[2] or "ENOSPC")
        raise OSError(code, os.strerror(code))
