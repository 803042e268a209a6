"""Find a spec embedded in a script: ``[VPYTHON:BEGIN]`` blocks and PEP 723 blocks.

Warm path: standard library only, and not even ``re`` (``import re`` alone can cost
several milliseconds when ``site`` has not already loaded it). Both scanners are plain
line loops over ``str`` methods. They only *locate* the block text; parsing happens on
the cold path (``vpython.spec.parse``).

Both return ``(block_text, line_offset)`` where ``line_offset`` is the file line number
of the opening guard, so line 1 of the block is file line ``line_offset + 1``.
"""

from __future__ import annotations

from vpython.errors import SpecError

TYPE_CHECKING = False  # not typing's: importing typing costs the warm path; mypy reads it as True
if TYPE_CHECKING:
    from collections.abc import Iterator

BEGIN_GUARD = "[VPYTHON:BEGIN]"
END_GUARD = "[VPYTHON:END]"


def extract_vpython_block(text: str, path: str | None = None) -> tuple[str, int] | None:
    """The first ``[VPYTHON:BEGIN]`` ... ``[VPYTHON:END]`` block, exactly as luci-go's
    ``Loader.parseFrom`` (luci-vpython.md §3.4) finds and un-prefixes it.

    None when there is no block or the block has no content lines.
    """
    # Unlike the original (Go's bufio.Scanner fails on any line of 64 KiB or more, so a
    # script with a long data line could not run at all), line length does not matter.
    if BEGIN_GUARD not in text:
        return None
    lines = text.split("\n")

    in_region = False
    begin_line = end_line = ""
    begin_no = 0
    content: list[str] = []
    for number, raw in enumerate(lines, 1):
        if number == len(lines) and raw == "":
            break  # the "line" after a final newline does not exist for a Scanner
        line = raw.strip()  # bufio.ScanLines drops "\r"; TrimSpace does the rest
        if not in_region:
            # The guard only has to be a suffix; whatever precedes it is the prefix.
            in_region = line.endswith(BEGIN_GUARD)
            begin_line, begin_no = line, number
        elif line.endswith(END_GUARD):
            end_line = line
            break
        else:
            content.append(line)

    if not content:
        return None  # no block, or an empty one: "no spec", not an error
    if not end_line:
        raise SpecError(
            f"unterminated inline spec: {BEGIN_GUARD} has no matching {END_GUARD}",
            path=path,
            line=begin_no,
            hint=f"close the block with a {END_GUARD} line (with the same comment prefix)",
        )

    prefix = begin_line[: -len(BEGIN_GUARD)]
    if end_line[: -len(END_GUARD)] != prefix:
        prefix = ""  # BEGIN and END disagree: strip nothing
    if prefix:
        for i, line in enumerate(content):
            if len(line) < len(prefix):
                # "#" under a "# " prefix (TrimSpace ate the space) becomes an empty line.
                if line == prefix[: len(line)]:
                    content[i] = ""
            elif line.startswith(prefix):
                content[i] = line[len(prefix) :]
            # lines without the prefix are kept unchanged
    return "\n".join(content), begin_no


def block_column_shift(text: str, line_number: int) -> int:
    """How many file columns precede the content of file line ``line_number`` inside the
    file's ``[VPYTHON:BEGIN]`` block (its indentation plus the stripped comment prefix).

    Only used to turn a parse error's block column into a file column, so the cost of
    scanning again is paid on the error path alone.
    """
    lines = text.split("\n")
    found = extract_vpython_block(text)
    if found is None or not 0 < line_number <= len(lines):
        return 0
    begin_no = found[1]
    begin = lines[begin_no - 1].strip()
    prefix = begin[: -len(BEGIN_GUARD)]
    raw = lines[line_number - 1].rstrip("\r")
    indent = len(raw) - len(raw.lstrip())
    stripped = raw.strip()
    if (
        prefix
        and stripped.startswith(prefix)
        and found[0].split("\n")[line_number - begin_no - 1] == stripped[len(prefix) :]
    ):
        return indent + len(prefix)
    return indent


# ---------------------------------------------------------------------------------------
# PEP 723. Reference regex (PyPA "Inline script metadata"):
#   (?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$
# implemented as an equivalent line scan (the tests cross-check it against the regex).
_TYPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_OPENER = "# /// "
_CLOSER = "# ///"


def _block_type(line: str) -> str | None:
    if not line.startswith(_OPENER):
        return None
    kind = line[len(_OPENER) :]
    if kind and all(c in _TYPE_CHARS for c in kind):
        return kind
    return None


def _find_blocks(lines: list[str]) -> Iterator[tuple[str, int, int]]:
    """Yield ``(type, opener_index, closer_index)`` like ``re.finditer`` on the regex.

    ``lines`` come from ``text.split("\\n")``: every element but the last was followed
    by a newline, which the regex's ``$\\s`` requires after the opener and content lines.
    """
    last = len(lines) - 1
    i = 0
    while i < last:  # the opener needs a newline after it
        kind = _block_type(lines[i])
        if kind is None:
            i += 1
            continue
        # Greedy content run: consecutive "#" / "# ..." lines that end with a newline.
        j = i + 1
        while j < last and (lines[j] == "#" or lines[j].startswith("# ")):
            j += 1
        # The closer is the *last* "# ///" reachable with at least one content line
        # before it (the regex backtracks from the end of the greedy run).
        close = None
        for k in range(j, i + 1, -1):
            if lines[k] == _CLOSER:
                close = k
                break
        if close is None:
            i += 1  # the regex retries at the next line start
            continue
        yield kind, i, close
        i = close + 1


def extract_pep723(text: str, path: str | None = None) -> tuple[str, int] | None:
    """The TOML body of the script's ``# /// script`` block, or None.

    Deviations from the PyPA text, on purpose: an unclosed ``# /// script`` is an
    error (the spec says ignore it, which silently runs the script without its
    dependencies); ``# /// script`` directly followed by ``# ///`` is an empty block
    (the regex wants one content line); and CRLF files are read like LF files (the
    reference reader opens files in text mode, which does the same).
    """
    if _OPENER + "script" not in text:
        return None
    lines = text.replace("\r\n", "\n").split("\n")
    blocks = []  # (opener index, closer index) of every script block
    covered: set[int] = set()
    for kind, start, close in _find_blocks(lines):
        covered.update(range(start, close + 1))
        if kind == "script":  # other types are not ours to read
            blocks.append((start, close))
    for index, line in enumerate(lines):
        if line != _OPENER + "script" or index in covered:
            continue
        if index + 1 < len(lines) and lines[index + 1] == _CLOSER:
            # "# /// script" then "# ///": the regex needs one content line, but this
            # is plainly an empty block, i.e. a valid empty spec.
            blocks.append((index, index + 1))
            continue
        raise SpecError(
            "unclosed '# /// script' block: no closing '# ///' line",
            path=path,
            line=index + 1,
            column=1,
            hint="every line of the block must start with '#' (or '# ') and the block must "
            "end with a line that is exactly '# ///'",
        )
    if not blocks:
        return None
    blocks.sort()
    if len(blocks) > 1:
        raise SpecError(
            f"more than one '# /// script' block (the first starts at line {blocks[0][0] + 1})",
            path=path,
            line=blocks[1][0] + 1,
            column=1,
            hint="PEP 723 allows a single script metadata block",
        )
    start, close = blocks[0]
    body = "".join(
        (line[2:] if line.startswith("# ") else line[1:]) + "\n" for line in lines[start + 1 : close]
    )
    return body, start + 1
