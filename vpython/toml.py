"""The one TOML reader: ``tomllib`` (3.11+) or its backport ``tomli``.

Imported only where TOML is read (never on the warm path). Every TOML input (config file,
``vpython.toml``, PEP 723 blocks, pylock files) goes through ``loads`` so that the guards
against hostile input live in one place: tomllib recurses once per nesting level of arrays
and inline tables, so about 600 nested ``[`` (1.2 KB of text) end in ``RecursionError``;
``loads`` refuses anything nested deeper than ``MAX_DEPTH`` first, with its line.
"""

from __future__ import annotations

import re
import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib as _toml
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as _toml

# Real files nest 3-4 levels (a pylock wheel's hashes table in a wheels array in a package).
MAX_DEPTH = 64


class TOMLDecodeError(ValueError):
    """Invalid or hostile TOML. ``msg`` is the problem alone, ``lineno``/``colno`` (1-based)
    where it is when known (as tomllib gives them from 3.14 on); str() is the parser's whole
    message, ending with ``(at line L, column C)`` when it has a position."""

    def __init__(self, text: str, msg: str, lineno: int | None = None, colno: int | None = None) -> None:
        super().__init__(text)
        self.msg = msg
        self.lineno = lineno
        self.colno = colno


_AT = re.compile(r" \(at line (\d+), column (\d+)\)\Z")
# What changes the scanner's state: quotes (multi-line first), comments, brackets, newlines,
# backslashes (which escape the next character in basic strings only).
_TOKEN = re.compile(r'"""|\'\'\'|["\'#\[\]{}\n\\]')


def _too_deep(text: str) -> int | None:
    """The 1-based line where nesting first exceeds MAX_DEPTH, or None.

    A scan of the tokens that matter, outside strings and comments; brackets inside
    strings do not count. Cheap when there are few brackets at all. A backslash escapes
    the next character in basic strings (``"..."``, triple-quoted too) but not in literal
    ones: ``'\\'`` is a whole string (an escape there once hid the nesting that follows
    from this scan: found by the TOML fuzzing in tests/reliability)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    line = 1
    quote: str | None = None  # the open string's delimiter
    comment = False
    pos = 0
    search = _TOKEN.search
    while True:
        m = search(text, pos)
        if m is None:
            return None
        tok = m.group()
        pos = m.end()
        if tok == "\n":
            line += 1
            comment = False
            if quote in ('"', "'"):  # single-line strings end at a newline (invalid: tomllib says so)
                quote = None
        elif comment:
            continue
        elif quote is not None:
            if tok == quote:
                quote = None
            elif tok == "\\" and quote[0] == '"':
                if text.startswith("\n", pos):
                    line += 1
                pos += 1  # the escaped character, whatever it is
        elif tok in ('"""', "'''", '"', "'"):
            quote = tok
        elif tok == "#":
            comment = True
        elif tok in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        elif tok in "]}":
            depth = max(0, depth - 1)


def loads(text: str) -> dict[str, Any]:
    """Parse TOML text; raises ``TOMLDecodeError`` (this module's) for invalid or hostile input."""
    deep = _too_deep(text)
    if deep is not None:
        problem = f"arrays or inline tables nested more than {MAX_DEPTH} deep"
        raise TOMLDecodeError(f"{problem} (at line {deep}, column 1)", problem, deep, 1)
    try:
        data: dict[str, Any] = _toml.loads(text)
        return data
    except _toml.TOMLDecodeError as e:
        whole = str(e)
        at = _AT.search(whole)
        if at is None:  # "(at end of document)": the last character, so every error has a line
            lines = text.split("\n")
            problem = whole.removesuffix(" (at end of document)")
            raise TOMLDecodeError(whole, problem, len(lines), len(lines[-1]) + 1) from None
        raise TOMLDecodeError(whole, whole[: at.start()], int(at.group(1)), int(at.group(2))) from None
    except RecursionError:  # the depth scan should have caught it; never a traceback
        problem = f"nested too deeply to parse (more than {MAX_DEPTH} levels)"
        line = _raw_deep_line(text)
        raise TOMLDecodeError(f"{problem} (at line {line}, column 1)", problem, line, 1) from None


def _raw_deep_line(text: str) -> int:
    """Where brackets, strings and comments ignored, nesting first passes MAX_DEPTH (1 if
    never): a place to point at when the scan above was wrong."""
    depth = 0
    for number, line in enumerate(text.split("\n"), 1):
        for ch in line:
            if ch in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return number
            elif ch in "]}":
                depth = max(0, depth - 1)
    return 1
