"""Regression: `vpython gc` left the temp files of a crashed pointer, lock-cache or
interpreter-probe writer behind forever.

Found while writing the leftover check of the fault suite (kit.leftovers): those
writers also publish by ``mkstemp`` + rename, so a SIGKILL between the two leaves a
``specs/.ptr-*``, ``locks/.lock-*`` or ``interpreters/.probe-*`` file, but gc only swept
``tmp/`` and ``envs/.tmp-*``. Now it sweeps all of them once they are an hour old (and
never a fresh one: its writer may still be running).
"""

from __future__ import annotations

import os
import time

import pytest

from tests.reliability import kit

pytestmark = pytest.mark.reliability


def test_gc_removes_old_crash_temp_files_and_keeps_fresh_ones(root, tmp_path):
    base = kit.v1(root)
    planted = {"specs": ".ptr-abc", "locks": ".lock-def", "interpreters": ".probe-ghi", "envs": ".tmp-k-jkl",
               "tmp": "pkg-mno"}
    for sub, name in planted.items():
        (base / sub).mkdir(parents=True, exist_ok=True)
        (base / sub / name).write_text("half-written")
    old = time.time() - 2 * 3600
    for sub, name in planted.items():
        os.utime(base / sub / name, (old, old))
    fresh = base / "specs" / ".ptr-fresh"
    fresh.write_text("being written right now")
    r = kit.run(["gc", "--older-than", "30d"], kit.vp_env(root), tmp_path)
    assert r.returncode == 0, r.stderr
    assert [f"{s}/{n}" for s, n in planted.items() if (base / s / n).exists()] == []
    assert fresh.exists()
    assert kit.leftovers(root) == ["specs/.ptr-fresh"]
