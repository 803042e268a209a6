"""vpython.artifacts.wheel_install: wheels unpacked under the target's scheme, checked
against RECORD, with relocatable launchers."""

from __future__ import annotations

import sys

import pytest

from tests.support import make_wheel
from vpython.artifacts import launcher, wheel_install
from vpython.errors import IntegrityError
from vpython.lock.targets import parse_target

CP = f"cp{sys.version_info[0]}{sys.version_info[1]}"
LINUX = parse_target(f"{CP}-{CP}-manylinux_2_28_x86_64", [])[0]
WINDOWS = parse_target(f"{CP}-{CP}-win_amd64", [])[0]


def test_a_wheel_whose_record_lies_is_installed_with_one_warning(tmp_path, capsys):
    # As the store does (vpython.store.unpack): the wheel's bytes are the locked sha256.
    wheel = make_wheel(tmp_path / "w", "liar", "1.0", corrupt_record=True)
    root = tmp_path / "tree"
    root.mkdir()
    wheel_install.install_wheel(str(root), LINUX, str(wheel), wheel.name)
    err = capsys.readouterr().err
    assert err.count("RECORD does not match") == 1 and wheel.name in err


def test_a_wheel_that_escapes_its_tree_is_refused(tmp_path):
    from tests.support.wheels import make_evil_wheel

    wheel = make_evil_wheel(tmp_path / "w", "dotdot")
    root = tmp_path / "tree"
    root.mkdir()
    with pytest.raises(IntegrityError, match="escapes"):
        wheel_install.install_wheel(str(root), LINUX, str(wheel), wheel.name)


def test_schemes_and_data_scripts(tmp_path):
    wheel = make_wheel(tmp_path / "w", "withdata", "1.0",
                       data={"scripts": {"runme": "#!python\nimport sys\nprint('runme', sys.argv[1:])\n"},
                             "headers": {"h.h": "int x;\n"}},
                       entry_points={"console_scripts": {"wd": "withdata:main"}})
    for target, site, scripts in ((LINUX, f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages",
                                   "bin"), (WINDOWS, "Lib/site-packages", "Scripts")):
        root = tmp_path / target.platform
        root.mkdir()
        wheel_install.install_wheel(str(root), target, str(wheel), wheel.name)
        assert (root / site / "withdata" / "__init__.py").is_file()
        assert (root / site / "withdata-1.0.dist-info" / "INSTALLER").read_text() == "vpython\n"
        record = (root / site / "withdata-1.0.dist-info" / "RECORD").read_text()
        data = (root / scripts / "runme").read_bytes()
        if target is LINUX:
            assert data.startswith(b"#!/bin/sh\n'''") and b"print('runme'" in data
            assert (root / "bin" / "wd").read_bytes().startswith(b"#!/bin/sh\n")
            assert "../../../bin/wd," in record and "../../../bin/runme," in record
        else:
            assert (root / "Scripts" / "wd.cmd").is_file() and (root / "Scripts" / "wd-script.py").is_file()
        assert str(tmp_path) not in record


def test_two_wheels_installing_one_file_are_refused_naming_both(tmp_path):
    from vpython.errors import UserError
    from vpython.lock.pylock import Artifact

    a = make_wheel(tmp_path / "w", "aa", "1.0", files={"shared/x.py": "a = 1\n", "aa/__init__.py": ""})
    b = make_wheel(tmp_path / "w", "bb", "1.0", files={"shared/x.py": "b = 1\n", "bb/__init__.py": ""})
    c = make_wheel(tmp_path / "w", "cc", "1.0", files={"shared/y.py": "c = 1\n"})  # same dir, other file: fine
    arts = [(Artifact(p.name.split("-")[0], "1.0", p.name, "0" * 64), str(p)) for p in (a, b, c)]
    wheel_install.check_clashes([arts[0], arts[2]])
    with pytest.raises(UserError, match=r"bb-1.0-py3-none-any.whl and aa-1.0-py3-none-any.whl both install shared/x.py"):
        wheel_install.check_clashes(arts)


def test_windows_data_scripts_get_a_cmd_wrapper_listed_in_record(tmp_path):
    wheel = make_wheel(tmp_path / "w", "withdata", "1.0",
                       data={"scripts": {"runme": "#!python\nprint('runme')\n", "tool.py": "#!python\nprint(1)\n",
                                         "own": "#!python\nprint(2)\n", "own.cmd": "@echo own\r\n",
                                         "plain.sh": "#!/bin/sh\necho\n"}},
                       entry_points={"console_scripts": {"wd": "withdata:main"}})
    root = tmp_path / "tree"
    root.mkdir()
    wheel_install.install_wheel(str(root), WINDOWS, str(wheel), wheel.name)
    scripts = root / "Scripts"
    assert (scripts / "runme").read_text().startswith("#!python\n")
    assert (scripts / "runme.cmd").read_bytes() == launcher.windows_entry(WINDOWS.python, "runme")
    assert (scripts / "tool.cmd").read_bytes() == launcher.windows_entry(WINDOWS.python, "tool.py")
    assert (scripts / "own.cmd").read_bytes() == b"@echo own\r\n"  # the wheel's own wrapper is kept
    assert not (scripts / "plain.sh.cmd").exists() and not (scripts / "plain.cmd").exists()
    record = (root / "Lib" / "site-packages" / "withdata-1.0.dist-info" / "RECORD").read_text().splitlines()
    for name in ("runme.cmd", "tool.cmd", "wd.cmd", "wd-script.py", "own.cmd"):
        assert any(line.startswith(f"../../Scripts/{name},sha256=") for line in record), name
