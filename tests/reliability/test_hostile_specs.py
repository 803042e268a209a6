"""Hostile specs: property-based fuzzing of every parser a user's input reaches.

For each parser -- text proto (``.vpython3`` files), the inline ``[VPYTHON:BEGIN]``
block, PEP 723 ``# /// script`` blocks, ``vpython.toml``, PEP 751 lockfiles, the user
config file (as bytes: not always UTF-8), deeply nested TOML fed to every TOML reader,
and the command line (vpython's flags and python's argv) -- hypothesis generates inputs from a
grammar of the format's own tokens mixed with arbitrary text, so that most inputs are
*almost* valid (the interesting case) and some are garbage. For every input:

* the parser returns normally, or raises a ``UserError`` (exit code 2) -- never any
  other exception (which the CLI would show as a traceback);
* the error names the position: ``file:line[:col]`` for spec files (with a line that
  exists), the file and ``line``/``column`` or ``key`` for lockfiles, the offending
  argument for argv.

Counts are recorded (kit.record) from the number of inputs actually run. A few
end-to-end CLI runs then check exit 2 and no "Traceback" on real files.
"""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.reliability import kit

pytestmark = pytest.mark.reliability

# Budget: ~10,500 inputs in total (the issue asks for at least 10,000). Scaled by
# VPYTHON_FUZZ_SCALE for longer local fuzzing runs.
import os  # noqa: E402

SCALE = float(os.environ.get("VPYTHON_FUZZ_SCALE", "1"))
BUDGET = {"textproto": 2500, "inline": 1500, "pep723": 2000, "toml": 1500, "lockfile": 1500, "argv": 1500,
          "config": 1000, "deep": 1000}


def fuzz_settings(name):
    return settings(max_examples=int(BUDGET[name] * SCALE), deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=True)


COUNTS: dict = {}
SEEN: dict = {}  # parser -> {"ok": n, "error": n}
FAILS: dict = {}  # parser -> inputs that broke the property (shrinking included)


def tracked(name):
    """Count the inputs on which the property failed, for the ledger."""
    import functools

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except BaseException:
                FAILS[name] = FAILS.get(name, 0) + 1
                raise
        return inner
    return wrap


def _tally(parser: str, outcome: str) -> None:
    d = SEEN.setdefault(parser, {"ok": 0, "error": 0})
    d[outcome] += 1


LOCATION = re.compile(r"^(?P<path>[^\n]*?):(?P<line>\d+)(?::(?P<col>\d+))?: ", re.S)


def assert_spec_error(e, path: str, text: str, line_offset: int = 0) -> None:
    """``e`` is a UserError whose message starts ``path:line[:col]:`` with an existing line,
    and says what to do (a hint)."""
    from vpython.errors import SpecError, UserError

    assert isinstance(e, UserError) and e.exit_code == 2, repr(e)
    assert isinstance(e, SpecError), f"untyped spec error: {e!r}"
    m = LOCATION.match(str(e))
    assert m, f"no file:line position in {str(e)!r}"
    assert m.group("path") == path, str(e)
    lines = text.count("\n") + text.count("\r") + 1
    assert 1 <= int(m.group("line")) <= line_offset + lines + 1, (str(e), lines)
    assert e.hint, f"no hint: {str(e)!r}"


# ----------------------------------------------------------------------------- strategies

def _mix(tokens, alphabet=None, max_size=40):
    """Concatenations of format tokens and free text."""
    free = st.text(alphabet=alphabet, max_size=6) if alphabet else st.text(max_size=6)
    return st.lists(st.one_of(st.sampled_from(tokens), free), max_size=max_size).map("".join)


TP_TOKENS = [
    "python_version", "wheel", "name", "version", "match_tag", "not_match_tag", "virtualenv",
    "verify_pep425_tag", "python", "abi", "platform", ":", " : ", "<", ">", "{", "}", "[", "]", ",", ";",
    '"', "'", '"infra/python/wheels/six-py2_py3"', '"version:1.16.0"', '"3.11"', '"cp311"', '"manylinux1_x86_64"',
    "\n", "\n", " ", "\t", "#", "# comment\n", "<<EOF\n", "EOF\n", "<<END\n", "  END\n", "\\", "\\n", "\\x41",
    "\\101", "\\u00e9", "-", "1", "0x1F", "1e5", "true", "\r\n", "\x00", "é", "\U0001f600",
]
TP_VALID = ('python_version: "3.11"\nwheel: <\n  name: "infra/python/wheels/six-py2_py3"\n'
            '  version: "version:1.16.0"\n>\n')


def textproto_inputs():
    return st.one_of(
        _mix(TP_TOKENS),
        # a valid spec with a random edit: the "almost right" files people really write
        st.tuples(st.integers(0, len(TP_VALID)), st.integers(0, 8), _mix(TP_TOKENS, max_size=4)).map(
            lambda t: TP_VALID[:t[0]] + t[2] + TP_VALID[t[0] + t[1]:]),
        st.text(max_size=200),
    )


TOML_TOKENS = [
    "dependencies", "requires-python", "tool", "vpython", "python-version", "platforms", "index-url",
    "extra-index-urls", "find-links", "exclude-newer", "[tool.vpython]", "[tool]", "[[x]]", " = ", "=", "[",
    "]", "{", "}", ",", '"', "'", '"""', "'''", '"requests>=2"', '"six==1.16.0"', '"numpy; python_version<\'3\'"',
    '"name @ https://x/y.whl"', '">=3.9"', '"3.11"', '"linux-x86_64"', '"bad req !!"', '"==="', "true", "1",
    "1979-05-27T07:32:00Z", "\n", "\n", " ", "#", "\\", "\\u0000", "é", "\x7f", ".",
]
TOML_VALID = ('requires-python = ">=3.9"\ndependencies = [\n  "requests>=2",\n  "six==1.16.0",\n]\n'
              '[tool.vpython]\npython-version = "3.11"\nplatforms = ["linux-x86_64"]\n')


def toml_inputs():
    return st.one_of(
        _mix(TOML_TOKENS),
        st.tuples(st.integers(0, len(TOML_VALID)), st.integers(0, 8), _mix(TOML_TOKENS, max_size=4)).map(
            lambda t: TOML_VALID[:t[0]] + t[2] + TOML_VALID[t[0] + t[1]:]),
        st.text(max_size=200),
    )


def _commented(body: str, prefix: str) -> str:
    return "".join(prefix + line + "\n" for line in body.split("\n"))


def pep723_scripts():
    guard = st.sampled_from(["# /// script\n", "# ///\n", "#/// script\n", "# /// other\n", "# /// script \n",
                             "# ///script\n", "# /// script\r\n", ""])
    body = toml_inputs().map(lambda b: _commented(b, "# ")) | toml_inputs().map(lambda b: _commented(b, "#"))
    code = st.sampled_from(["", "import sys\n", "print('x')\n", "#\n", "x = 1  # ///\n"])
    return st.tuples(code, guard, body, guard, code, st.booleans(), guard).map(
        lambda t: t[0] + t[1] + t[2] + t[3] + t[4] + (t[6] if t[5] else ""))


def inline_scripts():
    begin = st.sampled_from(["# [VPYTHON:BEGIN]\n", "[VPYTHON:BEGIN]\n", "  # [VPYTHON:BEGIN]  \n",
                             "// [VPYTHON:BEGIN]\n", "# [VPYTHON:BEGIN]\r\n", ""])
    end = st.sampled_from(["# [VPYTHON:END]\n", "[VPYTHON:END]\n", "// [VPYTHON:END]\n", "# [VPYTHON:END] x\n", ""])
    prefix = st.sampled_from(["# ", "#", "// ", "", "  # "])
    body = st.tuples(textproto_inputs(), prefix).map(lambda t: _commented(t[0], t[1]))
    code = st.sampled_from(["", "#!/usr/bin/env vpython3\n", "import os\n", "'''\n"])
    return st.tuples(code, begin, body, end, code, st.booleans(), begin).map(
        lambda t: t[0] + t[1] + t[2] + t[3] + t[4] + (t[6] if t[5] else ""))


LOCK_TOKENS = [
    "lock-version", "created-by", "requires-python", "environments", "packages", "[[packages]]",
    "[[packages.wheels]]", "[packages.sdist]", "[packages.archive]", "name", "version", "marker", "wheels", "sdist",
    "url", "path", "hashes", "size", "upload-time", "index", "dependencies", "tool", "[tool.vpython]",
    "spec-hash", " = ", "=", '"1.0"', '"2.0"', '"1"', '"tests"', '"six"', '"1.16.0"', '"six-1.16.0-py2.py3-none-any.whl"',
    '"https://x.invalid/six.whl"', '"./w/six.whl"', '{sha256 = "' + "a" * 64 + '"}', "{sha256 = 1}", "{}",
    '"python_version >= \'3\'"', '"bad marker (("', "1", "-1", "true", "[", "]", "{", "}", ",", '"', "\n", "\n",
    " ", "#", "é",
]
LOCK_VALID = ('lock-version = "1.0"\ncreated-by = "tests"\n[[packages]]\nname = "six"\nversion = "1.16.0"\n'
              '[[packages.wheels]]\nname = "six-1.16.0-py2.py3-none-any.whl"\nurl = "https://x.invalid/six.whl"\n'
              'hashes = {sha256 = "' + "a" * 64 + '"}\n')


def lock_inputs():
    return st.one_of(
        _mix(LOCK_TOKENS, max_size=60),
        st.tuples(st.integers(0, len(LOCK_VALID)), st.integers(0, 8), _mix(LOCK_TOKENS, max_size=4)).map(
            lambda t: LOCK_VALID[:t[0]] + t[2] + LOCK_VALID[t[0] + t[1]:]),
        st.text(max_size=200),
    )


ARG_TOKENS = [
    "-vpython-root", "-vpython-spec", "-vpython-log-level", "-vpython-tool", "-vpython-interpreter",
    "-vpython-index-url", "-vpython-find-links", "-vpython-offline", "--vpython-offline", "-vpython-offline=maybe",
    "-vpython-log-level=loud", "-vpython-tool=explode", "-vpython-bogus", "-vpython-", "--", "-", "-c", "-m", "-W",
    "-X", "-Q", "-J", "-E", "-I", "-B", "-u", "-bb", "-OO", "-h", "--help", "--check-hash-based-pycs",
    "--check-hash-based-pycs=always", "--version", "-Vv", "-cprint(1)", "-Xdev", "-W", "--unknown", "-Z", "-q",
    "script.py", "x", "", "debug", "install", "verify", "-i",
]


def argv_inputs():
    arg = st.one_of(st.sampled_from(ARG_TOKENS), st.text(max_size=8),
                    st.text(max_size=4).map(lambda s: "-" + s), st.text(max_size=4).map(lambda s: "-vpython-" + s))
    return st.lists(arg, max_size=8)


# ----------------------------------------------------------------------------- properties

_HOST_TAGS = None


def _host_tags():
    global _HOST_TAGS
    if _HOST_TAGS is None:
        from packaging import tags

        _HOST_TAGS = list(tags.sys_tags())
    return _HOST_TAGS


@fuzz_settings("textproto")
@given(text=textproto_inputs())
@tracked("textproto")
def test_textproto_parser(text):
    from vpython.errors import UserError
    from vpython.spec.normalize import normalize_spec
    from vpython.spec.parse import parse_spec

    COUNTS["textproto"] = COUNTS.get("textproto", 0) + 1
    try:
        spec = parse_spec("textproto", text, "/w/.vpython3")
    except Exception as e:  # noqa: BLE001 - the property: only typed, located errors
        assert_spec_error(e, "/w/.vpython3", text)
        _tally("textproto", "error")
        return
    _tally("textproto", "ok")
    # What parses must also normalise without an untyped error (names, versions, tags).
    try:
        normalize_spec(spec, _host_tags())
    except UserError as e:
        assert e.exit_code == 2 and "/w/.vpython3" in str(e) and e.hint, str(e)


@fuzz_settings("inline")
@given(script=inline_scripts())
@tracked("inline")
def test_inline_block_parser(script):
    from vpython.spec.inline import extract_vpython_block
    from vpython.spec.parse import parse_spec

    COUNTS["inline"] = COUNTS.get("inline", 0) + 1
    try:
        found = extract_vpython_block(script, "/w/tool.py")
        if found is None:
            _tally("inline", "ok")
            return
        block, offset = found
        parse_spec("textproto", block, "/w/tool.py", offset)
    except Exception as e:  # noqa: BLE001
        assert_spec_error(e, "/w/tool.py", script)
        _tally("inline", "error")
        return
    _tally("inline", "ok")


@fuzz_settings("pep723")
@given(script=pep723_scripts())
@tracked("pep723")
def test_pep723_parser(script):
    from vpython.spec.inline import extract_pep723
    from vpython.spec.parse import parse_spec

    COUNTS["pep723"] = COUNTS.get("pep723", 0) + 1
    try:
        found = extract_pep723(script, "/w/tool.py")
        if found is None:
            _tally("pep723", "ok")
            return
        body, offset = found
        parse_spec("pep723", body, "/w/tool.py", offset)
    except Exception as e:  # noqa: BLE001
        assert_spec_error(e, "/w/tool.py", script)
        _tally("pep723", "error")
        return
    _tally("pep723", "ok")


@fuzz_settings("toml")
@given(text=toml_inputs())
@tracked("toml")
def test_vpython_toml_parser(text):
    from vpython.spec.parse import parse_spec

    COUNTS["toml"] = COUNTS.get("toml", 0) + 1
    try:
        parse_spec("toml", text, "/w/vpython.toml")
    except Exception as e:  # noqa: BLE001
        assert_spec_error(e, "/w/vpython.toml", text)
        _tally("toml", "error")
        return
    _tally("toml", "ok")


@fuzz_settings("lockfile")
@given(text=lock_inputs())
@example(text=LOCK_VALID.replace('lock-version = "1.0"', 'lock-version = "0"'))  # found: key not named
@tracked("lockfile")
def test_lockfile_parser(text):
    from vpython.errors import LockError
    from vpython.lock.pylock import parse_lock_text, select_artifacts

    COUNTS["lockfile"] = COUNTS.get("lockfile", 0) + 1
    try:
        lock, _ = parse_lock_text(text, "/w/pylock.toml")
    except Exception as e:  # noqa: BLE001
        assert isinstance(e, LockError) and e.exit_code == 2, repr(e)
        msg = str(e)
        assert e.path == "/w/pylock.toml" and msg.startswith("/w/pylock.toml"), msg
        assert e.key is not None or e.line is not None, f"no line or key in {msg!r}"
        if e.line is not None:  # a line that exists
            assert 1 <= e.line <= text.count("\n") + 1 and msg.startswith(f"/w/pylock.toml:{e.line}"), msg
        else:
            assert msg.startswith(f"/w/pylock.toml: {e.key}: "), msg
        assert e.hint, msg
        _tally("lockfile", "error")
        return
    _tally("lockfile", "ok")
    # A lock that parses must also select (markers, tags) with typed errors only.
    from packaging import markers

    try:
        select_artifacts(lock, source="/w/pylock.toml", environment=markers.default_environment(),
                         tags=_host_tags(), platform_label="host")
    except Exception as e:  # noqa: BLE001
        from vpython.errors import UserError

        assert isinstance(e, UserError) and "/w/pylock.toml" in str(e), repr(e)


def _arg_named(msg: str, argv: list) -> bool:
    from vpython.cli.flags import _printable

    for a in argv:
        p = _printable(a)
        head = p.split("=", 1)[0]
        if p and (p in msg or (len(head) > 1 and head in msg)):
            return True
        if len(p) > 1 and p[0] == "-" and p[1] != "-" and any(f"-{ch}" in msg for ch in p[1:]):
            return True  # a bundle like -Bc: the error names the letter
    return False


@fuzz_settings("argv")
@given(argv=argv_inputs())
@tracked("argv")
def test_argv_parser(argv):
    from vpython.cli.flags import split_flags
    from vpython.cli.pyargv import parse_python_argv
    from vpython.errors import UserError

    COUNTS["argv"] = COUNTS.get("argv", 0) + 1
    try:
        _, rest = split_flags(argv)
        parse_python_argv(rest)
    except Exception as e:  # noqa: BLE001
        assert isinstance(e, UserError) and e.exit_code == 2, repr(e)
        assert _arg_named(str(e), argv), f"error names no argument of {argv!r}: {e}"
        _tally("argv", "error")
        return
    _tally("argv", "ok")


CONFIG_TOKENS = [
    "index-url", "extra-index-urls", "find-links", "offline", "exclude-newer", "shared-root", "bogus", " = ", "=",
    '"https://pypi.example/simple"', '"https://u:tok@host/simple"', '["/srv/w"]', "[1]", "true", "false", "1", '"x"',
    "[", "]", "{", "}", ",", '"', "'", "\n", "\n", " ", "#", "[table]", "é",
]
CONFIG_VALID = 'index-url = "https://pypi.example/simple"\nfind-links = ["/srv/w"]\noffline = false\n'
BAD_BYTES = [b"\xff", b"\xc3", b"\xe2\x82", b"\x80", b"\xed\xa0\x80", b"\xf5"]


def config_inputs():
    text = st.one_of(_mix(CONFIG_TOKENS),
                     st.tuples(st.integers(0, len(CONFIG_VALID)), st.integers(0, 8), _mix(CONFIG_TOKENS, max_size=4))
                     .map(lambda t: CONFIG_VALID[:t[0]] + t[2] + CONFIG_VALID[t[0] + t[1]:]))
    raw = text.map(lambda t: t.encode("utf-8"))
    # some are not UTF-8: a bad byte sequence spliced in somewhere
    spliced = st.tuples(raw, st.integers(0, 200), st.sampled_from(BAD_BYTES)).map(
        lambda t: t[0][:t[1]] + t[2] + t[0][t[1]:])
    return st.one_of(raw, raw, spliced)


@fuzz_settings("config")
@given(data=config_inputs())
@tracked("config")
def test_config_file_parser(data, tmp_path_factory):
    from vpython.errors import ConfigError
    from vpython.settings.sources import _load_config

    COUNTS["config"] = COUNTS.get("config", 0) + 1
    path = tmp_path_factory.getbasetemp() / "fuzz-config.toml"
    path.write_bytes(data)
    try:
        _load_config(str(path))
    except Exception as e:  # noqa: BLE001
        assert isinstance(e, ConfigError) and e.exit_code == 2, repr(e)
        assert e.path == str(path) and str(e).startswith(str(path)), str(e)
        assert e.line is not None or e.key is not None, f"no line or key in {str(e)!r}"
        if e.line is not None:
            assert 1 <= e.line <= data.count(b"\n") + 1, (str(e), data)
        assert e.hint, str(e)
        _tally("config", "error")
        return
    _tally("config", "ok")


# Openers (and their closers) for nesting: plain, inline tables, and strings holding
# brackets, backslashes and quotes in every TOML string kind (the depth scan must skip
# them exactly as tomllib does: a literal '\' is a whole string, "\"" is not its end).
NEST = [
    ("[", "]"), ("[ ", " ]"), ("{a = ", "}"), ("[1, ", "]"), ("['\\', ", "]"), ('["\\"[", ', "]"),
    ("['''x\\''', ", "]"), ('["""]\\"""", ', "]"), ("[ # [[[\n", "\n]"), ('{"[" = ', "}"), ("['[', ", "]"),
]


def deep_inputs():
    level = st.sampled_from(NEST)
    body = st.integers(1, 200).flatmap(lambda n: st.lists(level, min_size=n, max_size=n)).map(
        lambda ls: "".join(o for o, _ in ls) + "1" + "".join(c for _, c in reversed(ls)))
    cut = st.tuples(body, st.integers(0, 2000), st.integers(0, 3)).map(lambda t: t[0][:t[1]] + t[0][t[1] + t[2]:])
    return st.one_of(body, body, cut).map(lambda b: "x = " + b + "\n")


@fuzz_settings("deep")
@given(text=deep_inputs())
@tracked("deep")
def test_deeply_nested_toml_in_every_reader(text, tmp_path_factory):
    """The same nested text as a vpython.toml, a PEP 723 block, a lockfile and the config
    file: each reader returns or raises its typed error with a line that exists (tomllib
    alone recurses into a RecursionError at ~600 levels)."""
    from vpython import toml
    from vpython.errors import ConfigError, LockError
    from vpython.lock.pylock import parse_lock_text
    from vpython.settings.sources import _load_config
    from vpython.spec.parse import parse_spec

    COUNTS["deep"] = COUNTS.get("deep", 0) + 1
    lines = text.count("\n") + 1
    for kind in ("toml", "pep723"):
        try:
            parse_spec(kind, text, "/w/spec")
        except Exception as e:  # noqa: BLE001
            assert_spec_error(e, "/w/spec", text)
    try:
        parse_lock_text(text, "/w/pylock.toml")
    except Exception as e:  # noqa: BLE001
        assert isinstance(e, LockError) and e.path == "/w/pylock.toml", repr(e)
        assert e.line is not None or e.key is not None, str(e)
    path = tmp_path_factory.getbasetemp() / "fuzz-deep-config.toml"
    path.write_text(text)
    try:
        _load_config(str(path))
    except Exception as e:  # noqa: BLE001
        assert isinstance(e, ConfigError) and e.path == str(path), repr(e)
        assert e.line is not None or e.key is not None, str(e)
        assert e.line is None or 1 <= e.line <= lines, str(e)
    try:
        toml.loads(text)
    except toml.TOMLDecodeError as e:
        assert e.lineno is not None and 1 <= e.lineno <= lines, (e.msg, text[:200])
        _tally("deep", "error")
        return
    _tally("deep", "ok")


def test_zz_fuzz_totals():
    """Runs after the properties (file order): records how many inputs really ran."""
    total = sum(COUNTS.values())
    detail = ", ".join(f"{k} {COUNTS.get(k, 0)} ({SEEN.get(k, {}).get('error', 0)} rejected)" for k in BUDGET)
    kit.record("hostile specs: hypothesis fuzzing of every parser", trials=total, failures=sum(FAILS.values()),
               leftovers=0,
               observed=detail + "; every rejection a UserError (exit 2) naming its position")
    if len(COUNTS) == len(BUDGET):  # the whole file ran (not a -k subset)
        assert total >= 12_000 * min(SCALE, 1.0), COUNTS
        # Both outcomes were exercised for each parser: the inputs are not all garbage.
        for k in BUDGET:
            assert SEEN[k]["ok"] > 0 and SEEN[k]["error"] > 0, (k, SEEN[k])


# ----------------------------------------------------------------------------- end to end

# case -> (file to write, its content, the target to run, where the one error line must
# point: "<file>:<line>:<col>" relative to the case's directory, or the flag).
E2E = {
    ".vpython3 with a bad field": (
        ".vpython3", 'python_version: "3.11"\nwheel: <\n  nme: "x"\n>\n', None, ".vpython3:3:3"),
    "vpython.toml with a bad requirement": (
        "vpython.toml", 'dependencies = ["bad req !!"]\n', None, "vpython.toml:1:17"),
    "PEP 723 block with bad TOML": (
        "s.py", "# /// script\n# dependencies = [\n# ///\nprint(1)\n", "s.py", "s.py:3:2"),
    "unclosed PEP 723 block": ("s.py", "# /// script\n# dependencies = []\nprint(1)\n", "s.py", "s.py:1:1"),
    "inline [VPYTHON:BEGIN] block with a syntax error": (
        "s.py", "# [VPYTHON:BEGIN]\n# wheel: <\n# [VPYTHON:END]\nprint(1)\n", "s.py", "s.py:2:11"),
    "lockfile that is not TOML": (
        "s.py", '# /// script\n# dependencies = ["six"]\n# ///\n', "s.py", "pylock.s.toml:2:1"),
    "unknown vpython flag": (None, None, None, "-vpython-lgo-level"),
}


def test_end_to_end_cli_errors(tmp_path, root):
    """Real runs: exit 2, one `vpython: error: <file>:<line>:<col>: ...` line (or the
    flag), a hint for files, no traceback."""
    t0 = time.monotonic()
    failures = []
    env = kit.vp_env(root, "http://127.0.0.1:9/simple/")  # never reached: all fail before resolving
    for i, (case, (fname, content, target, where)) in enumerate(E2E.items()):
        d = tmp_path / f"c{i}"
        d.mkdir()
        if fname is None:
            args = ["-vpython-lgo-level", "debug", "-c", "pass"]
            expect = f"vpython: error: unknown flag: {where}"
        else:
            (d / fname).write_text(content)
            if target is None:
                (d / "main.py").write_text("print(1)\n")
                target = "main.py"
            if case.startswith("lockfile"):
                (d / "pylock.s.toml").write_text("lock-version = [\n")
            expect = f"vpython: error: {d / where}: "
            args = [d / target]
        r = kit.run(args, env, d)
        line = kit.one_line_error(r)
        hinted = fname is None or "\n  hint: " in r.stderr
        if r.returncode != 2 or not kit.no_traceback(r) or not line.startswith(expect) or not hinted:
            failures.append(f"{case}: rc={r.returncode} expected a line starting {expect!r}, a hint, in\n"
                            f"{r.stderr[-800:]}")
    kit.record("hostile specs: end-to-end CLI runs on bad files and flags", trials=len(E2E), failures=len(failures),
               leftovers=0, observed="exit 2, `vpython: error: <file>:<line>:<col>: ...` (or the flag), no traceback",
               seconds=time.monotonic() - t0)
    assert not failures, "\n----\n".join(failures)


DEEP = "x = " + "[" * 600 + "]" * 600 + "\n"  # 1.2 KB: tomllib alone ends in RecursionError
LOCK_NEG = ('lock-version = "1.0"\ncreated-by = "t"\n[[packages]]\nname = "six"\nversion = "1.16.0"\n'
            '[[packages.wheels]]\nname = "six-1.16.0-py2.py3-none-any.whl"\nurl = "https://x.invalid/six.whl"\n'
            'size = -5\nhashes = {sha256 = "' + "a" * 64 + '"}\n')


def test_end_to_end_hostile_toml_encodings_sizes_and_file_kinds(tmp_path, root):
    """Real runs, each exit 2 with one `vpython: error:` line naming the file and a line
    (or the flag) and a hint, no traceback, and no line of the output over 2,000
    characters: TOML nested 600 deep in a vpython.toml, a PEP 723 block, a lockfile and
    the config file; non-UTF-8 config, vpython.toml and lockfile; a 5 MB python_version;
    -vpython-spec on a device, a directory and a FIFO; a negative size in a lock."""
    t0 = time.monotonic()
    env0 = kit.vp_env(root, "http://127.0.0.1:9/simple/")  # never reached: all fail before resolving
    pep723 = "# /// script\n" + "".join("# " + ln + "\n" for ln in DEEP.splitlines()) + "# ///\nprint(1)\n"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cases = {  # case -> (files {name: bytes}, args, extra env, expected start of the error after "vpython: error: ")
        "vpython.toml nested 600 deep": ({"vpython.toml": DEEP.encode(), "m.py": b"print(1)\n"}, ["m.py"], {},
                                         "{d}/vpython.toml:1:"),
        "PEP 723 block nested 600 deep": ({"s.py": pep723.encode()}, ["s.py"], {}, "{d}/s.py:2:"),
        "lockfile nested 600 deep": ({"s.py": b"# /// script\n# dependencies = []\n# ///\n",
                                      "pylock.s.toml": DEEP.encode()}, ["s.py"], {}, "{d}/pylock.s.toml:1:"),
        "config file nested 600 deep": ({"c.toml": DEEP.encode(), "s.py": b"print(1)\n"}, ["s.py"],
                                        {"VPYTHON_CONFIG": "{d}/c.toml"}, "{d}/c.toml:1:"),
        "config file not UTF-8": ({"c.toml": b'offline = false\nindex-url = "\xff"\n', "s.py": b"print(1)\n"},
                                  ["s.py"], {"VPYTHON_CONFIG": "{d}/c.toml"}, "{d}/c.toml:2:"),
        "vpython.toml not UTF-8": ({"vpython.toml": b'dependencies = []\n# \xc3\n', "m.py": b"print(1)\n"},
                                   ["m.py"], {}, "{d}/vpython.toml:2:"),
        "lockfile not UTF-8": ({"s.py": b"# /// script\n# dependencies = []\n# ///\n",
                                "pylock.s.toml": b'lock-version = "1.0"\n\x80\n'}, ["s.py"], {},
                               "{d}/pylock.s.toml:2:"),
        "lockfile with size = -5": ({"s.py": b'# /// script\n# dependencies = ["six"]\n# ///\n',
                                     "pylock.s.toml": LOCK_NEG.encode()}, ["s.py"], {},
                                    "{d}/pylock.s.toml: packages[0].wheels[0].size: "),
        "5 MB python_version": ({".vpython3": b'python_version: "' + b"3" * (5 << 20) + b'"\n',
                                 "m.py": b"print(1)\n"}, ["m.py"], {}, "python_version: "),
        "-vpython-spec /dev/zero": ({}, ["-vpython-spec", "/dev/zero", "-c", "pass"], {},
                                    "/dev/zero: -vpython-spec: not a regular file (a device)"),
        "-vpython-spec a directory": ({}, ["-vpython-spec", "{d}", "-c", "pass"], {},
                                      "{d}: -vpython-spec: not a regular file (a directory)"),
        "-vpython-spec a FIFO": ({}, ["-vpython-spec", str(fifo), "-c", "pass"], {},
                                 f"{fifo}: -vpython-spec: not a regular file (a FIFO)"),
    }
    failures = []
    for i, (case, (files, args, extra, expect)) in enumerate(cases.items()):
        d = tmp_path / f"h{i}"
        d.mkdir()
        for name, data in files.items():
            (d / name).write_bytes(data)
        argv = [a.format(d=d) if "{d}" in a else (d / a if (d / a).exists() and not a.startswith("-") else a)
                for a in args]
        env = dict(env0, **{k: v.format(d=d) for k, v in extra.items()})
        r = kit.run(argv, env, d, timeout=120)
        line = kit.one_line_error(r)
        want = "vpython: error: " + expect.format(d=d)
        longest = max((len(x) for x in (r.stdout + r.stderr).splitlines()), default=0)
        if r.returncode != 2 or not kit.no_traceback(r) or not line.startswith(want) or "hint: " not in r.stderr \
                or longest > 2000:
            failures.append(f"{case}: rc={r.returncode}, longest line {longest}, expected {want!r}:\n"
                            f"{r.stderr[:600]}")
    kit.record("hostile specs: end-to-end runs on deep TOML (vpython.toml, PEP 723, lockfile, config), non-UTF-8 "
               "files, a 5 MB value, devices/dirs/FIFOs as -vpython-spec, a negative size",
               trials=len(cases), failures=len(failures), leftovers=0,
               observed="exit 2, `vpython: error: <file>:<line>: ...` (or the flag), a hint, no traceback, "
                        "no output line over 2,000 characters", seconds=time.monotonic() - t0)
    assert not failures, "\n----\n".join(failures)
