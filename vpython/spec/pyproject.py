"""Parse PEP 723 ``# /// script`` blocks and ``vpython.toml`` files into a Spec.

Both are TOML with top-level ``dependencies`` (PEP 508 strings) and ``requires-python``
(PEP 440 specifier), plus vpython's own ``[tool.vpython]`` table. Everything is
validated here, at parse time, so a typo is reported against the line that holds it
instead of surfacing later as a resolver failure.

tomllib gives positions only for syntax errors; for semantic errors (a bad requirement,
an unknown key) ``_Locator`` finds the line by a light scan of the TOML text. It is best
effort: if it cannot find a key it falls back to the enclosing key or the first line.
"""

from __future__ import annotations

import re
import sys

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from vpython.errors import SpecError
from vpython.spec.model import KIND_PEP723, KIND_TOML, Spec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

_TOP_KEYS = ("dependencies", "requires-python", "tool")
_LIST = "list of strings"
# [tool.vpython] keys and their types. Their meaning belongs to the modules that use
# them (interpreter choice, lock targets, indexes); here they are only type-checked.
TOOL_KEYS = {
    "python-version": str,
    "platforms": _LIST,
    "index-url": str,
    "extra-index-urls": _LIST,
    "find-links": _LIST,
    "exclude-newer": str,
}
_PYTHON_VERSION = re.compile(r"[0-9]+(\.[0-9]+){0,2}\Z")
_TOML_POS = re.compile(r"^(.*) \(at (?:line (\d+), column (\d+)|end of document)\)\Z", re.S)


# ---------------------------------------------------------------------------------------
# Locating keys in TOML text.
_BARE_OR_QUOTED = r'[A-Za-z0-9_-]+|"[^"\n]*"|\'[^\'\n]*\''
_KEY_LINE = re.compile(rf"[ \t]*((?:{_BARE_OR_QUOTED})(?:[ \t]*\.[ \t]*(?:{_BARE_OR_QUOTED}))*)[ \t]*=")
_HEADER_LINE = re.compile(
    rf"[ \t]*\[\[?[ \t]*((?:{_BARE_OR_QUOTED})(?:[ \t]*\.[ \t]*(?:{_BARE_OR_QUOTED}))*)[ \t]*\]"
)
_KEY_PART = re.compile(_BARE_OR_QUOTED)


def _key_parts(dotted: str) -> tuple[str, ...]:
    return tuple(p[1:-1] if p[0] in "\"'" else p for p in _KEY_PART.findall(dotted))


class _Locator:
    """Offsets of keys and array items in TOML text (for error positions)."""

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
            if header:
                table = _key_parts(header.group(1))
                full, at = table, offset + header.start(1)
            elif m:
                full, at = table + _key_parts(m.group(1)), offset + m.start(1)
            else:
                full = None
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


# ---------------------------------------------------------------------------------------
class _Context:
    """Where the TOML text sits in its file, for error positions."""

    def __init__(self, text: str, path: str | None, line_offset: int, comment_block: bool) -> None:
        self.text = text
        self.path = path
        self.line_offset = line_offset
        self.comment_block = comment_block  # PEP 723: each line lost its "# " / "#" prefix
        self.lines = text.split("\n")
        self.locate = _Locator(text)

    def error(self, message: str, line: int, column: int | None, hint: str | None = None):
        """Raise at a 1-based (line, column) of the TOML text."""
        if column is not None and self.comment_block:
            content = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
            column += 2 if content else 1
        raise SpecError(message, path=self.path, line=line + self.line_offset, column=column, hint=hint)

    def error_at(self, message: str, offset: int, hint: str | None = None):
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        self.error(message, line, column, hint)

    def error_key(self, message: str, path: tuple, hint: str | None = None):
        keys = tuple(p for p in path if isinstance(p, str))
        if isinstance(path[-1], int):
            self.error_at(message, self.locate.item(keys, path[-1]), hint)
        self.error_at(message, self.locate.key(keys), hint)


def _name(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _loads(ctx: _Context) -> dict:
    try:
        return tomllib.loads(ctx.text)
    except tomllib.TOMLDecodeError as e:
        m = _TOML_POS.match(str(e))
        message = m.group(1) if m else str(e)
        if m and m.group(2):
            line, column = int(m.group(2)), int(m.group(3))
        else:  # "at end of document"
            line, column = len(ctx.lines), len(ctx.lines[-1]) + 1
        ctx.error(f"invalid TOML: {message}", line, column)


def _str_list(ctx: _Context, data, path: tuple) -> list[str]:
    if not isinstance(data, list):
        ctx.error_key(f"{_name(path)} must be a {_LIST}, not {type(data).__name__}", path)
    for i, item in enumerate(data):
        if not isinstance(item, str):
            ctx.error_key(f"{_name(path + (i,))} must be a string, not {type(item).__name__}", path + (i,))
    return data


def _tool(ctx: _Context, data: dict) -> dict:
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        ctx.error_key("tool must be a table", ("tool",))
    table = tool.get("vpython", {})
    if not isinstance(table, dict):
        ctx.error_key("tool.vpython must be a table", ("tool", "vpython"))
    for key, value in table.items():
        path = ("tool", "vpython", key)
        kind = TOOL_KEYS.get(key)
        if kind is None:
            ctx.error_key(
                f"unknown key {_name(path)}", path, hint="[tool.vpython] accepts: " + ", ".join(TOOL_KEYS)
            )
        if kind is _LIST:
            _str_list(ctx, value, path)
        elif not isinstance(value, kind):
            ctx.error_key(f"{_name(path)} must be a string, not {type(value).__name__}", path)
    version = table.get("python-version")
    if version is not None and not _PYTHON_VERSION.match(version):
        ctx.error_key(
            f'tool.vpython.python-version {version!r} is not a version like "3.11"',
            ("tool", "vpython", "python-version"),
        )
    return dict(table)


def _parse(ctx: _Context, kind: str, strict_keys: bool) -> Spec:
    data = _loads(ctx)
    warnings = []
    for key in data:
        if key not in _TOP_KEYS:
            if strict_keys:
                ctx.error_key(
                    f"unknown key {key!r}", (key,), hint="vpython.toml accepts: " + ", ".join(_TOP_KEYS)
                )
            line = ctx.text.count("\n", 0, ctx.locate.key((key,))) + 1 + ctx.line_offset
            warnings.append(
                f"{ctx.path or '<spec>'}:{line}: unknown key {key!r} in the script metadata is ignored"
            )

    deps = _str_list(ctx, data.get("dependencies", []), ("dependencies",))
    for i, dep in enumerate(deps):
        try:
            Requirement(dep)
        except InvalidRequirement as e:
            reason = str(e).split("\n", 1)[0]
            ctx.error_key(f"dependencies[{i}]: invalid requirement {dep!r}: {reason}", ("dependencies", i))

    requires_python = data.get("requires-python", "")
    if not isinstance(requires_python, str):
        ctx.error_key(
            f"requires-python must be a string, not {type(requires_python).__name__}", ("requires-python",)
        )
    if requires_python:
        try:
            SpecifierSet(requires_python)
        except InvalidSpecifier as e:
            ctx.error_key(f"requires-python: {e}", ("requires-python",))

    tool = _tool(ctx, data)
    if kind == KIND_TOML and not deps and not requires_python and not tool:
        # The original (luci-go standard/parser_vpython.go) rejects an empty file too.
        ctx.error(
            "empty spec file: vpython.toml sets neither dependencies nor requires-python",
            1,
            None,
            hint='add e.g. dependencies = ["requests==2.32.3"]',
        )
    return Spec(
        kind=kind,
        path=ctx.path,
        dependencies=tuple(deps),
        requires_python=requires_python,
        tool=tool,
        warnings=tuple(warnings),
    )


def parse_pep723(toml_text: str, path: str | None, line_offset: int = 0) -> Spec:
    """Parse the TOML body of a ``# /// script`` block (see ``inline.extract_pep723``).

    ``line_offset`` is the file line of the ``# /// script`` opener. An empty block is a
    valid empty spec; unknown top-level keys are warnings (future PEPs may add keys).
    """
    return _parse(_Context(toml_text, path, line_offset, comment_block=True), KIND_PEP723, strict_keys=False)


def parse_vpython_toml(text: str, path: str | None) -> Spec:
    """Parse a ``vpython.toml`` file. Unknown top-level keys and an empty file are errors."""
    return _parse(_Context(text, path, 0, comment_block=False), KIND_TOML, strict_keys=True)
