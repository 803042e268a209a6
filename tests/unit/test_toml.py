"""vpython.toml: the one TOML reader and its guards against hostile input."""

from __future__ import annotations

import pytest

from vpython import toml


def test_parses_like_tomllib():
    assert toml.loads('a = 1\n[t]\nb = ["x", {c = 2}]\n') == {"a": 1, "t": {"b": ["x", {"c": 2}]}}


@pytest.mark.parametrize("opener,closer", [("[", "]"), ("{a=", "}")])
def test_deep_nesting_is_an_error_with_its_line_not_a_recursion_error(opener, closer):
    text = "x = 1\n\ny = " + opener * 600 + ("1" if opener != "[" else "") + closer * 600 + "\n"
    with pytest.raises(toml.TOMLDecodeError) as e:
        toml.loads(text)
    assert e.value.lineno == 3
    assert f"more than {toml.MAX_DEPTH} deep (at line 3, column 1)" in str(e.value)
    assert e.value.msg == f"arrays or inline tables nested more than {toml.MAX_DEPTH} deep"


def test_brackets_in_strings_and_comments_do_not_count():
    many = "[" * 500
    text = f'a = "{many}"\nb = \'{many}\'\nc = """\n{many}\n"""\n# {many}\nd = [[[1]]]\n'
    assert toml.loads(text)["d"] == [[[1]]]


def test_many_shallow_brackets_are_fine():
    text = "x = [" + "[1]," * 5000 + "]\n"
    assert len(toml.loads(text)["x"]) == 5000


def test_syntax_error_carries_line_and_column():
    with pytest.raises(toml.TOMLDecodeError) as e:
        toml.loads("a = 1\nb = = 2\n")
    assert e.value.lineno == 2 and e.value.colno is not None
    assert "(at line" not in e.value.msg and "(at line 2," in str(e.value)
    assert isinstance(e.value, ValueError)


def test_nesting_at_the_limit_parses():
    depth = toml.MAX_DEPTH
    assert toml.loads("x = " + "[" * depth + "]" * depth + "\n")["x"] is not None
