"""Regression: the TOML depth scan treated a backslash in a literal string as an escape.

``vpython.toml.loads`` scans for nesting deeper than ``MAX_DEPTH`` before tomllib (which
recurses once per level and ends in RecursionError near 600). The scan took ``\\'`` as an
escaped quote in *every* string, but literal strings (``'...'``, ``'''...'''``) have no
escapes: after ``['\\', `` it believed a string was still open and did not count the
nesting that followed. tomllib then recursed; the RecursionError fallback gave an error
without a position. Found while extending the fuzzers to TOML inputs (issue 17).
"""

from __future__ import annotations

import pytest

from vpython import toml

pytestmark = pytest.mark.reliability

N = 3000
CASES = {
    "literal string holding a backslash": "a = ['\\\\', " + "[" * N + "]" * N + "]\n",
    "multi-line literal string ending in a backslash": "a = '''x\\\\'''\nb = " + "[" * N + "]" * N + "\n",
    "basic string with an escaped quote": 'a = "x\\\\"y"\nb = ' + "[" * N + "]" * N + "\n",
    "inline tables": "a = " + "{x = " * N + "1" + "}" * N + "\n",
}


@pytest.mark.parametrize("case", list(CASES))
def test_nesting_after_any_string_is_found_with_its_line(case):
    text = CASES[case].replace("\\\\", "\\")
    with pytest.raises(toml.TOMLDecodeError) as e:
        toml.loads(text)
    assert e.value.msg == f"arrays or inline tables nested more than {toml.MAX_DEPTH} deep"
    assert e.value.lineno == text.count("\n")  # the nesting's own line


def test_brackets_inside_strings_and_comments_do_not_count():
    text = "a = '" + "[" * N + "'\nb = \"" + "{" * N + "\"\n# " + "[" * N + "\nc = '''\n" + "[" * N + "\n'''\n"
    assert toml.loads(text)["a"] == "[" * N
