"""vpython.artifacts.launcher: the launcher texts a tree ships."""

from __future__ import annotations

import os
import subprocess
import sys

from vpython.artifacts import launcher
from vpython.lock.targets import parse_target

CP = f"cp{sys.version_info[0]}{sys.version_info[1]}"
LINUX = parse_target(f"{CP}-{CP}-manylinux_2_28_x86_64", [])[0]
WINDOWS = parse_target(f"{CP}-{CP}-win_amd64", [])[0]


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
