"""Concurrency, crashes and pruning of the env store (issue 2's guarantees)."""

from __future__ import annotations

import json
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


# --------------------------------------------------------------------------- gc, pruning, verify

def _hold(script, env_vars, cwd):
    """Run ``script`` (which prints 'held' then sleeps) and wait until it holds its env."""
    proc = _popen([script, "60"], env_vars, cwd)
    assert proc.stdout.readline().strip() == "held", proc.stderr.read()
    return proc


def _holder_script(tmp_path, name="hold.py", deps='"tinyapp"'):
    s = tmp_path / name
    s.write_text(f"# /// script\n# dependencies = [{deps}]\n# ///\n"
                 "import sys, time\nprint('held', flush=True)\ntime.sleep(float(sys.argv[1]))\n")
    return s


def _make_stale(root, key, days=30):
    lock = root / "v1" / "envs" / f"{key}.lock"
    lock.touch()
    old = time.time() - days * 86400
    os.utime(lock, (old, old))


def _wait_for(cond, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def test_gc_dry_run_reports_held_envs_as_kept(env_vars, vpython_root, tmp_path):
    """--dry-run used to list a held env as would-delete; the real gc then kept it."""
    holder = _holder_script(tmp_path)
    run_vpython([holder, "0"], cwd=tmp_path, env=env_vars, check=0)
    (key,) = envs_in(vpython_root)
    proc = _hold(holder, env_vars, tmp_path)
    try:
        _make_stale(vpython_root, key)
        dry = run_vpython(["gc", "--dry-run"], cwd=tmp_path, env=env_vars, check=0)
        assert "would delete: 0 env(s), 0 package" in dry.stdout, dry.stdout
        assert f"would keep 1 env(s) in use: {key[:12]}" in dry.stdout
        real = run_vpython(["gc"], cwd=tmp_path, env=env_vars, check=0)
        assert "deleted: 0 env(s)" in real.stdout and key in envs_in(vpython_root)
    finally:
        proc.kill()
        proc.wait()
    _make_stale(vpython_root, key)
    dry = run_vpython(["gc", "--dry-run"], cwd=tmp_path, env=env_vars, check=0)
    assert "would delete: 1 env(s), 2 package" in dry.stdout and "in use" not in dry.stdout
    assert envs_in(vpython_root) == [key]  # a dry run deletes nothing


def test_passive_prune_only_renames_in_the_foreground(env_vars, vpython_root, tmp_path, monkeypatch):
    """Deleting a big env took ~130 ms of a user's cold run. Now the run only renames
    stale envs into tmp/gone-*; a detached process deletes them."""
    import shutil

    from vpython import fs
    from vpython.store import prune
    from vpython.store.root import Layout

    stale = []
    for i, dep in enumerate(["tinyapp", "tinycli"]):
        s = tmp_path / f"s{i}.py"
        s.write_text(f"# /// script\n# dependencies = [\"{dep}\"]\n# ///\n")
        run_vpython(["install", s], cwd=tmp_path, env=env_vars, check=0)
    stale = envs_in(vpython_root)
    for key in stale:
        _make_stale(vpython_root, key)

    def no_delete(*a, **kw):
        raise AssertionError("deleted a tree in the foreground")

    monkeypatch.setattr(shutil, "rmtree", no_delete)
    monkeypatch.setattr(fs, "remove_tree", no_delete)
    deleted = prune.prune_some(Layout(str(vpython_root)))
    monkeypatch.undo()
    assert sorted(deleted) == sorted(stale) and envs_in(vpython_root) == []
    tmp = vpython_root / "v1" / "tmp"
    assert _wait_for(lambda: not [n for n in os.listdir(tmp) if n.startswith("gone-")]), os.listdir(tmp)
    # The store is swept by explicit gc or the daily sweep, not here.
    assert len(os.listdir(vpython_root / "v1" / "store" / "packages")) == 3


def test_daily_store_sweep_runs_in_the_background_and_skips_a_busy_store(env_vars, vpython_root, tmp_path):
    """Deleting envs frees almost nothing (their files are the store's hardlinks); only
    gc removed store entries. Now a cold run starts a background sweep at most once a
    day; it never runs while a build holds the store lock (it retries on a later run)."""
    from vpython.store.envs import delete_env
    from vpython.store.locks import flocked, store_lock_path
    from vpython.store.root import Layout

    layout = Layout(str(vpython_root))
    v1 = vpython_root / "v1"
    cli = tmp_path / "cli.py"
    cli.write_text("# /// script\n# dependencies = [\"tinycli\"]\n# ///\n")
    run_vpython([cli], cwd=tmp_path, env=env_vars, check=0)
    (cli_env,) = envs_in(vpython_root)
    cli_entries = json.loads((v1 / "envs" / cli_env / ".vpython-env.json").read_text())["entries"]
    assert delete_env(layout, cli_env)  # its store entry is now used by nobody
    stamp = v1 / "last-sweep"
    assert stamp.exists()  # made by the first cold run, which did not sweep

    def cold_run(n):
        s = tmp_path / f"cold{n}.py"
        # A new spec text each time (the comment is part of it), so each run is cold.
        s.write_text(f"# /// script\n# dependencies = [\"tinydep=={'1.0' if n % 2 else '1.1'}\"]\n# # {n}\n# ///\n"
                     f"print('run {n}')\n")
        r = run_vpython([s], cwd=tmp_path, env=env_vars, check=0)
        assert f"run {n}" in r.stdout

    def entries():
        return set(os.listdir(v1 / "store" / "packages"))

    cold_run(1)
    time.sleep(0.5)
    assert set(cli_entries) <= entries()  # not due yet: the stamp is fresh
    two_days_ago = time.time() - 2 * 86400
    os.utime(stamp, (two_days_ago, two_days_ago))
    with flocked(store_lock_path(layout), exclusive=False):  # a build in progress
        cold_run(2)
        # The sweep found the store busy and put the stamp back, so a later run retries.
        assert _wait_for(lambda: stamp.stat().st_mtime < time.time() - 86400), "the sweep never ran"
        assert set(cli_entries) <= entries()
    cold_run(3)
    assert _wait_for(lambda: not set(cli_entries) & entries()), entries()
    assert _wait_for(lambda: stamp.stat().st_mtime > time.time() - 60)
    # Everything the live envs use is still there, and they run warm.
    for key in envs_in(vpython_root):
        meta = json.loads((v1 / "envs" / key / ".vpython-env.json").read_text())
        assert set(meta["entries"]) <= entries()
    r = run_vpython([tmp_path / "cold1.py"], cwd=tmp_path, env=env_vars, check=0)
    assert "run 1" in r.stdout and "assembling" not in r.stderr


def _edit_in_place(path, text):
    """What an editor running as root does to a read-only file: write it anyway (root
    ignores the mode); a non-root user would have to chmod first."""
    if os.geteuid() != 0:
        os.chmod(path, 0o644)
    with open(path, "w") as f:
        f.write(text)


def test_cache_verify_finds_an_edit_shared_by_existing_envs_and_repairs_it(env_vars, vpython_root, tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text(SCRIPT)
    b.write_text("# /// script\n# dependencies = [\"tinyapp\", \"tinycli\"]\n# ///\n"
                 "import tinyapp; print('ok', tinyapp.__version__)\n")
    run_vpython([a], cwd=tmp_path, env=env_vars, check=0)
    run_vpython([b], cwd=tmp_path, env=env_vars, check=0)
    envs = envs_in(vpython_root)
    assert len(envs) == 2
    ok = run_vpython(["cache", "verify"], cwd=tmp_path, env=env_vars, check=0)
    assert ok.stdout.startswith("ok: 3 store entr(ies) and 2 env(s)")
    target = next((vpython_root / "v1" / "envs" / envs[0]).glob("lib/python*/site-packages/tinyapp/__init__.py"))
    _edit_in_place(target, "__version__ = 'tampered'\n")
    # The edit went through the shared inode: the other env runs the edited code too.
    assert "ok tampered" in run_vpython([b], cwd=tmp_path, env=env_vars, check=0).stdout
    r = run_vpython(["cache", "verify"], cwd=tmp_path, env=env_vars, check=1)
    assert "damaged store entry" in r.stdout and "tinyapp-1.0" in r.stdout
    assert "linked into 2 env(s)" in r.stdout
    for key in envs:
        assert f"damaged env {key[:16]}: shares damaged store entry" in r.stdout
    assert "--repair" in r.stdout and envs_in(vpython_root) == envs  # reports only
    r = run_vpython(["cache", "verify", "--repair"], cwd=tmp_path, env=env_vars, check=0)
    assert r.stdout.count("deleted env") == 2 and "deleted store entry" in r.stdout
    assert envs_in(vpython_root) == []
    assert "ok 1.0" in run_vpython([b], cwd=tmp_path, env=env_vars, check=0).stdout  # rebuilt from the wheel
    run_vpython(["cache", "verify"], cwd=tmp_path, env=env_vars, check=0)


def test_cache_verify_finds_edited_envs_after_the_store_entry_was_rebuilt(env_vars, vpython_root, tmp_path):
    """A later build rebuilds the damaged entry (entry_intact), so the store is clean
    again, but the envs built before still share the edited inode."""
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text(SCRIPT)
    b.write_text(SCRIPT + "# b\n")
    run_vpython(["install", a], cwd=tmp_path, env=env_vars, check=0)
    (env_a,) = envs_in(vpython_root)
    target = next((vpython_root / "v1" / "envs" / env_a).glob("lib/python*/site-packages/tinyapp/__init__.py"))
    other = tmp_path / "c.py"
    other.write_text("# /// script\n# dependencies = [\"tinyapp\", \"tinycli\"]\n# ///\n")
    run_vpython(["install", other], cwd=tmp_path, env=env_vars, check=0)
    time.sleep(0.01)
    _edit_in_place(target, "__version__ = 'tampered'\n")
    fresh = tmp_path / "d.py"
    fresh.write_text("# /// script\n# dependencies = [\"tinyapp\", \"tinydep==1.0\"]\n# ///\n")
    run_vpython(["install", fresh], cwd=tmp_path, env=env_vars, check=0)  # rebuilds tinyapp's entry
    envs = envs_in(vpython_root)
    assert len(envs) == 3
    r = run_vpython(["cache", "verify"], cwd=tmp_path, env=env_vars, check=1)
    assert "damaged store entry" not in r.stdout
    damaged = sorted(line.split()[2].rstrip(":") for line in r.stdout.splitlines() if line.startswith("damaged env"))
    assert len(damaged) == 2 and "tinyapp/__init__.py" in r.stdout and "changed after the env was built" in r.stdout
    r = run_vpython(["cache", "verify", "--repair"], cwd=tmp_path, env=env_vars, check=0)
    assert len(envs_in(vpython_root)) == 1
    run_vpython(["cache", "verify"], cwd=tmp_path, env=env_vars, check=0)


def test_cache_verify_repair_skips_an_env_in_use(env_vars, vpython_root, tmp_path):
    holder = _holder_script(tmp_path)
    run_vpython([holder, "0"], cwd=tmp_path, env=env_vars, check=0)
    (key,) = envs_in(vpython_root)
    target = next((vpython_root / "v1" / "envs" / key).glob("lib/python*/site-packages/tinyapp/__init__.py"))
    proc = _hold(holder, env_vars, tmp_path)
    try:
        _edit_in_place(target, "__version__ = 'tampered'\n")
        r = run_vpython(["cache", "verify", "--repair"], cwd=tmp_path, env=env_vars, check=1)
        assert f"skipped env {key[:16]}: in use by a running script" in r.stdout
        assert "kept store entry" in r.stdout and envs_in(vpython_root) == [key]
    finally:
        proc.kill()
        proc.wait()
    r = run_vpython(["cache", "verify", "--repair"], cwd=tmp_path, env=env_vars, check=0)
    assert "deleted env" in r.stdout and envs_in(vpython_root) == []
