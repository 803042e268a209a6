"""pex's JSON lock read into candidates: one strict resolve per target."""

from __future__ import annotations

from vpython.lock import engine_pex
from vpython.lock.targets import Target

TARGETS = [Target((3, 11), p) for p in ("manylinux_2_28_x86_64", "macosx_11_0_arm64", "win_amd64")]
ALL = frozenset(t.key for t in TARGETS)


def test_pex_lock_is_read_into_candidates():
    data = {"locked_resolves": [
        {"platform_tag": ["cp311", "cp311", t.platform], "locked_requirements": [
            {"project_name": "PureDep", "version": "1", "artifacts": [
                {"algorithm": "sha256", "hash": "a" * 64, "url": "file:///w/puredep-1.0-py3-none-any.whl"}]},
        ] + ([{"project_name": "winonly", "version": "2.0", "artifacts": [
            {"algorithm": "sha256", "hash": "c" * 64,
             "url": "https://x.example/winonly-2.0-py3-none-any.whl"}]}] if t.platform == "win_amd64" else [])}
        for t in TARGETS
    ]}
    got = {c.name: c for c in engine_pex.candidates_from_lock(data, TARGETS)}
    assert got["puredep"].installed_on == ALL
    assert got["winonly"].installed_on == {TARGETS[2].key}
    assert got["puredep"].wheels[0].path == "/w/puredep-1.0-py3-none-any.whl"
