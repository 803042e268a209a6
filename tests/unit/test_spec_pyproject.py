"""PEP 723 ``# /// script`` blocks and vpython.toml files."""

from __future__ import annotations

import os
import re
import textwrap

import pytest

from vpython.errors import SpecError
from vpython.spec.inline import _find_blocks, extract_pep723
from vpython.spec.model import KIND_PEP723, KIND_TOML
from vpython.spec.parse import load_spec_file, parse_spec
from vpython.spec.pyproject import parse_pep723, parse_vpython_toml

PEP723_REGEX = r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$"

SCRIPT = '''\
#!/usr/bin/env vpython3
# -*- coding: utf-8 -*-
# /// script
# requires-python = ">=3.9"
# dependencies = [
#   "requests<3",
#   "rich",
# ]
#
# [tool.vpython]
# python-version = "3.11"
# platforms = ["linux_x86_64", "macosx_11_0_arm64"]
# index-url = "https://pypi.org/simple"
#
# [tool.uv]
# exclude-newer = "whatever: other tools' tables are not ours"
# ///
"""A tool."""
import requests
'''


def script(tmp_path, text, name="tool.py"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p), p.read_bytes().decode("utf-8")


def load_script(tmp_path, text):
    path, text = script(tmp_path, text)
    found = extract_pep723(text, path)
    assert found is not None
    body, offset = found
    return path, parse_spec("pep723", body, path, offset)


def script_error(tmp_path, text) -> SpecError:
    path, text = script(tmp_path, text)
    with pytest.raises(SpecError) as info:
        found = extract_pep723(text, path)
        assert found is not None
        parse_spec("pep723", found[0], path, found[1])
    err = info.value
    assert err.path == path
    assert str(err).startswith(f"{path}:{err.line}")
    return err


# ---------------------------------------------------------------------------------------
# Finding the block.
def test_valid_block(tmp_path):
    path, spec = load_script(tmp_path, SCRIPT)
    assert spec.kind == KIND_PEP723 and not spec.closed
    assert spec.path == path
    assert spec.dependencies == ("requests<3", "rich")
    assert spec.requires_python == ">=3.9"
    assert spec.tool == {
        "python-version": "3.11",
        "platforms": ["linux_x86_64", "macosx_11_0_arm64"],
        "index-url": "https://pypi.org/simple",
    }
    assert spec.warnings == ()


def test_block_text_and_offset(tmp_path):
    path, text = script(tmp_path, SCRIPT)
    body, offset = extract_pep723(text, path)
    assert offset == 3  # the "# /// script" line
    assert body.startswith('requires-python = ">=3.9"\ndependencies = [\n  "requests<3",\n')
    assert "\n\n[tool.vpython]\n" in body  # a bare "#" becomes an empty line


def test_crlf_script(tmp_path):
    p = tmp_path / "win.py"
    p.write_bytes(b'# /// script\r\n# dependencies = ["six"]\r\n# ///\r\nimport six\r\n')
    body, offset = extract_pep723(p.read_bytes().decode(), str(p))
    assert (body, offset) == ('dependencies = ["six"]\n', 1)


def test_two_script_blocks(tmp_path):
    err = script_error(tmp_path, '# /// script\n# dependencies = []\n# ///\nx = 1\n'
                                 '# /// script\n# dependencies = ["six"]\n# ///\n')
    assert "more than one '# /// script' block" in err.message and "line 1" in err.message
    assert (err.line, err.column) == (5, 1)


def test_non_script_blocks_ignored(tmp_path):
    path, text = script(tmp_path, '# /// pyproject\n# [run]\n# dependencies = ["x"]\n# ///\n'
                                  '# /// some-tool\n# anything = goes\n# ///\n')
    assert extract_pep723(text, path) is None
    path, spec = load_script(tmp_path, '# /// other\n# x\n# ///\n\n# /// script\n# dependencies = ["six"]\n# ///\n')
    assert spec.dependencies == ("six",)
    # Without a non-comment line between them, "# ///" of the first block is content
    # (the closer is the *last* "# ///"), so the first block swallows the second.
    path, text = script(tmp_path, '# /// other\n# x\n# ///\n# /// script\n# dependencies = ["six"]\n# ///\n')
    assert extract_pep723(text, path) is None


@pytest.mark.parametrize("text, line", [
    ('import os\n# /// script\n# dependencies = ["six"]\nimport six\n', 2),
    ('# /// script\n# dependencies = ["six"]\n', 1),
    ('# /// script\n#dependencies = ["six"]\n# ///\n', 1),  # "#x" is not a content line
    ('# /// script', 1),
])
def test_unclosed_block(tmp_path, text, line):
    err = script_error(tmp_path, text)
    assert "unclosed '# /// script' block" in err.message
    assert (err.line, err.column) == (line, 1)
    assert str(err).startswith(f"{err.path}:{line}:1: ")


@pytest.mark.parametrize("text", ["# /// script\n# ///\n", "# /// script\n#\n# ///\n", "# /// script\n# ///"])
def test_empty_block_is_a_valid_empty_spec(tmp_path, text):
    _, spec = load_script(tmp_path, text)
    assert spec.kind == KIND_PEP723
    assert spec.dependencies == () and spec.requires_python == "" and spec.tool == {}


def test_no_block(tmp_path):
    path, text = script(tmp_path, "print('# /// script is just text here')\n")
    assert extract_pep723(text, path) is None


@pytest.mark.parametrize("text", [
    SCRIPT,
    "# /// script\n# a\n# ///\n# b\n# ///\ncode\n",  # closer inside content: the last wins
    "# /// script\n# a\n# ///\n#\n# not a closer\ncode\n",
    "# /// a\n# /// b\n# x\n# ///\n",
    "# /// a\n# x\n# ///",  # closer at EOF without newline
    "# /// a\n# ///\n# ///\n",
    "# /// a b\n# x\n# ///\n",
    "# /// a\nx\n# /// b\n# y\n# ///\n# /// c\n# z\n# ///\n",
    "#/// a\n# x\n# ///\n",
    "# /// a\n# x\n#  ///\n# ///\n\n# /// d\n# q\n",
    "# /// other\n# x\n# ///\n# /// script\n# y\n# ///\n",
    "\n\n# /// a\n# x\n# ///\n\n# /// b\n#\n# ///\nz",
])
def test_line_scan_matches_reference_regex(text):
    expected = []
    for m in re.finditer(PEP723_REGEX, text):
        start = text.count("\n", 0, m.start())
        expected.append((m.group("type"), start, start + m.group(0).count("\n")))
    assert list(_find_blocks(text.split("\n"))) == expected


# ---------------------------------------------------------------------------------------
# Validating the TOML.
def test_bad_toml_points_at_the_file_line(tmp_path):
    err = script_error(tmp_path, 'import os\n# /// script\n# dependencies = ["six"]\n# requires-python = \n# ///\n')
    assert "invalid TOML" in err.message
    assert err.line == 4
    assert err.column == 21  # column in the file, "# " included
    assert str(err).startswith(f"{err.path}:4:21: ")


def test_bad_requirement_names_key_index(tmp_path):
    err = script_error(tmp_path, textwrap.dedent('''\
        #!/usr/bin/env vpython3
        # /// script
        # dependencies = [
        #   "requests",   # a comment, with "quotes", and a ]
        #   'rich>=13',
        #   "six==",
        # ]
        # ///
        '''))
    assert err.message.startswith("dependencies[2]: invalid requirement 'six=='")
    assert (err.line, err.column) == (6, 5)


def test_bad_requires_python(tmp_path):
    err = script_error(tmp_path, '# /// script\n# requires-python = ">=3.x"\n# ///\n')
    assert "requires-python" in err.message and err.line == 2


@pytest.mark.parametrize("body, line, words", [
    ('dependencies = "six"', 2, ["dependencies must be a list of strings"]),
    ("dependencies = [1]", 2, ["dependencies[0] must be a string"]),
    ("[tool.vpython]\nplatform = []", 3, ["unknown key tool.vpython.platform"]),
    ('[tool.vpython]\nplatforms = "linux"', 3, ["tool.vpython.platforms must be a list"]),
    ('[tool.vpython]\nfind-links = ["a", 2]', 3, ["tool.vpython.find-links[1] must be a string"]),
    ("[tool.vpython]\nindex-url = 1", 3, ["tool.vpython.index-url must be a string"]),
    ('[tool.vpython]\npython-version = "three"', 3, ["python-version", "three"]),
    ("tool = 1", 2, ["tool must be a table"]),
])
def test_tool_and_type_errors(tmp_path, body, line, words):
    text = "# /// script\n" + "".join(f"# {x}\n" for x in body.split("\n")) + "# ///\n"
    err = script_error(tmp_path, text)
    assert err.line == line, str(err)
    for word in words:
        assert word in err.message


def test_unknown_top_level_key_in_script_is_a_warning(tmp_path):
    path, spec = load_script(tmp_path, '# /// script\n# dependencies = []\n# dependecies = ["six"]\n# ///\n')
    assert spec.warnings == (f"{path}:3: unknown key 'dependecies' in the script metadata is ignored",)


def test_all_tool_keys_accepted():
    spec = parse_pep723(textwrap.dedent('''\
        [tool.vpython]
        python-version = "3.11"
        platforms = ["linux_x86_64"]
        index-url = "https://example.com/simple"
        extra-index-urls = ["https://a/simple"]
        find-links = ["./wheels"]
        exclude-newer = "2025-01-01T00:00:00Z"
        [tool.black]
        line-length = 100
        '''), "s.py", 0)
    assert sorted(spec.tool) == sorted(["python-version", "platforms", "index-url", "extra-index-urls",
                                        "find-links", "exclude-newer"])


# ---------------------------------------------------------------------------------------
# vpython.toml
def write_toml(tmp_path, text, name="vpython.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def toml_error(tmp_path, text) -> SpecError:
    path = write_toml(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_spec_file(path)
    assert info.value.path == path
    assert str(info.value).startswith(f"{path}:{info.value.line}")
    return info.value


def test_vpython_toml(tmp_path):
    path = write_toml(tmp_path, 'requires-python = ">=3.10"\ndependencies = ["six==1.16.0"]\n'
                                '[tool.vpython]\nplatforms = ["win_amd64"]\n[tool.ruff]\nx = 1\n')
    spec = load_spec_file(path)
    assert spec.kind == KIND_TOML and spec.path == path
    assert spec.dependencies == ("six==1.16.0",) and spec.requires_python == ">=3.10"
    assert spec.tool == {"platforms": ["win_amd64"]}


@pytest.mark.parametrize("text", ["", "# nothing\n", "dependencies = []\n", "[tool.ruff]\nx = 1\n"])
def test_empty_vpython_toml_is_an_error(tmp_path, text):
    err = toml_error(tmp_path, text)
    assert "empty spec file" in err.message and err.line == 1


def test_vpython_toml_unknown_key(tmp_path):
    err = toml_error(tmp_path, 'dependencies = ["six"]\n\n[project]\nname = "x"\n')
    assert "unknown key 'project'" in err.message
    assert (err.line, err.column) == (3, 2)


def test_vpython_toml_syntax_error(tmp_path):
    err = toml_error(tmp_path, 'dependencies = ["six"]\nrequires-python = >=3.9\n')
    assert "invalid TOML" in err.message and "(at line" not in err.message
    assert (err.line, err.column) == (2, 19)


def test_vpython_toml_bad_requirement(tmp_path):
    err = toml_error(tmp_path, 'dependencies = [\n  "six",\n  "foo bar",\n]\n')
    assert err.message.startswith("dependencies[1]: invalid requirement 'foo bar'")
    assert (err.line, err.column) == (3, 3)


def test_parse_vpython_toml_direct():
    assert parse_vpython_toml('dependencies = ["a"]', None).dependencies == ("a",)
    with pytest.raises(SpecError) as info:
        parse_vpython_toml("x = 1", None)
    assert str(info.value).startswith("<spec>:1:1: unknown key 'x'")


def test_toml_kind_chosen_by_file_name(tmp_path):
    path = write_toml(tmp_path, 'dependencies = ["six"]\n', name="deps.toml")
    assert load_spec_file(path).kind == KIND_TOML
    path = write_toml(tmp_path, 'python_version: "3.8"\n', name="deps.vpython3")
    assert load_spec_file(path).python_version == "3.8"


def test_line_scan_matches_reference_regex_randomized():
    import random

    rng = random.Random(723)
    pieces = ["# /// script", "# /// a-1", "# ///", "#", "# x = 1", "x", "", "#x", "# /// b c", "#  ///"]
    for _ in range(3000):
        text = "\n".join(rng.choice(pieces) for _ in range(rng.randint(0, 9)))
        if rng.random() < 0.5:
            text += "\n"
        test_line_scan_matches_reference_regex(text)


# ---------------------------------------------------------------------------------------
# The provisional read (vpython lock starts uv from it).
def test_provisional_read_matches_the_full_parse_without_pep508_checks():
    from vpython.spec.pyproject import read_provisional

    body = 'dependencies = ["a>=1", "b"]\nrequires-python = ">=3.9"\n[tool.vpython]\npython-version = "3.11"\n'
    spec = read_provisional("pep723", body, "/x/t.py")
    assert spec == parse_pep723(body, "/x/t.py") and spec.tool == {"python-version": "3.11"}
    assert read_provisional("toml", body, "/x/vpython.toml") == parse_vpython_toml(body, "/x/vpython.toml")
    # Not checked without packaging: the full parse reports these.
    assert read_provisional("pep723", 'dependencies = ["bad req !!"]\n', None).dependencies == ("bad req !!",)
    for kind, text in [("pep723", "dependencies = 3\n"), ("pep723", "x = [\n"), ("toml", "x = 1\n"),
                       ("toml", ""), ("textproto", 'python_version: "3.11"\n')]:
        assert read_provisional(kind, text, None) is None, (kind, text)


def test_provisional_read_imports_no_packaging():
    import subprocess
    import sys

    code = ("import sys; from vpython.spec.pyproject import read_provisional; "
            "s = read_provisional('pep723', 'dependencies = [\"a\"]\\n', None); "
            "assert s.dependencies == ('a',); print(sorted(m for m in sys.modules if m.startswith('packaging')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
