"""One entry point from spec text (whatever its format) to a parsed Spec.

Discovery (warm path) hands over ``(kind, text, path, line_offset)``; this module, on
the cold path, picks the parser. Parsers are imported lazily so that a PEP 723 spec
never pays for importing protobuf, nor a text-proto spec for packaging/tomllib.
"""

from __future__ import annotations

from vpython.errors import SpecError, UserError
from vpython.spec.model import KIND_EMPTY, KIND_PEP723, KIND_TEXTPROTO, KIND_TOML, Spec


def parse_spec(kind: str, text: str, path: str | None, line_offset: int = 0) -> Spec:
    """Parse spec ``text`` of ``kind`` (textproto | pep723 | toml | empty).

    ``path`` names the file in errors (the script, for inline blocks); ``line_offset``
    is the file line just before the text's first line.
    """
    if text.startswith("\ufeff"):
        text = text[1:]  # a UTF-8 BOM is an editor artefact, not spec content
    if kind == KIND_TEXTPROTO:
        from vpython.spec.textproto import parse_textproto

        try:
            return parse_textproto(text, path, line_offset)
        except SpecError as e:
            if not (line_offset and path and e.line and e.column):
                raise
            # An inline [VPYTHON:BEGIN] block: the parser counted columns in the
            # un-prefixed block text; editors want the file's column.
            shift = _inline_column_shift(path, e.line)
            if not shift:
                raise
            raise SpecError(
                e.message, path=e.path, line=e.line, column=e.column + shift, key=e.key, hint=e.hint
            ) from None
    if kind == KIND_PEP723:
        from vpython.spec.pyproject import parse_pep723

        return parse_pep723(text, path, line_offset)
    if kind == KIND_TOML:
        from vpython.spec.pyproject import parse_vpython_toml

        if line_offset:  # pragma: no cover - vpython.toml is always a whole file
            raise ValueError("a vpython.toml spec is a whole file; line_offset must be 0")
        return parse_vpython_toml(text, path)
    if kind == KIND_EMPTY:
        return Spec(path=path)
    raise ValueError(f"unknown spec kind {kind!r}")


def _inline_column_shift(path: str, line: int) -> int:
    from vpython.spec.inline import block_column_shift

    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return block_column_shift(f.read(), line)
    except OSError:
        return 0


def kind_for_path(path: str) -> str:
    """``*.toml`` files are vpython.toml specs; everything else is a text proto."""
    return KIND_TOML if path.endswith(".toml") else KIND_TEXTPROTO


def load_spec_file(path: str) -> Spec:
    """Read and parse the spec file at ``path`` (format chosen by its name)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise UserError(
            f"cannot read the spec file: {e.strerror or e}",
            path=path,
            hint="check that it exists and is readable",
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise SpecError(
            f"spec file is not valid UTF-8 (byte 0x{data[e.start]:02x})",
            path=path,
            line=line,
            column=column,
            hint="save it as UTF-8",
        ) from None
    return parse_spec(kind_for_path(path), text, path)
