"""A synthetic W2 for timing vpython's cold env from a warm store, without PyPI.

``python3 benchmarks/synthetic_store.py [--rounds N] [--profile FILE] [--importtime]``

Builds (once per scratch dir) 19 tiny-but-numerous wheels shaped like W2's
(numpy pandas rich httpx pydantic and their dependencies): ~3,400 modules and ~1,000
data files in ~380 package dirs, a few console scripts. The first ``vpython install``
resolves them (uv, from a find-links dir: no index, no network) and fills the store;
then every timed round deletes ``<root>/v1/envs`` and ``<root>/v1/specs`` only (store,
cached resolution and interpreter probe stay warm) and times ``python -m vpython
install w2.py`` as a whole process, interpreter start-up included.

``--profile FILE`` writes a cProfile of one more cold round; ``--importtime`` prints the
slowest imports of one more cold round (``-X importtime``). ``--baseline-src DIR`` also
times another checkout's ``vpython`` package (e.g. ``git archive <commit> vpython | tar
-x -C DIR``), with its own store, interleaved round by round with this one, and prints
the median of the per-round ratios. Nothing here is a test: it is for before/after
figures of the cold path (docs/benchmarks.md §2).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.support.wheels import make_wheel  # noqa: E402

# name: (modules, module dirs, data files, data dirs, console scripts, requires)
PACKAGES = {
    "synth-pandas": (1500, 140, 200, 10, (), ("synth-numpy", "synth-dateutil", "synth-pytz", "synth-tzdata")),
    "synth-numpy": (800, 70, 180, 10, ("f2py", "numpy-config"), ()),
    "synth-pygments": (340, 10, 0, 0, ("pygmentize",), ()),
    "synth-pydantic": (110, 8, 0, 0, (), ("synth-pydantic-core", "synth-annotated-types", "synth-typing-ext")),
    "synth-pydantic-core": (6, 1, 4, 1, (), ("synth-typing-ext",)),
    "synth-rich": (100, 2, 0, 0, (), ("synth-pygments", "synth-markdown-it")),
    "synth-markdown-it": (65, 8, 0, 0, ("markdown-it",), ("synth-mdurl",)),
    "synth-mdurl": (6, 1, 0, 0, (), ()),
    "synth-httpx": (25, 3, 0, 0, ("httpx",), ("synth-httpcore", "synth-anyio", "synth-idna", "synth-certifi")),
    "synth-httpcore": (40, 4, 0, 0, (), ("synth-h11",)),
    "synth-h11": (12, 1, 0, 0, (), ()),
    "synth-anyio": (54, 6, 0, 0, (), ("synth-idna",)),
    "synth-idna": (8, 1, 0, 0, (), ()),
    "synth-certifi": (3, 1, 1, 1, (), ()),
    "synth-dateutil": (25, 5, 1, 1, (), ()),
    "synth-pytz": (4, 1, 300, 40, (), ()),
    "synth-tzdata": (40, 40, 560, 60, (), ()),
}
PACKAGES["synth-typing-ext"] = (1, 1, 0, 0, (), ())
PACKAGES["synth-annotated-types"] = (3, 1, 0, 0, (), ())
assert len(PACKAGES) == 19
TOP = ("synth-numpy", "synth-pandas", "synth-rich", "synth-httpx", "synth-pydantic")
MODULE = '''"""Module {i} of {pkg}."""

import os


def f{i}(x, y=1):
    """Return a value from x and y."""
    total = 0
    for k in range(x):
        total += k * y
    return total


class C{i}:
    attr = {i}

    def method(self, value):
        return [v + self.attr for v in range(value)]
'''


def _dirs(imp: str, n: int, sub: str = "") -> list:
    out = [imp]
    for d in range(1, n):
        parent = out[(d - 1) // 4]  # a tree, up to 4 children per dir
        out.append(f"{parent}/{sub}d{d}")
    return out


def build_wheels(wheelhouse: str) -> None:
    os.makedirs(wheelhouse, exist_ok=True)
    for name, (mods, mdirs, data, ddirs, scripts, requires) in PACKAGES.items():
        imp = name.replace("-", "_")
        files = {}
        pydirs = _dirs(imp, mdirs)
        for i in range(mods):
            d = pydirs[i % len(pydirs)]
            files[f"{d}/{'__init__' if i < len(pydirs) else f'm{i}'}.py"] = MODULE.format(i=i, pkg=name)
        datadirs = [f"{imp}/data/{p}" for p in _dirs("z", ddirs)] if ddirs else []
        for i in range(data):
            files[f"{datadirs[i % len(datadirs)]}/f{i}"] = (f"TZif{i}" * 40).encode()
        files[f"{imp}/__init__.py"] = MODULE.format(i=0, pkg=name) + "\ndef main():\n    print('ok')\n"
        eps = {"console_scripts": {s: f"{imp}:main" for s in scripts}} if scripts else None
        make_wheel(wheelhouse, name, "1.0", files=files, requires=list(requires), entry_points=eps)


def environ(scratch: str, src: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VPYTHON_", "UV_", "PIP_")) and k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    if src:  # PYTHONPATH comes before the editable install's finder
        env["PYTHONPATH"] = src
    env.update(VPYTHON_VIRTUALENV_ROOT=os.path.join(scratch, "root"), VPYTHON_INDEX_URL="none",
               VPYTHON_FIND_LINKS=os.path.join(scratch, "wheelhouse"), UV_CACHE_DIR=os.path.join(scratch, "uv"),
               UV_NO_CONFIG="1", XDG_CONFIG_HOME=os.path.join(scratch, "config"))
    return env


def setup(scratch: str, src: str | None = None) -> str:
    script = os.path.join(scratch, "w2.py")
    if not os.path.isfile(script):
        build_wheels(os.path.join(scratch, "wheelhouse"))
        with open(script, "w") as f:
            f.write("# /// script\n# dependencies = [" + ", ".join(f'"{n}"' for n in TOP) + "]\n# ///\n"
                    "import synth_numpy, synth_pandas, synth_rich, synth_httpx, synth_pydantic\nprint('ok')\n")
    r = subprocess.run([sys.executable, "-P", "-m", "vpython", "install", script], env=environ(scratch, src),
                       capture_output=True, text=True, cwd=scratch)
    if r.returncode != 0:
        sys.exit(f"setup failed:\n{r.stderr}")
    return script


def reset(scratch: str) -> None:
    base = os.path.join(scratch, "root", "v1")
    for sub in ("envs", "specs"):
        shutil.rmtree(os.path.join(base, sub), ignore_errors=True)
    # Deleting ~7,600 hardlinks leaves the filesystem writeback work that would otherwise
    # land on the timed run (0.1 s of system time here, more for a run that links at once).
    os.sync()
    time.sleep(0.2)


def timed(cmd: list, env: dict, cwd: str) -> float:
    t0 = time.perf_counter()
    quiet = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]  # install prints the env dir
    pid = os.posix_spawn(cmd[0], cmd, env, file_actions=quiet)
    _, status = os.waitpid(pid, 0)
    took = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{cmd} failed ({status})")
    return took


def env_counts(scratch: str) -> tuple:
    envs = os.path.join(scratch, "root", "v1", "envs")
    files = dirs = 0
    for name in os.listdir(envs):
        p = os.path.join(envs, name)
        if os.path.isdir(p) and not name.startswith("."):
            for _, ds, fs in os.walk(p):
                files += len(fs)
                dirs += len(ds)
    return files, dirs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scratch", default=os.path.join(tempfile.gettempdir(), "vpython-synthetic-w2"))
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--profile", help="write a cProfile of one cold round here")
    ap.add_argument("--importtime", action="store_true", help="print the slowest imports of one cold round")
    ap.add_argument("--fresh", action="store_true", help="delete the scratch dir first (wheels and store too)")
    ap.add_argument("--baseline-src", help="a dir holding another version's vpython package, timed alongside")
    ns = ap.parse_args()
    scratches = {"this": ns.scratch}
    if ns.baseline_src:
        scratches["baseline"] = ns.scratch + "-baseline"
    srcs = {"this": None, "baseline": ns.baseline_src and os.path.abspath(ns.baseline_src)}
    runs = {}
    for name, scratch in scratches.items():
        if ns.fresh:
            shutil.rmtree(scratch, ignore_errors=True)
        os.makedirs(scratch, exist_ok=True)
        script = setup(scratch, srcs[name])
        runs[name] = ([sys.executable, "-P", "-m", "vpython", "install", script], environ(scratch, srcs[name]), scratch)
    times = {name: [] for name in runs}
    ratios = []
    for i in range(ns.rounds):
        order = list(runs) if i % 2 == 0 else list(reversed(runs))
        took = {}
        for name in order:
            cmd, env, scratch = runs[name]
            reset(scratch)
            took[name] = timed(cmd, env, scratch)
            times[name].append(took[name])
        if "baseline" in took:
            ratios.append(took["this"] / took["baseline"])
    for name, ts in times.items():
        files, dirs = env_counts(runs[name][2])
        ts.sort()
        print(f"{name}: cold env from warm store (synthetic W2: {files} files, {dirs} dirs): "
              f"median {statistics.median(ts) * 1000:.0f} ms, min {ts[0] * 1000:.0f} ms, "
              f"max {ts[-1] * 1000:.0f} ms over {ns.rounds} rounds")
    if ratios:
        print(f"this / baseline, per round: median {statistics.median(ratios):.2f} "
              f"(min {min(ratios):.2f}, max {max(ratios):.2f})")
    cmd, env, _ = runs["this"]
    script = cmd[-1]
    if ns.profile:
        reset(ns.scratch)
        timed([sys.executable, "-m", "cProfile", "-o", ns.profile, "-m", "vpython", "install", script], env, ns.scratch)
        print(f"profile: {ns.profile}")
    if ns.importtime:
        reset(ns.scratch)
        r = subprocess.run([sys.executable, "-X", "importtime", "-m", "vpython", "install", script], env=env,
                           capture_output=True, text=True)
        top = []
        for line in r.stderr.splitlines():
            if line.startswith("import time:") and "cumulative" not in line:
                _, cum, name = line.split("|")
                if not name.startswith("   "):  # " name": imported at top level, not by another import
                    top.append((int(cum), name.strip()))
        print("imports (cumulative us, top level):")
        for c, n in sorted(top, reverse=True)[:25]:
            print(f"  {c:>8}  {n}")
        print(f"  total of top-level imports: {sum(c for c, _ in top) / 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
