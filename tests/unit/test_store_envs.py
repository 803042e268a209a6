"""vpython.store.envs: listing envs, their last use and metadata, and deleting one
only when nobody holds it."""

from __future__ import annotations

import fcntl
import json
import os

from vpython.store.envs import (
    ENV_META,
    TRASH_PREFIX,
    delete_env,
    empty_trash,
    env_is_held,
    env_last_use,
    list_envs,
    read_env_meta,
    try_exclusive,
)
from vpython.store.root import Layout


def _env(layout: Layout, key: str, meta: dict | None = None, age: float | None = None) -> str:
    d = layout.env_dir(key)
    os.makedirs(os.path.join(d, "bin"))
    open(os.path.join(d, "pyvenv.cfg"), "w").close()
    if meta is not None:
        with open(os.path.join(d, ENV_META), "w") as f:
            json.dump(meta, f)
    open(layout.env_lock(key), "a").close()
    if age is not None:
        t = os.stat(layout.env_lock(key)).st_mtime - age
        os.utime(layout.env_lock(key), (t, t))
    return d


def _hold_shared(path: str) -> int:
    """What a running script does: a shared flock on the env's use lock."""
    fd = os.open(path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def test_list_envs_lists_env_dirs_only(tmp_path):
    layout = Layout(str(tmp_path))
    _env(layout, "b")
    _env(layout, "a")
    os.makedirs(os.path.join(layout.envs, ".tmp-c-123"))  # a build's work dir
    open(os.path.join(layout.envs, ".a.build.lock"), "w").close()
    open(os.path.join(layout.envs, "stray"), "w").close()  # a file, not an env
    assert list_envs(layout) == ["a", "b"]
    assert list_envs(Layout(str(tmp_path / "empty"))) == []


def test_last_use_is_the_lock_mtime_then_the_dir_mtime(tmp_path):
    layout = Layout(str(tmp_path))
    _env(layout, "k", age=3600)
    assert abs(env_last_use(layout, "k") - os.stat(layout.env_lock("k")).st_mtime) < 1e-6
    os.unlink(layout.env_lock("k"))
    assert env_last_use(layout, "k") == os.stat(layout.env_dir("k")).st_mtime
    assert env_last_use(layout, "gone") == 0.0


def test_env_meta_is_empty_when_missing_or_broken(tmp_path):
    layout = Layout(str(tmp_path))
    _env(layout, "good", meta={"entries": ["e1"], "packages": ["a==1"]})
    _env(layout, "none")
    _env(layout, "list", meta=[1, 2])
    os.makedirs(layout.env_dir("bad"))
    with open(os.path.join(layout.env_dir("bad"), ENV_META), "w") as f:
        f.write("{not json")
    assert read_env_meta(layout, "good")["entries"] == ["e1"]
    assert (
        read_env_meta(layout, "none") == read_env_meta(layout, "list") == read_env_meta(layout, "bad") == {}
    )


def test_a_held_env_is_neither_deleted_nor_reported_free(tmp_path):
    layout = Layout(str(tmp_path))
    env_dir = _env(layout, "k")
    fd = _hold_shared(layout.env_lock("k"))
    try:
        assert env_is_held(layout, "k")
        assert try_exclusive(layout.env_lock("k")) is None
        assert not delete_env(layout, "k")
        assert os.path.isfile(os.path.join(env_dir, "pyvenv.cfg"))
    finally:
        os.close(fd)
    assert not env_is_held(layout, "k")
    assert not env_is_held(layout, "never-run")  # no lock file: nobody ever ran it


def test_delete_env_removes_the_env_and_its_lock_after_the_before_hook(tmp_path):
    layout = Layout(str(tmp_path))
    env_dir = _env(layout, "k")
    seen = []
    assert delete_env(layout, "k", before=lambda path: seen.append(os.path.isdir(path) and path))
    assert seen == [env_dir]  # called under the lock, before anything went
    assert not os.path.exists(env_dir) and not os.path.exists(layout.env_lock("k"))
    assert [n for n in os.listdir(layout.tmp)] == []  # discarded through tmp, nothing left


def test_deferred_delete_renames_into_trash_and_empty_trash_deletes_it(tmp_path):
    layout = Layout(str(tmp_path))
    env_dir = _env(layout, "k")
    assert delete_env(layout, "k", defer=True)
    assert not os.path.exists(env_dir)
    (trash,) = os.listdir(layout.tmp)
    assert trash.startswith(TRASH_PREFIX)
    assert os.path.isfile(os.path.join(layout.tmp, trash, "x", "pyvenv.cfg"))  # the whole env, moved
    assert empty_trash(layout) == [trash]
    assert os.listdir(layout.tmp) == []
