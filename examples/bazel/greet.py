"""Prints an HTML-escaped greeting: markupsafe (a per-platform wheel) and six (pure)."""

import sys
from importlib.metadata import version

import markupsafe
import six

from greeting import make_greeting


def main(argv):
    who = " ".join(argv) or "<vpython & bazel>"
    print(make_greeting(markupsafe.escape, who))
    print("six", six.__version__, "| markupsafe", version("markupsafe"))
    print("prefix is a venv:", sys.prefix != sys.base_prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
