#!/usr/bin/env python3
"""Artifact benchmark: ``vpython build`` (pex and venv) against ``pex -r`` and ``uv``.

On W2 (``numpy==2.4.6 pandas==3.1.1 rich==15.0.0 httpx==0.28.1 pydantic==2.14.3``, the
full pinned set in ``w2-requirements.txt``), interleaved round by round:

Build time and output size
* ``vpython build w2.py --format pex`` (from ``pylock.w2.toml``, wheels in vpython's store)
* ``vpython build w2.py --format venv``
* ``pex -r w2-requirements.txt --exe w2.py`` (pex resolving with pip, warm pex cache)
* ``uv venv`` + ``uv pip install -r w2-requirements.txt`` (warm uv cache)

Start time of the pex (the script imports all five packages and prints their versions)
* first run (empty ``PEX_ROOT``: the pex unpacks itself) and second run (warm), for the
  vpython pex, the ``--pex-venv`` vpython pex and the ``pex -r`` pex; and the vpython
  venv's ``bin/w2`` launcher for comparison.

The lock is made once, untimed (``vpython lock``). Caches are warm (one untimed round
first); outputs are deleted before each build. Uses PyPI for setup: a benchmark, not a
test.

    python benchmarks/bench_build.py [--rounds 3] [--scratch /tmp/vpython-bench] [--no-reinstall]

Markdown on stdout, progress on stderr, also written to ``<scratch>/results/bench_build.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from common import Case, cell, log, paired_ratio, ratio_cell, run_interleaved, table  # noqa: E402


def size_of(path: str) -> int:
    """Bytes: a file's size, or the sum of a tree's file sizes (hardlinks counted once)."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    seen, total = set(), 0
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            st = os.lstat(os.path.join(dirpath, name))
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scratch", default=common.DEFAULT_SCRATCH)
    ap.add_argument("--python", default=None, help="base interpreter (default: pyenv's real 3.11.7 binary)")
    ap.add_argument("--no-reinstall", action="store_true", help="measure the vpython already in the tool venv")
    ns = ap.parse_args()
    py = ns.python or common.default_python()
    s = common.Scratch(ns.scratch, py)
    s.ensure_vptool(reinstall=not ns.no_reinstall)
    s.ensure_tools()
    s.write_workloads(("w2",))
    uv = s.uv()
    env = s.environ()
    vp = s.vptool_vpython()
    s.ensure_requirements("w2", uv)
    work = os.path.join(s.base, "build-work")
    common.rmtree(work)
    os.makedirs(work)
    script = os.path.join(work, "w2.py")
    reqs = common.WORKLOADS["w2"]
    deps = ", ".join(f'"{r}"' for r in reqs)
    with open(script, "w") as f:
        f.write(f'# /// script\n# dependencies = [{deps}]\n# [tool.vpython]\n# python-version = "3.11"\n'
                f"# ///\n{common.BODIES['w2']}")
    txt = s.requirements_txt("w2")
    log("setup: vpython lock w2.py (untimed)")
    common.run_timed([vp, "lock", "w2.py"], env, work)

    def drop(*names):
        return lambda: [common.rmtree(os.path.join(work, n)) for n in names]

    uvenv = os.path.join(work, "uv.venv")
    builds = [
        Case("vp-pex", "`vpython build w2.py --format pex`",
             [[vp, "build", "w2.py", "--format", "pex", "-o", "vp.pex"]], env, work, prep=drop("vp.pex")),
        Case("vp-venv", "`vpython build w2.py --format venv`",
             [[vp, "build", "w2.py", "--format", "venv", "-o", "vp.venv"]], env, work, prep=drop("vp.venv")),
        Case("pex-r", "`pex -r w2-requirements.txt --exe w2.py`",
             [[s.tool("pex"), "-r", txt, "--exe", "w2.py", "--no-pep723", "-o", "pexr.pex"]], env, work,
             prep=drop("pexr.pex")),
        Case("uv", "`uv venv` + `uv pip install -r w2-requirements.txt`",
             [[uv, "venv", "-q", "--python", py, uvenv],
              [uv, "pip", "install", "-q", "--python", os.path.join(uvenv, "bin", "python"), "-r", txt]],
             env, work, prep=drop("uv.venv")),
    ]
    log("measuring builds: " + ", ".join(c.name for c in builds))
    run_interleaved(builds, ns.rounds, label="build")
    # One more vpython pex in --pex-venv mode for the start-time table (untimed build).
    common.run_timed([vp, "build", "w2.py", "--format", "pex", "--pex-venv", "-o", "vp-venvmode.pex"], env, work)
    sizes = {c.name: size_of(os.path.join(work, out)) for c, out in
             zip(builds, ("vp.pex", "vp.venv", "pexr.pex", "uv.venv"))}

    starts = []
    for name, display, argv in (
        ("vp-pex", "vpython pex", [py, "vp.pex"]),
        ("vp-pex-venv", "vpython pex, `--pex-venv`, as `python OUT`", [py, "vp-venvmode.pex"]),
        # As users run it: ./OUT takes the --sh-boot preamble, which execs the pex's venv
        # python directly once it exists (python OUT always boots Python first).
        ("vp-pex-venv-sh", "vpython pex, `--pex-venv`, as `./OUT`", [os.path.join(work, "vp-venvmode.pex")]),
        ("pex-r", "`pex -r` pex", [py, "pexr.pex"]),
    ):
        root = os.path.join(work, f"pex-root-{name}")
        first = Case(name + "-first", f"{display}: first run (empty PEX_ROOT)", [argv],
                     dict(env, PEX_ROOT=root), work, prep=drop(os.path.basename(root)))
        second = Case(name + "-second", f"{display}: second run", [argv], dict(env, PEX_ROOT=root), work)
        starts += [first, second]
    starts.append(Case("vp-venv-run", "vpython venv: `vp.venv/bin/w2`", [[os.path.join(work, "vp.venv", "bin", "w2")]],
                       dict(env, VPYTHON_PYTHON=py), work))
    log("measuring start times: " + ", ".join(c.name for c in starts))
    # first/second must alternate in that order each round: no rotation here.
    for _ in range(ns.rounds + 1):
        for c in starts:
            c.run(record=_ > 0)

    pex_v = common._first_line([s.tool("pex"), "--version"], env)
    out = ["# vpython build benchmark\n",
           f"{common.machine()}. {common.versions(s, uv)}, pex {pex_v}. W2: {', '.join(reqs)} "
           f"({sum(1 for line in open(txt) if line.strip() and not line.startswith('#'))} packages pinned). "
           f"{ns.rounds} interleaved rounds after one warm-up round (warm caches, outputs deleted before each "
           "build); wall time median (min–max); ratios are medians of per-round ratios.\n"]
    vpc = builds[0]
    rows = [[c.display, cell(c.times), mib(sizes[c.name]),
             ratio_cell(paired_ratio(c, vpc)) if c is not vpc else "1"] for c in builds]
    out.append("## Build time and size\n")
    out.append(table(["command", "wall", "output size", "/ vpython pex (paired)"], rows))
    out.append("")
    out.append("## Start time (script imports numpy, pandas, pydantic, httpx, rich)\n")
    rows = []
    for c in starts:
        rows.append([c.display, cell(c.times), f"{statistics.median(c.rss):.0f}"])
    out.append(table(["run", "wall", "peak MiB"], rows))
    pairs = [(starts[i], starts[i + 1]) for i in range(0, 6, 2)]
    out.append("")
    out.append("First/second run ratios: " + ", ".join(
        f"{a.display.split(':')[0]} {statistics.median(a.times) / statistics.median(b.times):.1f}×"
        for a, b in pairs) + ".\n")
    text = "\n".join(out)
    print(text)
    with open(os.path.join(s.results, "bench_build.md"), "w") as f:
        f.write(text + "\n")
    log(f"written to {os.path.join(s.results, 'bench_build.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
