"""Compile the native warm-path launcher (``vpython_launcher.c``). Stdlib only.

Used by ``setup.py`` (the ``build_scripts`` step) and by the tests. The compiler is
``$VPYTHON_LAUNCHER_CC`` (split like a shell command line, e.g. ``python -m ziglang cc``),
else ``$CC``, else the first of ``cc``, ``gcc``, ``clang`` on PATH (build time only: the
installed launcher never looks at PATH). ``VPYTHON_NO_LAUNCHER=1`` skips the launcher, and
so does any failure: the caller installs the pure-Python scripts instead.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "vpython_launcher.c")
FALLBACK = "vpython-py"  # the pure-Python command it hands over to, installed beside it
PLATFORMS = ("linux", "darwin")


def _init_constant(repo: str, name: str) -> str:
    with open(os.path.join(repo, "vpython", "__init__.py"), encoding="utf-8") as f:
        m = re.search(rf'^{name} = "([^"]+)"', f.read(), re.M)
    if not m:
        raise ValueError(f"no {name} in vpython/__init__.py")
    return m.group(1)


def vpython_version(repo: str) -> str:
    return _init_constant(repo, "__version__")


def format_version(repo: str) -> str:
    """The cache layout version: the launcher reads ``<root>/v<it>/launch`` and ``.../envs``."""
    return _init_constant(repo, "FORMAT_VERSION")


def find_compiler() -> list[str] | None:
    for var in ("VPYTHON_LAUNCHER_CC", "CC"):
        value = os.environ.get(var, "").strip()
        if value:
            return shlex.split(value)
    for name in ("cc", "gcc", "clang"):
        path = shutil.which(name)
        if path:
            return [path]
    return None


def build(out: str, version: str, compiler: list[str] | None = None, layout: str | None = None) -> str | None:
    """Compile the launcher to ``out``. Returns None on success, else why not (nothing
    is left at ``out`` then)."""
    if os.environ.get("VPYTHON_NO_LAUNCHER"):
        return "VPYTHON_NO_LAUNCHER is set"
    if sys.platform not in PLATFORMS:
        return f"no native launcher for {sys.platform}"
    layout = layout or format_version(os.path.dirname(HERE))
    if not re.fullmatch(r"[A-Za-z0-9.+_-]+", version) or not re.fullmatch(r"[0-9]+", layout):
        return f"unexpected version string {version!r} / {layout!r}"
    cc = compiler or find_compiler()
    if not cc:
        return "no C compiler found (set CC or VPYTHON_LAUNCHER_CC)"
    import tempfile

    work = tempfile.mkdtemp(prefix="vpython-launcher-")  # alone there: no fallback beside it
    tmp = os.path.join(work, "vpython")
    cmd = [
        *cc,
        "-O2",
        "-std=c11",
        "-Wall",
        f'-DVPY_VERSION="{version}"',
        f'-DVPY_FORMAT="{layout}"',
        f'-DVPY_FALLBACK="{FALLBACK}"',
        "-o",
        tmp,
        SOURCE,
    ]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        if proc.returncode != 0:
            return f"{shlex.join(cmd)} failed:\n{proc.stdout.strip()}"
        why = _smoke(tmp)
        if why:
            return why
        staged = f"{out}.tmp-{os.getpid()}"
        shutil.copy2(tmp, staged)
        os.replace(staged, out)
        return None
    except (OSError, subprocess.SubprocessError) as e:
        return f"{shlex.join(cmd)}: {e}"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _smoke(binary: str) -> str | None:
    """Run the binary once (a cross-compiled or broken one is refused): with no fallback
    beside it, a subcommand must end in the launcher's own error, exit 1."""
    proc = subprocess.run(
        [binary, "lock"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        cwd=os.path.dirname(os.path.abspath(binary)),
    )
    if proc.returncode == 1 and "cannot run the Python fallback" in proc.stderr:
        return None
    return f"the compiled launcher does not run here (exit {proc.returncode}): {proc.stderr.strip()[:500]}"
