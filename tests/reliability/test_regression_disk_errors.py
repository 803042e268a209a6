"""Regression: a full disk or read-only cache root gave a misleading error or none.

Found by test_faults.py. Before the fix, ENOSPC while storing a downloaded wheel was
reported as ``cannot download <wheel> from <url>: [Errno 28] No space left on device``
(pointing the user at the network), and an OSError at a later stage (unpacking,
assembling the env) was left untyped (main() catches only VPythonError, so: a
traceback; by reading, not observed before the fix); a read-only root
holding a complete cache could not even run warm. Now every such error is
``cannot write to the vpython cache at <root>: <reason> (<file>)`` with a hint, exit 1.

These variants inject the errno (``VPYTHON_TEST_FAIL_AT``), so they run on machines
where test_faults.py cannot mount a tmpfs.
"""

from __future__ import annotations

import errno
import io

import pytest

from tests.reliability import kit
from tests.reliability.test_faults import _clear_error, fresh_root, script, template  # noqa: F401 - fixtures

pytestmark = pytest.mark.reliability


def test_enospc_while_storing_a_download_is_not_a_download_error(tmp_path, monkeypatch):
    from vpython.errors import VPythonError
    from vpython.lock.pylock import Artifact
    from vpython.store import wheels
    from vpython.store.root import Layout

    layout = Layout(str(tmp_path / "root"))
    artifact = Artifact(name="x", version="1", filename="x-1-py3-none-any.whl", sha256="0" * 64)
    real_fdopen = wheels.os.fdopen

    class Full(io.BufferedWriter):
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(wheels.os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, "wb", buffering=0)))
    with pytest.raises(VPythonError) as e:
        wheels._copy_verified(io.BytesIO(b"x" * 100), artifact, layout, "http://example.invalid/x.whl")
    msg = str(e.value)
    assert "cannot write to the vpython cache at " + str(tmp_path / "root") in msg
    assert "No space left" in msg and "download" not in msg.split("\n")[0]
    assert not list((tmp_path / "root" / "v1" / "tmp").iterdir())  # the .part file is gone


@pytest.mark.parametrize("stage", ["fetched", "unpacked", "linked"])
def test_injected_enospc_gives_clear_error(rel_index, template, script, tmp_path, stage):
    """Where no tmpfs can be mounted, ``VPYTHON_TEST_FAIL_AT=<checkpoint>:ENOSPC`` makes
    the builder's write fail there; same expectations as a real full disk."""
    root = fresh_root(template, tmp_path / "root")
    env = kit.vp_env(root, rel_index.url)
    r = kit.run([script], dict(env, VPYTHON_TEST_FAIL_AT=f"{stage}:ENOSPC"), tmp_path)
    bad = _clear_error(r, root)
    problems = kit.store_problems(root)
    left = kit.leftovers(root)
    r2 = kit.run([script], env, tmp_path)
    ok = r2.returncode == 0 and "ok 1.0" in r2.stdout
    kit.record(f"faults: injected ENOSPC at '{stage}'", trials=1, failures=int(bool(bad or problems or not ok)),
               leftovers=len(left), observed=kit.one_line_error(r)[len("vpython: error: "):].replace(str(root), "<root>"))
    assert not bad, (bad, r.stderr)
    assert "No space left" in r.stderr
    assert problems == [] and left == []
    assert ok, r2.stderr


