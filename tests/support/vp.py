"""Run vpython as users do: a separate process, ``python -m vpython ...``."""

from __future__ import annotations

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def vpython_cmd() -> list:
    """Like ``python -m vpython`` but importing vpython from this checkout without
    PYTHONPATH, which vpython (correctly) passes on to the script."""
    boot = f"import sys; sys.path.insert(0, {REPO!r}); from vpython.cli.main import main; sys.exit(main())"
    return [sys.executable, "-c", boot]


def run_vpython(args, *, cwd=None, env=None, input=None, timeout=300, check=None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    if env:
        for k, v in env.items():
            if v is None:
                full_env.pop(k, None)
            else:
                full_env[k] = v
    proc = subprocess.run(vpython_cmd() + [str(a) for a in args], cwd=cwd, env=full_env, input=input,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check is not None and proc.returncode != check:
        raise AssertionError(f"vpython {args} exited {proc.returncode} (expected {check})\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def envs_in(root) -> list:
    d = os.path.join(str(root), "v1", "envs")
    if not os.path.isdir(d):
        return []
    return sorted(n for n in os.listdir(d) if not n.startswith(".") and not n.endswith(".lock"))
