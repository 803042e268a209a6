"""Describe an interpreter for the `vpython_register_toolchains` repository rule (JSON on stdout).

Run as `<python> -B -E -s -S probe_python.py`: standard library only, Python 2 syntax too,
so that any interpreter answers and a too old one can be reported with the fix. The rule
writes the identity (implementation, version, ABI) into the vpython tool's launcher, which
is an input of every `vpython build` action: another interpreter changes the action keys.
Nothing installed in the interpreter matters: the tool's dependencies come from vpython's
tool lock.
"""

# ruff: noqa: UP031  (%-formatting on purpose: it must parse on Python 2 to say "too old")

import json
import platform
import sys

try:
    import sysconfig

    _SOABI = sysconfig.get_config_var("SOABI") or ""
except ImportError:  # pragma: no cover - very old Pythons
    _SOABI = ""


def main():
    implementation = getattr(sys, "implementation", None)
    json.dump(
        {
            "abi": _SOABI or getattr(sys, "abiflags", ""),
            "executable": sys.executable,
            "implementation": implementation.name
            if implementation
            else platform.python_implementation().lower(),
            "machine": platform.machine().lower(),
            "version": "%d.%d.%d" % tuple(sys.version_info[:3]),
        },
        sys.stdout,
        sort_keys=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
