"""The LUCI heredoc pre-pass (luci-go common/proto/multiline.go), on its own."""

from __future__ import annotations

import pytest

from vpython.errors import SpecError
from vpython.spec.heredoc import expand_heredocs


def test_text_without_heredocs_is_returned_as_is():
    text = 'name: "a<b"\n# a << not followed by a name alone starts no heredoc\n'
    assert expand_heredocs('name: "x"\n') == 'name: "x"\n'
    assert expand_heredocs(text) == text


def test_a_heredoc_becomes_one_string_and_keeps_later_line_numbers():
    text = "a: <<EOF\n    one\n      two\n    EOF\nb: 1\n"
    out = expand_heredocs(text)
    assert out.startswith('a: "one\\n  two"')  # the common indent is dropped
    assert out.split("\n").index("b: 1") == 4  # still the fifth line
    assert out.count("\n") == text.count("\n")


def test_blank_lines_do_not_shrink_the_indent_and_specials_are_escaped():
    out = expand_heredocs('a: <<END\n  x\n\n  "q" \\ \t\x01\nEND\n')
    assert out.startswith('a: "x\\n\\n\\"q\\" \\\\ \\t\\001"')


def test_an_unclosed_heredoc_names_where_it_opened():
    with pytest.raises(SpecError) as e:
        expand_heredocs('x: 1\nname: <<EOF\n  text\n', path="/s/.vpython3", line_offset=10)
    err = e.value
    assert (err.path, err.line, err.column) == ("/s/.vpython3", 12, 7)
    assert err.message == 'failed to find matching terminator "EOF"' and "EOF" in err.hint
