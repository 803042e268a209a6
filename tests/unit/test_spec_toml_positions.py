"""Where things are in TOML text: decode-error positions and the key / array-item locator."""

from __future__ import annotations

import pytest

from vpython import toml
from vpython.spec.toml_positions import Locator, decode_error_position, line_of


def _decode_error(text):
    with pytest.raises(toml.TOMLDecodeError) as e:
        toml.loads(text)
    return e.value


@pytest.mark.parametrize("text, line, column", [
    ("a = 1\nb = \n", 2, 5),
    ("a = [1,\n  2,,\n]", 2, 5),
    ('a = "x\n', 1, 7),
])
def test_decode_errors_give_the_position_apart_from_the_message(text, line, column):
    message, got_line, got_column = decode_error_position(_decode_error(text), text)
    assert (got_line, got_column) == (line, column)
    assert "(at line" not in message and message


def test_end_of_document_is_the_last_character():
    text = "a = [\n  1,\n  2"
    message, line, column = decode_error_position(_decode_error(text), text)
    assert (line, column) == (3, 4) and "end of document" not in message


def test_line_of_offsets():
    text = "ab\ncd\n"
    assert [line_of(text, i) for i in (0, 1, 3, 5, 6)] == [(1, 1), (1, 2), (2, 1), (2, 3), (3, 1)]


TEXT = '''\
requires-python = ">=3.9"
dependencies = [
  "a",   # a comment, with "quotes", and a ]
  'b',
  """c""",
]

[tool.vpython]
"python-version" = "3.11"
platforms = ["x", "y"]
'''


def _at(locator_offset, expected):
    assert TEXT[locator_offset:].startswith(expected), TEXT[locator_offset:locator_offset + 20]


def test_keys_headers_and_quoted_keys_are_found():
    loc = Locator(TEXT)
    _at(loc.key(("requires-python",)), "requires-python")
    _at(loc.key(("tool", "vpython")), "tool.vpython]")
    _at(loc.key(("tool", "vpython", "python-version")), '"python-version"')
    # Not there: the nearest ancestor that is, else the start.
    _at(loc.key(("tool", "vpython", "index-url")), "tool.vpython]")
    assert loc.key(("nope",)) == 0


def test_array_items_are_found_past_comments_and_strings():
    loc = Locator(TEXT)
    _at(loc.item(("dependencies",), 0), '"a"')
    _at(loc.item(("dependencies",), 1), "'b'")
    _at(loc.item(("dependencies",), 2), '"""c"""')
    _at(loc.item(("tool", "vpython", "platforms"), 1), '"y"')
    # Past the end, or not an array: the key itself.
    _at(loc.item(("dependencies",), 9), "dependencies")
    _at(loc.item(("requires-python",), 0), "requires-python")
