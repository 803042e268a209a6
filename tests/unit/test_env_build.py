"""vpython.env.build: env keys, assembling an env from store entries, the spec pointer."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from tests.support import make_wheel, sha256_file
from vpython.env import build, fastpath
from vpython.env.plan import PlanInterpreter
from vpython.lock.pylock import Artifact
from vpython.store import packages, wheels
from vpython.store.link import EntryChanged
from vpython.store.root import Layout

INTERP = PlanInterpreter(sys.executable, tuple(sys.version_info[:3]), sys.implementation.cache_tag)


def _art(name: str, sha: str = "a", **kw) -> Artifact:
    return Artifact(name=name, version="1.0", filename=f"{name}-1.0-py3-none-any.whl", sha256=sha * 64, **kw)


def test_env_key_is_the_artifact_set_on_one_interpreter(tmp_path):
    a, b = _art("a"), _art("b", "b")
    key = build.env_key(INTERP, [a, b])
    assert key == build.env_key(INTERP, [b, a]) and len(key) == 32  # order does not matter
    assert key != build.env_key(INTERP, [a])
    assert key != build.env_key(INTERP, [a, dataclasses.replace(b, sha256="c" * 64)])
    assert key != build.env_key(INTERP, [a, dataclasses.replace(b, direct_url="https://x/b.whl")])
    other = tmp_path / "python3"
    other.write_text("#!")
    assert key != build.env_key(PlanInterpreter(str(other), INTERP.version, INTERP.cache_tag), [a, b])


def test_write_pointer_publishes_what_lookup_reads(tmp_path):
    layout = Layout(str(tmp_path))
    pointer = fastpath.Pointer("a" * 32, sys.executable, fastpath.interpreter_id(sys.executable))
    build.write_pointer(layout, "dg", pointer)
    back = fastpath.Pointer.load(layout.spec_pointer("dg"))
    assert (back.env_key, back.interpreter_id) == (pointer.env_key, pointer.interpreter_id)
    assert os.listdir(layout.specs) == ["dg"]  # no .ptr-* temp file left


def test_shebang_for_short_paths_and_a_trampoline_for_long_or_spaced_ones():
    assert build.shebang_for("/usr/bin/python3") == b"#!/usr/bin/python3"
    for python in ("/a b/python3", "/" + "x" * 130 + "/python3"):
        line = build.shebang_for(python)
        assert line.startswith(b"#!/bin/sh") and python.encode() in line


@pytest.fixture
def store(tmp_path):
    """A wheel with a console script, its store entry, and the layout."""
    layout = Layout(str(tmp_path / "root"))
    wheel = make_wheel(
        tmp_path / "wh", "tinypkg", "1.0", entry_points={"console_scripts": {"tinypkg": "tinypkg:main"}}
    )
    art = _art("tinypkg", path=str(wheel))
    art = dataclasses.replace(art, filename=wheel.name, sha256=sha256_file(wheel))
    entries = packages.ensure_entries(
        [art], layout, INTERP, lambda arts, on_ready: wheels.fetch_all(arts, layout, sources=None, on_ready=on_ready)
    )
    return layout, art, entries[art.sha256]


def test_assemble_builds_a_venv_of_hardlinks_with_working_scripts(store):
    layout, art, entry = store
    key = build.env_key(INTERP, [art])
    env = build.assemble(
        layout,
        key,
        INTERP,
        [entry],
        {"packages": ["tinypkg==1.0"]},
        direct_urls={entry: ("https://example.invalid/tinypkg.whl", art.sha256)},
    )
    assert env == layout.env_dir(key) and os.path.isfile(os.path.join(env, "pyvenv.cfg"))
    meta = json.load(open(os.path.join(env, build.META)))
    assert meta["key"] == key and meta["packages"] == ["tinypkg==1.0"] and meta["skeleton"]
    assert os.listdir(layout.skeletons) == [meta["skeleton"]]
    site = os.path.join(packages.site_packages_rel(INTERP.version), "tinypkg", "__init__.py")
    assert os.stat(os.path.join(env, site)).st_ino == os.stat(os.path.join(entry, site)).st_ino
    python = fastpath.env_python(env)
    with open(os.path.join(env, "bin", "tinypkg"), "rb") as f:
        assert f.read().startswith(build.shebang_for(python) + b"\n")  # a long path gets the sh trampoline
    r = subprocess.run([os.path.join(env, "bin", "tinypkg")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    info = next(
        d
        for d in os.listdir(os.path.dirname(os.path.dirname(os.path.join(env, site))))
        if d.endswith(".dist-info")
    )
    dist_info = os.path.join(os.path.dirname(os.path.dirname(os.path.join(env, site))), info)
    assert (
        json.load(open(os.path.join(dist_info, "direct_url.json")))["url"]
        == "https://example.invalid/tinypkg.whl"
    )
    assert "direct_url.json" in open(os.path.join(dist_info, "RECORD")).read()
    assert "direct_url.json" not in os.listdir(os.path.join(entry, os.path.relpath(dist_info, env)))
    assert [n for n in os.listdir(layout.envs) if n.startswith(".tmp-")] == []
    assert build.assemble(layout, key, INTERP, [entry], {}) == env  # exists: used as it is


def test_a_changed_entry_publishes_no_env_and_leaves_no_work_dir(store):
    layout, art, entry = store
    target = os.path.join(entry, packages.site_packages_rel(INTERP.version), "tinypkg", "__init__.py")
    os.chmod(target, 0o644)
    with open(target, "a") as f:
        f.write("evil()\n")
    key = build.env_key(INTERP, [art])
    with pytest.raises(EntryChanged):
        build.assemble(layout, key, INTERP, [entry], {})
    assert not os.path.exists(layout.env_dir(key))
    assert [n for n in os.listdir(layout.envs) if n.startswith(".tmp-")] == []


def test_a_failed_build_for_a_vpython3_without_python_version_points_at_3_8():
    """The original vpython3 ran specs naming no python_version on Python 3.8, where their
    old pins (gevent 1.5.0) publish wheels; the build error says so first."""
    from types import SimpleNamespace

    from vpython.env.provision import _default_version_hint
    from vpython.spec.discover import DiscoveredSpec

    spec = DiscoveredSpec("textproto", "/src/.vpython3", 'wheel: < name: "gevent" version: "1.5.0" >\n', 0, "", None)
    flags = SimpleNamespace(interpreter=None)
    hint = _default_version_hint(spec, flags, "cannot build gevent 1.5.0 from source for CPython 3.11.7 (...)")
    assert "/src/.vpython3 names no python_version" in hint and 'python_version: "3.8"' in hint
    assert "-vpython-interpreter python3.8" in hint
    named = DiscoveredSpec("textproto", "/src/.vpython3", 'python_version: "3.11"\n' + spec.text, 0, "", None)
    assert _default_version_hint(named, flags, "for CPython 3.11.7") == ""
    assert _default_version_hint(spec, SimpleNamespace(interpreter="python3.11"), "for CPython 3.11.7") == ""
    assert _default_version_hint(spec, flags, "cannot build x for CPython 3.8.18 (...)") == ""
    toml = DiscoveredSpec("pep723", "/src/s.py", "dependencies = []\n", 0, "", None)
    assert _default_version_hint(toml, flags, "for CPython 3.11.7") == ""
