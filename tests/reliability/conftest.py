"""Fixtures of the reliability suite (marker ``reliability``; see docs/reliability.md).

Every module here sets ``pytestmark = pytest.mark.reliability``: the suite runs in CI
with the rest, and ``-m 'not reliability'`` skips it for quick local runs. At the end
of a run the scenario ledger (``kit.record``) is printed as the table that
docs/reliability.md reproduces.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.reliability import kit
from tests.support import build_wheelhouse, serve_index


@pytest.fixture(scope="module")
def rel_wheelhouse(tmp_path_factory):
    """The standard tiny wheelhouse plus ``bigdep`` (4 MiB of incompressible payload)
    and ``uniq0``..``uniq31`` (one per spec of the shared-package load test)."""
    d = build_wheelhouse(tmp_path_factory.mktemp("rel-wheelhouse"))
    kit.make_big_wheel(d, "bigdep", "1.0", 4)
    for i in range(32):
        kit.make_wheel(d, f"uniq{i}", "1.0")
    return d


@pytest.fixture(scope="module")
def rel_index(rel_wheelhouse):
    with serve_index(rel_wheelhouse) as index:
        yield index


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "vpython-root"
    r.mkdir()
    return r


def _can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    import tempfile

    d = tempfile.mkdtemp(prefix="vpython-mount-probe-")
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", d],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
        if ok:
            subprocess.run(["umount", d], check=False)
        return ok
    finally:
        os.rmdir(d)


@pytest.fixture(scope="session")
def can_mount():
    """True when this process may mount a tmpfs (root on Linux, not in a locked-down
    container): the full-disk and read-only tests then use a real filesystem, else an
    injected errno (``VPYTHON_TEST_FAIL_AT``) or a chmod."""
    return _can_mount()


def pytest_terminal_summary(terminalreporter):
    if not kit.LEDGER:
        return
    out = os.environ.get("VPYTHON_RELIABILITY_LEDGER")
    if out:  # CI keeps the figures of each run as an artifact
        import json

        with open(out, "w", encoding="utf-8") as f:
            json.dump(kit.LEDGER, f, indent=1)
    tr = terminalreporter
    tr.section("reliability scenarios")
    tr.write_line("| scenario | trials | failures | leftovers | observed | seconds |")
    tr.write_line("| --- | ---: | ---: | ---: | --- | ---: |")
    for row in kit.LEDGER:
        secs = "" if row["seconds"] is None else f"{row['seconds']:.1f}"
        tr.write_line(f"| {row['scenario']} | {row['trials']} | {row['failures']} | {row['leftovers']} "
                      f"| {row['observed']} | {secs} |")
