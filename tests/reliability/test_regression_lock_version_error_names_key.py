"""Regression: an unsupported ``lock-version`` error did not name the key.

Found by test_hostile_specs.py::test_lockfile_parser (a valid lock with its version
edited to "0"): every other lockfile error says where (``line X, column Y`` or ``key
…``), this one only said "pylock version 0 is not supported".
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.reliability


@pytest.mark.parametrize("version", ["0", "2.0", "99"])
def test_unsupported_lock_version_names_the_key(version):
    from vpython.errors import LockError
    from vpython.lock.pylock import parse_lock_text

    with pytest.raises(LockError) as e:
        parse_lock_text(f'lock-version = "{version}"\ncreated-by = "x"\npackages = []\n', "/w/pylock.toml")
    assert e.value.exit_code == 2
    assert (e.value.path, e.value.key) == ("/w/pylock.toml", "lock-version")
    assert str(e.value).startswith("/w/pylock.toml: lock-version: "), str(e.value)
    assert e.value.hint
