"""vpython.errors: how errors render."""

from __future__ import annotations


def test_error_lines_are_cut_in_the_middle():
    from vpython.errors import MAX_LINE, UserError

    e = UserError(f'"{"3" * 5_000_000}" is not a version', key="python_version", hint="write 3.11")
    lines = str(e).split("\n")
    assert all(len(line) <= MAX_LINE + 60 for line in lines)
    assert lines[0].startswith('python_version: "333') and "characters cut" in lines[0]
    assert lines[0].endswith('3" is not a version') and lines[1] == "  hint: write 3.11"
    assert str(UserError("short", hint="h")) == "short\n  hint: h"
