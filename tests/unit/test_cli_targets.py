"""vpython.cli.targets: a subcommand's options become the runner's flags record, and a
SCRIPT_OR_SPEC argument becomes a discovered spec."""

from __future__ import annotations

import importlib

import pytest

from vpython.cli.flags import VPythonFlags, split_flags
from vpython.cli.targets import discover_target, flags_from_namespace
from vpython.errors import UserError

SOURCES = ["--root", "/r", "--index-url", "https://i/simple", "--find-links", "a", "--find-links", "b",
           "--offline", "--interpreter", "/usr/bin/python3", "--log-level", "info"]


@pytest.mark.parametrize("command", ["lock", "build", "verify", "install"])
def test_every_subcommand_hands_down_the_runners_record(command):
    """The same sources given as runner flags and as subcommand options give equal records."""
    module = importlib.import_module(f"vpython.cli.cmd_{command}")
    if hasattr(module, "build_parser"):
        p = module.build_parser()
    else:  # verify / install build their parser inside main(): rebuild it the same way
        from vpython.cli.commands import add_common, parser

        p = parser(command, "")
        p.add_argument("target", nargs="?")
        add_common(p)
    extra = ["-o", "out"] if command == "build" else []
    ns = p.parse_args(["script.py", *extra, *SOURCES])
    got = flags_from_namespace(ns)
    assert isinstance(got, VPythonFlags)
    runner, _ = split_flags(["-vpython-root", "/r", "-vpython-index-url", "https://i/simple",
                             "-vpython-find-links", "a", "-vpython-find-links", "b", "-vpython-offline",
                             "-vpython-interpreter", "/usr/bin/python3", "-vpython-log-level", "info",
                             "script.py"])
    assert got == runner


def test_exclude_newer_is_set_at_construction():
    from vpython.cli.cmd_lock import build_parser

    ns = build_parser().parse_args(["s.py", "--exclude-newer", "2024-01-01"])
    assert flags_from_namespace(ns).exclude_newer is None  # only when the caller passes it
    assert flags_from_namespace(ns, exclude_newer="2024-01-01").exclude_newer == "2024-01-01"


def test_a_missing_target_names_the_path_in_the_error(tmp_path):
    with pytest.raises(UserError) as e:
        discover_target(str(tmp_path / "nope.py"))
    assert e.value.path == str(tmp_path / "nope.py") and e.value.hint
    assert str(e.value).startswith(f"{tmp_path / 'nope.py'}: no such file or directory")


def test_a_spec_file_is_used_as_is(tmp_path):
    spec = tmp_path / "tool.vpython3"
    spec.write_text('python_version: "3.11"\n')
    found = discover_target(str(spec))
    assert found.path == str(spec) and found.origin == f"spec file {spec}"
