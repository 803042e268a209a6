"""Parse ``.vpython3`` text-proto specs (and ``[VPYTHON:BEGIN]`` blocks) into a Spec.

The dialect is the one luci-go vpython accepted (luci-vpython.md §2): the LUCI heredoc
pre-pass (``spec.heredoc``) followed by golang/protobuf v1's *legacy* ``textParser``
(here). Both are reproduced here rather than delegated to
``google.protobuf.text_format`` because text_format

* has no heredoc support,
* cannot report where each ``wheel`` entry starts (WheelEntry.line),
* words its errors in protobuf jargon ("Message type "vpython.Spec" has no field ..."),
* accepts an empty list ``wheel: []`` that the original rejected.

The parser is descriptor-driven: it fills a real ``vpython.Spec`` protobuf message
(``vpython.spec.proto``), which is then converted to the frozen model dataclasses.
Every error is a SpecError with path, 1-based line and column (line_offset applied).
"""

from __future__ import annotations

import bisect
import re
from typing import Any, NoReturn

from vpython.errors import SpecError
from vpython.spec import proto
from vpython.spec.heredoc import expand_heredocs
from vpython.spec.model import KIND_TEXTPROTO, PEP425Tag, Spec, WheelEntry

# ---------------------------------------------------------------------------------------
# Tokenizer + parser (port of golang/protobuf v1.5.4 proto/text_decode.go textParser).
_PUNCT = frozenset("<>{}:[];,/")
_IDENT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-.")
_SIMPLE_ESCAPES = {
    "a": b"\a",
    "b": b"\b",
    "f": b"\f",
    "n": b"\n",
    "r": b"\r",
    "t": b"\t",
    "v": b"\v",
    "?": b"?",
    "'": b"'",
    '"': b'"',
    "\\": b"\\",
}
_OPEN = {"{": "}", "<": ">"}


def _repeated(fd: Any) -> bool:
    # FieldDescriptor.label is gone in protobuf 7; is_repeated is missing before ~5.x.
    flag = getattr(fd, "is_repeated", None)
    return bool(flag) if flag is not None else bool(fd.label == fd.LABEL_REPEATED)


class _Token:
    __slots__ = ("offset", "text", "value")

    def __init__(self, value: str, text: str | None, offset: int) -> None:
        self.value = value  # raw source text; "" at end of input
        self.text = text  # unquoted value for string tokens, else None
        self.offset = offset

    def show(self) -> str:
        if self.value == "":
            return "end of file"
        v = self.value if len(self.value) <= 40 else self.value[:37] + "..."
        return v if self.text is not None else f"'{v}'"


class _Parser:
    def __init__(self, text: str, path: str | None, line_offset: int) -> None:
        self.s = text
        self.pos = 0
        self.path = path
        self.line_offset = line_offset
        self.cur = _Token("", None, 0)
        self.backed = False
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.wheel_lines: list[int] = []
        self.field_lines: dict[str, int] = {}  # top-level non-repeated field -> its line
        self.warnings: list[str] = []

    # -- positions and errors ----------------------------------------------------------
    def where(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.line_starts, offset) - 1
        return i + 1 + self.line_offset, offset - self.line_starts[i] + 1

    def error(self, message: str, offset: int, hint: str) -> NoReturn:
        line, col = self.where(offset)
        raise SpecError(message, path=self.path, line=line, column=col, hint=hint)

    # -- tokens --------------------------------------------------------------------------
    def _skip_ws(self) -> None:
        s, i, n = self.s, self.pos, len(self.s)
        while i < n:
            c = s[i]
            if c == "#":
                j = s.find("\n", i)
                i = n if j < 0 else j + 1
            elif c in " \t\n\r":
                i += 1
            else:
                break
        self.pos = i

    def _advance(self) -> _Token:
        self._skip_ws()
        s, i = self.s, self.pos
        if i >= len(s):
            return _Token("", None, i)
        c = s[i]
        if c in _PUNCT:
            self.pos = i + 1
            return _Token(c, None, i)
        if c in "\"'":
            j = i + 1
            while j < len(s) and s[j] != c and s[j] != "\n":
                if s[j] == "\\" and j + 1 < len(s):
                    j += 1
                j += 1
            if j >= len(s) or s[j] != c:
                self.error(
                    "unterminated string (a string cannot span lines; use a <<EOF heredoc)",
                    i,
                    hint=f"close the {c} on the same line",
                )
            self.pos = j + 1
            return _Token(s[i : j + 1], self._unquote(i + 1, j), i)
        j = i
        while j < len(s) and s[j] in _IDENT:
            j += 1
        if j == i:
            self.error(
                f"unexpected character {c!r}",
                i,
                hint='write fields as name: "value" or name < ... >; text after # is a comment',
            )
        self.pos = j
        return _Token(s[i:j], None, i)

    def _unquote(self, start: int, end: int) -> str:
        """C-style unescaping exactly as golang/protobuf's unquoteC (bytes, then UTF-8)."""
        body = self.s[start:end]
        if "\\" not in body:
            return body
        out = bytearray()
        i = 0
        while i < len(body):
            ch = body[i]
            if ch != "\\":
                out += ch.encode("utf-8", "surrogatepass")
                i += 1
                continue
            esc_at = start + i
            e = body[i + 1] if i + 1 < len(body) else ""
            i += 2
            if e in _SIMPLE_ESCAPES:
                out += _SIMPLE_ESCAPES[e]
            elif e in "01234567" and e:
                digits = e + body[i : i + 2]
                if len(digits) < 3 or any(d not in "01234567" for d in digits) or int(digits, 8) > 0o377:
                    self.error(
                        f"invalid octal escape '\\{digits}' (needs 3 octal digits, at most \\377)",
                        esc_at,
                        hint="write \\NNN with three octal digits, or \\\\ for a backslash",
                    )
                out.append(int(digits, 8))
                i += 2
            elif e and e in "xXuU":
                width = {"x": 2, "X": 2, "u": 4, "U": 8}[e]
                out += self._hex_escape(e, body[i : i + width], width, esc_at)
                i += width
            else:
                self.error(
                    f"unknown escape sequence '\\{e}' in string",
                    esc_at,
                    hint="write \\\\ for a backslash; the escapes are \\n \\t \\NNN \\xHH \\uHHHH and a quote after \\",
                )
        try:
            return out.decode("utf-8")
        except UnicodeDecodeError:
            self.error(
                "string is not valid UTF-8 after unescaping",
                start - 1,
                hint="escape whole UTF-8 sequences, or write the characters themselves",
            )

    def _hex_escape(self, e: str, digits: str, width: int, esc_at: int) -> bytes:
        """The bytes of ``\\xHH`` (one byte), ``\\uHHHH`` or ``\\UHHHHHHHH`` (UTF-8)."""
        if len(digits) < width or any(d not in "0123456789abcdefABCDEF" for d in digits):
            self.error(
                f"invalid escape '\\{e}{digits}' (needs {width} hex digits)",
                esc_at,
                hint="write \\xHH, \\uHHHH or \\UHHHHHHHH, or \\\\ for a backslash",
            )
        value = int(digits, 16)
        if e in "xX":
            return bytes([value])
        if value > 0x10FFFF:
            self.error(
                f"'\\{e}{digits}' is not a valid Unicode code point",
                esc_at,
                hint="Unicode ends at \\U0010FFFF",
            )
        return chr(value).encode("utf-8", "surrogatepass")

    def next(self) -> _Token:
        if self.backed:
            self.backed = False
            return self.cur
        tok = self._advance()
        if tok.text is not None:
            # Adjacent quoted strings are concatenated ("a" 'b' == "ab").
            parts = [tok.text]
            while True:
                self._skip_ws()
                if self.pos >= len(self.s) or self.s[self.pos] not in "\"'":
                    break
                more = self._advance()
                parts.append(more.text or "")
                tok = _Token(self.s[tok.offset : more.offset + len(more.value)], None, tok.offset)
            tok.text = "".join(parts)
        self.cur = tok
        return tok

    def back(self) -> None:
        self.backed = True

    # -- grammar -------------------------------------------------------------------------
    def message(self, msg: Any, where: str, opener: _Token | None) -> None:
        """Fields until the matching closer (or end of input at top level)."""
        close = _OPEN[opener.value] if opener is not None else None
        fields = msg.DESCRIPTOR.fields_by_name
        seen: dict[str, int] = {}
        while True:
            tok = self.next()
            if tok.value == close or (close is None and tok.value == ""):
                return
            self._not_a_closer(tok, where, opener)
            if tok.text is not None or tok.value in _PUNCT:
                self.error(
                    f"expected a field name, found {tok.show()}",
                    tok.offset,
                    hint='write fields as name: "value" or name < ... >',
                )
            name = tok.value
            fd = fields.get(name)
            if fd is None:
                known = ", ".join(f for f in fields if f not in proto.RETIRED_FIELDS)
                self.error(f'unknown field "{name}" in {where}', tok.offset, hint=f"{where} accepts: {known}")
            if not _repeated(fd):
                if name in seen:
                    line, _ = self.where(seen[name])
                    self.error(
                        f'non-repeated field "{name}" was repeated (first set at line {line})',
                        tok.offset,
                        hint="keep one of them",
                    )
                seen[name] = tok.offset
                if opener is None:
                    self.field_lines.setdefault(name, self.where(tok.offset)[0])
            if name in proto.RETIRED_FIELDS and opener is None:
                line, _ = self.where(tok.offset)
                self.warnings.append(
                    f"{self.path or '<spec>'}:{line}: the '{name}' field is retired and ignored; remove it"
                )
            colon = self.next()
            if colon.value != ":":
                if fd.message_type is None:
                    self.error(
                        f"expected ':' after \"{name}\", found {colon.show()}",
                        colon.offset,
                        hint=f'write {name}: "..."',
                    )
                self.back()
            self.value(msg, fd, where)
            sep = self.next()
            if sep.value not in (";", ","):
                self.back()

    def _not_a_closer(self, tok: _Token, where: str, opener: _Token | None) -> None:
        """Raise when ``tok`` ends the input or closes a message where ``message`` expects
        a field (the right closer was handled by the caller)."""
        if tok.value == "" and opener is not None:
            line, col = self.where(opener.offset)
            close = _OPEN[opener.value]
            self.error(
                f"unexpected end of file: '{opener.value}' of {where} opened at line {line}, "
                f"column {col} is never closed (expected '{close}')",
                tok.offset,
                hint=f"add the '{close}' that closes it",
            )
        if tok.value in (">", "}"):
            if opener is None:
                self.error(
                    f"unexpected '{tok.value}': no message is open here",
                    tok.offset,
                    hint="remove it, or open the message it closes with '<' or '{'",
                )
            line, col = self.where(opener.offset)
            close = _OPEN[opener.value]
            self.error(
                f"'{tok.value}' does not match '{opener.value}' of {where} opened at line {line}, "
                f"column {col} (expected '{close}')",
                tok.offset,
                hint=f"close a '{opener.value}' with '{close}'",
            )

    def value(self, msg: Any, fd: Any, where: str) -> None:
        tok = self.next()
        if _repeated(fd) and tok.value == "[":
            # List syntax: field: [ v1, v2 ]. Like the original, an empty list is an error.
            while True:
                self.single(msg, fd, self.next(), where)
                tok = self.next()
                if tok.value == "]":
                    return
                if tok.value != ",":
                    self.error(
                        f"expected ',' or ']' in the list of \"{fd.name}\", found {tok.show()}",
                        tok.offset,
                        hint="separate the items with ',' and end the list with ']'",
                    )
        self.single(msg, fd, tok, where)

    def single(self, msg: Any, fd: Any, tok: _Token, where: str) -> None:
        name = fd.name
        if fd.message_type is not None:
            if tok.value not in _OPEN:
                self.error(
                    f"expected '{{' or '<' to start \"{name}\", found {tok.show()}",
                    tok.offset,
                    hint=f"write {name} < ... > (or {name} {{ ... }})",
                )
            if _repeated(fd):
                sub = getattr(msg, name).add()
            else:
                sub = getattr(msg, name)
                sub.SetInParent()
            if fd.full_name == "vpython.Spec.wheel":
                self.wheel_lines.append(self.where(tok.offset)[0])
            inner = name if where == "the spec" else f"{where}.{name}"
            self.message(sub, inner, tok)
        elif fd.type == fd.TYPE_STRING:
            if tok.text is None:
                self.error(
                    f'"{name}" needs a quoted string, found {tok.show()}',
                    tok.offset,
                    hint=f'quote the value: {name}: "..."',
                )
            if _repeated(fd):
                getattr(msg, name).append(tok.text)
            else:
                setattr(msg, name, tok.text)
        else:  # pragma: no cover - the vpython schema has only strings and messages
            self.error(
                f'field "{name}" has an unsupported type',
                tok.offset,
                hint="the vpython schema has only strings and messages: report this",
            )


def _parse(text: str, path: str | None, line_offset: int) -> tuple[Any, _Parser]:
    parser = _Parser(expand_heredocs(text, path, line_offset), path, line_offset)
    msg = proto.Spec()
    parser.message(msg, "the spec", None)
    return msg, parser


def parse_message(
    text: str, path: str | None = None, line_offset: int = 0
) -> tuple[Any, list[int], list[str]]:
    """Parse spec text into ``(proto.Spec message, wheel lines, warnings)``."""
    msg, parser = _parse(text, path, line_offset)
    return msg, parser.wheel_lines, parser.warnings


def _tags(repeated: Any) -> tuple[PEP425Tag, ...]:
    return tuple(PEP425Tag(python=t.python, abi=t.abi, platform=t.platform) for t in repeated)


def parse_textproto(text: str, path: str | None, line_offset: int = 0) -> Spec:
    """Parse a text-proto spec. ``line_offset`` = file line of the text's first line - 1."""
    msg, parser = _parse(text, path, line_offset)
    wheel_lines, warnings = parser.wheel_lines, parser.warnings
    wheels = tuple(
        WheelEntry(
            name=w.name,
            version=w.version,
            match_tag=_tags(w.match_tag),
            not_match_tag=_tags(w.not_match_tag),
            line=line,
        )
        for w, line in zip(msg.wheel, wheel_lines)
    )
    return Spec(
        kind=KIND_TEXTPROTO,
        path=path,
        python_version=msg.python_version,
        python_version_line=parser.field_lines.get("python_version"),
        wheels=wheels,
        verify_pep425_tags=_tags(msg.verify_pep425_tag),
        warnings=tuple(warnings),
    )
