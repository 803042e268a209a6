"""Specs whose pins have only an sdist: runs, locks, verify, build, strict mode, gc
(vpython.env.built and its callers), offline against a loopback index serving tiny sdists.

Builds are counted by the in-test backend (tests/support/sdists.py: ``counter`` appends a
line per ``build_wheel``; uv's resolution asks ``prepare_metadata_for_build_wheel``, which
builds nothing).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support import make_wheel, serve_index, uv_binary
from tests.support.sdists import make_backend_wheels, make_sdist, tinybackend_pyproject
from tests.support.vp import envs_in, run_vpython, vpython_cmd

pytestmark = pytest.mark.skipif(uv_binary() is None, reason="needs the uv binary")

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}"
PATIENCE = 300  # a hang guard for waits on other processes, not a performance bound


def builds(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


@pytest.fixture
def house(tmp_path):
    """tinybackend + tinyhelper, puredep 1.0 (wheel), srconly 1.0 (sdist only, counted),
    mixed 1.0 (a wheel for linux x86_64 only, and an sdist), rangepkg 1.0 (wheel) and 2.0
    (sdist only)."""
    d = tmp_path / "house"
    make_backend_wheels(d)
    make_wheel(d, "puredep", "1.0")
    counter = tmp_path / "builds.txt"
    make_sdist(d, "srconly", "1.0", pyproject=tinybackend_pyproject(), config={"counter": str(counter)},
               files={"src/srconly/__init__.py": "WHERE = 'built from the sdist'\n"})
    make_wheel(d, "mixed", "1.0", tag=f"{TAG}-{TAG}-manylinux_2_17_x86_64")
    make_sdist(d, "mixed", "1.0", pyproject=tinybackend_pyproject())
    make_wheel(d, "rangepkg", "1.0")
    make_sdist(d, "rangepkg", "2.0", pyproject=tinybackend_pyproject(), config={"counter": str(counter)})
    return d


@pytest.fixture
def index(house):
    with serve_index(house) as idx:
        yield idx


@pytest.fixture
def counter(tmp_path):
    return tmp_path / "builds.txt"


def textproto(directory: Path, *pins: str, name="tool.py", body="import srconly\nprint(srconly.WHERE)\n",
              tags=()) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / name
    script.write_text(body)
    lines = [f'python_version: "{PY}"']
    lines += [f'wheel: <name: "{n}" version: "version:{v}">' for n, v in (p.split("==") for p in pins)]
    lines += [f'verify_pep425_tag: <python: "{TAG}" abi: "{TAG}" platform: "{t}">' for t in tags]
    (directory / f"{name}.vpython3").write_text("\n".join(lines) + "\n")
    return script


def pep723(directory: Path, deps, body="import srconly\nprint(srconly.WHERE)\n") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "tool.py"
    listed = ", ".join(f'"{d}"' for d in deps)
    script.write_text(f'# /// script\n# dependencies = [{listed}]\n# requires-python = ">={PY}"\n# ///\n' + body)
    return script


def run(script, index, *flags, check=0, env=None, cwd=None):
    return run_vpython(["-vpython-log-level", "info", "-vpython-index-url", index.url, *flags, script],
                       check=check, env=env, cwd=cwd)


def built_entries(root: Path) -> list:
    base = root / "v1" / "store" / "built"
    return sorted(str(p.relative_to(base)) for p in base.glob("*/*") if not p.name.startswith("."))


# --------------------------------------------------------------------------- runs


def test_textproto_pin_with_only_an_sdist_builds_once_and_runs(tmp_path, index, counter, vpython_root):
    script = textproto(tmp_path / "proj", "srconly==1.0", "puredep==1.0")
    proc = run(script, index)
    assert proc.stdout == "built from the sdist\n"
    assert "building srconly 1.0 from source (first time only)" in proc.stderr
    assert builds(counter) == 1
    [entry] = built_entries(vpython_root)
    meta = json.loads((vpython_root / "v1" / "store" / "built" / entry / "build.json").read_text())
    # The env records the built wheel's own sha256, and where it came from.
    [env] = envs_in(vpython_root)
    manifest = json.loads((vpython_root / "v1" / "envs" / env / ".vpython-env.json").read_text())
    assert manifest["wheels"][meta["wheel"]["filename"]] == meta["wheel"]["sha256"]
    assert manifest["built_from"] == {meta["wheel"]["filename"]: meta["sdist"]["sha256"]}
    # Warm, and then a cold env from a warm store (the env deleted): the per-digest plan
    # holds, so no resolution and no build.
    assert run(script, index).stdout == "built from the sdist\n"
    shutil.rmtree(vpython_root / "v1" / "envs" / env)
    again = run_vpython(["-vpython-log-level", "debug", "-vpython-index-url", index.url, script], check=0)
    assert again.stdout == "built from the sdist\n" and builds(counter) == 1
    assert "plan hit" in again.stderr and "resolving" not in again.stderr


def test_second_spec_with_the_same_pin_builds_nothing(tmp_path, index, counter, vpython_root):
    run(textproto(tmp_path / "a", "srconly==1.0"), index)
    other = textproto(tmp_path / "b", "srconly==1.0", "puredep==1.0", body="import srconly, puredep\nprint('b')\n")
    proc = run(other, index)
    assert proc.stdout == "b\n" and "building" not in proc.stderr
    assert builds(counter) == 1 and len(envs_in(vpython_root)) == 2


def test_pep723_range_prefers_wheels_and_builds_when_only_an_sdist_fits(tmp_path, index, counter, vpython_root):
    # rangepkg>=1: version 1.0 has a wheel, so it is chosen over 2.0 (sdist only): nothing built.
    script = pep723(tmp_path / "a", ["rangepkg>=1"], body="import importlib.metadata as m\n"
                    "print(m.version('rangepkg'))\n")
    assert run(script, index).stdout == "1.0\n" and builds(counter) == 0
    # rangepkg>=2: only the sdist fits.
    script = pep723(tmp_path / "b", ["rangepkg>=2"], body="import importlib.metadata as m\n"
                    "print(m.version('rangepkg'))\n")
    proc = run(script, index)
    assert proc.stdout == "2.0\n" and "building rangepkg 2.0 from source" in proc.stderr
    assert builds(counter) == 1


def test_failed_build_names_package_log_and_fix_and_stores_nothing(tmp_path, house, vpython_root):
    make_sdist(house, "broken", "1.0", pyproject=tinybackend_pyproject(), config={"fail": True})
    with serve_index(house) as idx:
        proc = run(textproto(tmp_path / "p", "broken==1.0", body="print('never')\n"), idx, check=1)
    assert "cannot build broken 1.0 from source (broken-1.0.tar.gz)" in proc.stderr
    assert "build line 40" in proc.stderr and "build line 1\n" not in proc.stderr  # the tail only
    assert "full build log: " in proc.stderr and "hint: " in proc.stderr
    log_path = proc.stderr.split("full build log: ")[1].split("\n")[0]
    assert "tinybackend was told to fail" in Path(log_path).read_text()
    assert built_entries(vpython_root) == [] and envs_in(vpython_root) == []


# --------------------------------------------------------------------------- strict mode


def test_only_binary_refuses_by_flag_env_and_config_naming_package_and_fix(tmp_path, index, counter,
                                                                          vpython_root):
    script = textproto(tmp_path / "p", "srconly==1.0")
    run(script, index)  # a non-strict run built it and left a warm env ...
    assert builds(counter) == 1
    cfg = tmp_path / "config.toml"
    cfg.write_text("only-binary = true\n")
    for flags, env in ((["-vpython-only-binary"], None), ([], {"VPYTHON_ONLY_BINARY": "1"}),
                       ([], {"VPYTHON_CONFIG": str(cfg)})):
        # ... which a strict run does not reuse: the setting is part of the spec digest.
        proc = run(script, index, *flags, check=2, env=env)
        assert "srconly has only an sdist" in proc.stderr and "--only-binary" in proc.stderr
        assert "hint: allow the build (drop --only-binary" in proc.stderr
    assert builds(counter) == 1


def test_only_binary_refuses_an_sdist_in_a_lockfile(tmp_path, index, counter, vpython_root):
    script = textproto(tmp_path / "p", "srconly==1.0")
    run_vpython(["lock", script.with_name("tool.py.vpython3"), "--index-url", index.url], check=0)
    proc = run(script, index, "-vpython-only-binary", check=2)
    assert "srconly 1.0 has no wheel for CPython" in proc.stderr and "only an sdist (srconly-1.0.tar.gz)" in proc.stderr
    assert "VPYTHON_ONLY_BINARY=0" in proc.stderr and builds(counter) == 0


# --------------------------------------------------------------------------- locks


def _lock_text(proj: Path) -> str:
    [lock] = [p for p in proj.iterdir() if p.name.startswith("pylock.")]
    return lock.read_text()


def test_lock_records_sdists_where_a_target_has_no_wheel_both_engines_same_bytes(tmp_path, index, counter,
                                                                                 vpython_root):
    from packaging.pylock import Pylock

    from vpython import toml

    proj = tmp_path / "proj"
    script = textproto(proj, "srconly==1.0", "puredep==1.0", "mixed==1.0",
                       tags=("manylinux_2_17_x86_64", "macosx_11_0_arm64"))
    spec = script.with_name("tool.py.vpython3")
    texts = {}
    for engine in ("uv", "pex"):
        for p in proj.glob("pylock.*"):
            p.unlink()
        run_vpython(["lock", spec, "--index-url", index.url, "--engine", engine], check=0,
                    env={"PEX_ROOT": str(tmp_path / "pex")})
        texts[engine] = _lock_text(proj)
    assert texts["uv"] == texts["pex"]
    data = toml.loads(texts["uv"])
    Pylock.from_dict(data)  # packaging validates the sdist tables
    by_name = {p["name"]: p for p in data["packages"]}
    assert "sdist" not in by_name["puredep"]  # every target has a wheel: no sdist recorded
    assert by_name["srconly"]["sdist"]["name"] == "srconly-1.0.tar.gz" and "wheels" not in by_name["srconly"]
    sdist = by_name["srconly"]["sdist"]
    assert sdist["url"] == index.file_url("srconly-1.0.tar.gz") and sdist["size"] > 0
    assert len(sdist["hashes"]["sha256"]) == 64
    assert by_name["mixed"]["sdist"]["name"] == "mixed-1.0.tar.gz" and len(by_name["mixed"]["wheels"]) == 1
    assert builds(counter) == 0  # locking builds nothing
    # A run from that lock builds srconly (this host has mixed's wheel).
    proc = run(script, index)
    assert proc.stdout == "built from the sdist\n" and f"installing from lockfile" in proc.stderr
    assert builds(counter) == 1 and "building mixed" not in proc.stderr

    # verify names each target that builds, and --only-binary turns them into failures.
    proc = run_vpython(["verify", spec, "--index-url", index.url], check=0)
    assert "needs a build from sdist on cp" in proc.stdout
    mac = next(line for line in proc.stdout.splitlines() if "needs a build" in line and "macosx" in line)
    assert "mixed 1.0" in mac and "srconly 1.0" in mac
    linux = next(line for line in proc.stdout.splitlines() if "needs a build" in line and "manylinux" in line)
    assert "srconly 1.0" in linux and "mixed" not in linux
    assert "2 of 2 target(s) must build wheels from sdists" in proc.stdout
    proc = run_vpython(["verify", spec, "--only-binary"], check=1)
    assert "building is turned off (--only-binary)" in proc.stdout
    proc = run_vpython([*["-vpython-tool", "verify"], "-vpython-spec", spec], check=0)
    assert "needs a build from sdist" in proc.stdout


def test_run_from_a_lock_refuses_an_sdist_whose_hash_changed_before_building(tmp_path, index, counter,
                                                                          vpython_root):
    script = textproto(tmp_path / "p", "srconly==1.0")
    spec = script.with_name("tool.py.vpython3")
    run_vpython(["lock", spec, "--index-url", index.url], check=0)
    [lock] = [p for p in script.parent.iterdir() if p.name.startswith("pylock.")]
    data = lock.read_text()
    sha = data.split('[packages.sdist.hashes]\nsha256 = "')[1][:64]
    lock.write_text(data.replace(sha, "0" * 64))
    proc = run(script, index, check=1)  # an IntegrityError
    assert "hash mismatch for srconly-1.0.tar.gz" in proc.stderr and "0" * 64 in proc.stderr
    assert builds(counter) == 0 and built_entries(vpython_root) == []


# --------------------------------------------------------------------------- vpython build


def test_build_artifact_builds_for_the_host_and_refuses_a_foreign_platform(tmp_path, index, counter,
                                                                           vpython_root):
    proj = tmp_path / "proj"
    script = textproto(proj, "srconly==1.0", "mixed==1.0", tags=("manylinux_2_17_x86_64", "macosx_11_0_arm64"))
    spec = script.with_name("tool.py.vpython3")
    run_vpython(["lock", spec, "--index-url", index.url], check=0)
    out = tmp_path / "venv"
    # The build's own requirements (tinybackend) come from the index.
    run_vpython(["build", spec, "-o", out, "--platform", "manylinux_2_17_x86_64", "--index-url", index.url],
                check=0)
    assert list(out.glob("lib/python*/site-packages/srconly/__init__.py"))
    assert builds(counter) == 1
    proc = run_vpython(["build", spec, "-o", tmp_path / "mac", "--platform", "macosx_11_0_arm64"], check=2)
    assert "mixed 1.0, srconly 1.0 have no wheel for it, only an sdist" in proc.stderr
    assert "hint: build the artifact on a" in proc.stderr and not (tmp_path / "mac").exists()
    proc = run_vpython(["build", spec, "-o", tmp_path / "strict", "--platform", "manylinux_2_17_x86_64",
                        "--only-binary"], check=2)
    assert "building from source is turned off" in proc.stderr


# --------------------------------------------------------------------------- concurrency, kills, gc


def test_eight_concurrent_cold_runs_build_once(tmp_path, index, counter, vpython_root):
    script = textproto(tmp_path / "p", "srconly==1.0")
    cmd = vpython_cmd() + ["-vpython-index-url", index.url, str(script)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    results = [p.communicate(timeout=PATIENCE) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, results
    assert all(out == "built from the sdist\n" for out, _ in results)
    assert builds(counter) == 1 and len(built_entries(vpython_root)) == 1


@pytest.mark.parametrize("stage", ["sdist-built", "sdist-publish"])
def test_a_run_killed_during_the_build_leaves_nothing_used(tmp_path, index, counter, vpython_root, stage):
    script = textproto(tmp_path / "p", "srconly==1.0")
    proc = run(script, index, check=-9, env={"VPYTHON_TEST_KILL_AT": stage})
    assert proc.stdout == "" and built_entries(vpython_root) == [] and envs_in(vpython_root) == []
    assert run(script, index).stdout == "built from the sdist\n"
    assert builds(counter) == 2 and len(built_entries(vpython_root)) == 1


def test_gc_collects_built_wheels_no_env_uses_and_cache_info_counts_them(tmp_path, index, vpython_root):
    script = textproto(tmp_path / "p", "srconly==1.0")
    run(script, index)
    info = run_vpython(["cache", "info"], check=0).stdout
    built_row = next(line for line in info.splitlines() if line.startswith("built wheels"))
    assert built_row.split()[2] == "1"
    assert next(line for line in info.splitlines() if line.startswith("sdists")).split()[1] == "1"
    # The env uses it: gc keeps it, however old.
    out = run_vpython(["gc", "--older-than", "1000d"], check=0).stdout
    assert "0 built wheel(s), 0 sdist(s)" in out and len(built_entries(vpython_root)) == 1
    out = run_vpython(["gc", "--older-than", "0s"], check=0).stdout
    assert "1 built wheel(s), 1 sdist(s)" in out
    assert built_entries(vpython_root) == []
    assert not any((vpython_root / "v1" / "store" / "sdists").iterdir())


# --------------------------------------------------------------------------- build constraints


def test_config_build_constraints_reach_the_build(tmp_path, house, vpython_root):
    # tinyhelper 2.0 breaks the old sdist's build (like Cython 3 and pyyaml 5.4.1): a
    # build constraint keeps it at 1.x.
    make_wheel(house, "tinyhelper", "2.0", files={"tinyhelper/__init__.py": "raise ImportError('2.0 is too new')\n"})
    make_sdist(house, "oldpin", "1.0", pyproject=tinybackend_pyproject(),
               config={"extra_requires": ["tinyhelper"], "import": "tinyhelper"})
    script = textproto(tmp_path / "p", "oldpin==1.0", body="print('ok')\n")
    with serve_index(house) as idx:
        proc = run(script, idx, check=1)
        assert "cannot build oldpin 1.0" in proc.stderr and "2.0 is too new" in proc.stderr
        cfg = tmp_path / "config.toml"
        cfg.write_text('[build-constraints]\n"oldpin<2" = ["tinyhelper<2"]\n')
        proc = run(script, idx, env={"VPYTHON_CONFIG": str(cfg)})
        assert proc.stdout == "ok\n" and "with build constraints tinyhelper<2" in proc.stderr
