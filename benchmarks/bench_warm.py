#!/usr/bin/env python3
"""Warm-run benchmark: ``vpython script.py`` when the script's env already exists.

Times, in one run, interleaved round by round (the order rotates every round):

* the floor: the env's own python running the script directly (``<env>/bin/python wN.py``)
* ``vpython wN.py``, vpython installed non-editable in its own venv (the recommended
  install for speed: ``python3.11 -m venv vptool && vptool/bin/pip install .`` from a checkout):
  the native launcher (launcher/) where the install compiled it, else the Python script
* ``vpython-py wN.py``: the pure-Python command of the same install (what the launcher
  hands misses to; the whole warm path before the launcher existed)
* with ``--with-base``: ``vpython wN.py``, the console script of the pyenv base install
  (editable, and the base interpreter's ``.pth`` files run at every start)
* ``uv run --script wN.py`` (uv's cached script env)

on W0 (``print("hello")``, empty PEP 723 block), W1 (``requests==2.34.2``) and W2
(``numpy pandas rich httpx pydantic``). Ratios are paired per round (median of the
per-round ratios). Then W0 and W2 again with ``PYTHONDONTWRITEBYTECODE=1`` (uv's env
has no ``.pyc``; vpython's store is compiled once at build time), the setting of issue
14's warm-start goal (launcher <= floor + 5 ms). Before timing, every launcher row is
checked to be a hit: it must run with ``vpython-py`` moved away. Then an import check:
``python -X importtime -m vpython wN.py`` must not import protobuf, packaging,
virtualenv, pex, filelock, installer, tomllib, json, dataclasses, re or logging, and the
most expensive vpython modules are listed. Finally an in-process profile of the warm
path (``os.execve`` stubbed out).

    python benchmarks/bench_warm.py [--runs 20] [--scratch /tmp/vpython-bench] [--workloads w0,w1,w2]
                                    [--no-reinstall] [--with-base] [--skip uv,nopyc,imports,profile]

Markdown on stdout, progress on stderr. Uses PyPI the first time (tool venv, envs).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from common import Case, cell, log, paired_ratio, ratio_cell, run_interleaved, table  # noqa: E402

FORBIDDEN = ("google.protobuf", "packaging", "virtualenv", "pex", "filelock", "installer", "tomllib",
             "json", "dataclasses", "re", "logging")

# Runs the warm path in-process with os.execve stubbed: import cost, per-call cost of
# main() up to the exec, and a cProfile of many calls.
PROFILE_DRIVER = r"""
import os, sys, time
script, n = sys.argv[1], int(sys.argv[2])
t0 = time.perf_counter()
from vpython.cli.main import main
import vpython.cli.run
t1 = time.perf_counter()
class _Exec(BaseException):
    pass
def _fake_execve(path, args, env):
    raise _Exec(path)
os.execve = _fake_execve
fds = set(os.listdir('/proc/self/fd'))
def once():
    try:
        main([script])
    except _Exec:
        pass
    for fd in os.listdir('/proc/self/fd'):  # the env's shared lock, normally kept across exec
        if fd not in fds:
            try:
                os.close(int(fd))
            except OSError:
                pass
t2 = time.perf_counter(); once(); t3 = time.perf_counter()
t = time.perf_counter()
for _ in range(n):
    once()
per_call = (time.perf_counter() - t) / n
import cProfile, pstats, io
pr = cProfile.Profile()
pr.enable()
for _ in range(n):
    once()
pr.disable()
out = io.StringIO()
st = pstats.Stats(pr, stream=out)
st.sort_stats('tottime').print_stats(12)
print(f"IMPORT_MS {(t1 - t0) * 1000:.2f}")
print(f"FIRST_CALL_MS {(t3 - t2) * 1000:.2f}")
print(f"PER_CALL_MS {per_call * 1000:.3f}")
print(out.getvalue())
"""


def parse_importtime(stderr: str) -> dict:
    """{module: (self_us, cumulative_us)} from ``-X importtime`` output."""
    out = {}
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if m:
            out[m.group(4)] = (int(m.group(1)), int(m.group(2)))
    return out


def import_check(python: str, script: str, env: dict, cwd: str, runs: int, label: str) -> tuple:
    """(markdown lines, forbidden modules found). Modules are attributed to vpython when
    they are absent from ``python -X importtime -c pass`` on the same interpreter."""
    base_runs, vp_runs = [], []
    for _ in range(runs):
        b = subprocess.run([python, "-X", "importtime", "-c", "pass"], env=env, cwd=cwd,
                           capture_output=True, text=True)
        v = subprocess.run([python, "-X", "importtime", "-m", "vpython", script], env=env, cwd=cwd,
                           capture_output=True, text=True)
        if v.returncode != 0:
            raise common.Failed(f"{python} -m vpython {script}: {v.stderr[-2000:]}")
        base_runs.append(parse_importtime(b.stderr))
        vp_runs.append(parse_importtime(v.stderr))
    baseline = set().union(*[set(r) for r in base_runs])
    seen = set().union(*[set(r) for r in vp_runs])
    extra = sorted(seen - baseline)

    def is_forbidden(mod: str) -> bool:
        return any(mod == f or mod.startswith(f + ".") for f in FORBIDDEN)

    found = [m for m in extra if is_forbidden(m)]
    at_startup = sorted(m for m in baseline if is_forbidden(m))

    def med(mod: str, i: int) -> float:
        return statistics.median(r[mod][i] for r in vp_runs if mod in r) / 1000.0

    ours = sorted((m for m in seen if m == "vpython" or m.startswith("vpython.")), key=lambda m: -med(m, 1))
    non_vpython_extra = [m for m in extra if not (m == "vpython" or m.startswith("vpython."))]
    total_extra = sum(med(m, 0) for m in extra)
    lines = [
        f"**{label}**: `{os.path.basename(os.path.dirname(os.path.dirname(python)))}/bin/python -X importtime "
        f"-m vpython {os.path.basename(script)}` (median of {runs}). Modules beyond `-c pass`: {len(extra)}, "
        f"self time {total_extra:.1f} ms.",
        "",
        f"* forbidden modules imported by vpython: **{', '.join(found) if found else 'none'}**"
        + (f" (already imported at interpreter start-up, before vpython runs: {', '.join(at_startup)})"
           if at_startup else ""),
        f"* other non-vpython modules: {', '.join(non_vpython_extra) or 'none'}",
        "",
        table(["vpython module", "self ms", "cumulative ms"],
              [[f"`{m}`", f"{med(m, 0):.2f}", f"{med(m, 1):.2f}"] for m in ours[:12]]),
    ]
    return lines, found


def paired_overhead(c: Case, floor: Case) -> str:
    """Median of the per-round differences to the floor (robust to slow drifts in load)."""
    d = statistics.median(x - y for x, y in zip(c.times, floor.times))
    return f"{d * 1000:+.1f} ms"


def settle(*paths: str) -> None:
    """Age freshly written workload files: the launch index trusts a file's identity only
    once it has not changed for 2 s (vpython/env/launch_index.py MARGIN_NS)."""
    old = os.stat(paths[0]).st_mtime - 3600 if paths else 0
    for p in paths:
        os.utime(p, (old, old))


def is_launcher(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(4) in (b"\x7fELF", b"\xcf\xfa\xed\xfe")


def launcher_hits(vp: str, script: str, env: dict, cwd: str) -> bool:
    """Whether the launcher serves ``vp script`` itself: warm it (a miss writes the index
    entry), then run it with the Python fallback moved away."""
    common.run_timed([vp, script], env, cwd)
    fallback = os.path.join(os.path.dirname(vp), "vpython-py")
    os.rename(fallback, fallback + ".away")
    try:
        common.run_timed([vp, script], env, cwd)
        return True
    except common.Failed:
        return False
    finally:
        os.rename(fallback + ".away", fallback)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="interleaved rounds per table (default 20)")
    ap.add_argument("--scratch", default=common.DEFAULT_SCRATCH)
    ap.add_argument("--python", default=None, help="base interpreter (default: pyenv's real 3.11.7 binary)")
    ap.add_argument("--workloads", default="w0,w1,w2")
    ap.add_argument("--no-reinstall", action="store_true", help="measure the vpython already in the tool venv")
    ap.add_argument("--skip", action="append", default=[],
                    choices=["base", "uv", "nopyc", "imports", "profile"])
    ap.add_argument("--with-base", action="store_true",
                    help="also time the base interpreter's console script (an editable install, with the base "
                         "interpreter's .pth files)")
    ns = ap.parse_args()
    py = ns.python or common.default_python()
    s = common.Scratch(ns.scratch, py)
    workloads = [w.strip() for w in ns.workloads.split(",") if w.strip()]
    s.write_workloads()
    settle(*[s.script(w) for w in workloads])
    s.ensure_vptool(reinstall=not ns.no_reinstall)
    if "uv" not in ns.skip:
        s.ensure_tools()  # uv at the anchors' version
    uv = s.uv()
    env = s.environ()
    vp = s.vptool_vpython()
    vp_py = os.path.join(os.path.dirname(vp), "vpython-py")
    native = is_launcher(vp)
    log(f"{vp} is {'the native launcher' if native else 'the Python script (no launcher built)'}")
    base_vp = s.base_vpython()
    if not ns.with_base:
        ns.skip.append("base")
    elif subprocess.run([py, "-c", "import vpython"], env=env, capture_output=True).returncode != 0 \
            or not os.path.isfile(base_vp):
        # e.g. an editable install whose source tree moved: it would measure an error exit.
        log(f"{base_vp} cannot import vpython: skipping the base-install rows (pip install -e {common.REPO})")
        ns.skip.append("base")

    # Prime: build every env (first run may resolve and download), record the env dirs.
    env_dirs = {}
    for w in workloads:
        log(f"prime: vpython {w}")
        out = subprocess.run([vp, "install", s.script(w)], env=env, cwd=s.workloads,
                             capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"vpython install {w} failed:\n{out.stderr}")
        env_dirs[w] = out.stdout.strip().splitlines()[-1]
        common.run_timed([vp, s.script(w)], env, s.workloads)
        if native and not launcher_hits(vp, s.script(w), env, s.workloads):
            sys.exit(f"the launcher does not serve {w} itself: the benchmark would time the Python path")
        if "uv" not in ns.skip:
            log(f"prime: uv run --script {w}")
            common.run_timed([uv, "run", "-q", "--script", s.script(w)], env, s.workloads)

    out = ["# vpython warm-run benchmark\n",
           f"{common.machine()}. {common.versions(s, uv)}. {ns.runs} interleaved rounds after one "
           "warm-up round; wall time median (min–max); ratios are medians of per-round ratios; "
           "peak = max RSS of the largest process.\n"]
    groups = {}
    for w in workloads:
        floor = Case("floor", f"`<env>/bin/python {w}.py` (floor)",
                     [[os.path.join(env_dirs[w], "bin", "python"), s.script(w)]], env, s.workloads)
        label = "native launcher" if native else "Python script"
        cases = [floor, Case("vpython", f"`vptool/bin/vpython {w}.py` ({label}, own venv)",
                             [[vp, s.script(w)]], env, s.workloads)]
        if native:
            cases.append(Case("vpython-py", f"`vptool/bin/vpython-py {w}.py` (Python path, same install)",
                              [[vp_py, s.script(w)]], env, s.workloads))
        if "base" not in ns.skip:
            cases.append(Case("vpython-base", f"`$PYBIN/vpython {w}.py` (pyenv base, editable)",
                              [[base_vp, s.script(w)]], env, s.workloads))
        if "uv" not in ns.skip:
            cases.append(Case("uv", f"`uv run --script {w}.py`", [[uv, "run", "-q", "--script", s.script(w)]],
                              env, s.workloads))
        if w == "w0":
            cases.append(Case("vptool-start", "`vptool/bin/python -c pass` (vpython's interpreter start)",
                              [[s.vptool_python(), "-c", "pass"]], env, s.workloads))
        log(f"measuring {w}: {', '.join(c.name for c in cases)}")
        run_interleaved(cases, ns.runs, label=w)
        groups[w] = cases

    out.append("## Warm run (env exists)\n")
    for w, cases in groups.items():
        floor = cases[0]
        uvc = next((c for c in cases if c.name == "uv"), None)
        rows = []
        for c in cases:
            over = statistics.median(c.times) - statistics.median(floor.times)
            rows.append([c.display, cell(c.times), f"{statistics.median(c.rss):.1f}",
                         ratio_cell(paired_ratio(c, floor)) if c is not floor else "1",
                         ratio_cell(paired_ratio(c, uvc)) if uvc and c is not uvc else "–",
                         f"{over * 1000:+.1f} ms" if c is not floor else "–",
                         paired_overhead(c, floor) if c is not floor else "–"])
        out.append(f"### {w.upper()}: {', '.join(common.WORKLOADS[w]) or 'empty PEP 723 block'}\n")
        out.append(table(["command", "wall", "peak MiB", "/ floor (paired)", "/ uv run (paired)",
                          "median − floor median", "overhead (paired median)"], rows))
        out.append("")

    for w in ("w0", "w2"):
        if "nopyc" in ns.skip or w not in workloads or "uv" in ns.skip:
            continue
        # A separate copy of the script: uv keys script envs by path, so this env has only
        # ever been run with PYTHONDONTWRITEBYTECODE=1 and holds no .pyc.
        script = s.script(w, "-nopyc")
        common.write_script(script, common.WORKLOADS[w], common.BODIES[w])
        settle(script)
        nenv = s.environ(PYTHONDONTWRITEBYTECODE="1")
        common.run_timed([uv, "run", "-q", "--script", script], nenv, s.workloads)
        uv_env = uv_script_env(s, f"{w}-nopyc")
        pycs = purge_pyc(uv_env) if uv_env else -1
        if native and not launcher_hits(vp, script, nenv, s.workloads):
            sys.exit(f"the launcher does not serve {w}-nopyc itself")
        cases = [
            Case("floor", f"`<vpython env>/bin/python {w}.py` (floor)",
                 [[os.path.join(env_dirs[w], "bin", "python"), script]], nenv, s.workloads),
            Case("vpython", f"`vptool/bin/vpython {w}.py` ({'native launcher' if native else 'Python script'})",
                 [[vp, script]], nenv, s.workloads),
        ]
        if native:
            cases.append(Case("vpython-py", f"`vptool/bin/vpython-py {w}.py` (Python path)", [[vp_py, script]],
                              nenv, s.workloads))
        cases.append(Case("uv", f"`uv run --script {w}.py` (env without .pyc)",
                          [[uv, "run", "-q", "--script", script]], nenv, s.workloads))
        log(f"measuring {w} with PYTHONDONTWRITEBYTECODE=1")
        run_interleaved(cases, ns.runs, label=f"{w}-nopyc")
        floor, uvc = cases[0], cases[-1]
        rows = [[c.display, cell(c.times), f"{statistics.median(c.rss):.1f}",
                 ratio_cell(paired_ratio(c, floor)) if c is not floor else "1",
                 ratio_cell(paired_ratio(c, uvc)) if c is not uvc else "1",
                 f"{(statistics.median(c.times) - statistics.median(floor.times)) * 1000:+.1f} ms"
                 if c is not floor else "–",
                 paired_overhead(c, floor) if c is not floor else "–"] for c in cases]
        out.append(f"## {w.upper()} with `PYTHONDONTWRITEBYTECODE=1`\n")
        out.append(f"uv's script env for this copy of {w}.py was created and run only with the variable set "
                   f"({'no' if pycs == 0 else pycs} stale `.pyc` removed before timing); vpython's env is the "
                   "same as above, byte-compiled in the store when it was built.\n")
        out.append(table(["command", "wall", "peak MiB", "/ floor (paired)", "/ uv run (paired)",
                          "median − floor median", "overhead (paired median)"], rows))
        out.append("")

    if "imports" not in ns.skip:
        out.append("## Warm-path imports\n")
        check_w = "w1" if "w1" in workloads else workloads[-1]
        lines, found = import_check(s.vptool_python(), s.script(check_w), env, s.workloads, 9,
                                    "own venv (non-editable)")
        out += lines + [""]
        if "base" not in ns.skip:
            lines, found2 = import_check(py, s.script(check_w), env, s.workloads, 9, "pyenv base (editable)")
            out += lines + [""]

    if "profile" not in ns.skip:
        check_w = "w1" if "w1" in workloads else workloads[-1]
        prof = subprocess.run([s.vptool_python(), "-c", PROFILE_DRIVER, s.script(check_w), "300"], env=env,
                              cwd=s.workloads, capture_output=True, text=True)
        out.append("## Warm path in-process (os.execve stubbed)\n")
        if prof.returncode != 0:
            out.append(f"profile failed:\n```\n{prof.stderr[-2000:]}\n```")
        else:
            vals = dict(re.findall(r"^(IMPORT_MS|FIRST_CALL_MS|PER_CALL_MS) ([\d.]+)$", prof.stdout, re.M))
            out.append(f"Importing `vpython.cli.main` + `vpython.cli.run`: {vals.get('IMPORT_MS')} ms; first "
                       f"`main()` call (lazy imports included): {vals.get('FIRST_CALL_MS')} ms; later calls: "
                       f"{vals.get('PER_CALL_MS')} ms each (discover + digest + lookup + flock + utime + "
                       "environ, everything but the exec).\n")
            body = prof.stdout.split("\n", 1)[1] if "ncalls" in prof.stdout else prof.stdout
            body = body[body.find("   ncalls"):] if "   ncalls" in body else body
            out.append("```\n" + "\n".join(body.rstrip().splitlines()[:16]) + "\n```")
        out.append("")

    text = "\n".join(out)
    print(text)
    with open(os.path.join(s.results, "bench_warm.md"), "w") as f:
        f.write(text + "\n")
    log(f"written to {os.path.join(s.results, 'bench_warm.md')}")
    return 0


def uv_script_env(s, stem: str) -> str | None:
    base = os.path.join(s.uv_cache, "environments-v2")
    try:
        names = [n for n in os.listdir(base) if n.startswith(stem + "-")]
    except OSError:
        return None
    if not names:
        return None
    return max((os.path.join(base, n) for n in names), key=os.path.getmtime)


def purge_pyc(root: str) -> int:
    """Remove ``__pycache__`` dirs from a uv env (its private dirs; the files in the
    archive are separate links, so the cache is not touched). Returns the .pyc count."""
    count = 0
    for dirpath, dirnames, filenames in os.walk(root):
        if os.path.basename(dirpath) == "__pycache__":
            count += sum(1 for f in filenames if f.endswith(".pyc"))
    for dirpath, dirnames, _ in os.walk(root, topdown=False):
        if os.path.basename(dirpath) == "__pycache__":
            common.rmtree(dirpath)
    return count


if __name__ == "__main__":
    sys.exit(main())
