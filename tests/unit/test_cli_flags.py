"""Splitting vpython's own flags off the front of argv (luci ``extractFlagsForSet``)."""

from __future__ import annotations

import pytest

from vpython.cli.flags import USAGE, VPythonFlags, format_help, split_flags
from vpython.errors import UsageError

F = VPythonFlags

# (id, argv, expected flags, expected python argv)
SPLITS = [
    # The original's "Test unknown argument" cases that succeed.
    ("root-then-positional", ["-vpython-root", "root", "vpython-test"],
     F(root="root"), ["vpython-test"]),
    ("script-first", ["test.py", "-vpython-test"], F(), ["test.py", "-vpython-test"]),
    ("separator-first", ["--", "-vpython-test"], F(), ["--", "-vpython-test"]),
    # Spellings.
    ("empty", [], F(), []),
    ("equals", ["-vpython-root=x", "s.py"], F(root="x"), ["s.py"]),
    ("equals-keeps-rest", ["-vpython-index-url=https://h/s?a=b", "s.py"],
     F(index_url="https://h/s?a=b"), ["s.py"]),
    ("double-dash-spelling", ["--vpython-spec", "x", "-c", "pass"], F(spec="x"), ["-c", "pass"]),
    ("empty-root-is-explicit", ["-vpython-root", "", "s.py"], F(root=""), ["s.py"]),
    ("value-that-looks-like-a-flag", ["-vpython-spec", "-weird", "s.py"], F(spec="-weird"), ["s.py"]),
    # Bools.
    ("help-then-python-flags", ["-help", "-vv", "-c", "pass"], F(help=True), ["-vv", "-c", "pass"]),
    ("h", ["-h"], F(help=True), []),
    ("double-dash-help", ["--help"], F(help=True), []),
    ("help-false", ["-help=false", "x.py"], F(help=False), ["x.py"]),
    ("offline-T", ["--vpython-offline=T", "-vpython-offline=0", "-vpython-offline"],
     F(offline=True), []),
    ("bool-does-not-take-next", ["-vpython-offline", "true"], F(offline=True), ["true"]),
    ("only-binary", ["-vpython-only-binary", "--vpython-only-binary=false", "--vpython-only-binary", "x.py"],
     F(only_binary=True), ["x.py"]),
    # Accumulation and last-wins.
    ("find-links-twice", ["-vpython-find-links", "a", "--vpython-find-links=b", "s.py"],
     F(find_links=["a", "b"]), ["s.py"]),
    ("last-wins", ["-vpython-root", "a", "-vpython-root", "b"], F(root="b"), []),
    # Every valued flag.
    ("all-valued", ["-vpython-root", "r", "-vpython-spec", "s", "-vpython-log-level", "INFO",
                    "-vpython-tool", "install", "-vpython-interpreter", "/usr/bin/python3",
                    "-vpython-index-url", "none", "-vpython-find-links", "w", "x.py", "-h"],
     F("r", "s", "info", "install", "/usr/bin/python3", "none", ["w"], False, False), ["x.py", "-h"]),
    # The `--` is kept for python (unlike the original's dropped separator).
    ("separator-kept", ["-vpython-root", "r", "--", "-c", "x"], F(root="r"), ["--", "-c", "x"]),
    ("separator-kept-before-lock", ["-vpython-log-level", "debug", "--", "lock"],
     F(log_level="debug"), ["--", "lock"]),
    ("after-separator-not-candidates", ["-help", "--", "-vpython-root", "r"],
     F(help=True), ["--", "-vpython-root", "r"]),
    # The first foreign flag or positional stops the scan.
    ("foreign-flag-stops", ["-u", "-vpython-root", "r"], F(), ["-u", "-vpython-root", "r"]),
    ("stdin-stops", ["-vpython-offline", "-", "-vpython-bogus"], F(offline=True), ["-", "-vpython-bogus"]),
    ("foreign-with-equals-stops", ["-foo=bar", "-vpython-root", "r"], F(), ["-foo=bar", "-vpython-root", "r"]),
    ("triple-dash-is-foreign", ["---vpython-root", "r"], F(), ["---vpython-root", "r"]),
    ("non-utf8-positional", ["-vpython-offline", "\udcff.py"], F(offline=True), ["\udcff.py"]),
    ("bytes", [b"-vpython-root", b"\xff", b"x.py"], F(root="\udcff"), ["x.py"]),
]


@pytest.mark.parametrize("argv,flags,rest", [c[1:] for c in SPLITS], ids=[c[0] for c in SPLITS])
def test_split(argv, flags, rest):
    got, python_args = split_flags(argv)
    assert got == flags
    assert python_args == rest


ERRORS = [
    (["-vpython-test"], "unknown flag: -vpython-test"),
    (["--vpython-test"], "unknown flag: --vpython-test"),
    (["-vpython-test=1", "x.py"], "unknown flag: -vpython-test"),
    (["-vpython-root", "r", "-vpython-rot", "x"], "unknown flag: -vpython-rot"),
    (["-vpython-\udcff"], "unknown flag: -vpython-\\xff"),
    (["-vpython-root"], "flag needs an argument: -vpython-root"),
    (["-help", "--vpython-spec"], "flag needs an argument: --vpython-spec"),
    (["-vpython-spec", "--", "x.py"], "flag needs an argument: -vpython-spec"),
    (["-vpython-log-level", "verbose"], "unknown logging level"),
    (["-vpython-log-level="], "unknown logging level"),
    (["-vpython-tool", "delete"], "unknown -vpython-tool command"),
    (["-vpython-tool=upgrade", "x.py"], "unknown -vpython-tool command"),
    (["-help=maybe"], "invalid boolean value 'maybe' for -help"),
]


@pytest.mark.parametrize("argv,message", ERRORS, ids=[ascii(" ".join(a)) for a, _ in ERRORS])
def test_errors(argv, message):
    with pytest.raises(UsageError) as e:
        split_flags(argv)
    assert message in str(e.value)
    assert e.value.exit_code == 2
    str(e.value).encode("utf-8")  # printable even for surrogate-escaped input


def test_unknown_flag_hints():
    with pytest.raises(UsageError) as e:
        split_flags(["-vpython-test"])
    assert "vpython -help" in e.value.hint
    with pytest.raises(UsageError) as e:
        split_flags(["--vpython-rot", "x"])
    assert "did you mean -vpython-root?" in e.value.hint


def test_does_not_mutate_input():
    argv = ["-vpython-root", "r", "x.py"]
    split_flags(argv)
    assert argv == ["-vpython-root", "r", "x.py"]


def test_defaults_and_eq():
    f = VPythonFlags()
    assert (f.root, f.spec, f.log_level, f.tool, f.interpreter, f.index_url) == (None,) * 6
    assert f.find_links == [] and f.offline is False and f.help is False
    assert VPythonFlags() == VPythonFlags()
    assert VPythonFlags(root="") != VPythonFlags()
    VPythonFlags().find_links.append("x")
    assert VPythonFlags().find_links == []  # no shared mutable default
    assert "root=None" in repr(f)


def test_help_text():
    text = format_help()
    assert text == USAGE
    for flag in ("-vpython-root", "-vpython-spec", "-vpython-log-level", "-vpython-tool",
                 "-vpython-interpreter", "-vpython-index-url", "-vpython-find-links",
                 "-vpython-offline", "-help"):
        assert flag in text
    for sub in ("lock", "build", "verify", "install", "gc", "cache"):
        assert f"vpython {sub} --help" in text
    assert all(len(line) <= 120 for line in text.splitlines())
