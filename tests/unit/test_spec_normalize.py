"""Spec → Requirements for a target interpreter (docs reference §7.3, §11 items 10-16, §12)."""

from __future__ import annotations

import pytest
from packaging import tags as ptags

from tests.support.hosts import (
    LINUX_27,
    LINUX_38,
    LINUX_311,
    MAC_ARM_38,
    MAC_ARM_311,
    MAC_X86_38,
    MIPS_27,
    WIN32_38,
    WIN_311,
    cpython_host,
)
from vpython.errors import SpecError, UserError
from vpython.spec.model import (
    KIND_EMPTY,
    KIND_PEP723,
    KIND_TEXTPROTO,
    KIND_TOML,
    PEP425Tag,
    Requirements,
    Spec,
    WheelEntry,
)
from vpython.spec.normalize import normalize_spec, normalize_textproto, requires_python_for

W = "infra/python/wheels/"

# --------------------------------------------------------------------------- specs


def textproto(*wheels: WheelEntry, python_version: str = "", path: str = "/src/.vpython3") -> Spec:
    return Spec(kind=KIND_TEXTPROTO, path=path, python_version=python_version, wheels=tuple(wheels))


def wheel(name, version, line=None, match=(), not_match=()) -> WheelEntry:
    return WheelEntry(W + name if not name.startswith(("infra/", "custom/")) else name, version,
                      tuple(match), tuple(not_match), line)


# --------------------------------------------------------------------------- text proto


def test_basic_pins_sorted_and_closed():
    spec = textproto(
        wheel("six-py2_py3", "version:1.16.0", 3),
        wheel("charset_normalizer-py3", "version:3.3.2", 7),
        wheel("markdown-it-py-py3", "version:3.0.0", 11),
        wheel("pycnite-py3", "version:2024.07.31", 15),
        wheel("psutil/${vpython_platform}", "version:5.8.0.chromium.3", 19),
        python_version="3.11",
    )
    req = normalize_textproto(spec, LINUX_311)
    assert req == Requirements(
        requirements=(
            "charset-normalizer==3.3.2",
            "markdown-it-py==3.0.0",
            "psutil==5.8.0",
            "pycnite==2024.7.31",
            "six==1.16.0",
        ),
        closed=True,
        requires_python="==3.11.*",
    )
    assert normalize_spec(spec, LINUX_311) == req


@pytest.mark.parametrize("pv,expected", [("", ""), ("3", ">=3,<4"), ("3.11", "==3.11.*"),
                                          ("3.8", "==3.8.*"), ("3.11.4", "==3.11.4"), ("2.7", "==2.7.*")])
def test_requires_python(pv, expected):
    assert requires_python_for(pv) == expected
    assert normalize_textproto(textproto(python_version=pv), LINUX_311).requires_python == expected


@pytest.mark.parametrize("pv", ["python3", "3.x", "3.11.4.1", "3."])
def test_requires_python_invalid(pv):
    with pytest.raises(SpecError, match="python_version"):
        requires_python_for(pv, path="a/.vpython3")


# The chromium@ce4e28dd numpy pattern (§11 item 14).
NUMPY = textproto(
    wheel("numpy/${vpython_platform}", "version:1.20.3", 10, not_match=[PEP425Tag(platform="macosx_11_0_arm64")]),
    wheel("numpy/mac-arm64_cp38_cp38", "version:1.21.1", 15, match=[PEP425Tag(platform="macosx_11_0_arm64")]),
    wheel("six-py2_py3", "version:1.15.0", 20),
    python_version="3.8",
)


@pytest.mark.parametrize(
    "host,numpy",
    [(LINUX_38, "numpy==1.20.3"), (LINUX_311, "numpy==1.20.3"), (MAC_X86_38, "numpy==1.20.3"),
     (WIN_311, "numpy==1.20.3"), (MAC_ARM_38, "numpy==1.21.1"), (MAC_ARM_311, "numpy==1.21.1")],
)
def test_chromium_numpy_per_platform(host, numpy):
    assert normalize_textproto(NUMPY, host).requirements == (numpy, "six==1.15.0")


def test_numpy_pattern_without_tags_is_a_duplicated_package_on_mac_arm64():
    spec = textproto(
        wheel("numpy/${vpython_platform}", "version:1.20.3", 10),
        wheel("numpy/mac-arm64_cp38_cp38", "version:1.20.3", 15),
    )
    with pytest.raises(SpecError) as info:
        normalize_textproto(spec, MAC_ARM_38)
    err = info.value
    assert "duplicated package" in err.message and "mac-arm64_cp38_cp38" in err.message
    assert err.path == "/src/.vpython3" and err.line in (10, 15)
    assert "line 10" in err.message or "line 15" in err.message
    # on Linux the two names differ and map to one PyPI pin: merged
    assert normalize_textproto(spec, LINUX_38).requirements == ("numpy==1.20.3",)


def test_duplicate_entries_with_same_version_merge():
    spec = textproto(
        wheel("six-py2_py3", "version:1.15.0", 4),
        wheel("typing-extensions-py3", "version:4.0.1", 8),
        wheel("six-py2_py3", "version:1.15.0", 12),
        wheel("typing-extensions-py3", "version:4.0.1", 16),
    )
    assert normalize_textproto(spec, LINUX_311).requirements == ("six==1.15.0", "typing-extensions==4.0.1")


def test_duplicate_entries_with_different_versions_error_names_both_lines():
    spec = textproto(wheel("six-py2_py3", "version:1.15.0", 4), wheel("six-py2_py3", "version:1.16.0", 12))
    with pytest.raises(SpecError) as info:
        normalize_textproto(spec, LINUX_311)
    err = info.value
    assert err.message.startswith(
        f'multiple versions for package "{W}six-py2_py3": "version:1.16.0" != "version:1.15.0"'
    )
    assert err.line == 12 and "line 4" in err.message
    assert str(err).startswith("/src/.vpython3:12: ")


def test_conflicting_versions_are_fine_when_only_one_matches():
    spec = textproto(
        wheel("six-py2_py3", "version:1.15.0", 4, match=[PEP425Tag(python="cp27")]),
        wheel("six-py2_py3", "version:1.16.0", 12),
    )
    assert normalize_textproto(spec, LINUX_311).requirements == ("six==1.16.0",)
    with pytest.raises(SpecError, match="multiple versions"):
        normalize_textproto(spec, LINUX_27)


def test_cipd_spellings_of_one_project_merge_or_conflict():
    same = textproto(wheel("six-py2_py3", "version:1.16.0", 3), wheel("six", "version:1.16.0.chromium.1", 9))
    assert normalize_textproto(same, LINUX_311).requirements == ("six==1.16.0",)
    diff = textproto(wheel("six-py2_py3", "version:1.16.0", 3), wheel("six-py3", "version:1.15.0", 9))
    with pytest.raises(SpecError) as info:
        normalize_textproto(diff, LINUX_311)
    err = info.value
    assert 'multiple versions for PyPI package "six"' in err.message
    assert "line 3" in err.message and err.line == 9
    assert "six==1.16.0" in err.message and "six==1.15.0" in err.message


def test_match_filtering_and_not_match():
    spec = textproto(
        wheel("pywin32/${vpython_platform}", "version:300", 2, match=[PEP425Tag(platform="win_amd64"),
                                                                     PEP425Tag(platform="win32")]),
        wheel("psutil/${vpython_platform}", "version:5.9.0", 5, not_match=[PEP425Tag(platform="win32")]),
        wheel("typing-py2_py3", "version:3.7.4", 7, match=[PEP425Tag(python="cp27")]),
        wheel("never-py3", "version:1", 9, match=[PEP425Tag()]),
        wheel("abi3only/${vpython_platform}", "version:2.0", 11, match=[PEP425Tag(python="cp38")]),
    )
    assert normalize_textproto(spec, LINUX_311).requirements == ("abi3only==2.0", "psutil==5.9.0")
    assert normalize_textproto(spec, WIN_311).requirements == ("abi3only==2.0", "psutil==5.9.0", "pywin32==300")
    assert normalize_textproto(spec, WIN32_38).requirements == ("abi3only==2.0", "pywin32==300")


def test_template_skip_and_errors_have_lines():
    spec = textproto(wheel("linuxonly/${os=linux}_${arch}", "version:1.0", 3), wheel("six-py3", "version:1.16.0", 5))
    assert normalize_textproto(spec, LINUX_311).requirements == ("linuxonly==1.0", "six==1.16.0")
    assert normalize_textproto(spec, MAC_ARM_311).requirements == ("six==1.16.0",)
    bad = textproto(wheel("foo/${nope}", "version:1.0", 8))
    with pytest.raises(SpecError) as info:
        normalize_textproto(bad, LINUX_311)
    assert info.value.line == 8 and "unknown variable" in info.value.message
    leftover = textproto(wheel("foo/$platform", "version:1.0", 9))
    with pytest.raises(SpecError) as info:
        normalize_textproto(leftover, LINUX_311)
    assert info.value.line == 9


def test_platform_inference_only_when_a_template_needs_it():
    freebsd = cpython_host((3, 11), ["freebsd_14_0_amd64"])
    pure = textproto(wheel("six-py2_py3", "version:1.16.0", 1))
    assert normalize_textproto(pure, freebsd).requirements == ("six==1.16.0",)
    templated = textproto(wheel("numpy/${vpython_platform}", "version:1.26.4", 4))
    with pytest.raises(SpecError) as info:
        normalize_textproto(templated, freebsd)
    assert "failed to infer CIPD platform" in info.value.message and info.value.line == 4


def test_unmappable_versions_fail_only_when_installed():
    spec = textproto(
        wheel("oldthing-py2", "git_revision:deadbeef", 3, match=[PEP425Tag(python="cp27")]),
        wheel("six-py3", "version:1.16.0", 6),
    )
    assert normalize_textproto(spec, LINUX_311).requirements == ("six==1.16.0",)
    with pytest.raises(SpecError) as info:
        normalize_textproto(spec, LINUX_27)
    assert info.value.line == 3 and "git_revision" in info.value.message
    latest = textproto(wheel("six-py3", "latest", 6))
    with pytest.raises(SpecError) as info:
        normalize_textproto(latest, LINUX_311)
    assert str(info.value).startswith("/src/.vpython3:6: ") and "version:" in info.value.hint


def test_denylist_only_when_installed():
    spec = textproto(
        wheel("infra_libs-py2", "version:2.0.0", 3, match=[PEP425Tag(python="cp27")]),
        wheel("futures-py2_py3", "version:3.1.1", 5, match=[PEP425Tag(python="cp27")]),
        wheel("six-py3", "version:1.16.0", 7),
    )
    assert normalize_textproto(spec, LINUX_311).requirements == ("six==1.16.0",)
    # A Chromium-internal name is pinned like any other: a wheelhouse or a private index may
    # supply it; when none does, the resolver's failure becomes the private-package error.
    internal = textproto(wheel("infra_libs-py3", "version:2.0.0", 3))
    assert normalize_textproto(internal, LINUX_311).requirements == ("infra-libs==2.0.0",)


def test_the_config_cipd_map_renames_repins_or_drops_entries(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(
        '[cipd]\ninfra-libs = "my-infra-libs"\n"opencv-python==2.4.13.2" = "opencv-python==4.1.2.30"\n'
        '"infra/python/wheels/expect_tests-py2" = "==0.4"\nsix = false\n'
    )
    monkeypatch.setenv("VPYTHON_CONFIG", str(config))
    spec = textproto(
        wheel("infra_libs-py2_py3", "version:2.3.0", 3),
        wheel("opencv_python/${vpython_platform}", "version:2.4.13.2", 5),
        wheel("opencv_python-py3", "version:3.0", 6, match=[PEP425Tag(python="cp27")]),
        wheel("expect_tests-py2", "version:0.3.0", 7),
        wheel("six-py3", "version:1.16.0", 9),
        wheel("pyyaml-py3", "version:5.1", 11),
    )
    assert normalize_textproto(spec, LINUX_311).requirements == (
        "expect-tests==0.4", "my-infra-libs==2.3.0", "opencv-python==4.1.2.30", "pyyaml==5.1",
    )
    config.write_text('[cipd]\n"bad name!" = "x"\n')
    with pytest.raises(UserError) as info:
        normalize_textproto(spec, LINUX_311)
    assert info.value.path == str(config) and info.value.key == "cipd.bad name!"


def test_py2_backport_on_python3_is_flagged_not_refused(capsys):
    # Chromium's top-level .vpython3 lists funcsigs-py2_py3 with no match_tag; the original
    # installs it, so refusing it would reject the real spec.
    backport = textproto(wheel("funcsigs-py2_py3", "version:1.0.2", 49), wheel("six-py3", "version:1.16.0", 7))
    assert normalize_textproto(backport, LINUX_311).requirements == ("funcsigs==1.0.2", "six==1.16.0")
    err = capsys.readouterr().err
    assert "warning:" in err and ":49:" in err and "Python 2 backport" in err and 'python: "cp27"' in err
    normalize_textproto(backport, LINUX_38)  # a second target: said once per file and line
    normalize_textproto(backport, LINUX_311)
    assert "Python 2 backport" not in capsys.readouterr().err


def test_numpy_placeholder_becomes_a_range():
    spec = textproto(wheel("numpy/${vpython_platform}", "version:1.2x.supported.1", 2))
    assert normalize_textproto(spec, LINUX_38).requirements == ("numpy>=1.20,<1.22",)


def test_verify_tag_as_the_whole_host_list():
    spec = NUMPY
    verify = [PEP425Tag("cp38", "cp38", "macosx_11_0_arm64")]
    assert normalize_textproto(spec, verify).requirements == ("numpy==1.21.1", "six==1.15.0")
    assert normalize_textproto(spec, ["cp38-cp38-manylinux1_x86_64"]).requirements == (
        "numpy==1.20.3", "six==1.15.0")


def test_empty_host_list_with_templates_errors():
    with pytest.raises(SpecError, match="no PEP425 tag"):
        normalize_textproto(textproto(wheel("numpy/${vpython_platform}", "version:1.0", 1)), [])


def test_real_sys_tags():
    spec = textproto(
        wheel("numpy/${vpython_platform}", "version:1.26.4", 1),
        wheel("six-py2_py3", "version:1.16.0", 2),
    )
    assert normalize_textproto(spec, list(ptags.sys_tags())).requirements == ("numpy==1.26.4", "six==1.16.0")


CHROMIUM_TEXT = """\
python_version: "3.8"

wheel: <
  name: "infra/python/wheels/numpy/${vpython_platform}"
  version: "version:1.20.3"
  not_match_tag < platform: "macosx_11_0_arm64" >
>
wheel: <
  name: "infra/python/wheels/numpy/mac-arm64_cp38_cp38"
  version: "version:1.21.1"
  match_tag < platform: "macosx_11_0_arm64" >
>
wheel: < name: "infra/python/wheels/six-py2_py3" version: "version:1.15.0" >
wheel: < name: "infra/python/wheels/pathos/${vpython_platform}" version: "version:0.2.7.chromium.4"
  not_match_tag { abi: "cp27mu" platform: "linux_mips64" },
>
wheel: < name: "infra/python/wheels/six-py2_py3" version: "version:1.15.0" >
wheel: < name: "infra/python/wheels/six-py2_py3" version: "version:1.16.0" >
"""


def test_chromium_text_fixture():
    textproto_mod = pytest.importorskip("vpython.spec.textproto")
    spec = textproto_mod.parse_textproto(CHROMIUM_TEXT, "/chromium/.vpython3")
    with pytest.raises(SpecError) as info:  # the last entry conflicts with line 13
        normalize_textproto(spec, LINUX_38)
    assert str(info.value).startswith('/chromium/.vpython3:18: multiple versions for package')
    assert "line 13" in info.value.message
    fixed = textproto_mod.parse_textproto(CHROMIUM_TEXT.rsplit("wheel:", 1)[0], "/chromium/.vpython3")
    expected = {
        "linux": ("numpy==1.20.3", "pathos==0.2.7", "six==1.15.0"),
        "mac-arm64": ("numpy==1.21.1", "pathos==0.2.7", "six==1.15.0"),
        "mac-x86_64": ("numpy==1.20.3", "pathos==0.2.7", "six==1.15.0"),
    }
    for key, host in (("linux", LINUX_38), ("mac-arm64", MAC_ARM_38), ("mac-x86_64", MAC_X86_38)):
        req = normalize_textproto(fixed, host)
        assert req.requirements == expected[key] and req.requires_python == "==3.8.*", key
    assert normalize_textproto(fixed, MIPS_27).requirements == ("numpy==1.20.3", "six==1.15.0")


# --------------------------------------------------------------------------- other kinds


def test_pep723_dependencies_pass_through_sorted_and_deduplicated():
    spec = Spec(
        kind=KIND_PEP723,
        path="/src/script.py",
        dependencies=("requests>=2.31", "Rich", "requests >= 2.31", "rich", "attrs[tests]; python_version >= '3.9'"),
        requires_python=">=3.10",
    )
    req = normalize_spec(spec, LINUX_311)
    assert req.closed is False and req.requires_python == ">=3.10"
    assert req.requirements == ("attrs[tests]; python_version >= '3.9'", "requests>=2.31", "Rich")


def test_toml_and_empty():
    toml = Spec(kind=KIND_TOML, path="/src/vpython.toml", dependencies=("six==1.16.0",))
    assert normalize_spec(toml, LINUX_311) == Requirements(("six==1.16.0",), closed=False, requires_python="")
    assert normalize_spec(Spec(kind=KIND_EMPTY), LINUX_311) == Requirements((), closed=False)


def test_pep723_invalid():
    with pytest.raises(SpecError) as info:
        normalize_spec(Spec(kind=KIND_PEP723, path="/s.py", dependencies=("requests>=>2",)), LINUX_311)
    assert info.value.path == "/s.py" and "requests>=>2" in info.value.message
    with pytest.raises(SpecError, match="requires-python"):
        normalize_spec(Spec(kind=KIND_TOML, path="/v.toml", requires_python="3.10+"), LINUX_311)


def test_unknown_kind():
    with pytest.raises(UserError):
        normalize_spec(Spec(kind="bogus"), LINUX_311)
