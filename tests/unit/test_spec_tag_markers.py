"""Match tags -> PEP 508 markers: each marker holds exactly where the tag semantics of
``spec.match`` (which a single-host run uses) say the tag or entry applies."""

from __future__ import annotations

import functools
import itertools

import pytest
from packaging.markers import Marker

from tests.support.hosts import HOSTS, LINUX_311, MIPS_27, marker_env
from vpython.spec.match import host_fields, package_matches, tag_matches
from vpython.spec.model import PEP425Tag, WheelEntry
from vpython.spec.tag_markers import FALSE_MARKER, entry_marker, tag_to_marker

W = "infra/python/wheels/"
# The chromium@ce4e28dd numpy pattern (§11 item 14), as in test_spec_normalize.
NUMPY_GENERIC = WheelEntry(W + "numpy/${vpython_platform}", "version:1.20.3", (),
                           (PEP425Tag(platform="macosx_11_0_arm64"),), 10)
NUMPY_MAC_ARM = WheelEntry(W + "numpy/mac-arm64_cp38_cp38", "version:1.21.1",
                           (PEP425Tag(platform="macosx_11_0_arm64"),), (), 15)

TAGS = [
    PEP425Tag(),
    PEP425Tag(python="cp38"),
    PEP425Tag(python="cp311"),
    PEP425Tag(python="cp27"),
    PEP425Tag(python="cp38", abi="abi3"),
    PEP425Tag(python="cp38", abi="cp38"),
    PEP425Tag(python="cp311", abi="cp311"),
    PEP425Tag(python="cp38", abi="none"),
    PEP425Tag(python="cp311", abi="none", platform="any"),
    PEP425Tag(python="cp311", platform="any"),
    PEP425Tag(python="cp38", abi="abi3", platform="any"),
    PEP425Tag(abi="cp27mu"),
    PEP425Tag(abi="cp311"),
    PEP425Tag(abi="abi3"),
    PEP425Tag(abi="none"),
    PEP425Tag(platform="any"),
    PEP425Tag(python="py3"),
    PEP425Tag(python="py2"),
    PEP425Tag(python="py38"),
    PEP425Tag(python="py312"),
    PEP425Tag(python="py3", abi="none", platform="any"),
    PEP425Tag(python="py3", abi="abi3"),
    PEP425Tag(platform="manylinux1_x86_64"),
    PEP425Tag(platform="manylinux2014_aarch64"),
    PEP425Tag(platform="manylinux_2_28_x86_64"),
    PEP425Tag(platform="linux_x86_64"),
    PEP425Tag(platform="linux_aarch64"),
    PEP425Tag(platform="linux_mips64"),
    PEP425Tag(platform="macosx_11_0_arm64"),
    PEP425Tag(platform="macosx_10_9_x86_64"),
    PEP425Tag(platform="macosx_10_10_intel"),
    PEP425Tag(platform="win_amd64"),
    PEP425Tag(platform="win32"),
    PEP425Tag(abi="cp27mu", platform="linux_mips64"),
    PEP425Tag(python="cp38", abi="cp38", platform="manylinux1_x86_64"),
    PEP425Tag(python="cp311", abi="abi3", platform="macosx_11_0_arm64"),
    PEP425Tag(python="cp38", abi="cp38", platform="win_amd64"),
]


@functools.lru_cache(maxsize=None)
def _marker(text: str) -> Marker:
    return Marker(text)


def _holds(marker_text: str | None, environment: dict) -> bool:
    if not marker_text:
        return True
    return _marker(marker_text).evaluate(environment)


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_tag_markers_equal_tag_semantics(host):
    environment, host_tags = HOSTS[host]
    for tag in TAGS:
        assert _holds(tag_to_marker(tag), environment) is tag_matches(tag, host_tags), (str(tag), tag_to_marker(tag))


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_entry_markers_equal_package_matches(host):
    environment, host_tags = HOSTS[host]
    host_tags = host_fields(host_tags)  # converted once: this test makes thousands of checks
    cp38, cp38_cp38 = PEP425Tag(python="cp38"), PEP425Tag(python="cp38", abi="cp38")
    many1, mac_arm = PEP425Tag(platform="manylinux1_x86_64"), PEP425Tag(platform="macosx_11_0_arm64")
    win, mips27 = PEP425Tag(platform="win_amd64"), PEP425Tag(abi="cp27mu", platform="linux_mips64")
    for match, not_match in itertools.product(
        [(), (cp38,), (cp38_cp38, many1), (mac_arm, win), (PEP425Tag(),)],
        [(), (many1,), (PEP425Tag(abi="cp311"), mac_arm), (mips27,), (PEP425Tag(),)],
    ):
        e = WheelEntry(W + "x-py3", "version:1", match, not_match)
        assert _holds(entry_marker(e), environment) is package_matches(e, host_tags), (match, not_match)
    for a, b in itertools.combinations(TAGS, 2):
        e = WheelEntry(W + "x-py3", "version:1", (a,), (b,))
        assert _holds(entry_marker(e), environment) is package_matches(e, host_tags), (a, b)
        e = WheelEntry(W + "x-py3", "version:1", (), (a, b))
        assert _holds(entry_marker(e), environment) is package_matches(e, host_tags), (a, b)
        e = WheelEntry(W + "x-py3", "version:1", (a, b), ())
        assert _holds(entry_marker(e), environment) is package_matches(e, host_tags), (a, b)


def test_marker_texts():
    assert tag_to_marker(PEP425Tag(abi="cp27mu")) == "python_version == '2.7'"
    assert tag_to_marker(PEP425Tag(python="cp311", abi="cp311")) == (
        "python_version == '3.11' and implementation_name == 'cpython'")
    assert tag_to_marker(PEP425Tag(platform="manylinux1_x86_64")) == (
        "sys_platform == 'linux' and platform_machine == 'x86_64'")
    assert tag_to_marker(PEP425Tag(platform="macosx_11_0_arm64")) == (
        "sys_platform == 'darwin' and platform_machine == 'arm64'")
    assert tag_to_marker(PEP425Tag(platform="win_amd64")) == (
        "sys_platform == 'win32' and platform_machine == 'AMD64'")
    assert tag_to_marker(PEP425Tag(abi="none")) == ""
    assert tag_to_marker(PEP425Tag()) == FALSE_MARKER
    abi3 = tag_to_marker(PEP425Tag(abi="abi3"))
    assert "implementation_name == 'cpython'" in abi3 and "python_version >= '3.2'" in abi3
    for t in TAGS:
        text = tag_to_marker(t)
        if text:
            Marker(text)  # valid PEP 508


def test_linux_arm64_marker_is_the_authors_intent():
    # vpython itself never matches linux_arm64 on a real host (pip says aarch64); the
    # marker follows the intent, and equals vpython's semantics under `verify`.
    text = tag_to_marker(PEP425Tag(platform="linux_arm64"))
    assert _holds(text, marker_env("3.11", "linux", "aarch64"))
    assert _holds(text, marker_env("3.11", "linux", "arm64"))
    assert not _holds(text, marker_env("3.11", "linux", "x86_64"))
    assert not _holds(text, marker_env("3.11", "darwin", "arm64"))
    assert tag_matches(PEP425Tag(platform="linux_arm64"), [PEP425Tag("cp311", "cp311", "linux_arm64")])


def test_unknown_platform_marker_is_conservative():
    assert tag_to_marker(PEP425Tag(platform="bar")) == "platform_machine == 'bar'"
    assert tag_to_marker(PEP425Tag(platform="freebsd_14_0_amd64")) == "platform_machine == 'amd64'"


def test_pathos_is_kept_on_linux_py3():
    # chromium's pathos entry: luci's 2026 translation drops the ABI and excludes it on every Linux.
    pathos = WheelEntry(
        W + "pathos/${vpython_platform}",
        "version:0.2.7.chromium.4",
        not_match_tag=(PEP425Tag(abi="cp27mu", platform="linux_mips64"),
                       PEP425Tag(abi="cp27mu", platform="linux_armv6l")),
    )
    text = entry_marker(pathos)
    assert "python_version != '2.7'" in text
    for name, (environment, host_tags) in HOSTS.items():
        assert _holds(text, environment) is package_matches(pathos, host_tags), name
    assert _holds(text, marker_env("3.11", "linux", "x86_64"))
    assert _holds(text, marker_env("3.8", "linux", "mips64"))
    assert not _holds(text, marker_env("2.7", "linux", "mips64"))
    assert not package_matches(pathos, MIPS_27)
    assert package_matches(pathos, LINUX_311)


def test_numpy_pattern_markers():
    generic, mac_arm = NUMPY_GENERIC, NUMPY_MAC_ARM
    g, m = entry_marker(generic), entry_marker(mac_arm)
    assert g == "sys_platform != 'darwin' or platform_machine != 'arm64'"
    # the hard-coded mac-arm64_cp38_cp38 segment adds its platform and interpreter
    assert m == ("sys_platform == 'darwin' and platform_machine == 'arm64' and "
                 "python_version == '3.8' and implementation_name == 'cpython'")
    assert _holds(g, marker_env("3.8", "linux", "x86_64")) and not _holds(m, marker_env("3.8", "linux", "x86_64"))
    assert not _holds(g, marker_env("3.8", "darwin", "arm64")) and _holds(m, marker_env("3.8", "darwin", "arm64"))
    assert _holds(g, marker_env("3.8", "darwin", "x86_64")) and not _holds(m, marker_env("3.8", "darwin", "x86_64"))


def test_entry_marker_none_and_false():
    assert entry_marker(WheelEntry(W + "six-py3", "version:1")) is None
    assert entry_marker(WheelEntry(W + "six-py3", "version:1", match_tag=(PEP425Tag(),))) == FALSE_MARKER
    assert entry_marker(WheelEntry(W + "six-py3", "version:1", not_match_tag=(PEP425Tag(),))) is None
