"""Prints what the rule attributes gave it: args, a data file, env, the interpreter.

With ATTRS_EXPECT set (the test target), it also checks them and exits 1 on a mismatch.
"""

import os
import sys

import markupsafe
import six


def main(argv):
    data_path = argv[argv.index("--data") + 1] if "--data" in argv else os.environ["ATTRS_DATA"]
    with open(data_path, encoding="utf-8") as f:  # relative: bazel run/test start in the runfiles
        data = f.read().strip()
    pinned = os.environ.get("VPYTHON_PYTHON", "")
    print("args:", argv)
    print("data:", data)
    print("env ATTRS_KIND:", os.environ.get("ATTRS_KIND"))
    print("env ATTRS_DATA:", os.environ.get("ATTRS_DATA"))
    print("python: %d.%d" % sys.version_info[:2], "| VPYTHON_PYTHON:", pinned)
    print("deps:", six.__version__, markupsafe.escape("<ok>"))
    expect = os.environ.get("ATTRS_EXPECT")
    if expect:
        wanted = {
            "args": ["--data", "attrs/data.txt", "two words", "$HOME"],
            "data": "attribute data 42",
            "kind": expect,
            "pinned": "vpython_toolchains/host_python/python%d.%d" % sys.version_info[:2],
        }
        got = {"args": argv, "data": data, "kind": os.environ.get("ATTRS_KIND"), "pinned": pinned}
        got["pinned"] = wanted["pinned"] if pinned.endswith("/" + wanted["pinned"]) else pinned
        if got != wanted:
            print("MISMATCH:", {k: (got[k], wanted[k]) for k in wanted if got[k] != wanted[k]})
            return 1
        print("attributes OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
