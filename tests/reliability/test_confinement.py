"""Confinement: nothing vpython or a tool it runs writes lands outside the cache root.

``HOME``, ``XDG_CACHE_HOME``, ``XDG_DATA_HOME``, ``XDG_CONFIG_HOME``, ``XDG_STATE_HOME``
and ``TMPDIR`` point at empty directories watched by the test; the root is explicit
(``VPYTHON_VIRTUALENV_ROOT``). A cold run (uv resolves), ``vpython lock`` (uv),
``vpython lock --engine pex``, ``vpython build --format venv`` and ``--format pex``, a run of
a zip bomb the resolver accepts and vpython refuses, and ``vpython gc`` must leave every
watched directory empty: uv's cache, pex's, virtualenv's app data all live under the root
(``<root>/v1/tool-cache``, ``pex-root``, ``virtualenv-app-data``), and temp dirs are removed.
(The sdist builder's own confinement is tests/integration's ``touch_home`` case.)
"""

from __future__ import annotations

import os
import time

import pytest

from tests.reliability import kit

pytestmark = pytest.mark.reliability

SCRIPT = '# /// script\n# dependencies = ["tinyapp"]\n# ///\nimport tinyapp; print("ok", tinyapp.__version__)\n'
WATCHED = ("HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "TMPDIR")


def _contents(d):
    out = []
    for dirpath, dirnames, filenames in os.walk(d):
        out += [os.path.relpath(os.path.join(dirpath, n), d) for n in dirnames + filenames]
    return sorted(out)


def _bomb_wheel(out):
    """300 MiB of zeros in one member (~300 KB): the resolver reads its metadata; vpython's
    ratio guard refuses to unpack it."""
    from tests.reliability.test_tamper import _many_member_bomb

    return _many_member_bomb(out, name="zerobomb", members=20, member_size=15 << 20)


def test_nothing_is_written_outside_the_root(rel_index, rel_wheelhouse, tmp_path):
    watched = {}
    for var in WATCHED:
        watched[var] = tmp_path / "watched" / var.lower()
        watched[var].mkdir(parents=True)
    root = tmp_path / "root"
    # No UV_CACHE_DIR / PEX_ROOT either (the suite's own uv cache): the defaults would be below HOME.
    env = kit.vp_env(root, rel_index.url, UV_CACHE_DIR=None, PEX_ROOT=None, **{k: str(v) for k, v in watched.items()})
    work = tmp_path / "work"
    work.mkdir()
    script = work / "s.py"
    script.write_text(SCRIPT)
    bombs = tmp_path / "bombs"
    _bomb_wheel(bombs)
    bomb = work / "bomb.py"
    bomb.write_text('# /// script\n# dependencies = ["zerobomb"]\n# ///\nprint("installed")\n')
    steps = [
        ("cold run (uv resolves)", [script], 0),
        ("vpython lock (uv)", ["lock", script], 0),
        ("run from the lockfile", [script], 0),
        ("vpython lock --engine pex", ["lock", "--engine", "pex", "--platform", "linux_x86_64", script], 0),
        ("vpython build --format venv", ["build", script, "--format", "venv", "-o", work / "out-venv"], 0),
        ("vpython build --format pex", ["build", script, "--format", "pex", "-o", work / "out.pex"], 0),
        ("run of a zip bomb (refused)", ["-vpython-find-links", bombs, bomb], 1),
        ("vpython gc", ["gc", "--older-than", "0"], 0),
    ]
    failures, observed = [], []
    t0 = time.monotonic()
    for label, args, rc in steps:
        r = kit.run(args, env, work)
        if r.returncode != rc or not kit.no_traceback(r):
            failures.append(f"{label}: rc {r.returncode} (expected {rc}): {r.stderr[-800:]}")
        outside = {var: _contents(d) for var, d in watched.items() if _contents(d)}
        if outside:
            failures.append(f"{label}: wrote outside the root: {outside}")
            for d in watched.values():  # attribute later writes to later steps
                kit.age_everything(d)
                __import__("shutil").rmtree(d)
                d.mkdir()
        observed.append(label)
    tool_caches = sorted(os.listdir(kit.v1(root) / "tool-cache")) if (kit.v1(root) / "tool-cache").is_dir() else []
    kit.record("confinement: HOME, XDG_* and TMPDIR watched through a cold run, uv and pex locks, venv and pex "
               "builds, a refused zip bomb and gc", trials=len(steps), failures=len(failures), leftovers=0,
               observed=f"0 files outside the root after each of {len(steps)} steps; the resolvers' caches were "
                        f"in <root>/v1/tool-cache ({', '.join(tool_caches) or 'collected by gc'})",
               seconds=time.monotonic() - t0)
    assert not failures, "\n".join(failures)
