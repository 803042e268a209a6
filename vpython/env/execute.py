"""Hand the process over to the env's interpreter. Stdlib only (warm path)."""

from __future__ import annotations

import os
import sys

# typing costs ~2 ms to import and this module is on the warm path; mypy reads the
# block below (it treats any name TYPE_CHECKING as true), the interpreter skips it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import NoReturn


def child_environ(env_dir: str, bin_dir: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the script sees.

    ``PYTHONHOME`` would point the venv at another stdlib, so it goes; user site-packages
    would leak unpinned packages in, so ``PYTHONNOUSERSITE=1``. ``PYTHONPATH`` is the
    user's explicit choice and is kept (the original briefly cleared it and broke
    people). ``VIRTUAL_ENV`` and ``PATH`` make subprocesses find the same interpreter.
    """
    env = dict(os.environ if base is None else base)
    env.pop("PYTHONHOME", None)
    env.pop("__PYVENV_LAUNCHER__", None)
    env["PYTHONNOUSERSITE"] = "1"
    env["VIRTUAL_ENV"] = env_dir
    path_key = "PATH"
    if sys.platform == "win32":  # environment keys are case-insensitive there
        path_key = next((k for k in env if k.upper() == "PATH"), "PATH")
    old = env.get(path_key, "")
    env[path_key] = bin_dir + (os.pathsep + old if old else "")
    return env


def exec_python(
    python: str, argv: Sequence[str], env: Mapping[str, str], keep_fds: Sequence[int] = ()
) -> NoReturn:
    """Replace this process with ``python argv...``; on Windows run it and exit with its code.

    ``keep_fds`` (the env's shared lock) are made inheritable so the lock is held for
    the whole life of the script: pruning can never delete an env in use.
    """
    for fd in keep_fds:
        os.set_inheritable(fd, True)
    from vpython.fs import restore_umask

    restore_umask()  # vpython's own is stricter (vpython.store.trust); the script gets the user's
    sys.stdout.flush()
    sys.stderr.flush()
    args = [python] + list(argv)
    if sys.platform == "win32":
        import signal
        import subprocess

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the child handles Ctrl-C
        rc = subprocess.call(args, env=env, close_fds=False)
        os._exit(rc)
    os.execve(python, args, env)
    raise AssertionError("unreachable")
