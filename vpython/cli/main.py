"""``vpython`` / ``vpython3`` entry point.

``vpython [-vpython-* flags] [--] <anything python accepts>`` runs python in the
script's env; ``vpython SUBCOMMAND ...`` (only as the first argument) runs a tool.
This module and everything it imports before the warm-path exec are stdlib-only.
"""

from __future__ import annotations

import os
import sys

from vpython.errors import VPythonError

BYPASS_SENTINEL = "manually managed python not supported by chrome operations"
SUBCOMMANDS = ("lock", "build", "verify", "install", "gc", "cache")


def _report(e: VPythonError) -> int:
    sys.stderr.write(f"vpython: error: {e}\n")
    return e.exit_code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in SUBCOMMANDS:
            from vpython.cli import commands

            return commands.dispatch(argv[0], argv[1:])
        from vpython.cli import run

        if os.environ.get("VPYTHON_BYPASS") == BYPASS_SENTINEL:
            return run.bypass(argv)
        return run.run(argv)
    except VPythonError as e:
        return _report(e)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
