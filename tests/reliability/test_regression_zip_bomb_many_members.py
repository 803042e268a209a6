"""Regression: a zip bomb split into many members passed check_archive.

Found by test_tamper.py: the per-member ratio check only looks at members above 16 MiB
and the size cap is 4 GiB, so 48 members of 15 MiB of zeros (0.7 MB of wheel, 720 MiB
unpacked) were installed into the store. check_archive now also bounds the whole
archive's ratio once it unpacks to more than 64 MiB.
"""

from __future__ import annotations

import pytest

from tests.reliability import kit
from tests.reliability.test_tamper import _many_member_bomb

pytestmark = pytest.mark.reliability


def test_many_member_bomb_is_refused_before_unpacking(tmp_path):
    from vpython.errors import IntegrityError
    from vpython.store.packages import check_archive

    bomb = _many_member_bomb(tmp_path)
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(IntegrityError) as e:
        check_archive(str(bomb), bomb.name)
    assert bomb.name in str(e.value) and "zip bomb" in str(e.value)
    assert "VPYTHON_MAX_WHEEL_RATIO" in str(e.value)


def test_large_incompressible_wheel_still_passes(tmp_path):
    """The whole-archive bound must not refuse big real wheels (here 80 MiB of random
    payload, ratio ~1:1) nor small compressible ones."""
    from vpython.store.packages import check_archive

    big = kit.make_big_wheel(tmp_path, "bigreal", "1.0", 80)
    check_archive(str(big), big.name)
    small = kit.make_wheel(tmp_path, "textual", "1.0", files={"textual/a.txt": "a" * (8 << 20)})
    check_archive(str(small), small.name)  # 8 MiB at ~1000:1 is below the 64 MiB floor
