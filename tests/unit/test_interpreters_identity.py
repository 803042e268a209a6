"""vpython.interpreters.identity: the keys that notice a rebuilt or replaced binary."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from vpython.interpreters.identity import interpreter_id, probe_identity


def test_probe_identity_is_real_path_size_and_mtime(tmp_path):
    binary = tmp_path / "python3.99"
    binary.write_bytes(b"\x7fELF not really")
    link = tmp_path / "python3"
    link.symlink_to(binary)
    st = os.stat(binary)
    assert probe_identity(str(link)) == (str(binary.resolve()), st.st_size, st.st_mtime_ns)


def test_interpreter_id_changes_when_the_binary_is_replaced(tmp_path):
    binary = tmp_path / "python3"
    binary.write_bytes(b"one")
    before = interpreter_id(str(binary))
    assert interpreter_id(str(binary)) == before
    replacement = tmp_path / "new"
    replacement.write_bytes(b"one")  # same size; a new inode and mtime
    os.utime(replacement, ns=(1, 1))
    os.replace(replacement, binary)
    assert interpreter_id(str(binary)) != before


def test_missing_binary_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        interpreter_id(str(tmp_path / "gone"))
    with pytest.raises(OSError):
        probe_identity(str(tmp_path / "gone"))


def test_identity_is_stdlib_only():
    """env/fastpath (the warm path) imports it: it must not pull in the rest of the package."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import vpython.interpreters.identity; "
        "import json; print(json.dumps(sorted(m for m in sys.modules if m.startswith('vpython'))))"
    )
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-S", "-c", code, repo], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [
        "vpython",
        "vpython.fs",
        "vpython.interpreters",
        "vpython.interpreters.identity",
    ]
