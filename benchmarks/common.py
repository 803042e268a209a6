"""Shared helpers for the vpython benchmarks (``bench_warm.py``, ``bench_env.py``).

Method (the same as reference/bench-anchors.md):

* Whole-process wall time, start to exit, interpreter start-up included. Commands are
  started with ``os.posix_spawn`` (no shell, no ``subprocess`` bookkeeping) and reaped
  with ``os.wait4``, which also gives the peak RSS of the largest process in the tree.
* The commands compared in one table run **interleaved**: every round runs each of them
  once, in an order that rotates round by round. A ratio A/B is taken one round at a
  time and the median of those per-round ratios is quoted; it stays meaningful when the
  machine's speed drifts, which it does on this (noisy, 2 vCPU) machine.
* Real interpreter binaries only, never the pyenv shim (which adds ~100 ms per call):
  the real ``bin`` directory goes first on ``PATH`` for every command.
* Every cache lives under one scratch directory (default ``/tmp/vpython-bench``):
  uv's, pip's, virtualenv's app-data, vpython's root, the tool venvs, the wheelhouse.
  ``PYTHONDONTWRITEBYTECODE`` is unset (the machine exports it; users usually do not),
  ``PIP_FIND_LINKS`` is unset and ``PIP_CONFIG_FILE=/dev/null``: pip and uv both resolve
  against pypi.org only.

Uses PyPI (downloads wheels once per scratch dir): this is a benchmark, not a test.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SCRATCH = os.path.join(tempfile.gettempdir(), "vpython-bench")

WORKLOADS = {
    "w0": [],
    "w1": ["requests==2.34.2"],
    "w2": ["numpy==2.4.6", "pandas==3.1.1", "rich==15.0.0", "httpx==0.28.1", "pydantic==2.14.3"],
}
# The peers, at the versions the anchors were measured with.
TOOL_PINS = ("pip==26.3", "virtualenv==21.15.8", "uv==0.13.9", "pex==2.105.2", "pip-tools==7.6.2")

# What each script does after its PEP 723 block (the packages' import is the work).
BODIES = {
    "w0": 'print("hello")\n',
    "w1": "import requests\n\nprint(requests.__version__)\n",
    "w2": "import httpx\nimport numpy\nimport pandas\nimport pydantic\nimport rich\n\n"
          "print(numpy.__version__, pandas.__version__, pydantic.VERSION, httpx.__version__)\n",
}


def log(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------------------
# Interpreters, tools, scratch layout


def default_python() -> str:
    """The real CPython 3.11.7 binary of pyenv (not the shim), else this interpreter."""
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
        candidate = os.path.join(root, "versions", "3.11.7", "bin", "python3.11")
        if os.path.isfile(candidate):
            return candidate
    except (OSError, subprocess.CalledProcessError):
        pass
    return os.path.realpath(sys.executable)


class Scratch:
    """Every path a benchmark writes to, under one directory."""

    def __init__(self, base: str, py: str) -> None:
        self.base = os.path.abspath(base)
        self.py = py
        self.pybin = os.path.dirname(py)
        self.cache = os.path.join(self.base, "cache")
        self.uv_cache = os.path.join(self.cache, "uv")
        self.pip_cache = os.path.join(self.cache, "pip")
        self.vroot = os.path.join(self.base, "vpython-root")  # VPYTHON_VIRTUALENV_ROOT
        self.workloads = os.path.join(self.base, "workloads")
        self.wheelhouse = os.path.join(self.cache, "wheelhouse")
        self.envs = os.path.join(self.base, "envs")
        self.vptool = os.path.join(self.base, "vptool")  # vpython, installed non-editable in its own venv
        self.tools = os.path.join(self.base, "tools")  # modern pip + virtualenv
        self.results = os.path.join(self.base, "results")
        for d in (self.cache, self.workloads, self.envs, self.results):
            os.makedirs(d, exist_ok=True)

    def environ(self, **extra) -> dict:
        """The environment every measured command runs with."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("VPYTHON_", "UV_", "PIP_", "PEX_", "VIRTUALENV_"))
               and k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV",
                             "PYTHONSTARTUP", "PYTHONPROFILEIMPORTTIME")}
        for keep in ("PIP_CERT", "PIP_DEFAULT_TIMEOUT"):  # how this machine reaches PyPI
            if keep in os.environ:
                env[keep] = os.environ[keep]
        env.update(
            PATH=self.pybin + os.pathsep + env.get("PATH", ""),
            UV_CACHE_DIR=self.uv_cache,
            UV_NO_PROGRESS="1",
            UV_PYTHON_INSTALL_DIR=os.path.join(self.cache, "uv-python"),
            UV_TOOL_DIR=os.path.join(self.cache, "uv-tool"),
            PIP_CACHE_DIR=self.pip_cache,
            PIP_CONFIG_FILE=os.devnull,
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            VIRTUALENV_OVERRIDE_APP_DATA=os.path.join(self.cache, "virtualenv"),
            XDG_CACHE_HOME=os.path.join(self.cache, "xdg"),
            XDG_CONFIG_HOME=os.path.join(self.base, "config"),  # no user vpython config
            VPYTHON_VIRTUALENV_ROOT=self.vroot,
        )
        env.update(extra)
        return env

    # -- workloads -----------------------------------------------------------------
    def write_workloads(self, names=("w0", "w1", "w2")) -> None:
        for w in names:
            write_script(self.script(w), WORKLOADS[w], BODIES[w])
            with open(os.path.join(self.workloads, f"{w}.in"), "w") as f:
                f.write("".join(r + "\n" for r in WORKLOADS[w]))

    def script(self, w: str, variant: str = "") -> str:
        return os.path.join(self.workloads, f"{w}{variant}.py")

    def requirements_in(self, w: str) -> str:
        return os.path.join(self.workloads, f"{w}.in")

    def requirements_txt(self, w: str) -> str:
        return os.path.join(self.workloads, f"{w}-requirements.txt")

    # -- tools ---------------------------------------------------------------------
    def uv(self) -> str:
        """uv from the tools venv (pinned), else the base interpreter's, else PATH."""
        if os.path.isfile(self.tool("uv")):
            return self.tool("uv")
        out = subprocess.run([self.py, "-I", "-c", "from uv import find_uv_bin; print(find_uv_bin())"],
                             capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
        found = shutil.which("uv")
        if not found:
            sys.exit(f"uv not found: {self.py} -m pip install uv")
        return found

    def vptool_python(self) -> str:
        return os.path.join(self.vptool, "bin", "python")

    def vptool_vpython(self) -> str:
        return os.path.join(self.vptool, "bin", "vpython")

    def base_vpython(self) -> str:
        return os.path.join(self.pybin, "vpython")

    def ensure_vptool(self, reinstall: bool = True) -> None:
        """vpython installed the recommended way for speed: its own venv, non-editable.

        The source is copied out of the repo first so pip's in-tree build writes nothing
        into the repo (``build/``, ``*.egg-info``). The first call installs the
        dependencies from PyPI; later calls reinstall only vpython (``--no-deps``) so the
        current working tree is measured.
        """
        env = self.environ()
        src = os.path.join(self.base, "vpython-src")
        shutil.rmtree(src, ignore_errors=True)
        shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
            ".git", "build", "*.egg-info", "__pycache__", "tests", "benchmarks", "examples", "bazel-*"))
        pip = [self.vptool_python(), "-m", "pip", "install", "-q"]
        if not os.path.isfile(self.vptool_python()):
            log(f"setup: {self.py} -m venv {self.vptool} && pip install <copy of {REPO}>")
            subprocess.run([self.py, "-m", "venv", self.vptool], check=True, env=env)
            subprocess.run(pip + [src], check=True, env=env)
        elif reinstall:
            log(f"setup: reinstalling vpython (non-editable, --no-deps) into {self.vptool}")
            subprocess.run(pip + ["--no-deps", "--force-reinstall", src], check=True, env=env)
        shutil.rmtree(src, ignore_errors=True)

    def tool(self, name: str) -> str:
        return os.path.join(self.tools, "bin", name)

    def ensure_tools(self) -> None:
        """A tools venv with the peers at the versions of reference/bench-anchors.md (the
        peers' own venv, so their start-up does not pay the base interpreter's ``.pth``
        files). Reinstalled when the pins below change."""
        stamp = os.path.join(self.tools, ".pins")
        want = " ".join(TOOL_PINS)
        try:
            with open(stamp) as f:
                if f.read() == want:
                    return
        except OSError:
            pass
        env = self.environ()
        log(f"setup: tools venv {self.tools} ({want})")
        if not os.path.isfile(self.tool("python")):
            subprocess.run([self.py, "-m", "venv", self.tools], check=True, env=env)
        subprocess.run([self.tool("python"), "-m", "pip", "install", "-q", *TOOL_PINS], check=True, env=env)
        with open(stamp, "w") as f:
            f.write(want)

    def ensure_requirements(self, w: str, uv: str) -> None:
        """``wN-requirements.txt`` (the full pinned set, as the anchors' files) and a
        local wheelhouse holding it (a truly warm pip: pip's HTTP cache does not work here)."""
        txt = self.requirements_txt(w)
        env = self.environ()
        if not os.path.isfile(txt):
            subprocess.run([uv, "pip", "compile", "-q", "--python", self.py, self.requirements_in(w),
                            "-o", txt, "--no-header", "--no-annotate"], check=True, env=env)
        stamp = os.path.join(self.wheelhouse, f".{w}.done")
        if not os.path.isfile(stamp):
            os.makedirs(self.wheelhouse, exist_ok=True)
            log(f"setup: wheelhouse for {w}")
            subprocess.run([self.tool("pip"), "download", "-q", "--no-deps", "-r", txt, "-d", self.wheelhouse],
                           check=True, env=env)
            open(stamp, "w").close()


def write_script(path: str, requirements: list, body: str) -> None:
    deps = ", ".join(f'"{r}"' for r in requirements)
    with open(path, "w") as f:
        f.write(f"# /// script\n# dependencies = [{deps}]\n# ///\n{body}")


def rmtree(path: str) -> None:
    """rm -rf, including read-only trees (vpython's store files are read-only)."""
    if not os.path.lexists(path):
        return

    def onerror(func, p, exc_info):
        try:
            os.chmod(os.path.dirname(p), 0o755)
            func(p)
        except OSError:
            pass

    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, onerror=onerror)
    else:
        os.unlink(path)


# ---------------------------------------------------------------------------------------
# Running and timing


class Failed(RuntimeError):
    pass


def run_timed(argv: list, env: dict, cwd: str | None = None) -> tuple:
    """Run one command; return (wall seconds, peak RSS MiB of the largest process).

    stdout goes to /dev/null, stderr to a temp file shown if the command fails.
    """
    exe = argv[0] if os.path.isabs(argv[0]) else shutil.which(argv[0], path=env.get("PATH"))
    if not exe:
        raise Failed(f"{argv[0]}: not found")
    with tempfile.TemporaryFile() as err:
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
        ]
        old = os.getcwd()
        if cwd:
            os.chdir(cwd)
        try:
            start = time.perf_counter()
            pid = os.posix_spawn(exe, argv, env, file_actions=actions)
            _, status, usage = os.wait4(pid, 0)
            elapsed = time.perf_counter() - start
        finally:
            os.chdir(old)
        rc = os.waitstatus_to_exitcode(status)
        if rc != 0:
            err.seek(0)
            raise Failed(f"{' '.join(argv)} exited {rc}:\n{err.read().decode(errors='replace')[-4000:]}")
    return elapsed, usage.ru_maxrss / 1024.0


class Case:
    """One measured command: ``steps`` (argv lists run one after the other, timed as a
    whole, like ``a && b``), an untimed ``prep`` before each run, ``env`` and ``cwd``."""

    def __init__(self, name: str, display: str, steps: list, env: dict, cwd: str | None = None,
                 prep=None, after=None):
        self.name = name
        self.display = display
        self.steps = steps
        self.env = env
        self.cwd = cwd
        self.prep = prep
        self.after = after
        self.times = []
        self.rss = []

    def run(self, record: bool = True) -> float:
        if self.prep:
            self.prep()
        total, peak = 0.0, 0.0
        for argv in self.steps:
            t, rss = run_timed(argv, self.env, self.cwd)
            total += t
            peak = max(peak, rss)
        if self.after:
            self.after()
        if record:
            self.times.append(total)
            self.rss.append(peak)
        return total


def run_interleaved(cases: list, rounds: int, warmup: int = 1, label: str = "") -> None:
    """Run every case once per round; the order rotates each round. Per-round times are
    kept in order so paired ratios can be taken round by round."""
    for _ in range(warmup):
        for c in cases:
            c.run(record=False)
    n = len(cases)
    for r in range(rounds):
        order = cases[r % n:] + cases[: r % n]
        for c in order:
            t = c.run(record=True)
            log(f"  {label} round {r + 1}/{rounds} {c.name}: {fmt_s(t)}")


def paired_ratio(a: Case, b: Case) -> tuple:
    """(median, min, max) of the per-round ratios a/b."""
    ratios = [x / y for x, y in zip(a.times, b.times)]
    return statistics.median(ratios), min(ratios), max(ratios)


def fmt_s(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms" if seconds >= 0.0995 else f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def cell(xs: list) -> str:
    """'median (min–max)'."""
    med = statistics.median(xs)
    return f"**{fmt_s(med)}** ({fmt_s(min(xs))}–{fmt_s(max(xs))})"


def ratio_cell(r: tuple) -> str:
    return f"**{r[0]:.2f}** ({r[1]:.2f}–{r[2]:.2f})"


def table(header: list, rows: list) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Describing the machine and the versions


def _first_line(cmd: list, env: dict | None = None) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def machine() -> str:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / (1 << 20):.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    osname = "?"
    try:
        with open("/etc/os-release") as f:
            osname = dict(line.rstrip().split("=", 1) for line in f if "=" in line).get("PRETTY_NAME", "?").strip('"')
    except OSError:
        pass
    return f"{os.cpu_count()} vCPU {cpu}, {mem} RAM, {osname}, kernel {platform.release()}"


def repo_revision() -> str:
    """Read-only: the commit measured and whether the tree had local changes."""
    head = _first_line(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    try:
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        dirty = ""
    return head + (" + local changes" if dirty else "")


def versions(scratch: Scratch, uv: str) -> str:
    parts = [
        f"CPython {_first_line([scratch.py, '-c', 'import platform; print(platform.python_version())'])} "
        f"({scratch.py})",
        _first_line([uv, "--version"]),
        f"vpython {repo_revision()}",
    ]
    if os.path.isfile(scratch.tool("pip")):
        parts.append(" ".join(_first_line([scratch.tool("pip"), "--version"]).split()[:2]) + " (tools venv)")
        parts.append("virtualenv " + _first_line([scratch.tool("virtualenv"), "--version"]).split()[1])
    return ", ".join(parts)
