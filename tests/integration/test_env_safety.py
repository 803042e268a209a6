"""Concurrency, crashes and pruning of the env store (issue 2's guarantees)."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.support.vp import envs_in, run_vpython, vpython_cmd

SCRIPT = "# /// script\n# dependencies = [\"tinyapp\"]\n# ///\nimport tinyapp; print('ok', tinyapp.__version__)\n"


@pytest.fixture
def env_vars(local_index, vpython_root):
    return {"VPYTHON_INDEX_URL": local_index.url}


def _popen(args, env_vars, cwd, extra=None):
    env = dict(os.environ, **env_vars, **(extra or {}))
    return subprocess.Popen(vpython_cmd() + [str(a) for a in args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_concurrent_cold_runs_build_once(env_vars, vpython_root, tmp_path):
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    procs = [_popen([script], env_vars, tmp_path) for _ in range(8)]
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]
    for rc, out, err in results:
        assert rc == 0, err
        assert "ok 1.0" in out
    assert len(envs_in(vpython_root)) == 1
    leftovers = [n for n in os.listdir(vpython_root / "v1" / "envs") if n.startswith(".tmp-")]
    assert leftovers == []


@pytest.mark.parametrize("stage", ["fetched", "unpacked", "compiled", "linked", "published", "pointer"])
def test_killed_build_is_never_used(env_vars, vpython_root, tmp_path, stage):
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    r = run_vpython([script], cwd=tmp_path, env=dict(env_vars, VPYTHON_TEST_KILL_AT=stage))
    assert r.returncode == -9, (r.returncode, r.stderr)
    # Whatever the stage, nothing partial is visible under a final name.
    for name in envs_in(vpython_root):
        assert (vpython_root / "v1" / "envs" / name / "pyvenv.cfg").exists()
    store = vpython_root / "v1" / "store" / "packages"
    if store.exists():
        for entry in store.iterdir():
            assert (entry / ".vpython" / "manifest").exists(), f"partial store entry {entry}"
    r = run_vpython([script], cwd=tmp_path, env=env_vars, check=0)
    assert "ok 1.0" in r.stdout
    assert len(envs_in(vpython_root)) == 1


def test_prune_skips_held_env_and_deletes_stale(env_vars, vpython_root, tmp_path):
    holder = tmp_path / "hold.py"
    holder.write_text(SCRIPT.replace("print('ok', tinyapp.__version__)",
                                     "import sys, time; print('held', flush=True); time.sleep(float(sys.argv[1]))"))
    run_vpython([holder, "0"], cwd=tmp_path, env=env_vars, check=0)
    (held_env,) = envs_in(vpython_root)
    proc = _popen([holder, "60"], env_vars, tmp_path)
    try:
        assert proc.stdout.readline().strip() == "held"
        lock = vpython_root / "v1" / "envs" / f"{held_env}.lock"
        old = time.time() - 30 * 86400
        os.utime(lock, (old, old))
        # A cold build of another spec prunes stale envs; the held one must survive.
        other = tmp_path / "other.py"
        other.write_text("# /// script\n# dependencies = [\"tinydep==1.0\"]\n# ///\nprint('other')\n")
        run_vpython([other], cwd=tmp_path, env=env_vars, check=0)
        assert held_env in envs_in(vpython_root)
    finally:
        proc.kill()
        proc.wait()
    os.utime(lock, (old, old))
    r = run_vpython(["gc", "--older-than", "7d"], cwd=tmp_path, env=env_vars, check=0)
    assert "deleted: 1 env(s)" in r.stdout
    assert held_env not in envs_in(vpython_root)
    assert len(envs_in(vpython_root)) == 1
    # The deleted env's spec still runs: rebuilt from the cached resolution and store.
    r = run_vpython([holder, "0"], cwd=tmp_path, env=env_vars, check=0)
    assert "held" in r.stdout


def test_gc_sweeps_unreferenced_store_entries(env_vars, vpython_root, tmp_path):
    a = tmp_path / "a.py"
    a.write_text(SCRIPT)
    b = tmp_path / "b.py"
    b.write_text("# /// script\n# dependencies = [\"tinycli\"]\n# ///\nprint('b')\n")
    run_vpython([a], cwd=tmp_path, env=env_vars, check=0)
    run_vpython([b], cwd=tmp_path, env=env_vars, check=0)
    packages = vpython_root / "v1" / "store" / "packages"
    assert len(list(packages.iterdir())) == 3
    dry = run_vpython(["gc", "--older-than", "0", "--dry-run"], cwd=tmp_path, env=env_vars, check=0)
    assert "would delete: 2 env(s), 3 package" in dry.stdout
    assert len(envs_in(vpython_root)) == 2
    run_vpython(["gc", "--older-than", "0"], cwd=tmp_path, env=env_vars, check=0)
    assert envs_in(vpython_root) == [] and list(packages.iterdir()) == []
    info = run_vpython(["cache", "info"], cwd=tmp_path, env=env_vars, check=0)
    assert "package entries" in info.stdout


def test_gc_bad_duration_is_usage_error(env_vars, tmp_path):
    r = run_vpython(["gc", "--older-than", "soon"], cwd=tmp_path, env=env_vars, check=2)
    assert "not a duration" in r.stderr and "Traceback" not in r.stderr


def test_corrupted_store_entry_is_rebuilt(env_vars, vpython_root, tmp_path):
    a = tmp_path / "a.py"
    a.write_text(SCRIPT)
    run_vpython([a], cwd=tmp_path, env=env_vars, check=0)
    (env,) = envs_in(vpython_root)
    target = next((vpython_root / "v1" / "envs" / env).glob("lib/python*/site-packages/tinyapp/__init__.py"))
    target.chmod(0o644)
    target.write_text("__version__ = 'tampered'\n")  # edits the shared inode in the store too
    b = tmp_path / "b.py"
    b.write_text("# /// script\n# dependencies = [\"tinyapp\", \"tinycli\"]\n# ///\nimport tinyapp; print('v', tinyapp.__version__)\n")
    r = run_vpython([b], cwd=tmp_path, env=env_vars, check=0)
    assert "v 1.0" in r.stdout  # the new env got a fresh copy, not the edited file




@pytest.mark.parametrize("how", ["flag", "env", "below-a-file"])
def test_root_that_is_a_file_is_a_one_line_user_error(tmp_path, how):
    """A cache root (or one of its parents) that is a regular file used to end in a
    NotADirectoryError traceback from the first makedirs."""
    afile = tmp_path / "not-a-dir"
    afile.write_text("x")
    script = tmp_path / "s.py"
    script.write_text("print('ran')\n")
    root = str(afile / "sub") if how == "below-a-file" else str(afile)
    if how == "env":
        r = run_vpython([script], cwd=tmp_path, env={"VPYTHON_VIRTUALENV_ROOT": root})
    else:
        r = run_vpython(["-vpython-root", root, script], cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "ran" not in r.stdout
    first = r.stderr.splitlines()[0]
    assert first.startswith("vpython: error: the vpython cache root ") and str(afile) in first
    assert ("VPYTHON_VIRTUALENV_ROOT" if how == "env" else "-vpython-root") in first
    assert afile.read_text() == "x"  # nothing written over it
    r = run_vpython(["gc", "--root", root], cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "not a directory" in r.stderr
