"""Python's own command-line grammar: parse, round trip, and agreement with CPython."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from vpython.cli.pyargv import PythonCommandLine, build_args, parse_python_argv
from vpython.errors import UsageError

PCL = PythonCommandLine
BAD = "\udcff"  # the byte 0xff as it appears in sys.argv on POSIX (surrogateescape)

# (id, argv, expected parse, expected build_args or None meaning "same as argv")
CASES = [
    ("empty-interactive", [], PCL([], "none", None, [], False), None),
    ("vvc", ["-vvc", "print(1)", "a"],
     PCL([("v", None), ("v", None)], "command", "print(1)", ["a"]),
     ["-v", "-v", "-c", "print(1)", "a"]),
    ("c-attached", ["-cprint(1)"], PCL([], "command", "print(1)"), ["-c", "print(1)"]),
    ("W-takes-dash-c", ["-W", "-c", "x.py"],
     PCL([("W", "-c")], "script", "x.py"), None),
    ("W-attached-then-m", ["-Wignore", "-m", "mod", "a", "b"],
     PCL([("W", "ignore")], "module", "mod", ["a", "b"]), ["-W", "ignore", "-m", "mod", "a", "b"]),
    ("separator-script-dash-c", ["--", "-c", "-foo"],
     PCL([], "script", "-c", ["-foo"], True), None),
    ("stdin-with-args", ["-", "a", "-b", "--"],
     PCL([], "stdin", "-", ["a", "-b", "--"]), None),
    ("X-importtime-m", ["-X", "importtime", "-m", "x"],
     PCL([("X", "importtime")], "module", "x"), None),
    ("OO-script", ["-OO", "script.py"],
     PCL([("O", None), ("O", None)], "script", "script.py"), ["-O", "-O", "script.py"]),
    ("I-S-c", ["-I", "-S", "-c", "pass"],
     PCL([("I", None), ("S", None)], "command", "pass"), None),
    ("script-args-look-like-flags", ["script.py", "-c", "x"],
     PCL([], "script", "script.py", ["-c", "x"]), None),
    ("check-hash-based-pycs", ["--check-hash-based-pycs", "always", "x.py"],
     PCL([("check-hash-based-pycs", "always")], "script", "x.py"), None),
    ("E-s-B-u", ["-E", "-s", "-B", "-u", "x.py"],
     PCL([("E", None), ("s", None), ("B", None), ("u", None)], "script", "x.py"), None),
    ("b-d-i-q-R", ["-b", "-d", "-i", "-q", "-R"],
     PCL([("b", None), ("d", None), ("i", None), ("q", None), ("R", None)]), None),
    ("P-m-pkg", ["-P", "-m", "pkg"], PCL([("P", None)], "module", "pkg"), None),
    ("version-long", ["--version"], PCL([("version", None)]), None),
    ("V", ["-V"], PCL([("V", None)]), None),
    ("VV", ["-VV"], PCL([("V", None), ("V", None)]), ["-V", "-V"]),
    ("i-with-script", ["-i", "s.py", "arg"], PCL([("i", None)], "script", "s.py", ["arg"]), None),
    ("u-stdin", ["-u", "-"], PCL([("u", None)], "stdin", "-"), None),
    ("Q-takes-value", ["-Qnew", "x.py"], PCL([("Q", "new")], "script", "x.py"), ["-Q", "new", "x.py"]),
    ("x-script", ["-x", "script"], PCL([("x", None)], "script", "script"), None),
    ("script-named-lock", ["lock", "--help"], PCL([], "script", "lock", ["--help"]), None),
    ("separator-lock", ["--", "lock"], PCL([], "script", "lock", [], True), None),
    ("non-utf8-script", [BAD + ".py", BAD], PCL([], "script", BAD + ".py", [BAD]), None),
    ("non-utf8-flag-letter", ["-" + BAD, "x.py"], PCL([(BAD, None)], "script", "x.py"), None),
    ("vOOWfoo", ["-vOOWfoo", "x.py"],
     PCL([("v", None), ("O", None), ("O", None), ("W", "foo")], "script", "x.py"),
     ["-v", "-O", "-O", "-W", "foo", "x.py"]),
    ("help-long", ["--help"], PCL([("help", None)]), None),
    ("question", ["-?"], PCL([("?", None)]), None),
    ("help-env", ["--help-env"], PCL([("help-env", None)]), None),
    ("help-xoptions-all", ["--help-xoptions", "--help-all"],
     PCL([("help-xoptions", None), ("help-all", None)]), None),
    ("c-value-is-double-dash", ["-c", "--", "x"], PCL([], "command", "--", ["x"]), None),
    ("c-then-separator-is-arg", ["-c", "pass", "--", "-v"], PCL([], "command", "pass", ["--", "-v"]), None),
    ("W-value-double-dash", ["-W", "--", "-c", "pass"], PCL([("W", "--")], "command", "pass"), None),
    ("separator-then-stdin", ["-v", "--", "-", "a"], PCL([("v", None)], "stdin", "-", ["a"], True), None),
    ("separator-interactive", ["-q", "--"], PCL([("q", None)], "none", None, [], True), None),
    ("long-option-mid-cluster", ["-q-check-hash-based-pycs", "never", "-c", "pass"],
     PCL([("q", None), ("check-hash-based-pycs", "never")], "command", "pass"),
     ["-q", "--check-hash-based-pycs", "never", "-c", "pass"]),
    ("cluster-ending-in-dash", ["-q-", "-c", "x"],
     PCL([("q", None)], "script", "-c", ["x"], True), ["-q", "--", "-c", "x"]),
    ("empty-script", ["", "a"], PCL([], "script", "", ["a"]), None),
    ("m-attached-after-flags", ["-Esmhttp.server", "8000"],
     PCL([("E", None), ("s", None)], "module", "http.server", ["8000"]),
     ["-E", "-s", "-m", "http.server", "8000"]),
    ("X-key-value", ["-Xdev", "-X", "utf8=0", "-c", "pass"],
     PCL([("X", "dev"), ("X", "utf8=0")], "command", "pass"),
     ["-X", "dev", "-X", "utf8=0", "-c", "pass"]),
    ("c-empty-command", ["-c", ""], PCL([], "command", ""), None),
]


@pytest.mark.parametrize("argv,expected,built", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_parse_and_round_trip(argv, expected, built):
    cl = parse_python_argv(argv)
    assert cl == expected
    out = build_args(cl)
    assert out == (argv if built is None else built)
    # The rebuilt argv parses to the same command line.
    assert parse_python_argv(out) == cl


ERRORS = [
    (["-m"], "Argument expected for the -m option"),
    (["-v", "-c"], "Argument expected for the -c option"),
    (["-vW"], "Argument expected for the -W option"),
    (["-X"], "Argument expected for the -X option"),
    (["--check-hash-based-pycs"], "Argument expected for the --check-hash-based-pycs option"),
    (["--check-hash-based-pycs", "sometimes", "x.py"], "must be one of"),
    (["--check-hash-based-pycs=always", "x.py"], "unknown option --check-hash-based-pycs=always"),
    (["--bogus"], "unknown option --bogus"),
    (["-q-help"], "unknown option -q-help"),
    (["-J"], "-J is reserved for Jython"),
    (["--" + BAD], "unknown option --\\xff"),
]


@pytest.mark.parametrize("argv,message", ERRORS, ids=[ascii(" ".join(a)) for a, _ in ERRORS])
def test_errors(argv, message):
    with pytest.raises(UsageError) as e:
        parse_python_argv(argv)
    assert message in e.value.message
    assert e.value.exit_code == 2 and e.value.hint  # what to write instead
    str(e.value).encode("utf-8")  # printable even for surrogate-escaped input


def test_bytes_args_are_fs_decoded():
    cl = parse_python_argv([b"-c", b"pass", b"\xff"])
    assert cl == PCL([], "command", "pass", [BAD])


def test_helpers():
    cl = parse_python_argv(["-IsvvOO", "-X", "importtime", "-Xa=b=c", "-Wignore", "-c", "pass"])
    assert cl.has_flag("I") and cl.has_flag("s") and not cl.has_flag("S") and not cl.has_flag("E")
    assert cl.flag_count("v") == 2 and cl.flag_count("O") == 2
    assert cl.xoptions() == {"importtime": True, "a": "b=c"}
    assert cl.flag_values("W") == ["ignore"]
    assert parse_python_argv(["--version"]).has_flag("V")
    assert parse_python_argv(["-?"]).has_flag("h")
    assert parse_python_argv(["--help"]).has_flag("h")
    assert not parse_python_argv(["--help-env"]).has_flag("h")

    copy = cl.copy()
    copy.add_single_flag("s")  # already there
    copy.add_single_flag("E")
    copy.add_single_flag("E")
    assert copy.flags[-1] == ("E", None) and copy.flag_count("E") == 1 and copy.flag_count("s") == 1
    assert not cl.has_flag("E")  # the copy is independent
    assert build_args(copy)[-3:] == ["-E", "-c", "pass"]


def test_build_protects_dash_script_without_separator():
    cl = PCL([("u", None)], "script", "-weird.py", ["a"])
    assert build_args(cl) == ["-u", "--", "-weird.py", "a"]
    assert parse_python_argv(build_args(cl)) == PCL([("u", None)], "script", "-weird.py", ["a"], True)


def test_repr_and_eq():
    a = PCL([("v", None)], "script", "x.py")
    assert a == PCL([("v", None)], "script", "x.py", [], False)
    assert a != PCL([("v", None)], "script", "x.py", [], True)
    assert "x.py" in repr(a)


# --- agreement with the real interpreter ------------------------------------------------

PRINT = ("import sys; print(repr(sys.argv), tuple(sys.flags), sys.warnoptions, "
         "sorted(sys._xoptions.items()))")
SCRIPT = "{script}"  # placeholder for a script file that runs PRINT

REAL = [
    ("vvc", ["-vvc", PRINT, "a", "-b"]),
    ("c-attached-flags", ["-OOBc" + PRINT, "x"]),
    ("W-takes-dash-c", ["-W", "-c", "-c", PRINT]),
    ("W-attached-m", ["-Wignore", "-m", "probe_mod", "a", "b"]),
    ("separator-dash-c-script", ["--", "-c", "-foo"]),
    ("stdin-args", ["-", "a", "-b"]),
    ("u-stdin", ["-u", "-"]),
    ("X-importtime-c", ["-X", "importtime", "-Xfrozen_modules=off", "-c", PRINT]),
    ("I-S-c", ["-I", "-S", "-c", PRINT]),
    ("script-args", [SCRIPT, "-c", "x"]),
    ("check-hash", ["--check-hash-based-pycs", "always", SCRIPT]),
    ("E-s-B-u", ["-E", "-s", "-B", "-u", SCRIPT, "--"]),
    ("b-d-q-R", ["-b", "-d", "-q", "-R", "-c", PRINT]),
    ("P-m", ["-P", "-m", "probe_mod"]),
    ("separator-stdin", ["-q", "--", "-", "z"]),
    ("cluster-long-option", ["-q-check-hash-based-pycs", "never", "-c", PRINT]),
    ("cluster-ending-in-dash", ["-q-", "-c", "y"]),
    ("non-utf8-arg", ["-c", PRINT, BAD, "b" + BAD]),
    ("x-script", ["-x", SCRIPT]),
    ("Wdefault-W-error", ["-Wdefault", "-W", "error::DeprecationWarning", "-c", PRINT]),
]


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("probe")
    (d / "probe.py").write_text("# skipped by -x\n" + PRINT + "\n")
    (d / "-c").write_text(PRINT + "\n")  # the script run by `python -- -c`
    (d / "probe_mod.py").write_text(PRINT + "\n")
    return d


def _run(argv, d):
    argv = [str(d / "probe.py") if a == SCRIPT else a for a in argv]
    env = dict(os.environ, PYTHONPATH=str(d))
    for k in ("PYTHONSTARTUP", "PYTHONWARNINGS", "PYTHONDEVMODE", "PYTHONOPTIMIZE",
              "PYTHONVERBOSE", "PYTHONINSPECT", "PYTHONUNBUFFERED", "PYTHONSAFEPATH"):
        env.pop(k, None)
    p = subprocess.run([sys.executable, *argv], cwd=str(d), env=env, input=PRINT.encode() + b"\n",
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
    return p.returncode, p.stdout


@pytest.mark.skipif(os.name != "posix", reason="argv bytes/surrogates differ on Windows")
@pytest.mark.skipif(sys.version_info < (3, 11), reason="-P needs 3.11")
@pytest.mark.parametrize("argv", [c[1] for c in REAL], ids=[c[0] for c in REAL])
def test_real_interpreter_agrees(argv, probe_dir):
    rebuilt = build_args(parse_python_argv(argv))
    original = _run(argv, probe_dir)
    assert original[0] == 0 and original[1].strip(), original  # the probe really ran
    assert _run(rebuilt, probe_dir) == original


@pytest.mark.skipif(os.name != "posix", reason="POSIX only")
@pytest.mark.parametrize("argv", [a for a, _ in ERRORS if a != ["--" + BAD]],
                         ids=[ascii(" ".join(a)) for a, _ in ERRORS if a != ["--" + BAD]])
def test_real_interpreter_refuses_what_we_refuse(argv, tmp_path):
    p = subprocess.run([sys.executable, *argv], cwd=str(tmp_path), stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    assert p.returncode == 2
