"""The build machinery: ``uv build --wheel`` on the target interpreter, sealed in a work dir.

Why uv (measured on real sdist-only pins, CPython 3.6-3.11, empty caches; the figures are
in the README): the fastest first build (0.9-3.8 s, and 11.8 s for PyYAML 5.3.1's C
extension on 3.8, where pypa ``build`` took 1.7-14.4 s and ``pip wheel`` 3.6-12.8 s); it is
already a dependency; one binary builds for every CPython from 3.6 up (it resolves the backend's
requirements for the *target* interpreter: setuptools 59.6.0 for 3.6), with no tool env
to install per interpreter. PEP 517 isolation is uv's: ``build-system.requires``, then
``get_requires_for_build_wheel``; a legacy ``setup.py`` sdist gets ``setuptools>=40.8.0``
(whose hook then asks for ``wheel`` where it needs it), as pip does.

What the child sees (``build_environment``): no ``UV_*``/``PIP_*``/``PYTHON*``/``VIRTUAL_ENV``
from the user's environment; ``HOME``, the XDG dirs, ``TMPDIR``, uv's and pip's caches and
``CARGO_HOME`` all inside the work dir under ``<root>/v1/tmp``, so nothing is written
outside the vpython root and nothing is read from the user's tool configs. Kept from
the user: ``PATH`` and compiler variables (``CC``, ``CFLAGS``, ...), proxies, TLS roots,
the real ``~/.netrc`` (as ``NETRC``) and ``~/.rustup`` (as ``RUSTUP_HOME``, read-only use).
Credentials in index or find-links URLs go through the environment (``UV_INDEX_URL``,
``UV_EXTRA_INDEX_URL``, ``UV_FIND_LINKS``), never argv, which any local user can read.
"""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

from vpython.settings.credentials import uv_source_options

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vpython.settings.sources import Sources

# Prefixes and names of user variables that would change what uv or the backend does.
_DROP_PREFIXES = ("UV_", "PIP_", "PYTHON", "XDG_", "CONDA_")
_DROP = frozenset(
    {"VIRTUAL_ENV", "HOME", "TMPDIR", "TMP", "TEMP", "CARGO_HOME", "NETRC", "__PYVENV_LAUNCHER__"}
)
_KEEP = ("UV_NATIVE_TLS", "RUSTUP_HOME")

TOOL = "uv build"


def uv_version(uv: str) -> str:
    """``uv --version`` (e.g. "uv 0.13.9"), recorded beside every built wheel."""
    try:
        proc = subprocess.run(
            [uv, "--version"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
    except OSError:
        return "unknown"
    return proc.stdout.decode("utf-8", "replace").strip() or "unknown"


# (argv, environment) for the run's sources: credentials through the environment only.
source_options = uv_source_options


def build_environment(work: str) -> dict[str, str]:
    """The child's environment: every place a tool writes is below ``work``."""
    real_home = os.path.expanduser("~")
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP_PREFIXES) and k not in _DROP}
    for k in _KEEP:
        if k in os.environ:
            env[k] = os.environ[k]
    netrc = os.environ.get("NETRC") or os.path.join(real_home, ".netrc")
    if os.path.isfile(netrc):
        env["NETRC"] = netrc  # HOME moves below; uv must still find the user's credentials
    rustup = os.path.join(real_home, ".rustup")
    if "RUSTUP_HOME" not in env and os.path.isdir(rustup):
        env["RUSTUP_HOME"] = rustup  # toolchains; cargo's downloads go to CARGO_HOME below
    dirs = {
        "HOME": "home",
        "XDG_CACHE_HOME": "cache",
        "XDG_CONFIG_HOME": "config",
        "XDG_DATA_HOME": "data",
        "XDG_STATE_HOME": "state",
        "TMPDIR": "tmp",
        "TMP": "tmp",
        "TEMP": "tmp",
        "UV_CACHE_DIR": "cache/uv",
        "PIP_CACHE_DIR": "cache/pip",
        "CARGO_HOME": "cargo",
    }
    if os.name == "nt":  # pragma: no cover - the per-user dirs Windows tools write to
        dirs.update(USERPROFILE="home", APPDATA="config", LOCALAPPDATA="data")
    for var, rel in dirs.items():
        path = os.path.join(work, rel)
        os.makedirs(path, exist_ok=True)
        env[var] = path
    env.update(
        UV_NO_PROGRESS="1",
        UV_PYTHON_DOWNLOADS="never",  # build on the given interpreter or fail, never fetch one
        PIP_CONFIG_FILE=os.devnull,  # a backend that shells out to pip reads no user config
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def run_build(
    uv: str,
    sdist_path: str,
    python: str,
    sources: Sources,
    work: str,
    out_dir: str,
    log_path: str,
    *,
    constraints: Sequence[str] = (),
) -> int:
    """Build ``sdist_path`` into one wheel in ``out_dir`` with ``python``; uv's and the
    backend's output go to ``log_path``. ``constraints`` bound the build requirements
    (vpython.store.sdist_constraints). Returns the exit status (127: uv did not start)."""
    argv, extra_env = source_options(sources)
    env = build_environment(work)
    env.update(extra_env)
    if constraints:
        path = os.path.join(work, "build-constraints.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("".join(c + "\n" for c in constraints))
        argv += ["--build-constraints", path]
    cmd = [uv, "build", "--wheel", "--no-config", "--python", python, "--out-dir", out_dir, *argv, sdist_path]
    with open(log_path, "ab") as log:
        log.write(("$ " + " ".join(cmd) + "\n").encode())  # argv has no credentials (see above)
        log.flush()
        try:
            # run() kills the child if we are interrupted; a SIGKILL of this process leaves
            # it to finish inside the work dir, which nothing reads.
            proc = subprocess.run(cmd, env=env, cwd=work, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        except OSError as e:
            log.write(f"cannot run {uv}: {e.strerror or e}\n".encode())
            return 127
    return proc.returncode
