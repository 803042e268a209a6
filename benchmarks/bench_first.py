#!/usr/bin/env python3
"""First-run benchmark: a script whose spec nothing on the machine has seen, every cache empty.

For each workload (W1 ``requests``, W2 ``numpy pandas rich httpx pydantic``, pinned as
in reference/bench-anchors.md), interleaved round by round:

* ``vpython wN.py``: an empty vpython root and an empty uv cache (vpython resolves with
  uv), so it resolves, downloads every wheel, unpacks, builds the env and runs the script.
* ``uv run --script wN.py``: an empty uv cache; uv resolves, downloads, installs into a
  cached env and runs the script. uv does not byte-compile by default.
* ``vpython wN.py`` again (the second run, warm), started the moment the first exits:
  what the user gets on every later run, so a first run that defers work
  (byte-compilation, which vpython leaves to a detached worker past a small budget)
  shows what that costs a second run that does not wait;
* ``vpython wN.py`` once more after that worker has exited (every ``.pyc`` in place),
  and how long after the first run's exit the worker took.

Before each round the previous round's compile worker is waited for (it would otherwise
compete with the next round, and write into the root being emptied).

Both resolve against the same index (PyPI, or ``--index-url``). Ratios vpython/uv are
paired per round; issue 14's goal is W2 <= 1.0x (must: <= 1.5x), W1 <= 1.0x.

    python benchmarks/bench_first.py [--rounds 3] [--scratch /tmp/vpython-bench] [--workloads w1,w2]
                                     [--no-reinstall] [--index-url URL]

Markdown on stdout, progress on stderr, also written to ``<scratch>/results/bench_first.md``.
Needs PyPI (every round downloads everything again): a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from common import Case, cell, log, paired_ratio, ratio_cell, table  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds per workload (default 3)")
    ap.add_argument("--scratch", default=common.DEFAULT_SCRATCH)
    ap.add_argument("--python", default=None, help="base interpreter (default: pyenv's real 3.11.7 binary)")
    ap.add_argument("--workloads", default="w1,w2")
    ap.add_argument("--no-reinstall", action="store_true", help="measure the vpython already in the tool venv")
    ap.add_argument("--index-url", default=None, help="index for both tools (default: PyPI)")
    ap.add_argument("--dont-write-bytecode", action="store_true",
                    help="set PYTHONDONTWRITEBYTECODE=1 for every command (this machine's default): the "
                         "interpreter then writes no .pyc of its own, so a second run has only vpython's")
    ns = ap.parse_args()
    py = ns.python or common.default_python()
    s = common.Scratch(ns.scratch, py)
    workloads = [w.strip() for w in ns.workloads.split(",") if w.strip()]
    s.write_workloads(workloads)
    s.ensure_tools()
    s.ensure_vptool(reinstall=not ns.no_reinstall)
    uv = s.uv()

    first_root = os.path.join(s.base, "first", "vpython-root")
    vp_uv_cache = os.path.join(s.base, "first", "uv-cache-vpython")
    uv_cache = os.path.join(s.base, "first", "uv-cache-uv")
    extra = {}
    if ns.dont_write_bytecode:
        extra["PYTHONDONTWRITEBYTECODE"] = "1"
    if ns.index_url:
        extra.update(VPYTHON_INDEX_URL=ns.index_url, UV_INDEX_URL=ns.index_url, UV_DEFAULT_INDEX=ns.index_url)
    vp_env = s.environ(VPYTHON_VIRTUALENV_ROOT=first_root, UV_CACHE_DIR=vp_uv_cache, **extra)
    uv_env = s.environ(UV_CACHE_DIR=uv_cache, **extra)

    def workers() -> list:
        """Live compile workers (vpython.store.compiler) of this benchmark's root."""
        found = []
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if b"vpython.store.compiler" in cmd and first_root.encode() in cmd:
                found.append(pid)
        return found

    def wait_workers(since: float) -> float:
        """Wait for the compile worker; seconds from ``since`` to its exit (0: none ran)."""
        if not workers():
            return 0.0
        while workers():
            time.sleep(0.02)
        return time.perf_counter() - since

    def empty_vpython() -> None:
        wait_workers(time.perf_counter())
        common.rmtree(first_root)
        common.rmtree(vp_uv_cache)

    def empty_uv() -> None:
        common.rmtree(uv_cache)

    sections = []
    load_before = _load()
    for w in workloads:
        script = s.script(w)
        vp_first = Case("vpython-first", "`vpython wN.py`, nothing cached", [[s.vptool_vpython(), script]],
                        vp_env, cwd=s.workloads, prep=empty_vpython)
        vp_second = Case("vpython-second", "`vpython wN.py` right after (second run)",
                         [[s.vptool_vpython(), script]], vp_env, cwd=s.workloads)
        vp_third = Case("vpython-compiled", "`vpython wN.py` once the background compile is done",
                        [[s.vptool_vpython(), script]], vp_env, cwd=s.workloads)
        compile_done = []
        uv_first = Case("uv-first", "`uv run --script wN.py`, nothing cached",
                        [[uv, "run", "--python", py, "--script", script]], uv_env, cwd=s.workloads, prep=empty_uv)
        # vp_second must follow vp_first in every round: run them as one pair per round.
        log(f"{w}: {ns.rounds} interleaved rounds")
        for r in range(ns.rounds):
            order = [uv_first, vp_first] if r % 2 == 0 else [vp_first, uv_first]
            for c in order:
                t = c.run(record=True)
                log(f"  {w} round {r + 1}/{ns.rounds} {c.name}: {common.fmt_s(t)}")
                if c is vp_first:
                    first_exit = time.perf_counter()
                    t2 = vp_second.run(record=True)
                    log(f"  {w} round {r + 1}/{ns.rounds} {vp_second.name}: {common.fmt_s(t2)}")
                    compile_done.append(wait_workers(first_exit))
                    t3 = vp_third.run(record=True)
                    log(f"  {w} round {r + 1}/{ns.rounds} compile worker done {common.fmt_s(compile_done[-1])} "
                        f"after the first run; {vp_third.name}: {common.fmt_s(t3)}")
        rows = [
            [vp_first.display.replace("wN", w), cell(vp_first.times), ratio_cell(paired_ratio(vp_first, uv_first))],
            [uv_first.display.replace("wN", w), cell(uv_first.times), "1.00"],
            [vp_second.display.replace("wN", w), cell(vp_second.times), ratio_cell(paired_ratio(vp_second, uv_first))],
            [vp_third.display.replace("wN", w), cell(vp_third.times), ratio_cell(paired_ratio(vp_third, uv_first))],
        ]
        done = [t for t in compile_done if t > 0]
        note = (f"\n\nThe background compile worker exited {common.fmt_s(statistics.median(done))} "
                f"(median; {common.fmt_s(min(done))}–{common.fmt_s(max(done))}) after the first run did."
                if done else "\n\nNo compile worker was still running when the second run ended.")
        sections.append(f"### {w.upper()}: {', '.join(common.WORKLOADS[w])}\n\n"
                        + table(["command", "median (min–max)", "vs uv first run"], rows) + note)
    text = (
        "## First run, nothing cached\n\n"
        f"Machine: {common.machine()}; load average before: {load_before}, after: {_load()}.\n"
        f"Versions: {common.versions(s, uv)}.\n"
        f"Rounds: {ns.rounds}, interleaved (order alternates); index: {ns.index_url or 'PyPI'}; "
        f"PYTHONDONTWRITEBYTECODE {'=1' if ns.dont_write_bytecode else 'unset'}.\n\n"
        + "\n\n".join(sections) + "\n"
    )
    sys.stdout.write(text)
    suffix = "-dwb" if ns.dont_write_bytecode else ""
    with open(os.path.join(s.results, f"bench_first{suffix}.md"), "w") as f:
        f.write(text)
    return 0


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
