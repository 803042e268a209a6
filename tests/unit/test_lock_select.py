"""Wheel selection: per target, the wheel its installer would pick; gaps named."""

from __future__ import annotations

import pytest

from vpython.errors import ResolutionError
from vpython.lock.model import Candidate, RawWheel
from vpython.lock.select import raise_for_gaps, select_packages
from vpython.lock.targets import DEFAULT_PLATFORMS, Target

DEFAULT = [Target((3, 11), p) for p in DEFAULT_PLATFORMS]
KEYS = {t.platform: t.key for t in DEFAULT}


def _w(filename, sha="0" * 64):
    return RawWheel(filename=filename, sha256=sha, url=f"https://user:secret@files.example/{filename}")


FAST = (
    _w("fastpkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "1" * 64),
    _w("fastpkg-1.0-cp311-cp311-macosx_11_0_arm64.whl", "2" * 64),
    _w("fastpkg-1.0-cp311-cp311-win_amd64.whl", "3" * 64),
    _w("fastpkg-1.0-cp312-cp312-win_amd64.whl", "4" * 64),
    _w("fastpkg-1.0-cp311-cp311-musllinux_1_2_x86_64.whl", "5" * 64),
)
THREE = [Target((3, 11), p) for p in ("manylinux_2_28_x86_64", "macosx_11_0_arm64", "win_amd64")]


def test_keeps_only_the_wheel_each_target_installs():
    c = Candidate("fastpkg", "1.0", FAST, frozenset(t.key for t in THREE))
    packages, gaps = select_packages([c], THREE, lock_dir="/tmp")
    assert gaps == []
    (p,) = packages
    assert [w.filename for w in p.wheels] == sorted([
        "fastpkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "fastpkg-1.0-cp311-cp311-macosx_11_0_arm64.whl",
        "fastpkg-1.0-cp311-cp311-win_amd64.whl",
    ])
    assert all("secret" not in w.url and "user" not in w.url for w in p.wheels)
    assert p.marker is None


def test_gap_names_package_and_platform():
    c = Candidate("fastpkg", "1.0", FAST, frozenset(t.key for t in DEFAULT))
    packages, gaps = select_packages([c], DEFAULT, lock_dir="/tmp")
    assert sorted(g.target for g in gaps) == sorted([KEYS["macosx_11_0_x86_64"], KEYS["manylinux_2_28_aarch64"]])
    with pytest.raises(ResolutionError) as e:
        raise_for_gaps(gaps, "cannot lock x.py")
    text = str(e.value)
    assert "fastpkg 1.0 has no wheel for cp311-cp311-macosx_11_0_x86_64" in text
    assert e.value.exit_code == 2


def test_package_installed_nowhere_is_dropped_and_partial_gets_marker():
    only_win = Candidate("pywin", "3.0", (_w("pywin-3.0-py3-none-any.whl"),), frozenset({THREE[2].key}))
    nowhere = Candidate("legacy", "1.0", (_w("legacy-1.0-py3-none-any.whl"),), frozenset())
    packages, gaps = select_packages([only_win, nowhere], THREE, lock_dir="/tmp")
    assert [p.name for p in packages] == ["pywin"]
    assert packages[0].marker == "sys_platform == 'win32'"


def test_engine_version_spelling_is_normalised_from_the_wheel():
    c = Candidate("puredep", "1", (_w("puredep-1.0-py3-none-any.whl"),), frozenset(t.key for t in THREE))
    packages, _ = select_packages([c], THREE, lock_dir="/tmp")
    assert packages[0].version == "1.0"


def test_two_versions_for_one_target_is_an_error():
    a = Candidate("dup", "1.0", (_w("dup-1.0-py3-none-any.whl"),), frozenset({THREE[0].key}))
    b = Candidate("dup", "2.0", (_w("dup-2.0-py3-none-any.whl"),), frozenset({THREE[0].key}))
    with pytest.raises(ResolutionError):
        select_packages([a, b], THREE, lock_dir="/tmp")


def test_a_target_without_a_wheel_builds_from_the_sdist_looked_up_once():
    from vpython.lock.select import select_with_builds

    linux_only = Candidate("mixed", "1.0", (FAST[0],), frozenset(t.key for t in THREE))
    nowheel = Candidate("srconly", "1.0", (), frozenset(t.key for t in THREE))
    asked = []

    def find(pins):
        asked.append(list(pins))
        return {("mixed", "1.0"): _w("mixed-1.0.tar.gz", "6" * 64), ("srconly", "1.0"): _w("srconly-1.0.tar.gz", "7" * 64)}

    packages, gaps, builds = select_with_builds([linux_only, nowheel], THREE, lock_dir="/tmp", find_sdists=find)
    assert asked == [[("mixed", "1.0"), ("srconly", "1.0")]] and gaps == []
    by_name = {p.name: p for p in packages}
    assert by_name["mixed"].sdist.filename == "mixed-1.0.tar.gz" and len(by_name["mixed"].wheels) == 1
    assert by_name["mixed"].sdist.url == "https://files.example/mixed-1.0.tar.gz"  # no credentials
    assert by_name["srconly"].wheels == () and by_name["srconly"].builds == tuple(sorted(t.key for t in THREE))
    assert {(b.name, b.target) for b in builds} == {("mixed", THREE[1].key), ("mixed", THREE[2].key)} | {
        ("srconly", t.key) for t in THREE}
    # Under --only-binary nothing is looked up and every such pair is a gap.
    from vpython.settings.sources import Sources

    asked.clear()
    packages, gaps, builds = select_with_builds([linux_only, nowheel], THREE, lock_dir="/tmp",
                                                sources=Sources(only_binary=True), find_sdists=find)
    assert asked == [] and builds == [] and len(gaps) == 5
    with pytest.raises(ResolutionError, match=r"building from sdists is turned off") as e:
        raise_for_gaps(gaps, "cannot lock x.py", only_binary=True)
    assert "drop --only-binary" in e.value.hint
