"""Where things are in TOML text, for error positions: tomllib reports a position for
syntax errors only (and, before 3.14, only inside its message text).

``Locator`` finds the line of a key or of an array item by a light scan of the text; it
is best effort: when it cannot find a key it falls back to the enclosing key, or to the
start of the text. Stdlib only.
"""

from __future__ import annotations

import re

_TOML_POS = re.compile(r"^(.*) \(at (?:line (\d+), column (\d+)|end of document)\)\Z", re.S)

_BARE_OR_QUOTED = r'[A-Za-z0-9_-]+|"[^"\n]*"|\'[^\'\n]*\''
_KEY_LINE = re.compile(rf"[ \t]*((?:{_BARE_OR_QUOTED})(?:[ \t]*\.[ \t]*(?:{_BARE_OR_QUOTED}))*)[ \t]*=")
_HEADER_LINE = re.compile(
    rf"[ \t]*\[\[?[ \t]*((?:{_BARE_OR_QUOTED})(?:[ \t]*\.[ \t]*(?:{_BARE_OR_QUOTED}))*)[ \t]*\]"
)
_KEY_PART = re.compile(_BARE_OR_QUOTED)


def decode_error_position(error: ValueError, text: str) -> tuple[str, int, int]:
    """(message without its position, 1-based line, 1-based column) of a
    ``TOMLDecodeError`` raised for ``text``; "at end of document" is the last character."""
    message, line, column = getattr(error, "msg", None), getattr(error, "lineno", None), None
    if isinstance(message, str) and isinstance(line, int):  # Python 3.14+
        column = getattr(error, "colno", None)
        if isinstance(column, int):
            return message, line, column
    m = _TOML_POS.match(str(error))
    message = m.group(1) if m else str(error)
    if m and m.group(2):
        return message, int(m.group(2)), int(m.group(3))
    lines = text.split("\n")
    return message, len(lines), len(lines[-1]) + 1


def line_of(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _key_parts(dotted: str) -> tuple[str, ...]:
    return tuple(p[1:-1] if p[0] in "\"'" else p for p in _KEY_PART.findall(dotted))


class Locator:
    """Offsets of keys and array items in TOML text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def key(self, path: tuple[str, ...]) -> int:
        """Offset of the key (or table header) ``path``; of its nearest found ancestor
        when the exact key is not found; 0 when nothing is."""
        best, best_len = 0, 0
        table: tuple[str, ...] = ()
        offset = 0
        for line in self.text.split("\n"):
            header = _HEADER_LINE.match(line)
            m = None if header else _KEY_LINE.match(line)
            full: tuple[str, ...] | None = None
            if header:
                table = _key_parts(header.group(1))
                full, at = table, offset + header.start(1)
            elif m:
                full, at = table + _key_parts(m.group(1)), offset + m.start(1)
            if full is not None:
                if full == path:
                    return at
                if path[: len(full)] == full and len(full) > best_len:
                    best, best_len = at, len(full)
            offset += len(line) + 1
        return best

    def item(self, path: tuple[str, ...], index: int) -> int:
        """Offset of element ``index`` of the array at key ``path``."""
        start = self.key(path)
        t = self.text
        eq = t.find("=", start)
        if eq < 0:
            return start
        i = self._skip_blank(eq + 1)
        if i >= len(t) or t[i] != "[":
            return start
        i, n = i + 1, 0
        while True:
            i = self._skip_blank(i)
            if i >= len(t) or t[i] == "]":
                return start
            if n == index:
                return i
            i = self._skip_value(i)
            i = self._skip_blank(i)
            if i < len(t) and t[i] == ",":
                i += 1
            n += 1

    def _skip_blank(self, i: int) -> int:
        t = self.text
        while i < len(t):
            if t[i] in " \t\r\n":
                i += 1
            elif t[i] == "#":
                j = t.find("\n", i)
                i = len(t) if j < 0 else j + 1
            else:
                break
        return i

    def _skip_value(self, i: int) -> int:
        t = self.text
        for quote in ('"""', "'''"):
            if t.startswith(quote, i):
                j = t.find(quote, i + 3)
                return len(t) if j < 0 else j + 3
        if t[i] in "\"'":
            j = i + 1
            while j < len(t) and t[j] != t[i] and t[j] != "\n":
                j += 2 if t[i] == '"' and t[j] == "\\" else 1
            return j + 1
        if t[i] in "[{":
            depth, j = 0, i
            while j < len(t):
                if t[j] in "\"'":
                    j = self._skip_value(j)
                    continue
                depth += t[j] in "[{"
                depth -= t[j] in "]}"
                j += 1
                if depth == 0:
                    break
            return j
        j = i
        while j < len(t) and t[j] not in ",]#\n":
            j += 1
        return j
