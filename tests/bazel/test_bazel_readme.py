"""README's Bazel section, as a newcomer runs it: only Bazel and a bare Python, real PyPI.

Needs the network (PyPI), so it runs only with VPYTHON_NETWORK_TESTS=1. The interpreter
is a `venv --without-pip` one, first on PATH as `python3`: nothing of vpython's
dependencies is installed anywhere the build can see (the host Python's site-packages are
also blocked in the sandbox).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import bazel_harness as H
import pytest

pytestmark = [
    pytest.mark.network,
    pytest.mark.bazel,
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("VPYTHON_NETWORK_TESTS") != "1", reason="set VPYTHON_NETWORK_TESTS=1"),
]


def test_readme_commands_with_a_bare_python(tmp_path):
    if not H.bazel_binary():
        pytest.skip("bazel is not installed")
    python = H.make_bare_interpreter(tmp_path / "venv")
    ws_dir = H.copy_checkout(tmp_path / "checkout")
    shutil.rmtree(ws_dir / "attrs")  # test-only package (its lock points nowhere real)
    # Debian's offline Bazel 4.2.3 needs the stand-ins for its GitHub repositories (README).
    H.write_bazelrc(ws_dir, tmp_path / "repository-cache", None, H.host_site_dirs())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VPYTHON_", "PYTHON"))}
    env["PATH"] = os.pathsep.join([os.path.dirname(python), os.path.dirname(shutil.which("bazel")), "/usr/bin", "/bin"])
    ws = H.Workspace(ws_dir, tmp_path / "output-base", env)
    try:
        ws.bazel("test", "//...")
        run = ws.bazel("run", "//:greet", "--", "<World>")
        assert "Hello, &lt;World&gt;!" in run.stdout, run.stdout + run.stderr
        pex = ws.bazel("run", "//:greet_pex", "--", "World")
        assert "Hello, World!" in pex.stdout, pex.stdout + pex.stderr
        ws.bazel("build", "//:greet", "--platforms=@vpython//toolchains:macos_arm64")
        launcher = next((ws.dir / "bazel-out").glob("*/bin/external/vpython_toolchains/vpython")).read_text()
        assert f"PY='{python}'" in launcher, launcher
    finally:
        ws.shutdown()
    assert subprocess.run([python, "-c", "import packaging"], capture_output=True).returncode != 0
