"""tools/bazel/lock_tool.py: the lock of the vpython tool's own dependencies (no network).

The Bazel toolchain fetches the tool's dependencies from toolchains/tool/pylock.vpython.json;
these tests fail when it is stale against pyproject.toml, naming the command that fixes it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tools" / "bazel" / "lock_tool.py"
FIX = "Fix: python3 tools/bazel/lock_tool.py"

sys.path.insert(0, str(SCRIPT.parent))
import lock_tool  # noqa: E402


def _check(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--repo", str(repo)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def checkout(tmp_path):
    """What the check reads: pyproject.toml, toolchains/tool and vpython (for `vpython lock --check`)."""
    for item in ("pyproject.toml", "toolchains/tool", "vpython"):
        src, dst = REPO / item, tmp_path / item
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst)
    return tmp_path


def test_the_checked_in_tool_lock_is_current():
    proc = _check(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_new_dependency_in_pyproject_makes_it_stale_and_names_the_fix(checkout):
    pyproject = checkout / "pyproject.toml"
    text = pyproject.read_text()
    assert '  "tomli-w>=1.0",\n]' in text
    pyproject.write_text(text.replace('  "tomli-w>=1.0",\n]', '  "tomli-w>=1.0",\n  "build>=1.2",\n]'))
    proc = _check(checkout)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "toolchains/tool/vpython.toml does not match pyproject.toml" in proc.stderr
    assert "(new: build>=1.2)" in proc.stderr
    assert FIX in proc.stderr


def test_a_lock_older_than_its_spec_is_stale(checkout):
    spec = checkout / "toolchains" / "tool" / "vpython.toml"
    pyproject = checkout / "pyproject.toml"
    # Both edited alike (so they agree), but the lock was not made again.
    pyproject.write_text(pyproject.read_text().replace('"filelock>=3.12"', '"filelock>=3.13"'))
    spec.write_text(spec.read_text().replace('"filelock>=3.12"', '"filelock>=3.13"'))
    proc = _check(checkout)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "vpython lock --check toolchains/tool" in proc.stderr
    assert FIX in proc.stderr


def test_a_json_that_is_not_the_locks_rendering_is_stale(checkout):
    path = checkout / "toolchains" / "tool" / "pylock.vpython.json"
    doc = json.loads(path.read_text())
    target = sorted(doc["targets"])[0]
    doc["targets"][target] = doc["targets"][target][1:]
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    proc = _check(checkout)
    assert proc.returncode == 1
    assert (
        "pylock.vpython.json is not the JSON rendering of toolchains/tool/pylock.vpython.toml" in proc.stderr
    )
    assert FIX in proc.stderr


def test_the_lock_covers_every_platform_and_python_the_toolchains_use():
    platforms_bzl = (REPO / "toolchains" / "platforms.bzl").read_text()
    tags = re.findall(r'"tag": "([^"]+)"', platforms_bzl)
    assert sorted(tags) == sorted(lock_tool.PLATFORMS)
    doc = json.loads((REPO / lock_tool.JSON_LOCK).read_text())
    _, requires_python = lock_tool.project_requirements()
    pythons = lock_tool.pythons(requires_python)
    assert pythons[0] == "3.9" and len(pythons) >= 5, pythons
    expected = {f"cp{v.replace('.', '')}-cp{v.replace('.', '')}-{tag}" for v in pythons for tag in tags}
    assert set(doc["targets"]) == expected
    wheels = {w["name"] for p in doc["lock"]["packages"] for w in p["wheels"]}
    for target, files in doc["targets"].items():
        assert files and set(files) <= wheels, target
        # Every target gets uv's binary for its own platform, and no other platform's wheels.
        platform = target.split("-", 2)[2]
        uv = [f for f in files if f.startswith("uv-")]
        assert len(uv) == 1, (target, files)
        arch = {"win_amd64": "win_amd64", "win_arm64": "win_arm64"}.get(platform, platform.rsplit("_", 1)[-1])
        for f in files:
            tag = f[: -len(".whl")].split("-")[-1]
            assert tag == "any" or arch in tag or "universal2" in tag, (target, f)


def test_selection_follows_the_markers():
    doc = json.loads((REPO / lock_tool.JSON_LOCK).read_text())
    three_nine = doc["targets"]["cp39-cp39-manylinux_2_28_x86_64"]
    newer = doc["targets"]["cp313-cp313-manylinux_2_28_x86_64"]
    assert any(f.startswith("tomli-") for f in three_nine)  # "tomli>=2; python_version < '3.11'"
    assert not any(f.startswith("tomli-") for f in newer)
