"""Markers derived from the targets that install a package."""

from __future__ import annotations

import pytest
from packaging.markers import Marker

from vpython.lock import markers
from vpython.lock.targets import DEFAULT_PLATFORMS, Target

DEFAULT = [Target((3, 11), p) for p in DEFAULT_PLATFORMS]
KEYS = {t.platform: t.key for t in DEFAULT}


def _exact(marker, installed, targets):
    """The marker is true on exactly the installed targets."""
    if marker is None:
        return set(installed) == {t.key for t in targets}
    m = Marker(marker)
    return {t.key for t in targets if m.evaluate(dict(t.environment(), extras=frozenset(),
                                                         dependency_groups=frozenset()),
                                                    context="lock_file")} == set(installed)


def test_installed_everywhere_has_no_marker():
    assert markers.synthesize({t.key for t in DEFAULT}, DEFAULT) is None


def test_single_platform():
    installed = {KEYS["win_amd64"]}
    m = markers.synthesize(installed, DEFAULT)
    assert m == "sys_platform == 'win32'"
    assert _exact(m, installed, DEFAULT)


def test_complement_is_shorter():
    installed = {t.key for t in DEFAULT if t.platform != "win_amd64"}
    m = markers.synthesize(installed, DEFAULT)
    assert m == "sys_platform != 'win32'"
    assert _exact(m, installed, DEFAULT)


def test_needs_two_attributes():
    installed = {KEYS["macosx_11_0_arm64"], KEYS["manylinux_2_28_x86_64"]}
    m = markers.synthesize(installed, DEFAULT)
    assert _exact(m, installed, DEFAULT)
    assert "sys_platform" in m and "platform_machine" in m


def test_python_versions():
    ts = [Target((3, 11), "win_amd64"), Target((3, 12), "win_amd64")]
    m = markers.synthesize({ts[0].key}, ts)
    assert m == "python_version == '3.11'"


def test_indistinguishable_targets_are_reported():
    ts = [Target((3, 11), "manylinux_2_28_x86_64"), Target((3, 11), "musllinux_1_2_x86_64")]
    with pytest.raises(ValueError):
        markers.synthesize({ts[0].key}, ts)


def test_evaluator_uses_target_environment():
    ev = markers.evaluator("sys_platform == 'darwin' and platform_machine == 'arm64'")
    assert [t.platform for t in DEFAULT if ev(t)] == ["macosx_11_0_arm64"]
    assert all(markers.evaluator(None)(t) for t in DEFAULT)
