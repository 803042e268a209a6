"""vpython.store.verify: finding store entries and envs edited in place, and repairing."""

from __future__ import annotations

import fcntl
import json
import os
import time

from tests.support.entries import make_entry
from vpython.fs import remove_tree
from vpython.store.envs import ENV_META
from vpython.store.link import link_entry
from vpython.store.manifest import freeze
from vpython.store.root import Layout
from vpython.store.verify import scan, verify

INIT = "lib/python3.11/site-packages/pkg/__init__.py"


def _root(tmp_path):
    """Two entries; env "a" links both, env "b" links only the second."""
    layout = Layout(str(tmp_path / "root"))
    e1 = freeze_entry(os.path.join(layout.packages, "e1"))
    e2 = freeze_entry(os.path.join(layout.packages, "e2"), sub="other")
    for key, entries in (("a", [e1, e2]), ("b", [e2])):
        env = layout.env_dir(key)
        os.makedirs(os.path.join(env, "bin"))
        made: set = set()
        for e in entries:
            link_entry(e, env, made)
        with open(os.path.join(env, ENV_META), "w") as f:
            json.dump({"entries": [os.path.basename(e) for e in entries]}, f)
        open(layout.env_lock(key), "w").close()
    return layout, e1, e2


def freeze_entry(path: str, sub: str = "pkg") -> str:
    make_entry(
        path,
        {
            f"lib/python3.11/site-packages/{sub}/__init__.py": b"x = 1\n",
            f"lib/python3.11/site-packages/{sub}-1.0.dist-info/METADATA": b"Name: x\n",
        },
    )
    freeze(path)
    return path


def _edit(path: str) -> None:
    os.chmod(path, 0o644)
    with open(path, "a") as f:
        f.write("evil()\n")


def test_a_clean_cache_verifies(tmp_path):
    layout, _, _ = _root(tmp_path)
    report = verify(layout)
    assert not report.damaged and (report.entries_checked, report.envs_checked) == (2, 2)


def test_an_edit_in_one_env_is_found_in_the_entry_and_every_env_sharing_it(tmp_path):
    layout, e1, _ = _root(tmp_path)
    time.sleep(0.01)
    _edit(os.path.join(layout.env_dir("a"), INIT))  # the same inode as e1's file
    report = scan(layout)
    assert report.damaged_entries == {"e1": "pkg-1.0"}
    assert report.entry_users == {"e1": ["a"]}
    assert list(report.env_damage) == ["a"] and "shares damaged store entry e1" in report.env_damage["a"][0]


def test_an_edit_whose_entry_was_rebuilt_is_still_found_in_the_env(tmp_path):
    layout, e1, _ = _root(tmp_path)
    time.sleep(0.01)
    _edit(os.path.join(layout.env_dir("a"), INIT))
    # another env holding the same file (an env's own files have one link)
    os.link(os.path.join(layout.env_dir("a"), INIT), str(tmp_path / "another-env-link"))
    remove_tree(e1)
    freeze_entry(e1)  # a later build rebuilt the entry: the edited inode lives on in env a
    report = scan(layout)
    assert report.damaged_entries == {}
    assert any("changed after the env was built" in r for r in report.env_damage["a"])


def test_repair_deletes_damaged_entries_and_envs_but_not_a_held_env(tmp_path):
    layout, e1, e2 = _root(tmp_path)
    time.sleep(0.01)
    _edit(os.path.join(layout.env_dir("b"), "lib/python3.11/site-packages/other/__init__.py"))  # e2: a and b
    fd = os.open(layout.env_lock("b"), os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_SH)  # a script runs in env b
    try:
        report = verify(layout, repair=True)
    finally:
        os.close(fd)
    assert report.envs_deleted == ["a"] and report.envs_held == ["b"]
    assert report.entries_kept == ["e2"] and report.entries_deleted == []  # b still uses it
    assert os.path.isdir(e2) and os.path.isdir(e1) and not os.path.exists(layout.env_dir("a"))
    report = verify(layout, repair=True)  # b has exited
    assert report.envs_deleted == ["b"] and report.entries_deleted == ["e2"] and not os.path.exists(e2)
    assert not verify(layout).damaged


def test_verify_of_a_root_that_was_never_used_is_empty(tmp_path):
    report = verify(Layout(str(tmp_path / "nothing")))
    assert not report.damaged and report.entries_checked == 0
    assert not os.path.exists(tmp_path / "nothing")
