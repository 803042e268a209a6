"""[VPYTHON:BEGIN] ... [VPYTHON:END] blocks: luci-go Loader.parseFrom, line for line."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from vpython.errors import SpecError
from vpython.spec.inline import extract_vpython_block
from vpython.spec.parse import parse_spec


def script(tmp_path, text, name="tool.py"):
    """Write a real script; return (path, its text as discovery would read it)."""
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p), p.read_bytes().decode("utf-8")


def test_hash_prefix_stripped_and_short_line(tmp_path):
    path, text = script(tmp_path, textwrap.dedent('''\
        #!/usr/bin/env vpython3
        """Does things."""
        # [VPYTHON:BEGIN]
        # python_version: "3.11"
        #
        # wheel: <
        #   name: "infra/python/wheels/six-py2_py3"
        #   version: "version:1.16.0"
        # >
        # [VPYTHON:END]
        import six
        '''))
    block, offset = extract_vpython_block(text, path)
    assert offset == 3
    assert block.split("\n") == [
        'python_version: "3.11"',
        "",  # the bare "#" (TrimSpace ate the space) is shorter than "# " and matches it
        "wheel: <",
        '  name: "infra/python/wheels/six-py2_py3"',  # indentation inside the comment survives
        '  version: "version:1.16.0"',
        ">",
    ]
    spec = parse_spec("textproto", block, path, offset)
    assert spec.python_version == "3.11"
    assert spec.wheels[0].line == 6  # the file line of "# wheel: <"
    assert spec.path == path


def test_slash_prefix(tmp_path):
    path, text = script(tmp_path, '// [VPYTHON:BEGIN]\n// python_version: "3.8"\n// [VPYTHON:END]\n', "x.js")
    assert extract_vpython_block(text, path) == ('python_version: "3.8"', 1)


def test_docstring_without_prefix(tmp_path):
    path, text = script(tmp_path, textwrap.dedent('''\
        """Docstring

        [VPYTHON:BEGIN]
        wheel: <
          name: "foo/bar"
          version: "latest"
        >
        [VPYTHON:END]
        """
        '''))
    block, offset = extract_vpython_block(text, path)
    assert offset == 3
    # No prefix, so lines are only TrimSpace'd.
    assert block == 'wheel: <\nname: "foo/bar"\nversion: "latest"\n>'
    assert parse_spec("textproto", block, path, offset).wheels[0].name == "foo/bar"


def test_mismatched_end_prefix_strips_nothing(tmp_path):
    path, text = script(tmp_path, '# [VPYTHON:BEGIN]\n# python_version: "3.8"\n## [VPYTHON:END]\n')
    assert extract_vpython_block(text, path) == ('# python_version: "3.8"', 1)


def test_lines_without_prefix_are_kept(tmp_path):
    path, text = script(tmp_path, '# [VPYTHON:BEGIN]\n# python_version: "3.8"\nwheel: <>\n# [VPYTHON:END]\n')
    block, _ = extract_vpython_block(text, path)
    assert block == 'python_version: "3.8"\nwheel: <>'


def test_only_first_block(tmp_path):
    path, text = script(tmp_path, textwrap.dedent('''\
        # [VPYTHON:BEGIN]
        # python_version: "3.8"
        # [VPYTHON:END]
        # [VPYTHON:BEGIN]
        # python_version: "3.11"
        # [VPYTHON:END]
        '''))
    assert extract_vpython_block(text, path) == ('python_version: "3.8"', 1)


@pytest.mark.parametrize("text", [
    "print('no block')\n",
    "# [VPYTHON:BEGIN]\n# [VPYTHON:END]\n",  # empty block
    "x = 1\n# [VPYTHON:BEGIN]\n",  # BEGIN at the end, no content: fine
    "",
])
def test_no_spec(tmp_path, text):
    path, text = script(tmp_path, text)
    assert extract_vpython_block(text, path) is None


def test_whitespace_only_block_is_an_empty_spec(tmp_path):
    # Content lines exist (just blank), so the original parsed them: an empty Spec.
    path, text = script(tmp_path, "# [VPYTHON:BEGIN]\n#\n# [VPYTHON:END]\n")
    block, offset = extract_vpython_block(text, path)
    assert block == "" and parse_spec("textproto", block, path, offset).wheels == ()


def test_unterminated_block(tmp_path):
    path, text = script(tmp_path, 'import os\n# [VPYTHON:BEGIN]\n# python_version: "3.8"\nprint(1)\n')
    with pytest.raises(SpecError) as info:
        extract_vpython_block(text, path)
    assert "unterminated inline spec" in info.value.message
    assert info.value.line == 2
    assert str(info.value).startswith(f"{path}:2: ")


def test_guard_is_a_suffix_and_crlf(tmp_path):
    p = tmp_path / "win.py"
    p.write_bytes(b'  ;; [VPYTHON:BEGIN]\r\n  ;; python_version: "3.8"\r\n;; [VPYTHON:END]  \r\n')
    text = p.read_bytes().decode()
    assert extract_vpython_block(text, str(p)) == ('python_version: "3.8"', 1)


def test_bad_block_errors_point_into_the_script(tmp_path):
    path, text = script(tmp_path, textwrap.dedent('''\
        import sys
        # [VPYTHON:BEGIN]
        # python_version: "3.8"
        # wheel: <
        #   name: "a"
        #   versoin: "b"
        # >
        # [VPYTHON:END]
        '''))
    block, offset = extract_vpython_block(text, path)
    with pytest.raises(SpecError) as info:
        parse_spec("textproto", block, path, offset)
    err = info.value
    assert err.path == path
    assert err.line == 6  # the file line holding "versoin"
    assert err.column == 5  # the file column of "versoin" (after the "# " prefix)
    assert str(err).startswith(f"{path}:6:5: ") and "versoin" in err.message


def test_heredoc_in_block_keeps_later_line_numbers(tmp_path):
    path, text = script(tmp_path, textwrap.dedent('''\
        # [VPYTHON:BEGIN]
        # wheel: <
        #   name: <<EOF
        #     foo
        #   EOF
        #   version: "v"
        # >
        # oops: 1
        # [VPYTHON:END]
        '''))
    block, offset = extract_vpython_block(text, path)
    with pytest.raises(SpecError) as info:
        parse_spec("textproto", block, path, offset)
    assert info.value.line == 8


def test_conflict_marker_in_block(tmp_path):
    path, text = script(tmp_path, '# [VPYTHON:BEGIN]\n# python_version: "3.8"\n# <<<<<<< HEAD\n# [VPYTHON:END]\n')
    block, offset = extract_vpython_block(text, path)
    with pytest.raises(SpecError) as info:
        parse_spec("textproto", block, path, offset)
    assert info.value.message == 'failed to find matching terminator "HEAD"'
    assert info.value.line == 3 and str(info.value).startswith(f"{path}:3:")


def test_lines_over_64k_are_fine(tmp_path):
    # The original's line scanner fails on a 64 KiB line anywhere in the script; a script
    # carrying a long data line is legitimate, so vpython does not copy that limit.
    long_line = "x = '" + "a" * (64 * 1024) + "'"
    path, text = script(tmp_path, f"import os\n{long_line}\n")
    assert extract_vpython_block(text, path) is None
    path, text = script(tmp_path, f'{long_line}\n# [VPYTHON:BEGIN]\n# python_version: "3"\n# [VPYTHON:END]\n{long_line}\n')
    assert extract_vpython_block(text, path) == ('python_version: "3"', 2)


def test_inline_module_is_stdlib_only():
    code = ("import sys; before = set(sys.modules); import vpython.spec.inline; "
            "new = set(sys.modules) - before; "
            "print(sorted(m for m in new if not m.startswith('vpython') and m != '__future__'))")
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]), check=True)
    assert out.stdout.strip() == "[]"


def test_inline_block_errors_carry_the_file_column(tmp_path):
    # The parser reads the un-prefixed block; the error must point at the file's column.
    cases = [
        ('import sys\n#   [VPYTHON:BEGIN]\n#   python_version: "3.11"\n#   versio: "x"\n#   [VPYTHON:END]\n', 4, 5),
        ('x = 1\n    # [VPYTHON:BEGIN]\n    # wheel <\n    #   name: "a"\n    #   versin: "x"\n    # >\n    # [VPYTHON:END]\n', 5, 9),
        ('[VPYTHON:BEGIN]\n  bogus: 1\n[VPYTHON:END]\n', 2, 3),
    ]
    for text, line, column in cases:
        path, text = script(tmp_path, text)
        block, offset = extract_vpython_block(text, path)
        with pytest.raises(SpecError) as info:
            parse_spec("textproto", block, path, offset)
        assert (info.value.line, info.value.column) == (line, column), text
        word = text.split("\n")[line - 1][column - 1:].split(":")[0]
        assert word in ("versio", "versin", "bogus")
