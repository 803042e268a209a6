"""Load: many cold runs at once, and warm runs racing a GC loop.

Invariants (DESIGN.md §4): concurrent cold runs of a spec build once and all succeed;
nothing half-built is ever used; nothing in use is ever deleted. A run may rebuild an
env GC deleted, but it must never fail or see half an env.
"""

from __future__ import annotations

import os
import re
import threading
import time

import pytest

from tests.reliability import kit

pytestmark = pytest.mark.reliability

GC_PAUSE = 0.4  # seconds between two rounds of the GC loop

CHECK = (
    "import os, bigdep, tinyapp, tinydep\n"
    "blob = os.path.join(os.path.dirname(bigdep.__file__), 'blob.bin')\n"
    "assert os.path.getsize(blob) == 4 << 20, os.path.getsize(blob)\n"
    "print('ok', tinyapp.__version__, tinydep.__version__{extra})\n"
)


def script_for(tmp_path, name: str, deps: list, extra_import: str = "") -> str:
    body = "# /// script\n# dependencies = [" + ", ".join(f'"{d}"' for d in deps) + "]\n# ///\n"
    extra = ""
    if extra_import:
        body += f"import {extra_import}\n"
        extra = f", {extra_import}.__version__"
    p = tmp_path / name
    p.write_text(body + CHECK.format(extra=extra))
    return str(p)


def _wait_all(procs, timeout=600):
    out = []
    deadline = time.monotonic() + timeout
    for p in procs:
        stdout, stderr = p.communicate(timeout=max(1, deadline - time.monotonic()))
        out.append((p.returncode, stdout, stderr))
    return out


def test_32_concurrent_cold_runs_of_one_spec(rel_index, root, tmp_path):
    script = script_for(tmp_path, "same.py", ["tinyapp", "bigdep"])
    env = kit.vp_env(root, rel_index.url)
    t0 = time.monotonic()
    procs = [kit.popen([script], env, tmp_path) for _ in range(32)]
    results = _wait_all(procs)
    took = time.monotonic() - t0
    failures = [(rc, err) for rc, out, err in results if rc != 0 or "ok 1.0 1.1" not in out]
    envs = kit.env_names(root)
    left = kit.leftovers(root)
    problems = kit.store_problems(root)
    served = rel_index.served_files()
    kit.record("load: 32 concurrent cold runs, one spec", trials=32, failures=len(failures), leftovers=len(left),
               observed=f"{len(envs)} env; bigdep downloaded {served.count('bigdep-1.0-py3-none-any.whl')}x; "
                        f"store problems {len(problems)}", seconds=took)
    assert not failures, failures[:3]
    assert len(envs) == 1, envs
    assert left == [] and problems == []
    packages = os.listdir(kit.v1(root) / "store" / "packages")
    assert len(packages) == 3, packages  # tinyapp, tinydep, bigdep: each unpacked once


def test_32_concurrent_cold_runs_of_different_specs_sharing_packages(rel_index, root, tmp_path):
    scripts = [script_for(tmp_path, f"s{i}.py", ["tinyapp", "bigdep", f"uniq{i}"], f"uniq{i}") for i in range(32)]
    env = kit.vp_env(root, rel_index.url)
    t0 = time.monotonic()
    procs = [kit.popen([s], env, tmp_path) for s in scripts]
    results = _wait_all(procs)
    took = time.monotonic() - t0
    failures = [(rc, err) for rc, out, err in results if rc != 0 or "ok 1.0 1.1 1.0" not in out]
    envs = kit.env_names(root)
    left = kit.leftovers(root)
    problems = kit.store_problems(root)
    kit.record("load: 32 concurrent cold runs, 32 specs sharing 3 packages", trials=32, failures=len(failures),
               leftovers=len(left), observed=f"{len(envs)} envs (one per spec); store problems {len(problems)}",
               seconds=took)
    assert not failures, failures[:3]
    assert len(envs) == 32
    assert left == [] and problems == []
    # Each shared wheel is unpacked once (32 unique + 3 shared entries).
    assert len(os.listdir(kit.v1(root) / "store" / "packages")) == 35
    # Every env got its own spec's package, no other spec's.
    import json

    for key in envs:
        meta = json.loads((kit.v1(root) / "envs" / key / ".vpython-env.json").read_text())
        uniq = [p for p in meta["packages"] if p.startswith("uniq")]
        assert len(uniq) == 1, meta["packages"]


def test_200_warm_runs_race_a_gc_loop(rel_index, root, tmp_path):
    """Two streams of 100 back-to-back runs of two specs while another thread runs
    ``vpython gc --older-than 0`` and ``prune_some(max_age=0)`` in a loop."""
    from vpython.store.prune import prune_some
    from vpython.store.root import Layout

    scripts = [script_for(tmp_path, "w0.py", ["tinyapp", "bigdep"]),
               script_for(tmp_path, "w1.py", ["tinyapp", "bigdep", "uniq0"], "uniq0")]
    env = kit.vp_env(root, rel_index.url, VPYTHON_LOG_TRACE=None)
    for s in scripts:  # warm up: both envs exist before the race starts
        r = kit.run([s], env, tmp_path)
        assert r.returncode == 0, r.stderr
    stop = threading.Event()
    gc_stats = {"gc": 0, "prune": 0, "deleted": 0, "gc_failures": []}

    def gc_loop():
        layout = Layout(str(root))
        while not stop.is_set():
            r = kit.run(["gc", "--older-than", "0"], env, tmp_path)
            gc_stats["gc"] += 1
            if r.returncode != 0:
                gc_stats["gc_failures"].append(r.stderr)
            else:
                m = re.search(r"deleted: (\d+) env", r.stdout)
                gc_stats["deleted"] += int(m.group(1)) if m else 0
            gc_stats["deleted"] += len(prune_some(layout, max_age=0, limit=10))
            gc_stats["prune"] += 1
            # Paced so that most runs stay warm (the point of the test) while each
            # env is still collected and rebuilt dozens of times under the runs' feet.
            time.sleep(GC_PAUSE)

    results = []

    def stream(script, n):
        for _ in range(n):
            r = kit.run(["-vpython-log-level", "info", script], env, tmp_path)
            results.append((script, r))

    t0 = time.monotonic()
    gc_thread = threading.Thread(target=gc_loop, daemon=True)
    gc_thread.start()
    streams = [threading.Thread(target=stream, args=(s, 100)) for s in scripts]
    for t in streams:
        t.start()
    for t in streams:
        t.join()
    stop.set()
    gc_thread.join(timeout=60)
    took = time.monotonic() - t0
    failures = [(s, r.returncode, r.stderr[-2000:]) for s, r in results
                if r.returncode != 0 or not r.stdout.startswith("ok 1.0 1.1")]
    rebuilds = sum("assembling env" in r.stderr for _, r in results)
    left = kit.leftovers(root)
    problems = kit.store_problems(root)
    kit.record("load: 200 warm runs (2 streams) vs a `gc --older-than 0` + prune loop", trials=len(results),
               failures=len(failures) + len(gc_stats["gc_failures"]), leftovers=len(left),
               observed=f"{gc_stats['gc']} gc runs + {gc_stats['prune']} prunes deleted {gc_stats['deleted']} envs; "
                        f"{rebuilds} runs rebuilt a collected env",
               seconds=took)
    assert len(results) == 200
    assert not failures, "\n----\n".join(f"{s} rc={rc}\n{e}" for s, rc, e in failures[:3])
    assert not gc_stats["gc_failures"], gc_stats["gc_failures"][:3]
    assert left == [] and problems == []
