"""Text-proto (.vpython3) parsing: the legacy golang/protobuf dialect Chromium files use."""

from __future__ import annotations

import textwrap

import pytest

from vpython.errors import SpecError, UserError
from vpython.spec import proto
from vpython.spec.heredoc import expand_heredocs
from vpython.spec.model import KIND_TEXTPROTO, PEP425Tag
from vpython.spec.parse import load_spec_file, parse_spec
from vpython.spec.textproto import parse_message, parse_textproto

# Shaped after chromium/src's .vpython3: angle brackets with and without ':', a list
# of verify tags, template names, not_match_tag without ':'.
CHROMIUM = '''\
# This is a vpython "spec" file.
#
# Read more about `vpython` and how to modify this file here:
#   https://chromium.googlesource.com/infra/infra/+/main/doc/users/vpython.md

python_version: "3.8"

# The default set of platforms vpython checks does not yet include mac-arm64.
verify_pep425_tag: [
    {python: "cp38", abi: "cp38", platform: "manylinux1_x86_64"},
    {python: "cp38", abi: "cp38", platform: "linux_arm64"},

    {python: "cp38", abi: "cp38", platform: "macosx_11_0_arm64"},
    {python: "cp38", abi: "cp38", platform: "win_amd64"}
]

# Used by:
#   build/android/pylib/local/emulator/avd.py
wheel: <
  name: "infra/python/wheels/protobuf-py2_py3"
  version: "version:3.15.8"
>
wheel: <
  name: "infra/python/wheels/pillow/${vpython_platform}"
  version: "version:8.3.1"
  # There is currently no Linux arm/arm64 version in CIPD.
  not_match_tag <
    platform: "linux_aarch64"
  >
>
wheel <
  name: "infra/python/wheels/pytest-py3"
  version: "version:6.2.2"
>
wheel: <
  name: "infra/python/wheels/pywin32/${vpython_platform}"
  version: "version:300"
  match_tag: <
    platform: "win32"
  >
  match_tag: <
    platform: "win_amd64"
  >
>
'''

# Brace style, trailing ',' after messages, ';' separators, single quotes, concatenation.
BRACES = '''\
python_version: '3.11'
wheel {
  name: "infra/python/wheels/"
        "six-py2_py3";
  version: 'version:1.16.0'
}
wheel: {
  name: "infra/python/wheels/numpy/${vpython_platform}"
  version: "version:1.2x.supported.1"
  not_match_tag: {python: "cp311", abi: "cp311", platform: "linux_arm64"},
  not_match_tag {platform: "macosx_11_0_arm64"};
},
'''

# A conflicted merge, as seen in signalapp/webrtc's .vpython3.
CONFLICTED = '''\
python_version: "3.8"

<<<<<<< HEAD
=======
wheel: <
  name: "infra/python/wheels/grpcio/${vpython_platform}"
  version: "version:1.44.0"
>
>>>>>>> m108
'''


def write(tmp_path, text, name=".vpython3"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def parse_error(tmp_path, text, name=".vpython3") -> SpecError:
    path = write(tmp_path, text, name)
    with pytest.raises(SpecError) as info:
        load_spec_file(path)
    err = info.value
    assert err.path == path
    assert str(err).startswith(f"{path}:{err.line}:")
    return err


def test_chromium_file(tmp_path):
    spec = load_spec_file(write(tmp_path, CHROMIUM))
    assert spec.kind == KIND_TEXTPROTO and spec.closed
    assert spec.python_version == "3.8"
    assert spec.verify_pep425_tags[0] == PEP425Tag("cp38", "cp38", "manylinux1_x86_64")
    assert len(spec.verify_pep425_tags) == 4
    names = [w.name for w in spec.wheels]
    assert names == [
        "infra/python/wheels/protobuf-py2_py3",
        "infra/python/wheels/pillow/${vpython_platform}",
        "infra/python/wheels/pytest-py3",
        "infra/python/wheels/pywin32/${vpython_platform}",
    ]
    assert [w.line for w in spec.wheels] == [19, 23, 31, 35]
    assert spec.wheels[1].not_match_tag == (PEP425Tag(platform="linux_aarch64"),)
    assert spec.wheels[3].match_tag == (PEP425Tag(platform="win32"), PEP425Tag(platform="win_amd64"))
    assert spec.warnings == ()


def test_braces_separators_quotes_concatenation(tmp_path):
    spec = load_spec_file(write(tmp_path, BRACES))
    assert spec.python_version == "3.11"
    six, numpy = spec.wheels
    assert six.name == "infra/python/wheels/six-py2_py3"
    assert six.version == "version:1.16.0"
    assert numpy.not_match_tag == (
        PEP425Tag("cp311", "cp311", "linux_arm64"),
        PEP425Tag(platform="macosx_11_0_arm64"),
    )
    assert [six.line, numpy.line] == [2, 7]


def test_result_is_the_protobuf_message():
    msg, lines, warnings = parse_message('wheel { name: "a" version: "b" match_tag <python: "cp38"> }')
    assert isinstance(msg, proto.Spec)
    assert msg.wheel[0].match_tag[0].python == "cp38"
    assert lines == [1] and warnings == []


@pytest.mark.parametrize("text", [CHROMIUM, BRACES])
def test_same_message_as_text_format(text):
    """Differential check: where protobuf's own text_format accepts the text, it agrees."""
    from google.protobuf import text_format

    expected = proto.Spec()
    text_format.Parse(text, expected)
    msg, _, _ = parse_message(text)
    assert msg == expected


def test_23_byte_file(tmp_path):
    path = write(tmp_path, 'python_version: "3.11"\n')
    assert len(open(path, "rb").read()) == 23
    spec = load_spec_file(path)
    assert spec.python_version == "3.11" and spec.wheels == ()


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "  \t\r\n"])
def test_empty_file_is_empty_spec(tmp_path, text):
    spec = load_spec_file(write(tmp_path, text))
    assert spec.kind == KIND_TEXTPROTO
    assert spec.python_version == "" and spec.wheels == () and spec.verify_pep425_tags == ()


def test_c_escapes():
    spec = parse_textproto(r'python_version: "a\tb\"c\\d\x41\101\u00e9\U0001F600\'"', "s")
    assert spec.python_version == 'a\tb"c\\dAAé\U0001F600\''
    spec = parse_textproto(r"python_version: 'it\'s \"x\"'", "s")
    assert spec.python_version == "it's \"x\""
    # Raw UTF-8 in strings passes through.
    assert parse_textproto('python_version: "é"', "s").python_version == "é"


def test_comments_everywhere():
    spec = parse_textproto('wheel # c\n< # c\n name # c\n : "a#b" # c\n> # c', "s")
    assert spec.wheels[0].name == "a#b"


def test_heredoc(tmp_path):
    text = textwrap.dedent('''\
        wheel: <
          name: <<EOF
            infra/python/wheels/
              six "quoted" \\n
          EOF
          version: "v"
        >
        bogus: 1
        ''')
    assert '"infra/python/wheels/\\n  six \\"quoted\\" \\\\n"' in expand_heredocs(text)
    msg, _, _ = parse_message(text.replace("bogus: 1\n", ""))
    assert msg.wheel[0].name == 'infra/python/wheels/\n  six "quoted" \\n'
    # Lines after the heredoc keep their numbers.
    err = parse_error(tmp_path, text)
    assert (err.line, err.column) == (8, 1)
    assert "bogus" in err.message


def test_heredoc_unclosed(tmp_path):
    err = parse_error(tmp_path, 'python_version: "3"\nwheel: < name: <<EOF\n  x\n>\n')
    assert err.message == 'failed to find matching terminator "EOF"'
    assert (err.line, err.column) == (2, 16)


def test_git_conflict_marker(tmp_path):
    err = parse_error(tmp_path, CONFLICTED)
    assert err.message == 'failed to find matching terminator "HEAD"'
    assert (err.line, err.column) == (3, 1)
    assert "conflict" in err.hint


def test_retired_virtualenv_warns(tmp_path):
    path = write(tmp_path, 'python_version: "2.7"\nvirtualenv: <\n  name: "infra/python/virtualenv"\n'
                           '  version: "version:15.1.0"\n>\n')
    spec = load_spec_file(path)
    assert spec.python_version == "2.7"
    assert len(spec.warnings) == 1
    assert spec.warnings[0].startswith(f"{path}:2:") and "virtualenv" in spec.warnings[0]


@pytest.mark.parametrize(
    "text, line, column, words",
    [
        ('python_version: "3.8"\npython_version: "3.11"\n', 2, 1, ['"python_version" was repeated', "line 1"]),
        ('wheel <\n  name: "a"\n  verison: "b"\n>\n', 3, 3, ['unknown field "verison" in wheel']),
        ('\n  foo: "x"\n', 2, 3, ['unknown field "foo"']),
        ('wheel {\n  name: "a"\n>\n', 3, 1, ["'>' does not match '{'", "line 1, column 7"]),
        ('wheel <\n  name: "a"\n}\n', 3, 1, ["'}' does not match '<'"]),
        ('wheel <\n  name: "a"\n', 3, 1, ["never closed", "expected '>'"]),
        ('wheel <\n  name: "a\n>\n', 2, 9, ["unterminated string"]),
        ('python_version "3.8"\n', 1, 16, ["expected ':' after \"python_version\""]),
        ('wheel: < name "x" >\n', 1, 15, ["expected ':' after \"name\""]),
        ('python_version: 3.8\n', 1, 17, ['"python_version" needs a quoted string', "3.8"]),
        ('wheel: "x"\n', 1, 8, ["expected '{' or '<'"]),
        ('wheel: []\n', 1, 9, ["expected '{' or '<'", "']'"]),
        ('verify_pep425_tag: [ {python: "cp38"} {abi: "x"} ]\n', 1, 39, ["expected ',' or ']'"]),
        ('python_version: "3" >\n', 1, 21, ["no message is open"]),
        ('python_version: "\\q"\n', 1, 18, ["unknown escape", "\\q"]),
        ('python_version: "\\12"\n', 1, 18, ["octal"]),
        ('python_version: "\\xZZ"\n', 1, 18, ["hex"]),
        ('python_version: "x" @\n', 1, 21, ["unexpected character '@'"]),
        ('"x": "y"\n', 1, 1, ["expected a field name"]),
    ],
)
def test_errors_have_location_and_plain_message(tmp_path, text, line, column, words):
    err = parse_error(tmp_path, text)
    assert (err.line, err.column) == (line, column), str(err)
    for word in words:
        assert word in str(err)
    assert "vpython.Spec" not in str(err) and "Message type" not in str(err)


def test_line_offset_applies_to_errors_and_entries():
    spec = parse_textproto('wheel: <\n name: "a"\n version: "b"\n>\n', "script.py", line_offset=10)
    assert spec.wheels[0].line == 11
    with pytest.raises(SpecError) as info:
        parse_textproto('python_version: "3"\n  bad: "x"\n', "script.py", line_offset=10)
    assert (info.value.line, info.value.column) == (12, 3)
    assert str(info.value).startswith("script.py:12:3: ")


def test_parse_spec_dispatch_and_bom():
    spec = parse_spec("textproto", '\ufeffpython_version: "3.11"', "x.vpython3")
    assert spec.python_version == "3.11" and spec.path == "x.vpython3"
    assert parse_spec("empty", "", None).wheels == ()
    with pytest.raises(ValueError):
        parse_spec("yaml", "", None)


def test_unreadable_and_non_utf8_files(tmp_path):
    missing = str(tmp_path / "missing.vpython3")
    with pytest.raises(UserError) as info:
        load_spec_file(missing)
    assert missing in str(info.value) and not isinstance(info.value, SpecError)

    bad = tmp_path / "bad.vpython3"
    bad.write_bytes(b'python_version: "3.8"\n# caf\xe9\n')
    with pytest.raises(SpecError) as info:
        load_spec_file(str(bad))
    assert (info.value.line, info.value.column) == (2, 6)
    assert str(info.value).startswith(f"{bad}:2:6: ") and "UTF-8" in str(info.value)


def test_the_line_of_python_version_is_kept_for_errors():
    spec = parse_textproto('# c\n\nwheel: < name: "a" version: "version:1" >\npython_version: "2.7"\n', "/s", 10)
    assert spec.python_version == "2.7" and spec.python_version_line == 14
    assert parse_textproto('wheel: < name: "a" version: "version:1" >\n', "/s").python_version_line is None
