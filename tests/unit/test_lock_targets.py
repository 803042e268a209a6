"""Lock targets: platform spellings, marker environments and tag lists."""

from __future__ import annotations

import pytest

from vpython.errors import UserError
from vpython.lock import targets as tg
from vpython.spec.model import PEP425Tag


def _tags(target):
    return [str(t) for t in target.tags()]


def test_legacy_manylinux_names_become_pep600():
    assert tg.parse_platform("manylinux1_x86_64") == "manylinux_2_5_x86_64"
    assert tg.parse_platform("manylinux2010_x86_64") == "manylinux_2_12_x86_64"
    assert tg.parse_platform("manylinux2014_aarch64") == "manylinux_2_17_aarch64"
    assert tg.parse_platform("linux_arm64") == "linux_aarch64"


@pytest.mark.parametrize("bad", ["any", "freebsd_13_amd64", "cp311", "", "manylinux_x_y_z"])
def test_unknown_platform_is_a_user_error(bad):
    with pytest.raises(UserError) as e:
        tg.parse_platform(bad)
    assert e.value.exit_code == 2
    assert "manylinux_2_28_x86_64" in str(e.value)  # the hint shows valid spellings


def test_manylinux_target_accepts_older_glibc_and_aliases_in_order():
    t = tg.Target((3, 11), "manylinux_2_28_x86_64")
    plats = t.platforms()
    assert plats[0] == "manylinux_2_28_x86_64"
    assert plats.index("manylinux_2_17_x86_64") < plats.index("manylinux2014_x86_64") < plats.index(
        "manylinux_2_5_x86_64")
    assert "manylinux_2_29_x86_64" not in plats
    assert "linux_x86_64" not in plats  # machine-specific builds are not portable
    tags = _tags(t)
    assert tags[0] == "cp311-cp311-manylinux_2_28_x86_64"
    assert "cp311-abi3-manylinux_2_17_x86_64" in tags
    assert "py3-none-any" in tags
    assert "cp312-cp312-manylinux_2_28_x86_64" not in tags


def test_chromium_linux_spelling_uses_default_glibc_floor_and_bare_tag():
    t = tg.parse_target("cp38-cp38-linux_arm64", [])[0]
    assert t.platform == "linux_aarch64" and t.python == (3, 8)
    assert t.environment()["platform_machine"] == "aarch64"
    plats = t.platforms()
    assert plats[0] == f"manylinux_{tg.DEFAULT_GLIBC[0]}_{tg.DEFAULT_GLIBC[1]}_aarch64"
    assert plats[-1] == "linux_aarch64"


def test_mac_targets():
    arm = tg.Target((3, 11), "macosx_11_0_arm64")
    env = arm.environment()
    assert (env["sys_platform"], env["platform_machine"], env["platform_system"]) == ("darwin", "arm64", "Darwin")
    assert "macosx_11_0_universal2" in arm.platforms()
    assert "macosx_14_0_arm64" not in arm.platforms()
    intel = tg.parse_target("cp38-cp38-macosx_10_10_intel", [])[0]
    assert intel.environment()["platform_machine"] == "x86_64"
    assert "macosx_10_9_x86_64" in intel.platforms()


def test_windows_targets():
    env = tg.Target((3, 12), "win_amd64").environment()
    assert env == {**env, "sys_platform": "win32", "os_name": "nt", "platform_machine": "AMD64",
                   "python_version": "3.12", "python_full_version": "3.12.0"}
    assert tg.Target((3, 12), "win32").environment()["platform_machine"] == "x86"
    assert _tags(tg.Target((3, 12), "win_amd64"))[0] == "cp312-cp312-win_amd64"


def test_parse_target_crosses_platforms_with_pythons():
    got = tg.parse_target("win_amd64", [(3, 11), (3, 12)])
    assert [t.key for t in got] == ["cp311-cp311-win_amd64", "cp312-cp312-win_amd64"]
    full = tg.parse_target("cp310-cp310-manylinux2014_x86_64", [(3, 11)])
    assert [t.key for t in full] == ["cp310-cp310-manylinux_2_17_x86_64"]


def test_python_versions():
    assert tg.parse_python_version("3.11") == (3, 11)
    assert tg.parse_python_version("3.11.4") == (3, 11, 4)
    assert tg.parse_python_version("cp312") == (3, 12)
    assert tg.Target((3, 11, 4), "win_amd64").python_full_version == "3.11.4"
    for bad in ("3", "two", "2.7"):
        with pytest.raises(UserError):
            tg.parse_python_version(bad)


def test_verify_tags_fill_missing_python_from_the_spec():
    got = tg.from_pep425(PEP425Tag(platform="win_amd64"), [(3, 11)], "spec")
    assert [t.key for t in got] == ["cp311-cp311-win_amd64"]
    with pytest.raises(UserError):
        tg.from_pep425(PEP425Tag(python="cp311"), [(3, 11)], "spec")


def test_recorded_targets_round_trip():
    ts = [tg.Target((3, 11), p) for p in tg.DEFAULT_PLATFORMS]
    assert tg.parse_recorded([t.key for t in ts]) == ts
    assert tg.dedupe(ts + ts) == tg.dedupe(ts)


def test_complete_platform_for_pex():
    cp = tg.Target((3, 11), "macosx_11_0_arm64").complete_platform()
    assert cp["marker_environment"]["sys_platform"] == "darwin"
    assert cp["compatible_tags"][0] == "cp311-cp311-macosx_11_0_arm64"
