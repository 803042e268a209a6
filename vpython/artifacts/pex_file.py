"""A ``.pex`` from the locked wheel files only, through pex's own CLI.

pex gets the exact (sha256-verified) wheel files as ``--pre-resolved-dists`` plus one
``name==version`` requirement per package, ``--no-pypi`` and no find-links: there is
nothing for it to resolve or download. The target is always described with
``--complete-platform`` (the target's marker environment and tag list from
``vpython.lock.targets``), also for the host, so the result does not depend on which
interpreter ran pex; the shebang is ``/usr/bin/env pythonX.Y`` for the same reason.
pex writes reproducible zips by default (fixed 1980 timestamps, sorted entries, no
``.pyc``); we never pass ``--compile`` or ``--use-system-time``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from vpython import log
from vpython.errors import UserError, VPythonError

if TYPE_CHECKING:
    from vpython.artifacts.model import Entry, Wheels
    from vpython.lock.targets import Target


def command(
    out: str,
    target: Target,
    wheels: Wheels,
    entry: Entry | None,
    *,
    pex_venv: bool,
    pex_root: str,
    platform_file: str,
    python: str | None = None,
) -> list[str]:
    cmd = [
        python or sys.executable,
        "-m",
        "pex",
        "-o",
        out,
        "--no-pypi",
        "--no-build",
        "--intransitive",
        "--no-pep723",
        "--complete-platform",
        platform_file,
        "--python-shebang",
        f"/usr/bin/env python{target.python_version}",
        "--pex-root",
        pex_root,
        "--no-emit-warnings",
    ]
    for _artifact, path in wheels:
        cmd += ["--pre-resolved-dists", path]
    cmd += [f"{a.name}=={a.version}" for a, _ in wheels]
    if entry is not None:
        if entry.main:
            cmd += ["--exe", entry.main]
        else:
            cmd += ["-m", ":".join(entry.function())]
    if pex_venv:
        # --sh-boot: a /bin/sh preamble execs the pex's venv python directly on warm runs,
        # skipping a Python start-up to find it (W2 second run 0.51 s -> 0.38 s here; the
        # venv tree itself starts in 0.37 s). `python OUT` still works: Python ignores the
        # preamble and runs the zip.
        cmd += ["--venv", "--sh-boot"]
    return cmd


def build_env(environ: Mapping[str, str]) -> dict[str, str]:
    """pex's environment: none of the caller's PEX_/PIP_ settings, and no rc files
    (~/.pexrc, /etc/pexrc, a .pexrc beside the pex) that could set them again."""
    env = {k: v for k, v in environ.items() if not k.startswith(("PEX_", "PIP_"))}
    env["PEX_IGNORE_RCFILES"] = "1"
    env["PYTHONHASHSEED"] = "0"
    return env


def built_with(path: str) -> str:
    """The pex version that wrote ``path`` (PEX-INFO build_properties.pex_version)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            info = json.loads(zf.read("PEX-INFO"))
        return str(info["build_properties"]["pex_version"])
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile):
        raise VPythonError(
            "pex wrote a pex without a PEX-INFO build_properties.pex_version",
            path=path,
            hint="pex's output format changed: use a pex release vpython supports (see pyproject.toml)",
        ) from None


def build(
    out: str,
    target: Target,
    wheels: Wheels,
    entry: Entry | None,
    *,
    pex_venv: bool,
    work: str,
    pex_root: str | None = None,
) -> None:
    """Write the pex to ``out`` (inside the work dir; the caller publishes it).

    ``pex_root`` is pex's build cache (installed wheels, keyed by their hashes: reusing
    it changes no output byte, only time); None = a fresh one in the work dir."""
    platform_file = os.path.join(work, "complete-platform.json")
    with open(platform_file, "w", encoding="utf-8") as f:
        json.dump(target.complete_platform(), f, sort_keys=True)
    pex_root = pex_root or os.path.join(work, "pex-root")
    cmd = command(
        out, target, wheels, entry, pex_venv=pex_venv, pex_root=pex_root, platform_file=platform_file
    )
    env = build_env(os.environ)
    log.debug("running " + " ".join(cmd))
    try:
        proc = subprocess.run(
            cmd,
            env=env,
            cwd=work,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    except OSError as e:
        raise VPythonError(f"cannot run pex: {e}", hint=f"check that {sys.executable} runs") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip()[-2000:]
        if "No module named pex" in tail:
            raise UserError("pex is not installed for " + sys.executable, hint="pip install pex")
        raise VPythonError(
            f"pex failed (exit {proc.returncode}):\n{tail}",
            hint="pex's own message is above; rerun with --log-level debug to see its command line",
        )
    if not os.path.isfile(out):
        raise VPythonError(
            "pex exited 0 but wrote no file", hint="rerun with --log-level debug to see its command"
        )
