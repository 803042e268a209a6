"""``vpython [flags] [python args]``: discover, look up (warm) or provision (cold), exec."""

from __future__ import annotations

import os
import sys

from vpython import log
from vpython.cli.flags import format_help, split_flags
from vpython.cli.pyargv import parse_python_argv
from vpython.env import execute, fastpath
from vpython.fs import same_file
from vpython.settings import config_path
from vpython.spec.discover import discover
from vpython.store.root import Layout, resolve_root

# typing costs ~2 ms to import on the warm path; mypy reads this block (it treats any
# name TYPE_CHECKING as true), the interpreter skips it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from vpython.cli.flags import VPythonFlags
    from vpython.cli.pyargv import PythonCommandLine
    from vpython.spec.discover import DiscoveredSpec


def settings_tuple(flags: VPythonFlags) -> tuple[str, ...]:
    """The flags that change which env a spec gets, as the spec digest hashes them."""
    return (
        flags.interpreter or "",
        flags.index_url if flags.index_url is not None else "\0",
        "\n".join(flags.find_links or ()),
        "1" if flags.offline else "0",
        # A strict run never reuses a resolution that let builds in.
        *(("only-binary",) if flags.only_binary else ()),
    )


def run(argv: list[str]) -> int:
    # Set by the native launcher (launcher/) when it hands a plain run over; not the script's.
    launcher_miss = os.environ.pop("VPYTHON_LAUNCHER_MISS", None)
    flags, python_args = split_flags(argv)
    log.set_level(flags.log_level)
    if flags.help:
        sys.stdout.write(format_help())
        sys.stdout.flush()
        python_args = ["-h"]
    cl = parse_python_argv(python_args)
    layout = Layout(resolve_root(flags.root, warm=True))
    cwd = os.getcwd()
    discovered = discover(
        target_kind=cl.target_kind,
        target=cl.target,
        cwd=cwd,
        explicit=flags.spec,
        default_spec=os.environ.get("VPYTHON_DEFAULT_SPEC") or None,
    )
    if cl.target_kind == "none" and flags.tool is None and not flags.help and _interactive(cl):
        sys.stderr.write(f"Starting interactive mode, loading vpython spec from {discovered.origin}\n")
    elif cl.target_kind == "stdin":
        log.info(f"Reading from stdin, loading vpython spec from {discovered.origin}")
    log.info(f"spec: {discovered.origin}")
    digest = fastpath.spec_digest(
        discovered.kind, discovered.text, discovered.lock_path, settings_tuple(flags), config_path()
    )
    if flags.tool == "verify":
        from vpython.cli.cmd_verify import verify_discovered
        from vpython.store.root import check_layout

        check_layout(layout)
        return verify_discovered(discovered, flags, layout)

    hit: tuple[fastpath.Pointer, int | None] | None = None if flags.tool else fastpath.lookup(layout, digest)
    if hit is None:
        hit = _provision_and_hold(discovered, layout, flags, digest)
        if hit is None:  # install-only
            return 0
    else:
        log.debug(f"warm: env {hit[0].env_key}")
    pointer, fd = hit
    if launcher_miss is not None and python_args == argv and not flags.help:
        from vpython.env import launch_index

        launch_index.record(
            layout,
            cl.target_kind,
            cl.target,
            cwd,
            discovered,
            digest,
            pointer,
            settings_tuple(flags),
            launcher_miss,
        )
    env_dir = layout.env_dir(pointer.env_key)
    python = fastpath.env_python(env_dir)
    env = execute.child_environ(env_dir, fastpath.env_bin(env_dir))
    keep = (fd,) if fd is not None else ()
    execute.exec_python(python, list(python_args), env, keep)  # never returns


# Flags after which python prints and exits without reading a target.
_PRINT_AND_EXIT = ("V", "h", "help-env", "help-xoptions", "help-all")


def _interactive(cl: PythonCommandLine) -> bool:
    """Whether python, given no target, will start its interactive prompt: not after
    ``-V``/``--version``/``-VV``, ``-h``/``-?``/``--help`` or ``--help-*`` (it prints and
    exits, writing nothing to stderr), and only when stdin is a terminal or ``-i`` was
    given (otherwise it runs stdin as a script), as ``Modules/main.c`` decides."""
    if any(cl.has_flag(name) for name in _PRINT_AND_EXIT):
        return False
    return cl.has_flag("i") or os.isatty(0)


_PROVISION_ATTEMPTS = 5


def _provision_and_hold(
    discovered: DiscoveredSpec, layout: Layout, flags: VPythonFlags, digest: str
) -> tuple[fastpath.Pointer, int | None] | None:
    """Provision the env, then take its shared use lock; (pointer, fd), or None for
    ``-vpython-tool install``.

    Between provisioning and the lock, a concurrent ``vpython gc`` may delete the env
    (nobody held it yet): the lock is then on an unlinked file or the env is gone, and
    exec would fail with ENOENT (found by tests/reliability/test_load.py; regression
    test: tests/reliability/test_regression_gc_between_build_and_lock.py). So check under
    the lock, as the warm path does, and build again if it was collected.
    """
    from vpython.env.provision import provision
    from vpython.errors import VPythonError
    from vpython.store.trust import check_dir

    for _ in range(_PROVISION_ATTEMPTS):
        pointer = provision(
            discovered, layout=layout, flags=flags, digest=digest, install_only=flags.tool == "install"
        )
        env_dir = layout.env_dir(pointer.env_key)
        if flags.tool == "install":
            log.info(f"env ready: {env_dir}")
            return None
        lock_path = layout.env_lock(pointer.env_key)
        fd = fastpath.acquire_shared(lock_path, blocking=True)
        present = check_dir(env_dir, "the env") and os.path.exists(os.path.join(env_dir, "pyvenv.cfg"))
        if fd is None and present:
            return pointer, None  # the lock file cannot be opened at all: run unlocked, as before
        if fd is not None and present and same_file(fd, lock_path):
            return pointer, fd
        if fd is not None:
            os.close(fd)
        log.info(f"env {pointer.env_key[:12]} was collected by a concurrent gc before use; building it again")
    raise VPythonError(
        f"env {layout.env_dir(pointer.env_key)} was deleted by a concurrent `vpython gc` "
        f"{_PROVISION_ATTEMPTS} times before it could be used",
        hint="do not run `vpython gc --older-than 0` in a loop beside builds",
    )


def bypass(argv: list[str]) -> int:
    """VPYTHON_BYPASS: no spec, no env: the plain ``python3`` from PATH, same argv."""
    import shutil

    flags, python_args = split_flags(argv)
    if flags.tool:
        return 0
    python = shutil.which("python3") or shutil.which("python")
    if not python:
        from vpython.errors import UserError

        raise UserError(
            "VPYTHON_BYPASS is set but no python3 is on PATH",
            hint="put a python3 on PATH, or unset VPYTHON_BYPASS to run in the spec's env",
        )
    env = dict(os.environ)
    env.pop("PYTHONHOME", None)
    env["PYTHONNOUSERSITE"] = "1"
    execute.exec_python(python, list(python_args), env)  # never returns
