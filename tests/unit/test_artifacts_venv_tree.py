"""vpython.artifacts.venv_tree and launcher: wheel installation checks and launcher texts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import make_wheel
from vpython.artifacts import launcher, venv_tree
from vpython.errors import IntegrityError
from vpython.lock.targets import parse_target

CP = f"cp{sys.version_info[0]}{sys.version_info[1]}"
LINUX = parse_target(f"{CP}-{CP}-manylinux_2_28_x86_64", [])[0]
WINDOWS = parse_target(f"{CP}-{CP}-win_amd64", [])[0]


def test_a_wheel_whose_record_lies_is_refused(tmp_path):
    wheel = make_wheel(tmp_path / "w", "liar", "1.0", corrupt_record=True)
    root = tmp_path / "tree"
    root.mkdir()
    with pytest.raises(IntegrityError, match="does not match its RECORD"):
        venv_tree.install_wheel(str(root), LINUX, str(wheel), wheel.name)


def test_schemes_and_data_scripts(tmp_path):
    wheel = make_wheel(tmp_path / "w", "withdata", "1.0",
                       data={"scripts": {"runme": "#!python\nimport sys\nprint('runme', sys.argv[1:])\n"},
                             "headers": {"h.h": "int x;\n"}},
                       entry_points={"console_scripts": {"wd": "withdata:main"}})
    for target, site, scripts in ((LINUX, f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages",
                                   "bin"), (WINDOWS, "Lib/site-packages", "Scripts")):
        root = tmp_path / target.platform
        root.mkdir()
        venv_tree.install_wheel(str(root), target, str(wheel), wheel.name)
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


def test_polyglot_launcher_is_valid_python_and_sh(tmp_path):
    text = launcher.entry_launcher("pkg.cli", "App.main")
    compile(text, "launcher", "exec")  # Python sees a string literal, then the entry code
    assert b"from pkg.cli import App" in text and b"sys.exit(App.main())" in text
    # sh: execs bin/python beside the (symlink-resolved) launcher with the launcher as script.
    bindir = tmp_path / "venv" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "python").write_text('#!/bin/sh\necho "python $*"\n')
    (bindir / "python").chmod(0o755)
    (bindir / "tool").write_bytes(text)
    (bindir / "tool").chmod(0o755)
    os.symlink(bindir / "tool", tmp_path / "link")
    out = subprocess.run([str(tmp_path / "link"), "a b", "c"], stdout=subprocess.PIPE, text=True, check=True).stdout
    assert out == f"python {bindir}/tool a b c\n"


def test_python_shim_names_the_version_and_is_relative():
    shim = launcher.python_shim((3, 12)).decode()
    assert shim.startswith("#!/bin/bash\n") and "python3.12" in shim and "VPYTHON_PYTHON" in shim
    assert 'exec -a "$bin/python" "$py" "$@"' in shim
    assert "/usr/bin/python" not in shim and "/.pyenv/" not in shim


def test_two_wheels_installing_one_file_are_refused_naming_both(tmp_path):
    from vpython.errors import UserError
    from vpython.lock.pylock import Artifact

    a = make_wheel(tmp_path / "w", "aa", "1.0", files={"shared/x.py": "a = 1\n", "aa/__init__.py": ""})
    b = make_wheel(tmp_path / "w", "bb", "1.0", files={"shared/x.py": "b = 1\n", "bb/__init__.py": ""})
    c = make_wheel(tmp_path / "w", "cc", "1.0", files={"shared/y.py": "c = 1\n"})  # same dir, other file: fine
    arts = [(Artifact(p.name.split("-")[0], "1.0", p.name, "0" * 64), str(p)) for p in (a, b, c)]
    venv_tree.check_clashes([arts[0], arts[2]])
    with pytest.raises(UserError, match=r"bb-1.0-py3-none-any.whl and aa-1.0-py3-none-any.whl both install shared/x.py"):
        venv_tree.check_clashes(arts)


# --------------------------------------------------------------------------- entry launchers

def _tree_with_console_script(tmp_path, target):
    wheel = make_wheel(tmp_path / "w", "tinycli", "1.0", entry_points={"console_scripts": {"tinycli": "tinycli:main"}})
    root = tmp_path / f"tree-{target.platform}"
    root.mkdir()
    venv_tree.skeleton(str(root), target)
    venv_tree.install_wheel(str(root), target, str(wheel), wheel.name)
    return root


@pytest.mark.parametrize("target", [LINUX, WINDOWS], ids=["linux", "windows"])
def test_entry_point_reuses_a_console_script_for_the_same_function(tmp_path, target):
    from vpython.cli.cmd_build import Entry
    from vpython.errors import UserError

    root = _tree_with_console_script(tmp_path, target)
    scripts = "Scripts" if target is WINDOWS else "bin"
    launcher_file = "tinycli.cmd" if target is WINDOWS else "tinycli"
    before = (root / scripts / launcher_file).read_bytes()
    rel = venv_tree.add_entry(str(root), target, Entry("tinycli", module="tinycli", attr="main"))
    assert rel == f"{scripts}/{launcher_file}"
    assert (root / scripts / launcher_file).read_bytes() == before
    # Same name, another function: a clear error that says what to pass.
    with pytest.raises(UserError) as e:
        venv_tree.add_entry(str(root), target, Entry("tinycli", module="tinycli", attr="other"))
    assert f"clashes with {scripts}/{launcher_file}" in str(e.value) and "--entry-name" in str(e.value)
    assert (root / scripts / launcher_file).read_bytes() == before  # not overwritten (Windows used to be)
    with pytest.raises(UserError, match="--entry-name"):
        venv_tree.add_entry(str(root), target, Entry("python", module="tinycli", attr="main"))
    assert venv_tree.add_entry(str(root), target, Entry("cli", module="tinycli", attr="other")).startswith(scripts)


# --------------------------------------------------------------------------- Windows trees

def test_windows_launchers_make_site_packages_a_site_dir(tmp_path):
    """The .cmd launchers' PYTHONPATH starts with Lib\\vpython-boot, whose sitecustomize
    processes site-packages' .pth files (run here with this Python on the same layout)."""
    root = _tree_with_console_script(tmp_path, WINDOWS)
    cmd = (root / "Scripts" / "tinycli.cmd").read_bytes().decode()
    assert 'set "PYTHONPATH=%~dp0..\\Lib\\vpython-boot;%~dp0..\\Lib\\site-packages;%PYTHONPATH%"\r\n' in cmd
    assert (root / "Scripts" / "python.cmd").read_bytes().decode().count("Lib\\vpython-boot") == 1
    boot = root / "Lib" / "vpython-boot" / "sitecustomize.py"
    assert boot.read_text() == launcher.WINDOWS_SITECUSTOMIZE
    site = root / "Lib" / "site-packages"
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "from_pth.py").write_text("VALUE = 'pth processed'\n")
    (site / "extra.pth").write_text(str(tmp_path / "extra") + "\n")
    other = tmp_path / "other-site"
    other.mkdir()
    (other / "sitecustomize.py").write_text("import builtins; builtins.CHAINED = True\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = os.pathsep.join([str(root / "Lib" / "vpython-boot"), str(site), str(other)])
    code = "import sys, builtins, from_pth, tinycli; print(from_pth.VALUE, getattr(builtins, 'CHAINED', False))"
    out = subprocess.run([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "pth processed True"


def test_windows_data_scripts_get_a_cmd_wrapper_listed_in_record(tmp_path):
    wheel = make_wheel(tmp_path / "w", "withdata", "1.0",
                       data={"scripts": {"runme": "#!python\nprint('runme')\n", "tool.py": "#!python\nprint(1)\n",
                                         "own": "#!python\nprint(2)\n", "own.cmd": "@echo own\r\n",
                                         "plain.sh": "#!/bin/sh\necho\n"}},
                       entry_points={"console_scripts": {"wd": "withdata:main"}})
    root = tmp_path / "tree"
    root.mkdir()
    venv_tree.install_wheel(str(root), WINDOWS, str(wheel), wheel.name)
    scripts = root / "Scripts"
    assert (scripts / "runme").read_text().startswith("#!python\n")
    assert (scripts / "runme.cmd").read_bytes() == launcher.windows_entry(WINDOWS.python, "runme")
    assert (scripts / "tool.cmd").read_bytes() == launcher.windows_entry(WINDOWS.python, "tool.py")
    assert (scripts / "own.cmd").read_bytes() == b"@echo own\r\n"  # the wheel's own wrapper is kept
    assert not (scripts / "plain.sh.cmd").exists() and not (scripts / "plain.cmd").exists()
    record = (root / "Lib" / "site-packages" / "withdata-1.0.dist-info" / "RECORD").read_text().splitlines()
    for name in ("runme.cmd", "tool.cmd", "wd.cmd", "wd-script.py", "own.cmd"):
        assert any(line.startswith(f"../../Scripts/{name},sha256=") for line in record), name
