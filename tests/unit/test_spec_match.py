"""match_tag semantics, the original's PEP 425 tag selector and CIPD platforms
(luci-go spec/match_test.go, wheels/pep425_test.go; docs reference §7)."""

from __future__ import annotations

import pytest
from packaging import tags as ptags

from vpython.errors import UserError
from vpython.spec.match import cipd_platform_for_tag, package_matches, select_tag, tag_matches
from vpython.spec.model import PEP425Tag, WheelEntry
from vpython.spec.templates import template_vars

# --------------------------------------------------------------------------- helpers


def T(text: str) -> ptags.Tag:
    return ptags.Tag(*text.split("-"))


def tags_of(*texts: str) -> list:
    return [T(t) for t in texts]


def linux_platforms(arch: str = "x86_64", glibc_minor: int = 36) -> list:
    plats = [f"linux_{arch}"]
    aliases = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    for minor in range(glibc_minor, 4, -1):
        plats.append(f"manylinux_2_{minor}_{arch}")
        if minor in aliases and (arch in ("x86_64", "i686") or minor == 17):
            plats.append(f"{aliases[minor]}_{arch}")
    return plats


def cpython_host(py=(3, 11), platforms=None) -> list:
    platforms = platforms or linux_platforms()
    interp = f"cp{py[0]}{py[1]}"
    out = list(ptags.cpython_tags(py, abis=[interp], platforms=platforms))
    return out + list(ptags.compatible_tags(py, interp, platforms))


def entry(match=(), not_match=()) -> WheelEntry:
    return WheelEntry("infra/python/wheels/x-py3", "version:1.0", tuple(match), tuple(not_match))


# --------------------------------------------------------------------------- matching

HOST = tags_of("cp38-cp38-manylinux1_x86_64", "cp38-abi3-manylinux1_x86_64", "py3-none-any")


@pytest.mark.parametrize(
    "tag,expected",
    [
        (PEP425Tag(python="cp38"), True),
        (PEP425Tag(abi="abi3"), True),
        (PEP425Tag(platform="manylinux1_x86_64"), True),
        (PEP425Tag(python="cp38", abi="cp38", platform="manylinux1_x86_64"), True),
        (PEP425Tag(python="py3", platform="any"), True),
        # every non-empty field must agree with ONE host tag
        (PEP425Tag(python="py3", platform="manylinux1_x86_64"), False),
        (PEP425Tag(python="cp39"), False),
        (PEP425Tag(platform="macosx_11_0_arm64"), False),
        (PEP425Tag(), False),  # the zero tag matches nothing
    ],
)
def test_tag_matches_partial_fields(tag, expected):
    assert tag_matches(tag, HOST) is expected


def test_zero_tag_matches_nothing_even_on_empty_fields():
    assert not tag_matches(PEP425Tag(), [PEP425Tag()])
    assert not tag_matches(PEP425Tag(), HOST)


def test_host_tags_may_be_strings_or_pep425tags():
    assert tag_matches(PEP425Tag(abi="abi3"), ["cp38-abi3-win_amd64"])
    assert tag_matches(PEP425Tag(platform="win32"), [PEP425Tag("cp38", "cp38", "win32")])


def test_package_matches():
    linux = PEP425Tag(platform="manylinux1_x86_64")
    mac = PEP425Tag(platform="macosx_11_0_arm64")
    assert package_matches(entry(), HOST)  # no match_tag: included
    assert package_matches(entry(match=[mac, linux]), HOST)  # any match_tag
    assert not package_matches(entry(match=[mac]), HOST)
    assert not package_matches(entry(match=[PEP425Tag()]), HOST)  # match_tag {} alone excludes
    assert package_matches(entry(match=[PEP425Tag(), linux]), HOST)
    assert not package_matches(entry(not_match=[linux]), HOST)
    assert package_matches(entry(not_match=[mac]), HOST)
    assert package_matches(entry(not_match=[PEP425Tag()]), HOST)  # zero not_match never fires
    # not_match_tag overrides match_tag
    assert not package_matches(entry(match=[linux], not_match=[PEP425Tag(python="cp38")]), HOST)


def test_cp38_match_is_true_on_311_because_of_abi3_tags():
    host = cpython_host((3, 11))
    assert tag_matches(PEP425Tag(python="cp38"), host)
    assert tag_matches(PEP425Tag(python="cp38", abi="abi3"), host)
    assert not tag_matches(PEP425Tag(python="cp38", abi="cp38"), host)
    assert not tag_matches(PEP425Tag(python="cp312"), host)
    assert tag_matches(PEP425Tag(platform="manylinux1_x86_64"), host)
    # pip spells Linux ARM "aarch64": linux_arm64 never fires on a real arm64 host
    arm = cpython_host((3, 11), linux_platforms("aarch64"))
    assert not tag_matches(PEP425Tag(platform="linux_arm64"), arm)
    assert tag_matches(PEP425Tag(platform="linux_aarch64"), arm)


# --------------------------------------------------------------------------- selector
# The tag lists and outcomes of luci-go wheels/pep425_test.go.

LINUX_CP27 = tags_of(
    "py2-none-any", "py27-none-any", "cp27-cp27mu-linux_x86_64", "cp27-cp27mu-manylinux1_x86_64",
    "cp27-none-manylinux1_x86_64",
)

MAC_CP27 = tags_of(
    "cp27-cp27m-macosx_10_12_x86_64", "cp27-cp27m-macosx_10_12_fat64", "cp27-cp27m-macosx_10_12_fat32",
    "cp27-cp27m-macosx_10_12_intel", "cp27-cp27m-macosx_10_10_intel", "cp27-cp27m-macosx_10_9_fat64",
    "cp27-cp27m-macosx_10_9_fat32", "cp27-cp27m-macosx_10_9_universal", "cp27-cp27m-macosx_10_8_fat32",
    "cp27-cp27m-macosx_10_8_universal", "cp27-cp27m-macosx_10_6_intel", "cp27-cp27m-macosx_10_6_fat64",
    "cp27-cp27m-macosx_10_6_fat32", "cp27-cp27m-macosx_10_6_universal", "cp27-cp27m-macosx_10_5_universal",
    "cp27-cp27m-macosx_10_4_intel", "cp27-cp27m-macosx_10_4_fat32", "cp27-cp27m-macosx_10_1_universal",
    "cp27-cp27m-macosx_10_0_fat32", "cp27-cp27m-macosx_10_0_universal", "cp27-none-macosx_10_12_x86_64",
    "cp27-none-macosx_10_12_intel", "cp27-none-macosx_10_12_fat64", "cp27-none-macosx_10_9_universal",
    "cp27-none-macosx_10_8_x86_64", "cp27-none-macosx_10_8_intel", "cp27-none-macosx_10_7_intel",
    "cp27-none-macosx_10_7_fat64", "cp27-none-macosx_10_7_fat32", "cp27-none-macosx_10_6_universal",
    "cp27-none-macosx_10_5_x86_64", "cp27-none-macosx_10_5_intel", "cp27-none-macosx_10_3_fat32",
    "cp27-none-macosx_10_3_universal", "cp27-none-macosx_10_2_fat32", "py2-none-macosx_10_4_intel",
    "cp27-none-any", "cp27-cp27m-macosx_11_0_intel", "py2-none-macosx_10_3_intel",
)


def _linux_cp3(minor: int, exact_abi: bool = True) -> list:
    texts = ["cp3-none-any"]
    for w in range(2, 9):
        texts += [f"cp3{w}-abi3-linux_x86_64", f"cp3{w}-abi3-manylinux1_x86_64"]
    if minor == 8:
        texts += ["cp38-cp38-linux_x86_64", "cp38-cp38-manylinux1_x86_64"]
    else:
        texts += ["cp38-abi3-linux_x86_64", "cp38-abi3-manylinux1_x86_64",
                  f"cp3{minor}-cp3{minor}-linux_x86_64", f"cp3{minor}-cp3{minor}-manylinux1_x86_64"]
    texts += [f"cp3{minor}-none-any", f"cp3{minor}-none-linux_x86_64", f"cp3{minor}-none-manylinux1_x86_64",
              "py3-none-any", "py3-none-linux_x86_64", "py3-none-manylinux1_x86_64"]
    texts += [f"py3{w}-none-any" for w in range(0, 9)]
    return tags_of(*texts)


WIN_CP38 = tags_of(
    "cp38-cp38-win_amd64", "cp38-none-win_amd64", "py3-none-win_amd64", "cp38-none-any", "cp3-none-any",
    "py38-none-any", "py3-none-any", "py37-none-any", "py36-none-any", "py35-none-any", "py34-none-any",
    "py33-none-any", "py32-none-any", "py31-none-any", "py30-none-any",
)

MAC_ARM64_ABI3 = tags_of(
    "cp38-abi3-macosx_10_12_x86_64", "cp38-abi3-macosx_10_12_intel", "cp38-abi3-macosx_10_12_fat64",
    "cp38-abi3-macosx_10_12_fat32", "cp38-abi3-macosx_10_12_arm64", "cp38-abi3-macosx_10_12_universal",
    "cp38-abi3-macosx_10_11_arm64",
)


@pytest.mark.parametrize(
    "host,expected",
    [
        (LINUX_CP27, {"platform": "linux-amd64", "py_tag": "cp27-cp27mu-manylinux1_x86_64",
                      "vpython_platform": "linux-amd64_cp27_cp27mu"}),
        (MAC_CP27, {"platform": "mac-amd64", "py_tag": "cp27-cp27m-macosx_10_4_intel",
                    "vpython_platform": "mac-amd64_cp27_cp27m"}),
        (tags_of("py27-none-any", "py27-none-linux_i686"),
         {"platform": "linux-386", "py_tag": "py27-none-linux_i686", "vpython_platform": "linux-386_py27_none"}),
        (tags_of("py27-none-any", "py27-none-linux_x86_64"),
         {"platform": "linux-amd64", "py_tag": "py27-none-linux_x86_64",
          "vpython_platform": "linux-amd64_py27_none"}),
        (_linux_cp3(8), {"platform": "linux-amd64", "py_tag": "cp38-cp38-manylinux1_x86_64",
                         "vpython_platform": "linux-amd64_cp38_cp38"}),
        (_linux_cp3(9), {"platform": "linux-amd64", "py_tag": "cp39-cp39-manylinux1_x86_64",
                         "vpython_platform": "linux-amd64_cp39_cp39"}),
        (WIN_CP38, {"platform": "windows-amd64", "py_tag": "cp38-cp38-win_amd64",
                    "vpython_platform": "windows-amd64_cp38_cp38"}),
        (MAC_ARM64_ABI3, {"platform": "mac-arm64", "py_tag": "cp38-abi3-macosx_10_11_arm64",
                          "vpython_platform": "mac-arm64_cp38_abi3"}),
    ],
)
def test_selector_matches_luci_table(host, expected):
    tag = select_tag(host)
    got = template_vars(tag)
    for key, value in expected.items():
        assert got[key] == value, key
    python, abi, platform = expected["py_tag"].split("-")
    assert (got["py_python"], got["py_abi"], got["py_platform"]) == (python, abi, platform)
    assert (got["os"], got["arch"]) == tuple(got["platform"].split("-"))


def test_selector_returns_the_host_tag_object():
    host = tags_of("py3-none-any", "cp38-cp38-win_amd64")
    assert select_tag(host) is host[1]


def test_selector_empty_is_an_error():
    with pytest.raises(UserError, match="no PEP425 tag"):
        select_tag([])


def test_selector_unknown_platform_is_selected_then_fails():
    tag = select_tag(tags_of("py27-none-any", "py27-foo-bar"))
    assert str(tag) == "py27-foo-bar"
    with pytest.raises(UserError, match=r"failed to infer CIPD platform for tag \[py27-foo-bar\]"):
        template_vars(tag)


@pytest.mark.parametrize(
    "py,platforms,tag,vpython_platform",
    [
        ((3, 11), linux_platforms("x86_64"), "cp311-cp311-manylinux1_x86_64", "linux-amd64_cp311_cp311"),
        # no manylinux1 for aarch64: the original's linux_ preference is kept
        ((3, 11), linux_platforms("aarch64"), "cp311-cp311-linux_aarch64", "linux-arm64_cp311_cp311"),
        ((3, 8), list(ptags.mac_platforms((14, 0), "arm64")), "cp38-cp38-macosx_11_0_arm64",
         "mac-arm64_cp38_cp38"),
        ((3, 11), list(ptags.mac_platforms((14, 0), "x86_64")), "cp311-cp311-macosx_10_4_intel",
         "mac-amd64_cp311_cp311"),
        ((3, 11), ["win_amd64"], "cp311-cp311-win_amd64", "windows-amd64_cp311_cp311"),
        ((3, 11), ["win32"], "cp311-cp311-win32", "windows-386_cp311_cp311"),
        ((3, 11), ["win_arm64"], "cp311-cp311-win_arm64", "windows-arm64_cp311_cp311"),  # extension
        ((3, 12), ["musllinux_1_2_x86_64", "linux_x86_64"], "cp312-cp312-linux_x86_64",
         "linux-amd64_cp312_cp312"),
    ],
)
def test_selector_on_packaging_lists(py, platforms, tag, vpython_platform):
    selected = select_tag(cpython_host(py, platforms))
    assert str(selected) == tag
    assert template_vars(selected)["vpython_platform"] == vpython_platform


def test_selector_on_real_sys_tags():
    host = list(ptags.sys_tags())
    selected = select_tag(host)
    assert selected in host
    variables = template_vars(selected)  # must not fail on a modern host
    interp = ptags.interpreter_name() + ptags.interpreter_version()
    assert variables["py_python"] == interp
    assert variables["vpython_platform"].startswith(variables["platform"] + "_")
    assert variables["platform"] == f"{variables['os']}-{variables['arch']}"


def test_selector_only_modern_linux_tags():
    # A list the original would fail on: no linux_/manylinux1_ at all.
    host = tags_of("cp311-cp311-manylinux_2_28_aarch64", "cp311-cp311-manylinux2014_aarch64", "py3-none-any")
    selected = select_tag(host)
    assert str(selected) == "cp311-cp311-manylinux_2_28_aarch64"
    assert template_vars(selected)["platform"] == "linux-arm64"


# --------------------------------------------------------------------------- CIPD platform


@pytest.mark.parametrize(
    "platform,expected",
    [
        ("linux_i686", ("linux", "386")),
        ("linux_x86_64", ("linux", "amd64")),
        ("manylinux1_x86_64", ("linux", "amd64")),
        ("linux_arm64", ("linux", "arm64")),
        ("linux_aarch64", ("linux", "arm64")),
        ("linux_mips", ("linux", "mips32")),
        ("linux_mipsel", ("linux", "mips32")),
        ("linux_mips64", ("linux", "mips64")),
        ("linux_riscv64", ("linux", "riscv64")),
        ("linux_armv7l", ("linux", "armv6l")),
        ("macosx_10_10_intel", ("mac", "amd64")),
        ("macosx_10_12_x86_64", ("mac", "amd64")),
        ("macosx_10_6_fat64", ("mac", "amd64")),
        ("macosx_10_6_universal", ("mac", "amd64")),
        ("macosx_11_0_arm64", ("mac", "arm64")),
        ("macosx_10_6_i386", ("mac", "386")),
        ("macosx_10_6_fat32", ("mac", "386")),
        ("win32", ("windows", "386")),
        ("win_amd64", ("windows", "amd64")),
        # extensions
        ("manylinux2014_aarch64", ("linux", "arm64")),
        ("manylinux2010_x86_64", ("linux", "amd64")),
        ("manylinux_2_17_x86_64", ("linux", "amd64")),
        ("manylinux_2_28_aarch64", ("linux", "arm64")),
        ("musllinux_1_2_x86_64", ("linux", "amd64")),
        ("manylinux_2_17_ppc64le", ("linux", "ppc64le")),
        ("linux_s390x", ("linux", "s390x")),
        ("win_arm64", ("windows", "arm64")),
    ],
)
def test_cipd_platform_for_tag(platform, expected):
    assert cipd_platform_for_tag(PEP425Tag("cp311", "cp311", platform)) == expected
    assert cipd_platform_for_tag(T(f"cp311-cp311-{platform}")) == expected


@pytest.mark.parametrize("platform", ["any", "bar", "linux", "linux_sparc", "macosx_11_0_universal2", "win_ia64", ""])
def test_cipd_platform_unknown(platform):
    with pytest.raises(UserError, match="failed to infer CIPD platform"):
        cipd_platform_for_tag(PEP425Tag("py3", "none", platform))
