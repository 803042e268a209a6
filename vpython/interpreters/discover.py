"""Where interpreters are looked for, and which one is the default.

``find_interpreters()`` looks on PATH (``python3``, ``python3.N``, ``python2.7``), under pyenv
(``$PYENV_ROOT/versions/*/bin/python3.N`` and ``python2.7`` — the real binaries, never the shims, which
cost ~100 ms each), through the Windows ``py`` launcher (``py -0p``) and at the
interpreter running vpython, de-duplicated by real path, and probes what it finds
(the unprobed ones in parallel).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from vpython import log
from vpython.errors import InterpreterError
from vpython.interpreters import probe as _probe
from vpython.interpreters.identity import probe_identity
from vpython.interpreters.model import Interpreter

_POSIX_NAME = re.compile(r"^python3(\.\d+)?$|^python2\.7$")  # 2.7: for Chromium's .vpython specs
_WIN_NAME = re.compile(r"^python(3(\.\d+)?)?\.exe$", re.IGNORECASE)
_PYENV_NAME = re.compile(r"^python3\.\d+(\.exe)?$|^python2\.7$|^python\.exe$", re.IGNORECASE)


def is_binary(path: str) -> bool:
    """A real executable, not a shell-script shim (pyenv's shims start with ``#!``)."""
    try:
        if not os.path.isfile(path) or not os.access(path, os.X_OK):
            return False
        with open(path, "rb") as f:
            return f.read(2) != b"#!"
    except OSError:
        return False


def pyenv_root() -> str:
    return os.environ.get("PYENV_ROOT") or os.path.join(os.path.expanduser("~"), ".pyenv")


def _path_candidates() -> list[str]:
    out: list[str] = []
    windows = os.name == "nt"
    pattern = _WIN_NAME if windows else _POSIX_NAME
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if not d or (windows and "windowsapps" in d.lower()):  # store aliases are stubs
            continue
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        out += [os.path.join(d, n) for n in names if pattern.match(n)]
    return out


def _pyenv_candidates() -> list[str]:
    versions = os.path.join(pyenv_root(), "versions")
    try:
        entries = sorted(os.listdir(versions))
    except OSError:
        return []
    out: list[str] = []
    for v in entries:
        for sub in ("bin", ""):  # POSIX layout; pyenv-win keeps python.exe at the top
            d = os.path.join(versions, v, sub) if sub else os.path.join(versions, v)
            try:
                names = sorted(os.listdir(d))
            except OSError:
                continue
            out += [os.path.join(d, n) for n in names if _PYENV_NAME.match(n)]
    return out


def _py_launcher_candidates() -> list[str]:
    if os.name != "nt":
        return []
    py = shutil.which("py")
    if not py:
        return []
    try:
        proc = subprocess.run(
            [py, "-0p"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=_probe.PROBE_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    out = []
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) == 2 and parts[0].startswith("-"):
            path = parts[1].strip().strip("*").strip()
            if path.lower().endswith(".exe"):
                out.append(path)
    return out


def default_interpreter_path() -> str:
    """The interpreter vpython builds envs on when the spec names none.

    That is the Python running vpython — but its *base* interpreter when vpython itself
    runs from a virtualenv (pipx, ``pip install`` into a venv): envs must not depend on
    vpython's own venv, whose removal or upgrade would otherwise strand them, and the
    base binary's identity is what stays stable. Found via ``sys._base_executable``, else
    pyvenv.cfg's ``home``; falls back to ``sys.executable``.
    """
    exe = sys.executable
    if sys.prefix == getattr(sys, "base_prefix", sys.prefix):
        return exe
    base = getattr(sys, "_base_executable", None)
    if base and os.path.isfile(base) and not _inside(base, sys.prefix):
        return str(base)
    home = _pyvenv_home(sys.prefix)
    if home:
        v = sys.version_info
        names = ["python.exe"] if os.name == "nt" else [f"python{v[0]}.{v[1]}", f"python{v[0]}", "python"]
        for name in names:
            cand = os.path.join(home, name)
            if os.path.isfile(cand):
                return cand
    return exe


def _inside(path: str, directory: str) -> bool:
    try:
        return os.path.commonpath([os.path.abspath(path), os.path.abspath(directory)]) == os.path.abspath(
            directory
        )
    except ValueError:
        return False


def _pyvenv_home(prefix: str) -> str | None:
    try:
        with open(os.path.join(prefix, "pyvenv.cfg"), encoding="utf-8") as f:
            for line in f:
                key, sep, value = line.partition("=")
                if sep and key.strip().lower() == "home":
                    return value.strip()
    except OSError:
        pass
    return None


def candidate_paths() -> list[str]:
    """Interpreter paths worth probing, best-known first, de-duplicated by real path."""
    seen: set[str] = set()
    out: list[str] = []
    groups = [
        [default_interpreter_path()],
        _path_candidates(),
        _pyenv_candidates(),
        _py_launcher_candidates(),
        [sys.executable],
    ]
    for group in groups:
        for path in group:
            try:
                real = os.path.realpath(path)
            except (OSError, ValueError):
                continue
            if real in seen or not is_binary(real):
                continue
            seen.add(real)
            out.append(path)
    return out


def find_interpreters(cache_dir: str | None = None) -> list[Interpreter]:
    """Every CPython found (any version, newest first; ties keep discovery order)."""
    paths = candidate_paths()
    results: dict[str, Interpreter] = {}

    def one(path: str) -> None:
        try:
            results[path] = _probe.probe(path, cache_dir)
        except InterpreterError as e:
            log.debug(f"skipping {path}: {e.message}")

    uncached = []
    for p in paths:
        try:
            ident = probe_identity(p)
        except OSError:
            continue
        if _probe.known(ident, cache_dir):
            one(p)
        else:
            uncached.append(p)
    if len(uncached) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(8, len(uncached))) as pool:
            list(pool.map(one, uncached))
    elif uncached:
        one(uncached[0])
    found = [results[p] for p in paths if p in results and results[p].implementation == "cpython"]
    found.sort(key=lambda i: i.sort_key, reverse=True)
    return found
