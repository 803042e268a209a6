#!/usr/bin/env python3
"""Cold-env benchmark: a new env for W1/W2 when every cache is already warm.

The env directory is deleted before every timed run (untimed); downloads, unpacked
packages and resolutions stay cached. Timed in one run, interleaved round by round
(the order rotates every round), on W1 (``requests==2.34.2``) and W2 (``numpy pandas
rich httpx pydantic``, pinned as in reference/bench-anchors.md):

* ``vpython install wN.py``: the env dir and the spec pointer are removed, the cached
  resolution (``<root>/v1/locks/<digest>.pylock.toml``) and the package store stay.
  The env it makes is byte-compiled (the ``.pyc`` are linked from the store).
* ``vpython install wN.py``, resolution not cached: the cached resolution is removed
  too, so vpython resolves again (uv, online) before linking: a script never seen before
  whose packages are all in the store.
* ``uv venv`` + ``uv pip install --link-mode hardlink -r wN-requirements.txt``: warm uv
  cache, online (uv revalidates the index), as the anchors' headline row.
* the same with ``--offline`` (cache only, no index revalidation; vpython's cached
  resolution is also network-free, so this is the like-for-like row).
* the same with ``--compile-bytecode`` (online): the only uv row whose env, like
  vpython's and pip's, holds ``.pyc`` for every module.
* ``python -m venv`` + ``<env>/bin/pip install`` (ensurepip's pip 23.2.1, the typical
  user) from a local wheelhouse (``--no-index --find-links``): pip's HTTP cache does not
  work on these machines, so this is the truly warm pip.
* ``virtualenv`` + ``<env>/bin/pip install`` (seeded pip 26.3), same wheelhouse.

Ratios are to uv (online, hardlink), paired per round; the targets of issue 4 are W2
vpython <= 1.5x uv and >= 10x faster than venv + pip.

    python benchmarks/bench_env.py [--rounds 7] [--scratch /tmp/vpython-bench] [--workloads w1,w2]
                                   [--no-reinstall] [--skip resolve,uv-offline,uv-compile,venv-pip,virtualenv-pip]
                                   [--profile]

``--profile`` adds a cProfile of one ``vpython install wN.py`` (warm store) per workload.
Markdown on stdout, progress on stderr, also written to ``<scratch>/results/bench_env.md``.
Uses PyPI the first time (tool venvs, wheelhouse, store): a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from common import Case, cell, log, paired_ratio, ratio_cell, run_interleaved, table  # noqa: E402

SKIPPABLE = ["resolve", "uv-offline", "uv-compile", "venv-pip", "virtualenv-pip"]


def clear_dir(path: str, keep=lambda name: False) -> None:
    """Remove every entry of ``path`` (not ``path`` itself). Never chmods a file: a
    vpython env's files are hardlinks of read-only store files, and changing their mode
    would change the store's copy too (the store would then rebuild the entry)."""
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return
    for name in names:
        if not keep(name):
            common.rmtree(os.path.join(path, name))


class VPythonRoot:
    def __init__(self, root: str) -> None:
        self.base = os.path.join(root, "v1")
        self.envs = os.path.join(self.base, "envs")
        self.specs = os.path.join(self.base, "specs")
        self.locks = os.path.join(self.base, "locks")

    def drop_envs(self) -> None:
        clear_dir(self.envs)
        clear_dir(self.specs)

    def only_pointer(self) -> str:
        names = [n for n in os.listdir(self.specs) if not n.startswith(".")]
        if len(names) != 1:
            sys.exit(f"bench_env: expected one spec pointer in {self.specs}, found {names}")
        return names[0]


def env_stats(env_dir: str) -> tuple:
    """(files, .pyc files) under an env, symlinks not followed."""
    files = pycs = 0
    for _, _, filenames in os.walk(env_dir):
        files += len(filenames)
        pycs += sum(1 for f in filenames if f.endswith(".pyc"))
    return files, pycs


def profile_install(s, vp_python: str, script: str, env: dict, vroot: VPythonRoot, top: int = 25) -> str:
    vroot.drop_envs()
    prof = os.path.join(s.results, f"install-{os.path.basename(script)}.prof")
    proc = subprocess.run([vp_python, "-m", "cProfile", "-o", prof, "-m", "vpython", "install", script],
                          env=env, cwd=s.workloads, capture_output=True, text=True)
    if proc.returncode != 0:
        return f"profile failed:\n```\n{proc.stderr[-2000:]}\n```"
    code = ("import pstats, sys; st = pstats.Stats(sys.argv[1]); st.sort_stats('cumulative').print_stats(%d)"
            % top)
    out = subprocess.run([vp_python, "-c", code, prof], capture_output=True, text=True).stdout
    body = out[out.find("   ncalls"):] if "   ncalls" in out else out
    return "```\n" + "\n".join(line[:150] for line in body.rstrip().splitlines()) + "\n```"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds per workload (default 7)")
    ap.add_argument("--scratch", default=common.DEFAULT_SCRATCH)
    ap.add_argument("--python", default=None, help="base interpreter (default: pyenv's real 3.11.7 binary)")
    ap.add_argument("--workloads", default="w1,w2")
    ap.add_argument("--no-reinstall", action="store_true", help="measure the vpython already in the tool venv")
    ap.add_argument("--skip", action="append", default=[], choices=SKIPPABLE)
    ap.add_argument("--profile", action="store_true", help="cProfile one warm-store `vpython install` per workload")
    ns = ap.parse_args()
    py = ns.python or common.default_python()
    s = common.Scratch(ns.scratch, py)
    workloads = [w.strip() for w in ns.workloads.split(",") if w.strip()]
    s.write_workloads()
    s.ensure_vptool(reinstall=not ns.no_reinstall)
    s.ensure_tools()
    uv = s.uv()
    env = s.environ()
    vp = s.vptool_vpython()
    vroot = VPythonRoot(s.vroot)
    for w in workloads:
        s.ensure_requirements(w, uv)

    # Prime every cache once (untimed): vpython's store and cached resolution, uv's cache.
    digests = {}
    for w in workloads:
        log(f"prime: vpython install {w}")
        vroot.drop_envs()
        common.run_timed([vp, "install", s.script(w)], env, s.workloads)
        digests[w] = vroot.only_pointer()
        log(f"prime: uv pip install {w}")
        e = os.path.join(s.envs, "prime-uv")
        common.rmtree(e)
        common.run_timed([uv, "venv", "-q", "-p", py, e], env)
        common.run_timed([uv, "pip", "install", "-q", "-p", e, "-r", s.requirements_txt(w)], env)
        common.rmtree(e)

    wh = ["--no-index", "--find-links", s.wheelhouse]
    groups = {}
    footprint = {}
    for w in workloads:
        req = s.requirements_txt(w)
        script = s.script(w)
        lock_cache = os.path.join(vroot.locks, digests[w] + ".pylock.toml")

        def edir(name: str) -> str:
            return os.path.join(s.envs, f"{w}-{name}")

        def fresh(path: str):
            return lambda: common.rmtree(path)

        def drop_resolution():
            vroot.drop_envs()
            if os.path.exists(lock_cache):
                os.unlink(lock_cache)

        cases = [
            Case("vpython", f"`vpython install {w}.py` (store + resolution cached)", [[vp, "install", script]],
                 env, s.workloads, prep=vroot.drop_envs),
        ]
        if "resolve" not in ns.skip:
            cases.append(Case("vpython-resolve", f"`vpython install {w}.py` (store cached, resolves with uv online)",
                              [[vp, "install", script]], env, s.workloads, prep=drop_resolution))
        e = edir("uv")
        cases.append(Case("uv", "`uv venv` + `uv pip install --link-mode hardlink -r R` (online)",
                          [[uv, "venv", "-q", "-p", py, e],
                           [uv, "pip", "install", "-q", "--link-mode", "hardlink", "-p", e, "-r", req]],
                          env, prep=fresh(e)))
        if "uv-offline" not in ns.skip:
            e = edir("uv-offline")
            cases.append(Case("uv-offline", "… `--offline`",
                              [[uv, "venv", "-q", "--offline", "-p", py, e],
                               [uv, "pip", "install", "-q", "--offline", "--link-mode", "hardlink", "-p", e,
                                "-r", req]], env, prep=fresh(e)))
        if "uv-compile" not in ns.skip:
            e = edir("uv-compile")
            cases.append(Case("uv-compile", "… `--compile-bytecode` (online)",
                              [[uv, "venv", "-q", "-p", py, e],
                               [uv, "pip", "install", "-q", "--link-mode", "hardlink", "--compile-bytecode",
                                "-p", e, "-r", req]], env, prep=fresh(e)))
        if "venv-pip" not in ns.skip:
            e = edir("venv-pip")
            cases.append(Case("venv-pip", "`python -m venv` + `<env>/bin/pip install $WH -r R` (pip 23.2.1)",
                              [[py, "-m", "venv", e],
                               [os.path.join(e, "bin", "pip"), "install", "-q", *wh, "-r", req]],
                              env, prep=fresh(e)))
        if "virtualenv-pip" not in ns.skip:
            e = edir("virtualenv-pip")
            cases.append(Case("virtualenv-pip", "`virtualenv` + `<env>/bin/pip install $WH -r R` (pip 26.3)",
                              [[s.tool("virtualenv"), "-q", "-p", py, e],
                               [os.path.join(e, "bin", "pip"), "install", "-q", *wh, "-r", req]],
                              env, prep=fresh(e)))
        log(f"measuring {w}: {', '.join(c.name for c in cases)}")
        run_interleaved(cases, ns.rounds, label=w)
        groups[w] = cases
        # What each tool left behind on its last run (same content, different extras).
        vp_env = os.path.join(vroot.envs, sorted(n for n in os.listdir(vroot.envs)
                                                 if not n.startswith(".") and not n.endswith(".lock"))[0])
        footprint[w] = {"vpython": env_stats(vp_env)}
        for c in cases:
            if not c.name.startswith("vpython"):
                footprint[w][c.name] = env_stats(edir(c.name))

    out = ["# vpython cold-env benchmark (warm caches)\n",
           f"{common.machine()}. {common.versions(s, uv)}. {ns.rounds} interleaved rounds after one warm-up "
           "round; wall time median (min–max); ratios are medians of per-round ratios; peak = max RSS of the "
           "largest process. `R` = the workload's full pinned set (`wN-requirements.txt`), "
           "`$WH` = `--no-index --find-links <wheelhouse>`.\n"]
    for w, cases in groups.items():
        uvc = next(c for c in cases if c.name == "uv")
        vpc = cases[0]
        rows = []
        for c in cases:
            files, pycs = footprint[w].get(c.name, footprint[w]["vpython"])
            rows.append([c.display, cell(c.times), f"{statistics.median(c.rss):.0f}",
                         ratio_cell(paired_ratio(c, uvc)) if c is not uvc else "1",
                         ratio_cell(paired_ratio(c, vpc)) if c is not vpc else "1",
                         f"{files} / {pycs}"])
        out.append(f"## {w.upper()}: {', '.join(common.WORKLOADS[w])}\n")
        out.append(table(["command", "wall", "peak MiB", "/ uv (paired)", "/ vpython (paired)",
                          "env files / .pyc"], rows))
        out.append("")
    if ns.profile:
        out.append("## Profile: `vpython install` with a warm store (cProfile, cumulative)\n")
        for w in workloads:
            out.append(f"### {w.upper()}\n")
            out.append(profile_install(s, s.vptool_python(), s.script(w), env, vroot))
            out.append("")
    text = "\n".join(out)
    print(text)
    with open(os.path.join(s.results, "bench_env.md"), "w") as f:
        f.write(text + "\n")
    log(f"written to {os.path.join(s.results, 'bench_env.md')}")
    for w in workloads:
        clear_dir(s.envs, keep=lambda n: not n.startswith(w + "-"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
