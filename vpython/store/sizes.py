"""How much disk the cache uses and what deleting part of it frees.

Envs are mostly hardlinks into the package store, so sizes count inodes, not paths:
``unique_size`` counts each inode once, and ``FreedBytes`` counts an inode only once all
of its links are among the paths being deleted.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator


def walk_stats(path: str) -> Iterator[tuple[str, os.stat_result]]:
    """``(file path, lstat)`` for ``path`` itself if it is not a directory (a spec pointer,
    a cached lock), else for every file below it; files that vanish are skipped."""
    try:
        if not os.path.isdir(path) or os.path.islink(path):
            yield path, os.lstat(path)
            return
    except OSError:
        return
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            p = os.path.join(dirpath, name)
            try:
                yield p, os.lstat(p)
            except OSError:
                continue


def unique_size(paths: Iterable[str]) -> int:
    """Bytes on disk below ``paths``, counting each inode once (envs hardlink the store)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for path in paths:
        for _, st in walk_stats(path):
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


class FreedBytes:
    """What deleting a set of paths frees: an inode counts only once every one of its
    links is inside the set (an env's files are mostly hardlinks into the store, so
    deleting the env alone frees only its own few files)."""

    def __init__(self) -> None:
        # (dev, ino) -> [links seen, st_nlink, size]
        self._inodes: dict[tuple[int, int], list[int]] = {}

    def add(self, path: str) -> None:
        """Count ``path`` (a file, or every file below a directory) as deleted."""
        for _, st in walk_stats(path):
            rec = self._inodes.setdefault((st.st_dev, st.st_ino), [0, st.st_nlink, st.st_size])
            rec[0] += 1

    def total(self) -> int:
        return sum(size for seen, nlink, size in self._inodes.values() if seen >= nlink)
