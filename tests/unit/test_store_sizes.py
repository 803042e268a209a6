"""vpython.store.sizes: sizes count inodes, not paths (envs hardlink the store)."""

from __future__ import annotations

import os

from vpython.store.sizes import FreedBytes, unique_size, walk_stats


def _tree(tmp_path):
    """store/f (100 bytes) hardlinked as env/f; env/own (10 bytes) only in env."""
    (tmp_path / "store").mkdir()
    (tmp_path / "env" / "sub").mkdir(parents=True)
    (tmp_path / "store" / "f").write_bytes(b"x" * 100)
    os.link(tmp_path / "store" / "f", tmp_path / "env" / "sub" / "f")
    (tmp_path / "env" / "own").write_bytes(b"y" * 10)
    return str(tmp_path / "store"), str(tmp_path / "env")


def test_walk_stats_lists_files_below_a_dir_or_the_file_itself(tmp_path):
    store, env = _tree(tmp_path)
    assert sorted(os.path.relpath(p, env) for p, _ in walk_stats(env)) == ["own", os.path.join("sub", "f")]
    ((path, st),) = walk_stats(os.path.join(env, "own"))
    assert path.endswith("own") and st.st_size == 10
    assert list(walk_stats(str(tmp_path / "missing"))) == []


def test_unique_size_counts_each_hardlinked_file_once(tmp_path):
    store, env = _tree(tmp_path)
    assert unique_size([store]) == 100
    assert unique_size([env]) == 110
    assert unique_size([store, env]) == 110  # not 210
    assert unique_size([]) == 0


def test_freed_bytes_counts_an_inode_only_when_all_its_links_go(tmp_path):
    store, env = _tree(tmp_path)
    freed = FreedBytes()
    freed.add(env)
    assert freed.total() == 10  # env/sub/f still has its store link
    freed.add(store)
    assert freed.total() == 110
