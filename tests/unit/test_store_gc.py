"""vpython.store.gc: the env phase and each store sweep, on a prepared cache root."""

from __future__ import annotations

import fcntl
import json
import os
import time

import pytest

from vpython import fs
from vpython.store import gc
from vpython.store.locks import flocked, store_lock_path
from vpython.store.root import Layout
from vpython.store.sizes import FreedBytes

DAY = 86400
WEEK = 7 * DAY


def _age(path: str, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def _touch(path: str, data: str = "", age: float = 0) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(data)
    if age:
        _age(path, age)
    return path


def _env(layout: Layout, key: str, *, entries, shas, skeleton, age: float = 0) -> None:
    d = layout.env_dir(key)
    _touch(os.path.join(d, "pyvenv.cfg"))
    meta = {"entries": entries, "wheels": {f"{s}.whl": s for s in shas}}
    if skeleton:
        meta["skeleton"] = skeleton
    _touch(os.path.join(d, ".vpython-env.json"), json.dumps(meta))
    _touch(layout.env_lock(key), age=age)


def _skeleton(layout: Layout, name: str, interpreter: str, ident: str) -> None:
    d = os.path.join(layout.skeletons, name)
    _touch(os.path.join(d, "pyvenv.cfg"))
    _touch(
        os.path.join(d, gc.SKELETON_META), json.dumps({"interpreter": interpreter, "interpreter_id": ident})
    )


@pytest.fixture
def root(tmp_path):
    """A cache with a live env and an old one, and something of every kind for each sweep."""
    layout = Layout(str(tmp_path / "root"))
    python = _touch(str(tmp_path / "python3"), "#!binary")
    _env(layout, "live", entries=["e-live"], shas=["s-live"], skeleton="sk-live")
    _env(layout, "old", entries=["e-old"], shas=["s-old"], skeleton="sk-old", age=30 * DAY)
    for name in ("e-live", "e-old", "e-orphan"):
        _touch(os.path.join(layout.packages, name, "lib", "m.py"), "x = 1\n")
    for sha in ("s-live", "s-old", "s-orphan"):
        _touch(os.path.join(layout.wheels, sha, f"{sha}.whl"), "zip")
    _touch(layout.spec_pointer("p-live"), "env=live\ninterpreter=x\ninterpreter_id=y\n")
    _touch(layout.spec_pointer("p-old"), "env=old\ninterpreter=x\ninterpreter_id=y\n")
    _touch(layout.spec_pointer("p-none"), "garbage\n")
    _skeleton(layout, "sk-live", python, fs.file_identity(python))
    _skeleton(layout, "sk-old", python, fs.file_identity(python))
    _skeleton(layout, "sk-unused", python, fs.file_identity(python))
    return layout


def _sweep(layout: Layout, *, older_than: float = WEEK, dry_run: bool = False, deleted=()) -> gc.Sweep:
    report = gc.GcReport(envs_deleted=list(deleted))
    return gc.Sweep(layout, report, FreedBytes(), time.time(), older_than, dry_run)


def test_env_phase_deletes_old_envs_and_keeps_held_ones(root):
    _env(root, "held", entries=[], shas=[], skeleton="sk-live", age=30 * DAY)
    fd = os.open(root.env_lock("held"), os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_SH)  # a running script
    try:
        report, freed = gc.GcReport(), FreedBytes()
        gc._collect_envs(root, WEEK, False, time.time(), report, freed)
    finally:
        os.close(fd)
    assert (report.envs_deleted, report.envs_held, report.envs_kept) == (["old"], ["held"], ["live"])
    assert not os.path.exists(root.env_dir("old")) and os.path.isdir(root.env_dir("held"))
    assert freed.total() > 0  # the old env's own files (not linked anywhere else)


def test_dry_env_phase_deletes_nothing(root):
    report = gc.GcReport()
    gc._collect_envs(root, WEEK, True, time.time(), report, FreedBytes())
    assert report.envs_deleted == ["old"] and os.path.isdir(root.env_dir("old"))


def test_sweep_state_is_what_the_remaining_envs_use(root):
    s = _sweep(root)
    assert s.remaining == {"live", "old"}  # nothing deleted yet in this prepared root
    assert (s.entries, s.shas, s.skeletons, s.legacy_envs) == (
        {"e-live", "e-old"},
        {"s-live", "s-old"},
        {"sk-live", "sk-old"},
        False,
    )
    assert _sweep(root, dry_run=True, deleted=["old"]).remaining == {"live"}  # a dry run's "deleted"


def test_sweep_pointers_keeps_pointers_to_remaining_envs(root):
    fs.remove_tree(root.env_dir("old"))
    s = _sweep(root)
    gc.sweep_pointers(s)
    assert sorted(s.report.pointers_deleted) == ["p-none", "p-old"]
    assert s.live_pointers == {"p-live"}
    assert os.listdir(root.specs) == ["p-live"]


def test_sweep_packages_and_wheels_keep_what_envs_use(root):
    s = _sweep(root)
    gc.sweep_packages(s)
    gc.sweep_wheels(s)
    assert s.report.packages_deleted == ["e-orphan"] and s.report.wheels_deleted == ["s-orphan"]
    assert sorted(os.listdir(root.packages)) == ["e-live", "e-old"]
    assert sorted(os.listdir(root.wheels)) == ["s-live", "s-old"]
    assert s.freed.total() > 0


def test_sweep_skeletons_drops_unused_and_stale_templates(root, tmp_path):
    other = _touch(str(tmp_path / "python-gone"))
    _skeleton(root, "sk-old", other, "1:2:3")  # used, but its interpreter was replaced
    s = _sweep(root)
    gc.sweep_skeletons(s)
    assert sorted(s.report.skeletons_deleted) == ["sk-old", "sk-unused"]
    assert os.listdir(root.skeletons) == ["sk-live"]


def test_sweep_skeletons_keeps_metaless_templates_while_legacy_envs_exist(root):
    _env(root, "legacy", entries=[], shas=[], skeleton=None)
    os.makedirs(os.path.join(root.skeletons, "sk-premeta"))
    s = _sweep(root)
    assert s.legacy_envs
    gc.sweep_skeletons(s)
    assert "sk-premeta" not in s.report.skeletons_deleted


def test_sweep_build_locks_takes_only_those_of_gone_envs_nobody_holds(root):
    for key in ("live", "gone", "held"):
        _touch(root.env_build_lock(key))
    fd = os.open(root.env_build_lock("held"), os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a builder from a vpython that takes no store lock
    try:
        s = _sweep(root)
        gc.sweep_build_locks(s)
    finally:
        os.close(fd)
    assert s.report.build_locks_deleted == [".gone.build.lock"]
    assert os.path.exists(root.env_build_lock("live")) and os.path.exists(root.env_build_lock("held"))


def test_sweep_cached_locks_keeps_live_and_fresh_ones(root):
    _touch(root.cached_lock("p-live"), age=30 * DAY)  # old, but its pointer is live
    _touch(os.path.join(root.locks, "orphan-old.plan.json"), age=30 * DAY)
    _touch(root.cached_lock("orphan-new"))  # a build that has not written its pointer yet
    s = _sweep(root)
    gc.sweep_pointers(s)
    gc.sweep_cached_locks(s)
    assert s.report.cached_locks_deleted == ["orphan-old.plan.json"]
    assert sorted(os.listdir(root.locks)) == ["orphan-new.pylock.toml", "p-live.pylock.toml"]


def test_sweep_pex_cache_goes_whole_once_unused_for_the_threshold(root):
    _touch(os.path.join(root.pex_root, "x"))
    s = _sweep(root)
    gc.sweep_pex_cache(s)
    assert s.report.pex_cache_deleted == [] and os.path.isdir(root.pex_root)
    _age(root.pex_root, 30 * DAY)
    gc.sweep_pex_cache(s)
    assert s.report.pex_cache_deleted == ["pex-root"] and not os.path.exists(root.pex_root)


def test_sweep_leftovers_takes_crashed_writers_files_and_trash(root):
    hour = gc.LEFTOVER_AGE + 60
    _touch(os.path.join(root.tmp, "pkg-old", "f"))
    _age(os.path.join(root.tmp, "pkg-old"), hour)
    _touch(os.path.join(root.tmp, "pkg-new", "f"))  # a build in progress
    _touch(os.path.join(root.tmp, gc.TRASH_PREFIX + "x", "f"))  # trash: any age
    _touch(os.path.join(root.envs, ".tmp-k-1", "f"))
    _age(os.path.join(root.envs, ".tmp-k-1"), hour)
    _touch(os.path.join(root.specs, ".ptr-1"), age=hour)
    _touch(os.path.join(root.specs, ".ptr-2"))
    _touch(os.path.join(root.locks, ".lock-1"), age=hour)
    _touch(os.path.join(root.interpreters, ".probe-1"), age=hour)
    s = _sweep(root)
    gc.sweep_leftovers(s)
    assert sorted(s.report.tmp_deleted) == [".lock-1", ".probe-1", ".ptr-1", ".tmp-k-1", "gone-x", "pkg-old"]
    assert os.listdir(root.tmp) == ["pkg-new"] and os.listdir(root.specs).count(".ptr-2") == 1


def test_collect_runs_every_sweep_and_a_dry_run_reports_the_same(root):
    dry = gc.collect(root, WEEK, dry_run=True)
    assert os.path.isdir(root.env_dir("old")) and len(os.listdir(root.packages)) == 3  # nothing deleted
    real = gc.collect(root, WEEK)
    for report in (dry, real):
        assert report.envs_deleted == ["old"] and report.envs_kept == ["live"]
        assert sorted(report.packages_deleted) == ["e-old", "e-orphan"]
        assert sorted(report.wheels_deleted) == ["s-old", "s-orphan"]
        assert sorted(report.pointers_deleted) == ["p-none", "p-old"]
        assert sorted(report.skeletons_deleted) == ["sk-old", "sk-unused"]
        assert not report.store_busy
    assert dry.bytes_freed == real.bytes_freed > 0
    assert os.listdir(root.packages) == ["e-live"] and os.listdir(root.specs) == ["p-live"]


def test_collect_skips_the_store_sweep_while_a_build_holds_the_store_lock(root):
    with flocked(store_lock_path(root), exclusive=False):  # a build in progress
        report = gc.collect(root, WEEK)
    assert report.store_busy and report.envs_deleted == ["old"]
    assert report.packages_deleted == [] and len(os.listdir(root.packages)) == 3


def test_sweeps_run_in_their_documented_order():
    # sweep_cached_locks reads live_pointers, which sweep_pointers fills
    assert gc.SWEEPS.index(gc.sweep_pointers) < gc.SWEEPS.index(gc.sweep_cached_locks)
    # sweep_sdists keeps the sdists of the built wheels that sweep_built keeps
    assert gc.SWEEPS.index(gc.sweep_built) < gc.SWEEPS.index(gc.sweep_sdists)
    assert len(set(gc.SWEEPS)) == len(gc.SWEEPS) == 11
