"""vpython.env.resolve: the slow path's pieces (lock choice, closed specs, direct
references, warnings kept for the plan)."""

from __future__ import annotations

import os

import pytest

from vpython import log
from vpython.env import resolve
from vpython.errors import UserError
from vpython.lock.pylock import Artifact, parse_lock_text
from vpython.spec.discover import DiscoveredSpec
from vpython.spec.load import spec_hash
from vpython.spec.model import Requirements, Spec
from vpython.store.root import Layout

SHA = "a" * 64


def _lock_text(*names: str, spec_hash: str | None = None) -> str:
    lines = ['lock-version = "1.0"', 'created-by = "test"', ""]
    if spec_hash:
        lines += ["[tool.vpython]", f'spec-hash = "{spec_hash}"', ""]
    for n in names:
        lines += [
            "[[packages]]",
            f'name = "{n}"',
            'version = "1.0"',
            "[[packages.wheels]]",
            f'name = "{n}-1.0-py3-none-any.whl"',
            f'path = "{n}-1.0-py3-none-any.whl"',
            f'hashes = {{sha256 = "{SHA}"}}',
            "",
        ]
    return "\n".join(lines)


def test_what_resolution_adds_to_a_closed_spec_is_named_and_strict_refuses_it():
    lock, _ = parse_lock_text(_lock_text("a", "b"), "x")
    assert resolve.check_closed(Requirements(("a==1.0", "b==1.0"), closed=True), lock, "s.vpython3") == []
    assert resolve.check_closed(Requirements(("a==1.0",), closed=True), lock, "s.vpython3") == [("b", "1.0")]
    with pytest.raises(UserError, match="does not list b==1.0") as e:
        resolve.check_closed(Requirements(("a==1.0",), closed=True), lock, "s.vpython3", strict=True)
    assert e.value.path == "s.vpython3" and "infra/python/wheels/b-py3" in e.value.hint


def test_collect_warnings_keeps_each_once_and_restores_log_warning(capsys):
    original = log.warning
    with resolve.collect_warnings(echo=False) as seen:
        log.warning("one")
        log.warning("one")
        log.warning("two")
    assert seen == ["one", "two"] and log.warning is original
    assert capsys.readouterr().err == ""
    with resolve.collect_warnings() as seen:
        log.warning("shown")
    assert "vpython: warning: shown" in capsys.readouterr().err and seen == ["shown"]


def _discovered(tmp_path, lock_text: str | None) -> DiscoveredSpec:
    script = tmp_path / "s.py"
    script.write_text("# /// script\n# dependencies = ['a']\n# ///\n")
    lock = tmp_path / "pylock.s.toml"
    if lock_text is not None:
        lock.write_text(lock_text)
    return DiscoveredSpec("pep723", str(script), "dependencies = ['a']\n", 0, "inline", str(lock))


def test_a_fresh_lockfile_governs_the_run(tmp_path):
    d = _discovered(tmp_path, _lock_text("a"))
    layout = Layout(str(tmp_path / "root"))
    lock, source = resolve.obtain_lock(d, Spec(kind="pep723"), None, None, layout, "dg", [])
    assert source == d.lock_path and [p.name for p in lock.packages] == ["a"]
    d2 = _discovered(tmp_path, _lock_text("a", spec_hash=spec_hash(d)))
    assert resolve.obtain_lock(d2, Spec(kind="pep723"), None, None, layout, "dg", [])[1] == d.lock_path


def test_a_stale_lockfile_falls_back_to_the_cached_resolution(tmp_path, capsys):
    d = _discovered(tmp_path, _lock_text("a", spec_hash="0" * 64))
    layout = Layout(str(tmp_path / "root"))
    os.makedirs(layout.locks)
    with open(layout.cached_lock("dg"), "w") as f:
        f.write(_lock_text("a", "b"))
    lock, source = resolve.obtain_lock(d, Spec(kind="pep723"), None, None, layout, "dg", [])
    assert source == layout.cached_lock("dg") and len(lock.packages) == 2
    assert "is stale" in capsys.readouterr().err


def test_a_spec_without_requirements_needs_no_lock(tmp_path):
    d = _discovered(tmp_path, None)
    layout = Layout(str(tmp_path / "root"))
    assert resolve.obtain_lock(d, Spec(kind="pep723"), None, None, layout, "dg", []) == (None, None)
    assert not os.path.exists(layout.locks)


def test_direct_references_carry_their_url_without_credentials():
    spec = Spec(kind="pep723", dependencies=("a @ https://u:tok@x.invalid/a-1.0-py3-none-any.whl", "b>=1"))
    assert resolve.direct_reference_urls(spec, []) == ("https://u:tok@x.invalid/a-1.0-py3-none-any.whl",)
    arts = [Artifact(name=n, version="1.0", filename=f"{n}-1.0-py3-none-any.whl", sha256=SHA) for n in "ab"]
    a, b = resolve.mark_direct_references(spec, [], arts)
    assert a.direct_url == "https://x.invalid/a-1.0-py3-none-any.whl" and b.direct_url is None
    assert resolve.mark_direct_references(Spec(kind="pep723"), [], arts) == arts
