"""Print a TOML file as JSON on stdout (run by the `vpython_locked_wheels` repository rule).

Bazel 4's Starlark has `json.decode` but no TOML parser, so the repository rule runs the
host Python's `tomllib` (3.11+) or `tomli` on the lockfile. It runs without site-packages
(`-S`); on Python 3.9/3.10 the rule passes the directory of an unpacked `tomli` wheel (from
the vpython tool's lock) as a second argument. Exit codes: 0 ok, 3 no TOML parser, 4
unreadable or invalid TOML (the message names the file, line and column).

argv: LOCKFILE [DIRECTORY TO IMPORT tomli FROM]
"""

import json
import sys


def main(argv):
    if len(argv) > 2:
        sys.path.insert(0, argv[2])
    try:
        import tomllib
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            sys.stderr.write(
                "Python %d.%d at %s has no TOML parser: use Python 3.11+ (tomllib) or "
                "install tomli into it\n" % (sys.version_info[0], sys.version_info[1], sys.executable)
            )
            return 3
    path = argv[1]
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, ValueError) as e:  # TOMLDecodeError is a ValueError
        sys.stderr.write("%s: %s\n" % (path, e))
        return 4
    json.dump(data, sys.stdout, default=str, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
