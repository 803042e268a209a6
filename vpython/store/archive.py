"""Archive checks made before any member of a wheel is written.

No absolute or ``..`` member names, no symlink members, and a cap on what the archive
unpacks to, per member and in total (zip bombs). Used for store entries
(vpython.store.unpack) and for artifacts (vpython.artifacts.wheel_install).
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from vpython.errors import IntegrityError

if TYPE_CHECKING:
    import zipfile

MAX_UNPACKED = int(os.environ.get("VPYTHON_MAX_WHEEL_UNPACKED_BYTES", str(4 << 30)))
MAX_RATIO = 1000  # compressed:uncompressed above this on a large member is a bomb
# The whole archive, once it unpacks to more than TOTAL_RATIO_FLOOR: many members, each
# too small for the per-member check, add up to a bomb (48 x 15 MiB of zeros in 0.7 MB;
# tests/reliability/test_regression_zip_bomb_many_members.py). Real wheels compress
# 2-10:1.
MAX_TOTAL_RATIO = int(os.environ.get("VPYTHON_MAX_WHEEL_RATIO", "200"))
TOTAL_RATIO_FLOOR = 64 << 20


BAD_WHEEL_HINT = "the wheel is malformed or was tampered with; nothing was installed from it"
_BOMB_HINT = "nothing was installed from it; if the wheel is genuine, raise {}"


def check_archive(path: str, display: str) -> None:
    """Refuse archives that could write outside their target or exhaust the disk.
    Errors name the wheel as ``display`` (its file name) in their ``path``."""
    import zipfile

    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise IntegrityError(
            f"not a valid wheel (zip) file: {e}", path=display, hint=BAD_WHEEL_HINT
        ) from None
    total = compressed = 0
    with zf:
        for info in zf.infolist():
            compressed += info.compress_size
            total += info.file_size
            _check_member(info, display, total)
    if total > TOTAL_RATIO_FLOOR and total > MAX_TOTAL_RATIO * max(compressed, 1):
        raise IntegrityError(
            f"unpacks to {total} bytes from {compressed}, a ratio above {MAX_TOTAL_RATIO}:1; "
            f"refusing (zip bomb?)",
            path=display,
            hint=_BOMB_HINT.format("VPYTHON_MAX_WHEEL_RATIO"),
        )


def _check_member(info: zipfile.ZipInfo, display: str, total: int) -> None:
    """One archive member: a safe name, not a symlink, and (with ``total``, the unpacked
    size so far) not part of a bomb."""
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise IntegrityError(
            f"refusing member {name!r}: absolute path or '..' escapes the install dir",
            path=display,
            hint=BAD_WHEEL_HINT,
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise IntegrityError(
            f"refusing member {name!r}: symbolic links are not allowed in wheels",
            path=display,
            hint=BAD_WHEEL_HINT,
        )
    if total > MAX_UNPACKED:
        raise IntegrityError(
            f"unpacks to more than {MAX_UNPACKED} bytes; refusing (zip bomb?)",
            path=display,
            hint=_BOMB_HINT.format("VPYTHON_MAX_WHEEL_UNPACKED_BYTES"),
        )
    if info.file_size > (16 << 20) and info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
        raise IntegrityError(
            f"member {name!r} has a compression ratio above {MAX_RATIO}:1; refusing (zip bomb?)",
            path=display,
            hint=BAD_WHEEL_HINT,
        )
