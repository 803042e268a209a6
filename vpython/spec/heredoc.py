"""The LUCI heredoc pre-pass of text-proto specs: ``key: <<EOF`` ... ``EOF`` becomes one
quoted string (a port of luci-go ``common/proto/multiline.go`` ParseMultilineStrings).

It runs before the text-proto parser (``spec.textproto``), which then sees ordinary
strings; lines are kept so that every later token keeps its line number.
"""

from __future__ import annotations

import re

from vpython.errors import SpecError

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
        elif term_re is not None and term_re.match(line):
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
