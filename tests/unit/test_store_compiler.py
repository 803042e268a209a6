"""vpython.store.compiler: which entries a run compiles itself, and the detached worker.

The end-to-end tests run vpython against the local index with
``VPYTHON_COMPILE_INLINE_BYTES=0``, so every entry is left to the background worker, and
``PYTHONDONTWRITEBYTECODE=1``, so every ``.pyc`` an env holds came from vpython.
"""

from __future__ import annotations

import os
import sys
import time

from tests.support import make_wheel, sha256_file
from tests.support.vp import envs_in, run_vpython
from vpython.env.plan import PlanInterpreter
from vpython.lock.pylock import Artifact
from vpython.store import compiler, packages, pyc, wheels
from vpython.store.manifest import entry_intact
from vpython.store.root import Layout

INTERP = PlanInterpreter(sys.executable, tuple(sys.version_info[:3]), sys.implementation.cache_tag)
SITE = packages.site_packages_rel(INTERP.version)
MODULES = 40


def _entries(tmp_path, sizes):
    """One published, uncompiled entry per (name, bytes of source)."""
    layout = Layout(str(tmp_path / "root"))
    arts = []
    for name, size in sizes:
        wheel = make_wheel(tmp_path / "wh", name, "1.0", files={f"{name}/__init__.py": "x = 1\n" + "#" * size})
        arts.append(Artifact(name=name, version="1.0", filename=wheel.name, sha256=sha256_file(wheel),
                             path=str(wheel)))

    def fetch(a, on_ready=None):
        return wheels.fetch_all(a, layout, sources=None, on_ready=on_ready)

    got = packages.ensure_entries(arts, layout, INTERP, fetch)
    return layout, [got[a.sha256] for a in arts]


def test_the_run_compiles_what_fits_its_budget_and_hands_the_rest_to_one_worker(tmp_path, monkeypatch):
    layout, (small, big, small2) = _entries(tmp_path, [("small", 100), ("big", 5000), ("smalltoo", 100)])
    jobs = []
    monkeypatch.setattr(compiler, "spawn", lambda job: jobs.append(job) or True)
    plan = compiler.Plan(layout, INTERP, "envkey", [small, big, small2], SITE)
    plan.budget = 1000
    for entry in (small, big, small2):  # in the order the wheels arrived
        plan.entry_ready(entry)
    assert plan.finish() == "background"
    assert pyc.is_compiled(small) and pyc.is_compiled(small2) and not pyc.is_compiled(big)
    assert entry_intact(small) and plan.deferred == 1
    (job,) = jobs  # one worker, told about every entry of the env (it skips compiled ones)
    assert job["env"] == "envkey" and job["pid"] == os.getpid() and job["site_rel"] == SITE
    assert job["entries"] == [os.path.basename(e) for e in (small, big, small2)]


def test_a_small_build_is_compiled_before_the_env_is_linked(tmp_path, monkeypatch):
    layout, entries = _entries(tmp_path, [("a", 10), ("b", 10)])
    monkeypatch.setattr(compiler, "spawn", lambda job: (_ for _ in ()).throw(AssertionError("spawned")))
    plan = compiler.Plan(layout, INTERP, "k", entries, SITE)
    assert plan.finish() == "compiled"  # finish settles entries nobody announced (already stored)
    assert all(pyc.is_compiled(e) for e in entries)
    assert compiler.Plan(layout, INTERP, "k", entries, SITE).finish() == ""  # nothing left to do


def _workers(root) -> list[int]:
    """pids of live compile workers of cache root ``root``."""
    pids = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if b"vpython.store.compiler" in cmd and str(root).encode() in cmd:
            pids.append(int(pid))
    return pids


def _wait_for_workers(root, timeout=120.0) -> None:
    deadline = time.monotonic() + timeout
    while _workers(root):
        assert time.monotonic() < deadline, "the compile worker did not finish"
        time.sleep(0.05)


SCRIPT = (
    "# /// script\n# dependencies = [\"manymods\"]\n# ///\n"
    "import importlib, os\n"
    f"mods = [importlib.import_module(f'manymods.m{{i}}') for i in range({MODULES})]\n"
    "print('sum', sum(m.VALUE for m in mods))\n"
    "print('cached', sum(os.path.exists(m.__cached__) for m in mods))\n"
)


def _setup(local_index, wheelhouse, tmp_path):
    files = {f"manymods/m{i}.py": f"VALUE = {i}\n" + "def f():\n    return VALUE\n" * 50 for i in range(MODULES)}
    files["manymods/__init__.py"] = ""
    make_wheel(wheelhouse, "manymods", "1.0", files=files)
    (tmp_path / ".gclient").write_text("")
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    env = {"VPYTHON_INDEX_URL": local_index.url, "VPYTHON_COMPILE_INLINE_BYTES": "0",
           "PYTHONDONTWRITEBYTECODE": "1"}
    return script, env


def _cached(out: str) -> int:
    return int(out.split("cached ")[1].split()[0])


def test_a_killed_worker_leaves_a_correct_env_and_a_later_worker_finishes(
        local_index, wheelhouse, vpython_root, tmp_path):
    script, env = _setup(local_index, wheelhouse, tmp_path)
    expected = f"sum {sum(range(MODULES))}"
    # The worker SIGKILLs itself after its first .pyc: the compile never finishes.
    r = run_vpython([script], cwd=tmp_path, env=dict(env, VPYTHON_TEST_KILL_AT="compiling"))
    assert r.returncode == 0 and expected in r.stdout, r.stderr
    _wait_for_workers(vpython_root)
    (key,) = envs_in(vpython_root)
    layout = Layout(str(vpython_root))
    entries = [os.path.join(layout.packages, n) for n in os.listdir(layout.packages)]
    assert entries and all(entry_intact(e) for e in entries)
    assert not all(pyc.is_compiled(e) for e in entries)
    # The next (warm) run is correct with what is there; the cache verifies clean.
    r = run_vpython([script], cwd=tmp_path, env=env)
    assert r.returncode == 0 and expected in r.stdout and _cached(r.stdout) < MODULES, r.stdout
    v = run_vpython(["cache", "verify"], cwd=tmp_path, env=env)
    assert v.returncode == 0 and "ok:" in v.stdout, v.stdout + v.stderr
    # `vpython install` of a built env with uncompiled entries starts a worker again.
    r = run_vpython(["-vpython-tool", "install", script], cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    _wait_for_workers(vpython_root)
    assert all(pyc.is_compiled(e) for e in entries)
    _uses_store_pyc(script, tmp_path, env, layout, key, expected)


def test_the_run_after_a_completed_background_compile_imports_the_store_pyc(
        local_index, wheelhouse, vpython_root, tmp_path):
    script, env = _setup(local_index, wheelhouse, tmp_path)
    expected = f"sum {sum(range(MODULES))}"
    r = run_vpython(["-vpython-log-level", "info", script], cwd=tmp_path, env=env)
    assert r.returncode == 0 and expected in r.stdout, r.stderr
    assert "byte-compiling" in r.stderr and "in the background" in r.stderr
    _wait_for_workers(vpython_root)
    (key,) = envs_in(vpython_root)
    _uses_store_pyc(script, tmp_path, env, Layout(str(vpython_root)), key, expected)
    v = run_vpython(["cache", "verify"], cwd=tmp_path, env=env)
    assert v.returncode == 0 and "ok:" in v.stdout, v.stdout + v.stderr


def _uses_store_pyc(script, tmp_path, env, layout, key, expected):
    """Every module of the env is imported from a .pyc that is the store's own file."""
    r = run_vpython(["-v", script], cwd=tmp_path, env=env)
    assert r.returncode == 0 and expected in r.stdout and _cached(r.stdout) == MODULES, r.stdout
    env_dir = layout.env_dir(key)
    site = os.path.join(env_dir, SITE, "manymods", "__pycache__")
    loaded = [line for line in r.stderr.splitlines() if "code object from" in line and site in line]
    assert len(loaded) == MODULES + 1, r.stderr[-2000:]  # m0..m39 and __init__
    for name in os.listdir(site):
        assert os.stat(os.path.join(site, name)).st_nlink >= 2  # hardlinked from the store entry
