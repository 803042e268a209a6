"""Fault injection for crash-safety tests (cold path only).

``VPYTHON_TEST_KILL_AT=<checkpoint>`` makes the process SIGKILL itself when it reaches
that checkpoint, the way a power cut or OOM kill would: no cleanup handlers run. The
reliability suite uses it to prove that a crash at any stage leaves either nothing or
a complete entry. Checkpoints: fetched, unpacked, compiled, linked, published, pointer.
"""

from __future__ import annotations

import os
import signal


def checkpoint(name: str) -> None:
    if os.environ.get("VPYTHON_TEST_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
