"""Describe a host Python for the `vpython_register_toolchains` repository rule (JSON on stdout).

Reports the interpreter's real executable and version, and which of vpython's own
dependencies (read from the checkout's pyproject.toml) it can import, with their versions.
The repository rule writes this into the vpython tool's launcher, so a different Python or
different dependency versions change the key of every `vpython build` action.
"""

import json
import os
import platform
import re
import sys


def _requirements(pyproject):
    try:
        import tomllib
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            return None
    try:
        with open(pyproject, "rb") as f:
            return list(tomllib.load(f).get("project", {}).get("dependencies", []))
    except (OSError, ValueError):
        return None


_SIMPLE_MARKER = re.compile(r"""^python_version\s*(<=|>=|<|>|==|!=)\s*['"](\d+)\.(\d+)['"]$""")


def _applies(requirement):
    marker = requirement.split(";", 1)[1].strip() if ";" in requirement else ""
    if not marker:
        return True
    try:
        from packaging.markers import Marker

        return Marker(marker).evaluate()
    except Exception:  # no packaging (yet): evaluate the common simple form by hand
        m = _SIMPLE_MARKER.match(marker)
        if not m:
            return True  # conservative: check it
        have, want = sys.version_info[:2], (int(m.group(2)), int(m.group(3)))
        return {"<": have < want, "<=": have <= want, ">": have > want, ">=": have >= want,
                "==": have == want, "!=": have != want}[m.group(1)]


def main(argv):
    deps = {}
    missing = []
    requirements = _requirements(argv[1]) if len(argv) > 1 else None
    if requirements is None:
        requirements = []
    try:
        from importlib import metadata
    except ImportError:  # pragma: no cover - Python < 3.8
        metadata = None
    for req in requirements:
        if not _applies(req):
            continue
        name = re.split(r"[\s<>=!~;\[(@]", req.strip(), 1)[0]
        try:
            deps[name] = metadata.version(name) if metadata else "?"
        except Exception:
            missing.append(name)
    json.dump(
        {
            "executable": os.path.realpath(sys.executable),
            "implementation": platform.python_implementation().lower(),
            "machine": platform.machine().lower(),
            "version": "%d.%d.%d" % sys.version_info[:3],
            "deps": deps,
            "missing": sorted(missing),
            "requirements_read": requirements != [],
        },
        sys.stdout,
        sort_keys=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
