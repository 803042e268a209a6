"""`vpython lock` pieces without a resolver: the packaging floor, lockfile names,
directory targets, --check's fix command, pex's pins, uv's sdist-only message."""

from __future__ import annotations

import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# What vpython uses from packaging, and the release that added it. The floor declared
# in pyproject.toml must be at least the newest of these.
PACKAGING_API = {
    ("packaging.pylock", "Pylock.select"): "26.1",
    ("packaging.pylock", "PylockSelectError"): "26.1",
    ("packaging.tags", "create_compatible_tags_selector"): "26.1",
    ("packaging.pylock", "Pylock.from_dict"): "25.1",
}


def _declared_packaging():
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python < 3.11
        import tomli as tomllib
    from packaging.requirements import Requirement

    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        deps = tomllib.load(f)["project"]["dependencies"]
    (req,) = [Requirement(d) for d in deps if Requirement(d).name == "packaging"]
    return req


def test_declared_packaging_floor_has_every_api_the_code_uses():
    import importlib

    from packaging.version import Version

    import packaging

    req = _declared_packaging()
    floors = [Version(s.version) for s in req.specifier if s.operator in (">=", "~=", "==")]
    assert floors, f"pyproject.toml: {req} has no lower bound"
    floor = max(floors)
    needed = max(Version(v) for v in PACKAGING_API.values())
    assert floor >= needed, f"pyproject.toml declares {req} but the code needs packaging>={needed}"
    # The environment the tests run in satisfies the declaration and has the API.
    assert Version(packaging.__version__) in req.specifier
    for (module, attr), _ in PACKAGING_API.items():
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    # The table lists what the code calls (keeps it honest when the code changes).
    source = ""
    for d, _, files in os.walk(os.path.join(REPO, "vpython")):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(d, name), encoding="utf-8") as f:
                    source += f.read()
    for _, attr in PACKAGING_API:
        assert re.search(rf"\b{re.escape(attr.split('.')[-1])}\b", source), attr


@pytest.mark.parametrize("spec,inline,expected", [
    ("build.py", True, "pylock.build.toml"),
    ("build.linux.py", True, "pylock.build-linux.toml"),
    ("build.linux.py.vpython3", False, "pylock.build-linux.toml"),
    ("tool.py.vpython3", False, "pylock.tool.toml"),
    ("run", True, "pylock.run.toml"),
    ("v1.2.tool", True, "pylock.v1-2-tool.toml"),
    (".vpython3", False, "pylock.vpython.toml"),
    ("vpython.toml", False, "pylock.vpython.toml"),
])
def test_lockfile_names_keep_dotted_scripts_apart(spec, inline, expected):
    from vpython.spec.discover import lock_path_for

    got = lock_path_for(os.path.join("/p", spec), inline_script=inline)
    assert got == os.path.join("/p", expected)
    # PEP 751: pylock.<name>.toml with no dots in <name>.
    assert re.fullmatch(r"pylock\.[^.]+\.toml", os.path.basename(got))


def test_a_directory_without_main_is_discovered_from(tmp_path, monkeypatch):
    from vpython.cli.targets import discover_target

    proj = tmp_path / "p9"
    proj.mkdir()
    (proj / "vpython.toml").write_text('dependencies = ["puredep"]\n')
    monkeypatch.chdir(tmp_path)
    found = discover_target("p9")
    assert found.kind == "toml" and found.path == str(proj / "vpython.toml")
    assert found.lock_path == str(proj / "pylock.vpython.toml")
    # A sub-directory walks up to it, like a run started there.
    (proj / "sub").mkdir()
    assert discover_target(str(proj / "sub")).path == str(proj / "vpython.toml")
    # A runnable package directory is still a script.
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "__main__.py").write_text('# /// script\n# dependencies = ["puredep"]\n# ///\n')
    found = discover_target("app")
    assert found.kind == "pep723" and found.path == str(pkg / "__main__.py")


def test_check_fix_command_repeats_every_source_flag():
    from vpython.cli.cmd_lock import build_parser, fix_command

    ns = build_parser().parse_args([
        "tools/a b.py", "--platform", "win_amd64", "--python", "3.11",
        "--index-url", "https://user:tok@mirror.example/simple/", "--find-links", "wheels",
        "--find-links", "more", "--offline", "--engine", "pex", "--exclude-newer", "2026-01-31",
        "--interpreter", "/usr/bin/python3.11", "--check", "--log-level", "info",
    ])
    cmd = fix_command(ns)
    assert cmd == ("vpython lock 'tools/a b.py' --platform win_amd64 --python 3.11 "
                   "--index-url https://mirror.example/simple/ --find-links wheels --find-links more --offline "
                   "--engine pex --exclude-newer 2026-01-31 --interpreter /usr/bin/python3.11")
    assert "--check" not in cmd and "tok" not in cmd
    assert fix_command(build_parser().parse_args(["x.py", "--check"])) == "vpython lock x.py"


def test_pex_keeps_the_current_locks_pins_unless_upgrading():
    from vpython.lock.engine_pex import previous_pins

    text = ('lock-version = "1.0"\ncreated-by = "vpython"\n'
            '[[packages]]\nname = "PureDep"\nversion = "1.0"\n'
            '[[packages]]\nname = "fastpkg"\nversion = "1.0"\n'
            '[[packages]]\nname = "split"\nversion = "1.0"\nmarker = "sys_platform == \'win32\'"\n'
            '[[packages]]\nname = "split"\nversion = "2.0"\nmarker = "sys_platform != \'win32\'"\n')
    assert previous_pins(text) == {"fastpkg": "1.0", "puredep": "1.0"}
    assert previous_pins(text, upgrade_packages=["PureDep"]) == {"fastpkg": "1.0"}
    assert previous_pins(text, upgrade=True) == {}
    assert previous_pins(None) == {} and previous_pins("not [toml") == {}


def test_uv_sdist_only_hint_is_said_in_vpythons_words():
    from vpython.lock.engine_uv import resolution_error

    detail = ("error: No solution found when resolving dependencies\n"
              "  cause: Because srconly==1.0 has no usable wheels and you require srconly, we can conclude ...\n\n"
              "hint: Wheels are required for `srconly` because building from source is disabled for all "
              "packages (i.e., with `--no-build`)\n")
    e = resolution_error(detail, "tool.py")
    assert e.exit_code == 2
    # Only reached under --only-binary: otherwise the resolution is repeated with sdists allowed.
    assert "srconly has only an sdist" in e.message and "--only-binary" in e.message
    assert "--no-build" not in e.message and "--find-links" in e.hint and "drop --only-binary" in e.hint
    plain = resolution_error("error: no such package", "tool.py")
    assert plain.message == "cannot resolve the requirements for tool.py:\nerror: no such package"
