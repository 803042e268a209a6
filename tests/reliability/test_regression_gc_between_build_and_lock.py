"""Regression: `vpython gc` collecting a fresh env between its build and its use.

Found by test_load.py::test_200_warm_runs_race_a_gc_loop (1 run in 200 failed): the
cold path provisioned the env, then took its shared use lock *blocking* and exec'd
without checking that the env still existed. A GC that ran in between (nobody held
the env yet) deleted it, and exec failed with a FileNotFoundError traceback naming
``envs/<key>/bin/python``. Now the run re-checks under the lock and builds again.
"""

from __future__ import annotations

import os

import pytest

from tests.reliability import kit

pytestmark = pytest.mark.reliability

SCRIPT = '# /// script\n# dependencies = ["tinyapp"]\n# ///\nimport tinyapp\n'


def test_env_collected_between_provision_and_lock_is_rebuilt(rel_index, root, tmp_path, monkeypatch):
    from vpython.cli import run as run_mod
    from vpython.cli.flags import split_flags
    from vpython.env import fastpath, provision as provision_mod
    from vpython.fs import same_file
    from vpython.settings import config_path
    from vpython.spec.discover import discover
    from vpython.store.gc import delete_env
    from vpython.store.root import Layout

    monkeypatch.setenv("VPYTHON_INDEX_URL", rel_index.url)
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    layout = Layout(str(root))
    flags, _ = split_flags([])
    discovered = discover(target_kind="script", target=str(script), cwd=str(tmp_path),
                          explicit=None, default_spec=None)
    digest = fastpath.spec_digest(discovered.kind, discovered.text, discovered.lock_path,
                                  run_mod.settings_tuple(flags), config_path())
    real = provision_mod.provision
    calls = []

    def provision_then_gc(*args, **kwargs):
        pointer = real(*args, **kwargs)
        if not calls:  # the first time only: a concurrent `vpython gc` wins the race
            assert delete_env(layout, pointer.env_key)
        calls.append(pointer.env_key)
        return pointer

    monkeypatch.setattr(provision_mod, "provision", provision_then_gc)
    pointer, fd = run_mod._provision_and_hold(discovered, layout, flags, digest)
    try:
        env_dir = layout.env_dir(pointer.env_key)
        assert os.path.isfile(os.path.join(env_dir, "pyvenv.cfg"))
        assert os.path.exists(fastpath.env_python(env_dir))
        assert same_file(fd, layout.env_lock(pointer.env_key))  # the live lock, not an unlinked one
        assert len(calls) == 2  # built, collected, built again
        assert kit.store_problems(root) == []
    finally:
        os.close(fd)
