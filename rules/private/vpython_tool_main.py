"""Entry point of the vpython tool inside Bazel actions (see rules/private/README.md).

argv: <directory holding the `vpython` package> <vpython arguments...>. The directory is
the tool's runfiles copy of this checkout's `vpython/` sources (declared action inputs), so
a change to vpython's code changes every action key. vpython's third-party dependencies
come from the interpreter the toolchain names; a missing one is reported with the fix.
"""

import sys


def main():
    root = sys.argv.pop(1)
    sys.path[0] = root  # replaces this script's own directory
    sys.argv[0] = "vpython"
    try:
        from vpython.cli.main import main as vpython_main

        return vpython_main()
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] == "vpython":
            raise
        sys.stderr.write(
            "vpython (Bazel toolchain tool): the Python at %s cannot import %r, a dependency "
            "of vpython.\nFix: install vpython's dependencies into that Python (e.g. "
            "`%s -m pip install <vpython checkout>`), or point vpython_register_toolchains("
            "python_interpreter = ...) at a Python that has them.\n" % (sys.executable, e.name, sys.executable)
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
