"""vpython.artifacts.venv_tree: the tree's skeleton, entry launchers and Windows layout."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import make_wheel
from vpython.artifacts import launcher, venv_tree, wheel_install
from vpython.lock.targets import parse_target

CP = f"cp{sys.version_info[0]}{sys.version_info[1]}"
LINUX = parse_target(f"{CP}-{CP}-manylinux_2_28_x86_64", [])[0]
WINDOWS = parse_target(f"{CP}-{CP}-win_amd64", [])[0]


# --------------------------------------------------------------------------- entry launchers

def _tree_with_console_script(tmp_path, target):
    wheel = make_wheel(tmp_path / "w", "tinycli", "1.0", entry_points={"console_scripts": {"tinycli": "tinycli:main"}})
    root = tmp_path / f"tree-{target.platform}"
    root.mkdir()
    venv_tree.skeleton(str(root), target)
    wheel_install.install_wheel(str(root), target, str(wheel), wheel.name)
    return root


@pytest.mark.parametrize("target", [LINUX, WINDOWS], ids=["linux", "windows"])
def test_entry_point_reuses_a_console_script_for_the_same_function(tmp_path, target):
    from vpython.artifacts.model import Entry
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
