"""Starting a vpython function in a detached process (the background gc sweep,
vpython.store.prune, and the byte-compile worker, vpython.store.compiler).

``/bin/sh -c '... &'`` detaches it: the shell exits at once (we reap it), so the worker
is not a child of the script this process is about to exec into (which would otherwise
inherit a zombie or see it in ``os.wait()``). A fresh interpreter (``-I``), not a fork:
the caller may have threads, and nothing of its state is wanted.
"""

from __future__ import annotations

import os
import sys


def run_detached(name: str, call: str, args: list[str]) -> bool:
    """Run the Python statement ``call`` (it sees ``args`` as ``sys.argv[2:]``) with this
    vpython importable, in a detached process named ``name``; do not wait for it. False
    where that is not possible (no POSIX shell, no ``sys.executable``)."""
    if os.name != "posix" or not sys.executable or not os.path.exists("/bin/sh"):
        return False
    import subprocess

    import vpython

    where = os.path.dirname(os.path.dirname(os.path.abspath(vpython.__file__)))
    code = f"import sys; sys.path.insert(0, sys.argv[1]); {call}"
    try:
        subprocess.run(
            ["/bin/sh", "-c", '"$@" </dev/null >/dev/null 2>&1 &', name, sys.executable, "-I"]
            + ["-c", code, where, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return True
