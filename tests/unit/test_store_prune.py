"""vpython.store.prune: bounded passive pruning, and the daily sweep's stamp."""

from __future__ import annotations

import os
import time

from vpython.store import prune
from vpython.store.envs import TRASH_PREFIX
from vpython.store.root import Layout

DAY = 86400


def _env(layout: Layout, key: str, age: float) -> None:
    os.makedirs(layout.env_dir(key))
    open(os.path.join(layout.env_dir(key), "pyvenv.cfg"), "w").close()
    open(layout.env_lock(key), "w").close()
    t = time.time() - age
    os.utime(layout.env_lock(key), (t, t))


def test_prune_some_deletes_the_oldest_stale_envs_up_to_the_limit(tmp_path):
    layout = Layout(str(tmp_path))
    for key, days in (("fresh", 1), ("old8", 8), ("old30", 30), ("old20", 20)):
        _env(layout, key, days * DAY)
    assert prune.prune_some(layout, limit=2, background=False) == ["old30", "old20"]
    assert sorted(os.listdir(layout.envs)) == ["fresh", "fresh.lock", "old8", "old8.lock"]
    assert not os.path.exists(layout.sweep_stamp)  # no background: no sweep claimed either


def test_prune_some_in_the_background_only_renames(tmp_path, monkeypatch):
    layout = Layout(str(tmp_path))
    _env(layout, "old", 30 * DAY)
    spawned = []
    monkeypatch.setattr(prune, "spawn_background", lambda layout, sweep: spawned.append(sweep) or True)
    assert prune.prune_some(layout) == ["old"]
    (trash,) = os.listdir(layout.tmp)
    assert trash.startswith(TRASH_PREFIX)  # renamed, to be deleted by the detached worker
    assert spawned == [False]  # a new cache gets a stamp, not a sweep
    assert os.path.exists(layout.sweep_stamp)


def test_a_sweep_is_claimed_once_per_interval(tmp_path):
    layout = Layout(str(tmp_path))
    os.makedirs(layout.base)
    now = time.time()
    assert not prune._claim_sweep(layout, now)  # first: the stamp is made
    assert not prune._claim_sweep(layout, now + 60)  # too soon
    later = now + prune.SWEEP_INTERVAL + 60
    assert prune._claim_sweep(layout, later)
    assert os.stat(layout.sweep_stamp).st_mtime == later  # moved: concurrent runs do not all sweep
    assert not prune._claim_sweep(layout, later + 1)


def test_background_main_empties_the_trash_and_sweeps_when_asked(tmp_path, monkeypatch):
    niced = []
    monkeypatch.setattr(os, "nice", niced.append)  # not this test process
    layout = Layout(str(tmp_path))
    _env(layout, "old", 30 * DAY)
    os.makedirs(os.path.join(layout.tmp, TRASH_PREFIX + "x", "x"))
    os.makedirs(os.path.join(layout.packages, "orphan"))
    prune.background_main(layout.root, False)
    assert os.listdir(layout.tmp) == [] and os.path.isdir(layout.env_dir("old"))
    assert os.listdir(layout.packages) == ["orphan"]
    prune.background_main(layout.root, True)  # the passive gc: the old env and the orphan go
    assert not os.path.exists(layout.env_dir("old")) and os.listdir(layout.packages) == []
    assert niced == [10, 10]
