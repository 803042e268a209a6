"""vpython.store.pyc: compiling a published entry in place, linking its .pyc into envs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support import make_wheel, sha256_file
from tests.support.pythons import pyenv_root
from vpython.env.plan import PlanInterpreter
from vpython.lock.pylock import Artifact
from vpython.store import packages, pyc, verify, wheels
from vpython.store.manifest import entry_intact, read_link_info, read_manifest
from vpython.store.root import Layout

INTERP = PlanInterpreter(sys.executable, tuple(sys.version_info[:3]), sys.implementation.cache_tag)
SITE = packages.site_packages_rel(INTERP.version)
FILES = {
    "tinypkg/__init__.py": "from tinypkg.core import answer\n",
    "tinypkg/core.py": "def answer():\n    return 42\n",
    "tinypkg/broken.py": "def (:\n",  # does not compile: skipped, as compileall would
    "tinypkg/tests/test_core.py": "def test():\n    pass\n",
    "toplevel.py": "X = 1\n",
}


def _entry(tmp_path, files=FILES):
    layout = Layout(str(tmp_path / "root"))
    wheel = make_wheel(tmp_path / "wh", "tinypkg", "1.0", files=files)
    art = Artifact(name="tinypkg", version="1.0", filename=wheel.name, sha256=sha256_file(wheel), path=str(wheel))

    def fetch(arts, on_ready=None):
        return wheels.fetch_all(arts, layout, sources=None, on_ready=on_ready)

    return layout, packages.ensure_entries([art], layout, INTERP, fetch)[art.sha256]


def _rel(name: str) -> str:
    return pyc.cache_rel(os.path.join(SITE, name), INTERP.cache_tag)


def test_pending_lists_sources_without_pyc_tests_last(tmp_path):
    _, entry = _entry(tmp_path)
    items = pyc.pending(entry, SITE, INTERP.cache_tag)
    srcs = [os.path.relpath(s, SITE) for s, _, _ in items]
    assert sorted(srcs) == sorted(FILES)
    assert srcs[-1] == "tinypkg/tests/test_core.py"
    assert all(p == pyc.cache_rel(s, INTERP.cache_tag) for s, p, _ in items)
    assert pyc.cache_rel("a/b.py", None) == "a/b.pyc"  # Python 2: beside the source


def test_compile_entry_publishes_read_only_pyc_in_manifest_and_link_info(tmp_path):
    layout, entry = _entry(tmp_path)
    assert not pyc.is_compiled(entry)
    drivers = pyc.Drivers(INTERP, layout.packages)
    try:
        added = pyc.compile_entry(entry, SITE, INTERP.cache_tag, drivers)
    finally:
        drivers.close()
    assert sorted(added) == sorted(_rel(n) for n in FILES if n != "tinypkg/broken.py")
    assert pyc.is_compiled(entry) and entry_intact(entry)
    listed = {rel for rel, _, _ in read_manifest(entry)}
    assert set(added) <= listed and _rel("tinypkg/broken.py") not in listed
    dirs, _ = read_link_info(entry)
    assert os.path.join(SITE, "tinypkg", "__pycache__") in dirs and os.path.join(SITE, "__pycache__") in dirs
    for rel in added:
        assert not os.stat(os.path.join(entry, rel)).st_mode & 0o222
    assert pyc.pending(entry, SITE, INTERP.cache_tag) == [(os.path.join(SITE, "tinypkg", "broken.py"),
                                                            _rel("tinypkg/broken.py"), len(FILES["tinypkg/broken.py"]))]
    # No temp files anywhere in the entry.
    assert not [n for _, _, names in os.walk(entry) for n in names if n.endswith(".tmp")]


def test_a_compiler_killed_mid_way_leaves_an_intact_entry_that_the_next_one_finishes(tmp_path):
    layout, entry = _entry(tmp_path)
    # What a SIGKILL can leave: one .pyc in place but not listed, a temp file beside another.
    drivers = pyc.Drivers(INTERP, layout.packages)
    try:
        src = os.path.join(entry, SITE, "tinypkg", "core.py")
        assert drivers.compile([(src, os.path.join(entry, _rel("tinypkg/core.py")))]) == [True]
    finally:
        drivers.close()
    stale = os.path.join(entry, _rel("tinypkg/__init__.py")) + ".12345.tmp"
    with open(stale, "wb") as f:
        f.write(b"half a pyc")
    assert entry_intact(entry) and not pyc.is_compiled(entry)  # readers see the old, consistent manifest
    drivers = pyc.Drivers(INTERP, layout.packages)
    try:
        pyc.compile_entry(entry, SITE, INTERP.cache_tag, drivers)
    finally:
        drivers.close()
    assert not os.path.exists(stale) and pyc.is_compiled(entry) and entry_intact(entry)
    assert _rel("tinypkg/core.py") in {rel for rel, _, _ in read_manifest(entry)}


def _env_with(tmp_path, layout, entry):
    """An env dir holding the entry's sources (hardlinks, as link_entry makes them) and metadata."""
    env = tmp_path / "env"
    for rel, _, _ in read_manifest(entry):
        if rel.endswith(".py"):
            os.makedirs(env / os.path.dirname(rel), exist_ok=True)
            os.link(os.path.join(entry, rel), env / rel)
    (env / ".vpython-env.json").write_text(json.dumps({"entries": [os.path.basename(entry)]}))
    return env


def test_link_pyc_adds_store_pyc_to_a_built_env_replacing_what_python_wrote(tmp_path):
    layout, entry = _entry(tmp_path)
    env = _env_with(tmp_path, layout, entry)
    os.makedirs(env / SITE / "tinypkg" / "__pycache__")
    own = env / _rel("tinypkg/core.py")
    own.write_bytes(b"written by the interpreter")  # PYTHONDONTWRITEBYTECODE unset
    drivers = pyc.Drivers(INTERP, layout.packages)
    try:
        added = pyc.compile_entry(entry, SITE, INTERP.cache_tag, drivers)
    finally:
        drivers.close()
    os.unlink(env / SITE / "toplevel.py")  # this env lacks one source: its .pyc is not linked
    assert pyc.link_pyc(str(env), entry, added) == len(added) - 1
    assert os.path.samefile(own, os.path.join(entry, _rel("tinypkg/core.py")))
    assert not (env / _rel("toplevel.py")).exists()
    assert (env / pyc.ENV_STAMP).is_file()
    assert pyc.link_pyc(str(env), entry, added) == 0  # already there: nothing to do
    assert not [n for _, _, names in os.walk(env) for n in names if n.endswith("vpython-tmp")]


def _verify_env(layout, env_dir):
    """Run cache verify's env check on ``env_dir`` as if it were env ``k`` of ``layout``."""
    os.makedirs(layout.envs, exist_ok=True)
    os.rename(env_dir, layout.env_dir("k"))
    return verify.scan(layout)


def test_cache_verify_accepts_pyc_linked_later_but_not_one_edited_after(tmp_path):
    layout, entry = _entry(tmp_path)
    env = _env_with(tmp_path, layout, entry)
    drivers = pyc.Drivers(INTERP, layout.packages)
    try:
        added = pyc.compile_entry(entry, SITE, INTERP.cache_tag, drivers)
    finally:
        drivers.close()
    assert pyc.link_pyc(str(env), entry, added)  # the .pyc are newer than the env's metadata
    report = _verify_env(layout, env)
    assert not report.damaged, (report.damaged_entries, report.env_damage)
    # An edit in place after that is damage (of the entry, and the env shares it).
    target = os.path.join(layout.env_dir("k"), _rel("tinypkg/core.py"))
    os.chmod(target, 0o644)
    with open(target, "ab") as f:
        f.write(b"\0")
    report = verify.scan(layout)
    assert report.damaged_entries and "k" in report.env_damage


def test_the_driver_runs_on_python_2_7(tmp_path):
    py27 = pyenv_root() / "versions" / "2.7.18" / "bin" / "python2.7"
    if not py27.is_file():
        pytest.skip("no CPython 2.7 here")
    src = tmp_path / "mod.py"
    src.write_text("print 'old syntax'\n")
    interp = PlanInterpreter(str(py27), (2, 7, 18), None)
    drivers = pyc.Drivers(interp, str(tmp_path))
    try:
        assert drivers.compile([(str(src), str(tmp_path / "mod.pyc"))]) == [True]
    finally:
        drivers.close()
    assert not os.stat(tmp_path / "mod.pyc").st_mode & 0o222
    out = subprocess.run([str(py27), "-c", "import mod, sys; sys.stdout.write(mod.__file__)"], cwd=tmp_path,
                         capture_output=True, text=True, env={"PYTHONDONTWRITEBYTECODE": "1"})
    assert out.returncode == 0 and out.stdout.endswith("mod.pyc"), out.stderr  # loaded from our .pyc
