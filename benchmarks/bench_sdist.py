#!/usr/bin/env python3
"""sdist builds: vpython's builder (``vpython.store.sdists.built_wheel``) against
``uv pip install --no-deps``, on real sdist-only pins from PyPI.

For each pin and interpreter, ``--rounds`` times, each round with empty caches:

* **vpython first build**: ``built_wheel()`` into a fresh vpython root (fetch the sdist,
  verify its sha256, ``uv build --wheel`` in a sealed work dir, check, publish).
* **uv first install**: ``uv pip install --no-deps --no-binary <name> <pin>`` into a fresh
  venv (``uv venv`` not timed) with an empty ``UV_CACHE_DIR``. ``--no-binary`` makes uv
  build even where PyPI has a wheel for that Python (psutil 5.8.0 and MarkupSafe 1.1.1
  have cp38 wheels), so both columns time a build.
* **vpython hit**: ``built_wheel()`` again, in-process (the cost an env build pays per
  built package once the wheel is in the store), and as a whole new process
  (interpreter start + imports + the lookup).
* **uv warm install**: the same ``uv pip install`` into another fresh venv, warm cache
  (uv's own "built once" path).

Medians over rounds. Uses PyPI: a benchmark, not a test.

    python benchmarks/bench_sdist.py [--rounds 1] [--python 3.11,3.8] [--pins psutil==5.8.0,...]

``--env`` times whole installs instead (``vpython -vpython-tool install`` of a text-proto
spec, one fresh root per round, PyPI): a spec whose pins PyPI has only as sdists
(``SDIST_SPEC``, built on the first install) against one of the same size whose pins all
have wheels (``WHEEL_SPEC``), each installed three times:

* **first**: empty root and uv cache (the sdist spec builds here);
* **second, env deleted**: the same spec again after its env was removed (the store is
  warm: the per-digest plan links the stored entries, nothing is resolved or built);
* **second, new spec**: a different spec file with the same pins (a new digest: the
  slow path resolves, finds the built wheels in the store, builds nothing).

    python benchmarks/bench_sdist.py --env [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

DEFAULT_PINS = (
    "psutil==5.8.0",
    "PyYAML==5.3.1",
    "MarkupSafe==1.1.1",
    "crcmod==1.7",
    "wrapt==1.12.1",
    "future==0.18.2",
)
INDEX = "https://pypi.org/simple"


def log(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def find_python(version: str) -> str | None:
    root = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE, text=True).stdout.strip()
    versions = os.path.join(root, "versions")
    for v in sorted(os.listdir(versions), reverse=True) if os.path.isdir(versions) else []:
        exe = os.path.join(versions, v, "bin", f"python{version}")
        if v.startswith(version + ".") and os.path.isfile(exe):
            return exe
    return shutil.which(f"python{version}")


def sdist_of(pin: str):
    """The SdistRef of ``name==version`` on PyPI (PEP 691 JSON)."""
    from packaging.utils import canonicalize_name, parse_sdist_filename

    from vpython.store.sdists import SdistRef

    name, version = pin.split("==")
    req = urllib.request.Request(
        f"{INDEX}/{canonicalize_name(name)}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        files = json.load(resp)["files"]
    for f in files:
        fn = f["filename"]
        if not fn.endswith((".tar.gz", ".zip")):
            continue
        try:
            _, v = parse_sdist_filename(fn)
        except ValueError:
            continue
        if str(v) == version:
            return SdistRef(name, version, fn, f["hashes"]["sha256"], url=f["url"], size=f.get("size"))
    raise SystemExit(f"{pin}: no sdist on {INDEX}")


def clean_environ(scratch: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_", "VPYTHON_"))}
    env.update(UV_NO_PROGRESS="1", UV_PYTHON_DOWNLOADS="never", PIP_CONFIG_FILE=os.devnull)
    env["UV_CACHE_DIR"] = os.path.join(scratch, "uv-cache")
    return env


def vpython_first_and_hit(sdist, python: str, scratch: str) -> tuple[float, float, float]:
    from vpython.interpreters.probe import probe
    from vpython.settings.sources import Sources
    from vpython.store.root import Layout
    from vpython.store.sdists import built_wheel

    layout = Layout(os.path.join(scratch, "root"))
    interp = probe(python, layout.interpreters)
    sources = Sources(index_url=INDEX)
    t = time.perf_counter()
    first = built_wheel(sdist, interp, sources, layout)
    first_s = time.perf_counter() - t
    assert first.built
    t = time.perf_counter()
    hit = built_wheel(sdist, interp, sources, layout)
    hit_s = time.perf_counter() - t
    assert not hit.built and hit.sha256 == first.sha256
    script = (
        f"import sys; sys.path.insert(0, {REPO!r})\n"
        "from vpython.interpreters.probe import probe\nfrom vpython.settings.sources import Sources\n"
        "from vpython.store.root import Layout\nfrom vpython.store.sdists import SdistRef, built_wheel\n"
        f"layout = Layout({layout.root!r})\n"
        f"w = built_wheel(SdistRef(**{dict(sdist.__dict__)!r}), probe({python!r}, layout.interpreters), Sources(), layout)\n"
        "assert not w.built\n"
    )
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", script], check=True)
    process_s = time.perf_counter() - t
    return first_s, hit_s, process_s


def uv_install(pin: str, python: str, scratch: str, venv_name: str) -> float:
    from vpython.uvbin import uv_binary

    uv, env = uv_binary(), clean_environ(scratch)
    venv = os.path.join(scratch, venv_name)
    subprocess.run([uv, "venv", "-q", "--no-config", "--python", python, venv], env=env, check=True)
    name = pin.split("==")[0]
    cmd = [uv, "pip", "install", "-q", "--no-config", "--no-deps", "--no-binary", name, "--python",
           os.path.join(venv, "bin", "python"), "--index-url", INDEX, pin]
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


# Python 3.11 pins: three that PyPI has only as sdists (corpus-baseline §1), three with wheels.
SDIST_SPEC = ("crcmod==1.7", "MarkupSafe==1.1.1", "PyYAML==5.3.1")
WHEEL_SPEC = ("six==1.16.0", "MarkupSafe==2.1.5", "PyYAML==6.0.1")


def _spec_text(pins: tuple[str, ...]) -> str:
    lines = ['python_version: "3.11"']
    lines += [f'wheel: <name: "{n}" version: "version:{v}">' for n, v in (p.split("==") for p in pins)]
    return "\n".join(lines) + "\n"


def _install(spec: str, env: dict) -> float:
    from tests.support.vp import vpython_cmd

    t = time.perf_counter()
    subprocess.run(vpython_cmd() + ["-vpython-spec", spec, "-vpython-tool", "install"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - t


def env_installs(pins: tuple[str, ...], scratch: str) -> tuple[float, float, float]:
    """(first, second with the env deleted, second from a new spec) seconds for ``pins``."""
    env = clean_environ(scratch)
    env["VPYTHON_VIRTUALENV_ROOT"] = os.path.join(scratch, "root")
    for name in ("a", "b"):
        os.makedirs(os.path.join(scratch, name))
        with open(os.path.join(scratch, name, ".vpython3"), "w") as f:
            f.write(_spec_text(pins))
    first = _install(os.path.join(scratch, "a", ".vpython3"), env)
    envs = os.path.join(scratch, "root", "v1", "envs")
    for n in os.listdir(envs):
        if not n.startswith("."):
            shutil.rmtree(os.path.join(envs, n))
    again = _install(os.path.join(scratch, "a", ".vpython3"), env)
    other = _install(os.path.join(scratch, "b", ".vpython3"), env)
    return first, again, other


def env_main(rounds: int, scratch_base: str) -> None:
    rows = ["| spec (Python 3.11) | first install (s) | second, env deleted (s) | second, new spec (s) |",
            "|---|---:|---:|---:|"]
    for label, pins in (("3 sdist-only pins, built once", SDIST_SPEC), ("3 pins with wheels", WHEEL_SPEC)):
        m: dict = {k: [] for k in ("first", "again", "other")}
        for r in range(rounds):
            scratch = os.path.join(scratch_base, f"env-{len(pins)}-{label[:5]}-{r}")
            shutil.rmtree(scratch, ignore_errors=True)
            os.makedirs(scratch)
            for k, v in zip(m, env_installs(pins, scratch)):
                m[k].append(v)
            log(f"{label} round {r}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in m.items()))
        med = {k: statistics.median(v) for k, v in m.items()}
        rows.append(f"| {label}: {', '.join(pins)} | {med['first']:.2f} | {med['again']:.2f} | {med['other']:.2f} |")
    print("\n".join(rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--python", default="3.11,3.8")
    ap.add_argument("--pins", default=",".join(DEFAULT_PINS))
    ap.add_argument("--scratch", default=os.path.join(tempfile.gettempdir(), "vpython-bench-sdist"))
    ap.add_argument("--env", action="store_true", help="time whole installs (see the module docstring)")
    args = ap.parse_args()
    for k in [k for k in os.environ if k.startswith(("UV_", "PIP_", "VPYTHON_"))]:
        del os.environ[k]  # the machine's pip config (find-links) must not leak into either side
    if args.env:
        env_main(args.rounds, args.scratch)
        return
    rows = ["| pin | Python | vpython first build (s) | uv pip install first (s) | vpython hit, in-process (ms) "
            "| vpython hit, new process (ms) | uv pip install, warm cache (s) |",
            "|---|---|---:|---:|---:|---:|---:|"]
    for pyver in args.python.split(","):
        python = find_python(pyver)
        if not python:
            log(f"no python{pyver}: skipped")
            continue
        for pin in args.pins.split(","):
            sdist = sdist_of(pin)
            m: dict = {k: [] for k in ("vp", "hit", "proc", "uv1", "uv2")}
            for r in range(args.rounds):
                scratch = os.path.join(args.scratch, f"{pin}-{pyver}-{r}")
                shutil.rmtree(scratch, ignore_errors=True)
                os.makedirs(scratch)
                vp, hit, proc = vpython_first_and_hit(sdist, python, scratch)
                uv1 = uv_install(pin, python, scratch, "venv1")
                uv2 = uv_install(pin, python, scratch, "venv2")
                for k, v in zip(m, (vp, hit, proc, uv1, uv2)):
                    m[k].append(v)
                log(f"{pin} py{pyver} round {r}: vpython {vp:.2f}s hit {hit * 1000:.2f}ms "
                    f"process {proc * 1000:.0f}ms | uv {uv1:.2f}s warm {uv2:.2f}s")
            med = {k: statistics.median(v) for k, v in m.items()}
            rows.append(f"| {pin} | {pyver} | {med['vp']:.2f} | {med['uv1']:.2f} | {med['hit'] * 1000:.2f} "
                        f"| {med['proc'] * 1000:.0f} | {med['uv2']:.2f} |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
