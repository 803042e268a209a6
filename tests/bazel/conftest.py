"""Fixtures for the Bazel tests: one prepared copy of examples/bazel per test module."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bazel_harness as H  # noqa: E402


@dataclass
class Lab:
    root: Path  # temporary directory holding everything below
    ws: "H.Workspace"  # the example workspace (copy A) and its Bazel server
    index: object  # tests.support IndexServer serving the stand-in wheels
    wheels: dict  # {filename: path} of the stand-in wheels of the example's locks
    tool_wheels: dict  # {filename: path} of the wheels of the test's tool lock
    tool_lock: dict  # the test's tool lock document (pylock.vpython.json of the copy)
    python: str  # the toolchain's interpreter: a venv --without-pip (empty site-packages)
    blocked: list  # paths --sandbox_block_path hides from every sandboxed action
    repository_cache: Path
    disk_cache: Path
    extra: list = field(default_factory=list)  # other workspaces to shut down


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not H.bazel_binary():
        pytest.skip("bazel is not installed (CI: apt-get install -y bazel-bootstrap)")
    sys.path.insert(0, str(H.REPO))
    try:
        from tests.support import serve_index
    finally:
        sys.path.remove(str(H.REPO))

    root = tmp_path_factory.mktemp("bazel")
    # Outside `root`, so that tests can tell the interpreter's path from the test directory.
    python = H.make_bare_interpreter(tmp_path_factory.mktemp("toolpy") / "venv")
    ws_dir = H.copy_checkout(root / "A")
    wheels = H.make_stand_in_wheels(H.read_lock(ws_dir / H.LOCK_NAME), root / "wheels")
    index = serve_index(root / "wheels")  # started; stopped at teardown
    for lock in H.LOCKS:  # every wheel they lock is one of the example lock's
        H.rewrite_lock(ws_dir / lock, {f: index.file_url(f) for f in wheels}, wheels)
    real_tool_lock = json.loads((H.REPO / H.TOOL_LOCK_JSON).read_text())
    tool_lock, tool_wheels = H.make_tool_wheels(real_tool_lock, root / "wheels", index.file_url)
    H.rewrite_tool_lock(root / "A", doc=tool_lock)
    blocked = H.host_site_dirs()
    cache = os.path.expanduser("~/.cache")
    if os.path.isdir(cache) and not str(root).startswith(cache + os.sep):
        blocked.append(cache)
    repository_cache, disk_cache = root / "repository-cache", root / "disk-cache"
    H.write_bazelrc(ws_dir, repository_cache, disk_cache, blocked)
    ws = H.Workspace(ws_dir, root / "output-base-A", H.bazel_env(python))
    the_lab = Lab(root, ws, index, wheels, tool_wheels, tool_lock, python, blocked, repository_cache, disk_cache)
    try:
        yield the_lab
    finally:
        for other in the_lab.extra:
            other.shutdown()
        ws.shutdown()
        index.stop()
        timings = ws.log + [c for other in the_lab.extra for c in other.log]
        sys.stderr.write("\nbazel command timings (s):\n" + "".join(
            f"  {secs:7.2f}  bazel {cmd}\n" for cmd, secs in timings))
