"""Parse ``.vpython3`` text-proto specs (and ``[VPYTHON:BEGIN]`` blocks) into a Spec.

The dialect is the one luci-go vpython accepted (luci-vpython.md §2): the LUCI heredoc
pre-pass (``common/proto/multiline.go``) followed by golang/protobuf v1's *legacy*
``textParser``. Both are reproduced here rather than delegated to
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

from vpython.errors import SpecError
from vpython.spec import proto
from vpython.spec.model import KIND_TEXTPROTO, PEP425Tag, Spec, WheelEntry

# ---------------------------------------------------------------------------------------
# Heredoc pre-pass (port of luci-go common/proto/multiline.go ParseMultilineStrings).
# Go's RE2 ``\s`` is ASCII-only and its ``$`` (no m flag) means end of text; the line
# still carries its "\n", which the trailing ``\s*`` swallows.
_WS = r"[\t\n\f\r ]"
_HEREDOC_START = re.compile(r"(.*)<<" + _WS + r"*([_a-zA-Z]+)" + _WS + r"*\Z")


def _left_whitespace(s: str) -> str:
    for i, ch in enumerate(s):
        if not ch.isspace():
            return s[:i]
    return s


def _common_prefix(a: str, b: str) -> str:
    if not a or not b:
        return ""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return a[:n]


def _quote_lines(lines: list[str], skip: int) -> str:
    """One double-quoted string for "\\n".join(lines), each line minus ``skip`` chars."""
    out = ['"']
    for i, line in enumerate(lines):
        if i:
            out.append("\\n")
        for ch in line[skip:]:
            if ch == "\n":
                out.append("\\n")
            elif ch == "\r":
                out.append("\\r")
            elif ch == "\t":
                out.append("\\t")
            elif ch == '"':
                out.append('\\"')
            elif ch == "\\":
                out.append("\\\\")
            elif ord(ch) < 0x20 or ord(ch) == 0x7F:
                out.append(f"\\{ord(ch):03o}")
            else:  # printable ASCII and non-ASCII go through raw; the tokenizer takes both
                out.append(ch)
    out.append('"')
    return "".join(out)


def expand_heredocs(text: str, path: str | None = None, line_offset: int = 0) -> str:
    """Replace ``key: <<EOF`` ... ``EOF`` heredocs with one quoted string.

    Unlike the Go original, the consumed lines are replaced by blank lines after the
    string so every later token keeps its original line number (errors stay exact).
    """
    if "<<" not in text:
        return text
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]] + [parts[-1]]
    out: list[str] = []
    term = None
    term_re = None
    need_nl = False
    find_lead = True
    lead = ""
    buf: list[str] = []
    open_no = open_col = 0
    for no, line in enumerate(lines, 1):
        if term is None:
            if need_nl:
                out.append("\n")
                need_nl = False
            m = _HEREDOC_START.match(line)
            if m:
                out.append(m.group(1))
                term = m.group(2)
                term_re = re.compile(_WS + "*" + re.escape(term) + _WS + r"*\Z")
                open_no, open_col = no, len(m.group(1).rstrip("<")) + 1
            else:
                out.append(line)
        elif term_re.match(line):
            out.append(_quote_lines(buf, len(lead)))
            out.append("\n" * (no - open_no))
            term, term_re, find_lead, need_nl, buf = None, None, True, True, []
        else:
            if find_lead:
                find_lead = False
                lead = _left_whitespace(line)
            else:
                this = _left_whitespace(line)
                if len(this) != len(line):  # blank lines do not shrink the common indent
                    lead = _common_prefix(lead, this)
            buf.append(line[:-1] if line.endswith("\n") else line)
    if term is not None:
        hint = None
        if lines[open_no - 1].startswith("<<<<<<<"):
            hint = "this looks like a git merge-conflict marker; resolve the conflict"
        else:
            hint = f"a '<<{term}' heredoc must be closed by a line containing only {term}"
        raise SpecError(
            f'failed to find matching terminator "{term}"',
            path=path,
            line=open_no + line_offset,
            column=open_col,
            hint=hint,
        )
    return "".join(out)


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


def _repeated(fd) -> bool:
    # FieldDescriptor.label is gone in protobuf 7; is_repeated is missing before ~5.x.
    flag = getattr(fd, "is_repeated", None)
    return flag if flag is not None else fd.label == fd.LABEL_REPEATED


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
        self.cur: _Token | None = None
        self.backed = False
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.wheel_lines: list[int] = []
        self.warnings: list[str] = []

    # -- positions and errors ----------------------------------------------------------
    def where(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.line_starts, offset) - 1
        return i + 1 + self.line_offset, offset - self.line_starts[i] + 1

    def error(self, message: str, offset: int, hint: str | None = None):
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
                self.error("unterminated string (a string cannot span lines; use a <<EOF heredoc)", i)
            self.pos = j + 1
            return _Token(s[i : j + 1], self._unquote(i + 1, j), i)
        j = i
        while j < len(s) and s[j] in _IDENT:
            j += 1
        if j == i:
            self.error(f"unexpected character {c!r}", i)
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
                        f"invalid octal escape '\\{digits}' (needs 3 octal digits, at most \\377)", esc_at
                    )
                out.append(int(digits, 8))
                i += 2
            elif e and e in "xXuU":
                width = {"x": 2, "X": 2, "u": 4, "U": 8}[e]
                digits = body[i : i + width]
                if len(digits) < width or any(d not in "0123456789abcdefABCDEF" for d in digits):
                    self.error(f"invalid escape '\\{e}{digits}' (needs {width} hex digits)", esc_at)
                value = int(digits, 16)
                if e in "xX":
                    out.append(value)
                elif value > 0x10FFFF:
                    self.error(f"'\\{e}{digits}' is not a valid Unicode code point", esc_at)
                else:
                    out += chr(value).encode("utf-8", "surrogatepass")
                i += width
            else:
                self.error(f"unknown escape sequence '\\{e}' in string", esc_at)
        try:
            return out.decode("utf-8")
        except UnicodeDecodeError:
            self.error("string is not valid UTF-8 after unescaping", start - 1)

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
                parts.append(more.text)
                tok = _Token(self.s[tok.offset : more.offset + len(more.value)], None, tok.offset)
            tok.text = "".join(parts)
        self.cur = tok
        return tok

    def back(self) -> None:
        self.backed = True

    # -- grammar -------------------------------------------------------------------------
    def message(self, msg, where: str, opener: _Token | None) -> None:
        """Fields until the matching closer (or end of input at top level)."""
        close = _OPEN[opener.value] if opener is not None else None
        fields = msg.DESCRIPTOR.fields_by_name
        seen: dict[str, int] = {}
        while True:
            tok = self.next()
            if tok.value == close or (close is None and tok.value == ""):
                return
            if tok.value == "":
                line, col = self.where(opener.offset)
                self.error(
                    f"unexpected end of file: '{opener.value}' of {where} opened at line {line}, "
                    f"column {col} is never closed (expected '{close}')",
                    tok.offset,
                )
            if tok.value in (">", "}"):
                if opener is None:
                    self.error(f"unexpected '{tok.value}': no message is open here", tok.offset)
                line, col = self.where(opener.offset)
                self.error(
                    f"'{tok.value}' does not match '{opener.value}' of {where} opened at line {line}, "
                    f"column {col} (expected '{close}')",
                    tok.offset,
                )
            if tok.text is not None or tok.value in _PUNCT:
                self.error(f"expected a field name, found {tok.show()}", tok.offset)
            name = tok.value
            fd = fields.get(name)
            if fd is None:
                known = ", ".join(f for f in fields if f not in proto.RETIRED_FIELDS)
                self.error(f'unknown field "{name}" in {where}', tok.offset, hint=f"{where} accepts: {known}")
            if not _repeated(fd):
                if name in seen:
                    line, _ = self.where(seen[name])
                    self.error(
                        f'non-repeated field "{name}" was repeated (first set at line {line})', tok.offset
                    )
                seen[name] = tok.offset
            if name in proto.RETIRED_FIELDS and opener is None:
                line, _ = self.where(tok.offset)
                self.warnings.append(
                    f"{self.path or '<spec>'}:{line}: the '{name}' field is retired and ignored; remove it"
                )
            colon = self.next()
            if colon.value != ":":
                if fd.message_type is None:
                    self.error(f"expected ':' after \"{name}\", found {colon.show()}", colon.offset)
                self.back()
            self.value(msg, fd, where)
            sep = self.next()
            if sep.value not in (";", ","):
                self.back()

    def value(self, msg, fd, where: str) -> None:
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
                        f"expected ',' or ']' in the list of \"{fd.name}\", found {tok.show()}", tok.offset
                    )
        self.single(msg, fd, tok, where)

    def single(self, msg, fd, tok: _Token, where: str) -> None:
        name = fd.name
        if fd.message_type is not None:
            if tok.value not in _OPEN:
                self.error(f"expected '{{' or '<' to start \"{name}\", found {tok.show()}", tok.offset)
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
                self.error(f'"{name}" needs a quoted string, found {tok.show()}', tok.offset)
            if _repeated(fd):
                getattr(msg, name).append(tok.text)
            else:
                setattr(msg, name, tok.text)
        else:  # pragma: no cover - the vpython schema has only strings and messages
            self.error(f'field "{name}" has an unsupported type', tok.offset)


def parse_message(text: str, path: str | None = None, line_offset: int = 0):
    """Parse spec text into ``(proto.Spec message, wheel lines, warnings)``."""
    parser = _Parser(expand_heredocs(text, path, line_offset), path, line_offset)
    msg = proto.Spec()
    parser.message(msg, "the spec", None)
    return msg, parser.wheel_lines, parser.warnings


def _tags(repeated) -> tuple[PEP425Tag, ...]:
    return tuple(PEP425Tag(python=t.python, abi=t.abi, platform=t.platform) for t in repeated)


def parse_textproto(text: str, path: str | None, line_offset: int = 0) -> Spec:
    """Parse a text-proto spec. ``line_offset`` = file line of the text's first line - 1."""
    msg, wheel_lines, warnings = parse_message(text, path, line_offset)
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
        wheels=wheels,
        verify_pep425_tags=_tags(msg.verify_pep425_tag),
        warnings=tuple(warnings),
    )
