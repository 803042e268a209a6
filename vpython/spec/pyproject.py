"""Parse PEP 723 ``# /// script`` blocks and ``vpython.toml`` files into a Spec.

Both are TOML with top-level ``dependencies`` (PEP 508 strings) and ``requires-python``
(PEP 440 specifier), plus vpython's own ``[tool.vpython]`` table. Everything is
validated here, at parse time, so a typo is reported against the line that holds it
instead of surfacing later as a resolver failure.

tomllib gives positions only for syntax errors; for semantic errors (a bad requirement,
an unknown key) ``spec.toml_positions.Locator`` finds the line.

``read_provisional`` is the same reader without the PEP 508 / PEP 440 checks: it needs
no ``packaging`` import, so ``vpython lock`` can start its resolver from it while the
full parse runs (``lock.early``).
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from vpython import toml
from vpython.errors import SpecError
from vpython.spec.model import KIND_PEP723, KIND_TOML, Spec
from vpython.spec.toml_positions import Locator, decode_error_position, line_of

_TOP_KEYS = ("dependencies", "requires-python", "tool")
_LIST = "list of strings"
_STRING = "string"
# [tool.vpython] keys and their types. Their meaning belongs to the modules that use
# them (interpreter choice, lock targets, indexes); here they are only type-checked.
TOOL_KEYS = {
    "python-version": _STRING,
    "platforms": _LIST,
    "index-url": _STRING,
    "extra-index-urls": _LIST,
    "find-links": _LIST,
    "exclude-newer": _STRING,
}
_PYTHON_VERSION = re.compile(r"[0-9]+(\.[0-9]+){0,2}\Z")
_REQUIREMENT_HINT = 'write a PEP 508 requirement, e.g. "requests>=2.31" or "name @ https://host/name.whl"'

KeyPath = tuple[Any, ...]  # ("tool", "vpython", "platforms", 1): str keys and int indexes


class _Context:
    """Where the TOML text sits in its file, for error positions."""

    def __init__(self, text: str, path: str | None, line_offset: int, comment_block: bool) -> None:
        self.text = text
        self.path = path
        self.line_offset = line_offset
        self.comment_block = comment_block  # PEP 723: each line lost its "# " / "#" prefix
        self.lines = text.split("\n")
        self.locate = Locator(text)

    def error(self, message: str, line: int, column: int | None, hint: str) -> NoReturn:
        """Raise at a 1-based (line, column) of the TOML text."""
        if column is not None and self.comment_block:
            content = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
            column += 2 if content else 1
        raise SpecError(message, path=self.path, line=line + self.line_offset, column=column, hint=hint)

    def error_at(self, message: str, offset: int, hint: str) -> NoReturn:
        line, column = line_of(self.text, offset)
        self.error(message, line, column, hint)

    def error_key(self, message: str, path: KeyPath, hint: str) -> NoReturn:
        keys = tuple(p for p in path if isinstance(p, str))
        if isinstance(path[-1], int):
            self.error_at(message, self.locate.item(keys, path[-1]), hint)
        self.error_at(message, self.locate.key(keys), hint)


def _name(path: KeyPath) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _loads(ctx: _Context) -> dict[str, Any]:
    try:
        return toml.loads(ctx.text)
    except toml.TOMLDecodeError as e:
        message, line, column = decode_error_position(e, ctx.text)
        ctx.error(f"invalid TOML: {message}", line, column, hint="fix the TOML syntax at that place")


def _str_list(ctx: _Context, data: object, path: KeyPath) -> list[str]:
    example = '["a", "b"]'
    if not isinstance(data, list):
        ctx.error_key(
            f"{_name(path)} must be a {_LIST}, not {type(data).__name__}", path, hint=f"write e.g. {example}"
        )
    for i, item in enumerate(data):
        if not isinstance(item, str):
            ctx.error_key(
                f"{_name(path + (i,))} must be a string, not {type(item).__name__}",
                path + (i,),
                hint="quote it",
            )
    return data


def _tool(ctx: _Context, data: dict[str, Any]) -> dict[str, Any]:
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        ctx.error_key("tool must be a table", ("tool",), hint="write [tool.vpython] settings as a table")
    table = tool.get("vpython", {})
    if not isinstance(table, dict):
        ctx.error_key(
            "tool.vpython must be a table",
            ("tool", "vpython"),
            hint="write the settings under [tool.vpython]",
        )
    for key, value in table.items():
        path = ("tool", "vpython", key)
        kind = TOOL_KEYS.get(key)
        if kind is None:
            ctx.error_key(
                f"unknown key {_name(path)}", path, hint="[tool.vpython] accepts: " + ", ".join(TOOL_KEYS)
            )
        if kind == _LIST:
            _str_list(ctx, value, path)
        elif not isinstance(value, str):
            ctx.error_key(
                f"{_name(path)} must be a string, not {type(value).__name__}", path, hint="quote it"
            )
    version = table.get("python-version")
    if version is not None and not _PYTHON_VERSION.match(version):
        ctx.error_key(
            f'tool.vpython.python-version {version!r} is not a version like "3.11"',
            ("tool", "vpython", "python-version"),
            hint='write MAJOR.MINOR, e.g. python-version = "3.11"',
        )
    return dict(table)


def _top_keys(ctx: _Context, data: dict[str, Any], strict_keys: bool) -> list[str]:
    """Warnings for unknown top-level keys (an error in a vpython.toml)."""
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
    return warnings


def _check_requirements(ctx: _Context, deps: list[str]) -> None:
    from packaging.requirements import InvalidRequirement, Requirement

    for i, dep in enumerate(deps):
        try:
            Requirement(dep)
        except InvalidRequirement as e:
            reason = str(e).split("\n", 1)[0]
            ctx.error_key(
                f"dependencies[{i}]: invalid requirement {dep!r}: {reason}",
                ("dependencies", i),
                hint=_REQUIREMENT_HINT,
            )


def _check_requires_python(ctx: _Context, requires_python: str) -> None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(requires_python)
    except InvalidSpecifier as e:
        ctx.error_key(
            f"requires-python: {e}", ("requires-python",), hint='write a PEP 440 specifier, e.g. ">=3.10"'
        )


def _parse(ctx: _Context, kind: str, strict_keys: bool, check_pep508: bool = True) -> Spec:
    """The Spec, or the SpecError of the first check that fails; ``check_pep508=False``
    skips what needs ``packaging`` (requirement strings, the requires-python specifier)."""
    data = _loads(ctx)
    warnings = _top_keys(ctx, data, strict_keys)
    deps = _str_list(ctx, data.get("dependencies", []), ("dependencies",))
    if check_pep508:
        _check_requirements(ctx, deps)
    requires_python = data.get("requires-python", "")
    if not isinstance(requires_python, str):
        ctx.error_key(
            f"requires-python must be a string, not {type(requires_python).__name__}",
            ("requires-python",),
            hint='write a quoted PEP 440 specifier, e.g. requires-python = ">=3.10"',
        )
    if check_pep508 and requires_python:
        _check_requires_python(ctx, requires_python)
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


def read_provisional(kind: str, text: str, path: str | None) -> Spec | None:
    """The Spec that ``text`` (a PEP 723 block body or a vpython.toml) parses to, read
    without ``packaging``: requirement strings and ``requires-python`` are not checked.
    None for any other kind, or when the text is rejected even without those checks.

    What is returned is provisional: the full parse (``parse_pep723`` /
    ``parse_vpython_toml``) still decides, and reports every error.
    """
    if kind not in (KIND_PEP723, KIND_TOML):
        return None
    ctx = _Context(text, path, 0, comment_block=kind == KIND_PEP723)
    try:
        return _parse(ctx, kind, strict_keys=kind == KIND_TOML, check_pep508=False)
    except SpecError:
        return None
