"""vpython.env.provision: the cold path from a locked spec to a published env, the plan
that skips the slow path next time, and the rebuild of a changed store entry."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.support import make_wheel, sha256_file
from vpython import log
from vpython.cli.flags import VPythonFlags
from vpython.env import fastpath, provision
from vpython.env.plan import plan_path
from vpython.errors import VPythonError
from vpython.spec.discover import discover
from vpython.store.envs import delete_env, list_envs
from vpython.store.root import Layout


@pytest.fixture
def case(tmp_path, monkeypatch):
    """A PEP 723 script with a lockfile beside it pinning one local wheel (no resolver, no network)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    wheel = make_wheel(tmp_path / "wh", "tinypkg", "1.0")
    script = tmp_path / "s.py"
    script.write_text("# /// script\n# dependencies = ['tinypkg']\n# ///\nimport tinypkg\n")
    (tmp_path / "pylock.s.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "test"\n\n[[packages]]\nname = "tinypkg"\nversion = "1.0"\n'
        f'[[packages.wheels]]\nname = "{wheel.name}"\npath = "wh/{wheel.name}"\n'
        f'hashes = {{sha256 = "{sha256_file(wheel)}"}}\n'
    )
    discovered = discover(target_kind="script", target=str(script), cwd=str(tmp_path))
    flags = VPythonFlags(interpreter=sys.executable, offline=True)
    layout = Layout(str(tmp_path / "root"))
    return discovered, flags, layout


def _provision(case, **kw):
    discovered, flags, layout = case
    return provision.provision(discovered, layout=layout, flags=flags, digest="dg", **kw)


def test_provision_publishes_the_env_its_pointer_and_its_plan(case):
    _, _, layout = case
    pointer = _provision(case, install_only=True)
    env = layout.env_dir(pointer.env_key)
    assert os.path.isfile(os.path.join(env, "pyvenv.cfg")) and list_envs(layout) == [pointer.env_key]
    meta = json.load(open(os.path.join(env, ".vpython-env.json")))
    assert meta["packages"] == ["tinypkg==1.0"] and len(meta["entries"]) == 1
    hit = fastpath.lookup(layout, "dg")  # the warm path finds it now
    assert hit is not None and hit[0].env_key == pointer.env_key
    os.close(hit[1])
    assert json.load(open(plan_path(layout, "dg")))["env_key"] == pointer.env_key


def test_a_collected_env_is_rebuilt_from_the_plan_without_the_slow_path(case, monkeypatch, capsys):
    _, _, layout = case
    first = _provision(case, install_only=True)
    assert delete_env(layout, first.env_key)

    def no_slow_path(*a, **kw):
        raise AssertionError("the slow path ran on a plan hit")

    monkeypatch.setattr("vpython.env.resolve.resolve", no_slow_path)
    log.set_level("debug")
    try:
        again = _provision(case, install_only=True)
    finally:
        log.set_level("error")
    assert again.env_key == first.env_key and os.path.isdir(layout.env_dir(again.env_key))
    assert f"plan hit for dg: env {first.env_key}" in capsys.readouterr().err


def test_an_entry_edited_through_an_env_is_rebuilt_before_the_next_env_links_it(case, capsys):
    _, _, layout = case
    first = _provision(case, install_only=True)
    env = layout.env_dir(first.env_key)
    (init,) = [
        os.path.join(d, f)
        for d, _, fs in os.walk(env)
        for f in fs
        if d.endswith("tinypkg") and f == "__init__.py"
    ]
    os.chmod(init, 0o644)
    with open(init, "a") as f:
        f.write("evil()\n")  # the store entry's inode too
    assert delete_env(layout, first.env_key)
    _provision(case, install_only=True)
    assert "changed since it was built" in capsys.readouterr().err
    with open(init) as f:
        assert "evil" not in f.read()


def test_a_full_disk_is_one_error_naming_the_root(case, monkeypatch):
    _, _, layout = case
    monkeypatch.setenv("VPYTHON_TEST_FAIL_AT", "unpacked:ENOSPC")
    with pytest.raises(VPythonError, match=f"cannot write to the vpython cache at {layout.root}") as e:
        _provision(case, install_only=True)
    assert "free space" in e.value.hint and list_envs(layout) == []


def test_a_run_marks_its_env_used_and_prunes(case, monkeypatch):
    _, _, layout = case
    pruned = []
    monkeypatch.setattr("vpython.store.prune.prune_some", lambda layout: pruned.append(layout.root))
    pointer = _provision(case)
    assert pruned == [layout.root] and os.path.exists(layout.env_lock(pointer.env_key))
