#!/usr/bin/env python3
"""Lock-time benchmark: ``vpython lock`` against the lockers it is measured by.

Times, on the same inputs and in one run, interleaved round by round (the order
rotates every round so no tool always runs right after another):

* ``vpython lock wN.py`` (PEP 723 script, default five-platform target set, PEP 751
  out), vpython installed non-editable in its own venv (as ``bench_warm.py``)
* ``uv pip compile --universal --generate-hashes wN.in``  (the reference: ratios are to it)
* ``pip-compile --generate-hashes --no-header wN.in``
* ``pex3 lock create --style universal --target-system linux --target-system mac -r wN.in``
  (two target systems, pex's universal lock: not the same job as vpython's five platforms)
* ``vpython lock --engine pex wN.py``: vpython's own pex engine (``pex3 lock create --style
  strict`` with one ``--complete-platform`` per target) on the same five platforms as the
  first row, so the uv-vs-pex engine choice is measured on equal work

Workloads (reference/bench-anchors.md): W1 ``requests==2.34.2``; W2 ``numpy==2.4.6
pandas==3.1.1 rich==15.0.0 httpx==0.28.1 pydantic==2.14.3``. Caches are warm (one untimed
round first), outputs are deleted before every run (a fresh lock, not a no-op re-lock).
The peers are the anchors' versions, in the tools venv (``common.TOOL_PINS``). Uses PyPI:
this is a benchmark, not a test.

    python benchmarks/bench_lock.py [--rounds 7] [--scratch /tmp/vpython-bench] [--workloads w1,w2]
                                    [--no-reinstall] [--skip pex] [--skip pip-compile]
                                    [--skip vpython-pex]

Markdown on stdout, progress on stderr, also written to ``<scratch>/results/bench_lock.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from common import Case, cell, log, paired_ratio, ratio_cell, run_interleaved, table  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--scratch", default=common.DEFAULT_SCRATCH)
    ap.add_argument("--python", default=None, help="base interpreter (default: pyenv's real 3.11.7 binary)")
    ap.add_argument("--workloads", default="w1,w2")
    ap.add_argument("--no-reinstall", action="store_true", help="measure the vpython already in the tool venv")
    ap.add_argument("--skip", action="append", default=[], choices=["pex", "pip-compile", "vpython-pex"])
    ns = ap.parse_args()
    py = ns.python or common.default_python()
    s = common.Scratch(ns.scratch, py)
    s.ensure_vptool(reinstall=not ns.no_reinstall)
    s.ensure_tools()
    uv = s.uv()
    env = s.environ()
    vp = s.vptool_vpython()
    # Own directory: a pylock.wN.toml beside the other benchmarks' wN.py would change
    # what their runs discover.
    work = os.path.join(s.base, "lock-work")
    common.rmtree(work)
    os.makedirs(work)
    workloads = [w.strip() for w in ns.workloads.split(",") if w.strip()]
    groups = {}
    for w in workloads:
        reqs = common.WORKLOADS[w]
        with open(os.path.join(work, f"{w}.in"), "w") as f:
            f.write("".join(r + "\n" for r in reqs))
        deps = ", ".join(f'"{r}"' for r in reqs)
        script = (f'# /// script\n# dependencies = [{deps}]\n# [tool.vpython]\n# python-version = "3.11"\n'
                  "# ///\n")
        # The pex-engine row locks its own copy: its lockfile must not be the uv row's.
        for name in (f"{w}.py", f"{w}pex.py"):
            with open(os.path.join(work, name), "w") as f:
                f.write(script)

        def drop(name: str):
            path = os.path.join(work, name)
            return lambda: os.path.exists(path) and os.unlink(path)

        cases = [
            Case("vpython", f"`vpython lock {w}.py` (5 platforms, PEP 751)", [[vp, "lock", f"{w}.py"]], env, work,
                 prep=drop(f"pylock.{w}.toml")),
            Case("uv", f"`uv pip compile --universal --generate-hashes {w}.in`",
                 [[uv, "pip", "compile", "-q", "--universal", "--generate-hashes", f"{w}.in", "-o", f"{w}-uv.txt"]],
                 env, work, prep=drop(f"{w}-uv.txt")),
        ]
        if "pip-compile" not in ns.skip:
            cases.append(Case("pip-compile", f"`pip-compile --generate-hashes {w}.in`",
                              [[s.tool("pip-compile"), "-q", "--generate-hashes", "--no-header", f"{w}.in", "-o",
                                f"{w}-pip-compile.txt"]], env, work, prep=drop(f"{w}-pip-compile.txt")))
        if "pex" not in ns.skip:
            cases.append(Case("pex3", "`pex3 lock create --style universal --target-system linux "
                                      "--target-system mac`",
                              [[s.tool("pex3"), "lock", "create", "--style", "universal", "--target-system", "linux",
                                "--target-system", "mac", "-r", f"{w}.in", "-o", f"{w}-pex.json"]],
                              env, work, prep=drop(f"{w}-pex.json")))
        if "vpython-pex" not in ns.skip:
            cases.append(Case("vpython-pex", f"`vpython lock --engine pex {w}.py` (5 platforms, PEP 751)",
                              [[vp, "lock", "--engine", "pex", f"{w}pex.py"]], env, work,
                              prep=drop(f"pylock.{w}pex.toml")))
        log(f"measuring {w}: {', '.join(c.name for c in cases)}")
        run_interleaved(cases, ns.rounds, label=w)
        groups[w] = cases

    pex_v = common._first_line([s.tool("pex3"), "--version"], env)
    pc_v = common._first_line([s.tool("pip-compile"), "--version"], env).split()[-1]
    out = ["# vpython lock benchmark\n",
           f"{common.machine()}. {common.versions(s, uv)}, pex {pex_v}, pip-tools {pc_v}. {ns.rounds} interleaved "
           "rounds after one warm-up round (warm caches, output deleted before each run); wall time median "
           "(min–max); ratios are medians of per-round ratios; peak = max RSS of the largest process.\n"]
    for w, cases in groups.items():
        uvc = next(c for c in cases if c.name == "uv")
        vpc = cases[0]
        rows = [[c.display, cell(c.times), f"{statistics.median(c.rss):.0f}",
                 ratio_cell(paired_ratio(c, uvc)) if c is not uvc else "1",
                 ratio_cell(paired_ratio(c, vpc)) if c is not vpc else "1"] for c in cases]
        out.append(f"## {w.upper()}: {', '.join(common.WORKLOADS[w])}\n")
        out.append(table(["command", "wall", "peak MiB", "/ uv (paired)", "/ vpython (paired)"], rows))
        out.append("")
    sizes = []
    for name in sorted(os.listdir(work)):
        if not name.endswith((".in", ".py")):
            sizes.append(f"`{name}` {os.path.getsize(os.path.join(work, name)) / 1024:.1f} KiB")
    out.append("Output sizes: " + ", ".join(sizes) + ".\n")
    text = "\n".join(out)
    print(text)
    with open(os.path.join(s.results, "bench_lock.md"), "w") as f:
        f.write(text + "\n")
    log(f"written to {os.path.join(s.results, 'bench_lock.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
