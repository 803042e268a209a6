"""CIPD wheel name/version → PyPI (docs reference §12)."""

from __future__ import annotations

import pytest

from vpython.errors import SpecError
from vpython.spec.cipd import denylist_reason, is_version_range, pypi_name, pypi_specifier, pypi_version
from vpython.spec.model import WheelEntry


@pytest.mark.parametrize(
    "cipd_name,expected",
    [
        ("infra/python/wheels/six-py2_py3", "six"),
        ("infra/python/wheels/six-py3", "six"),
        ("infra/python/wheels/six", "six"),
        ("infra/python/wheels/charset_normalizer-py3", "charset-normalizer"),
        ("infra/python/wheels/pyasn1_modules-py2_py3", "pyasn1-modules"),
        ("infra/python/wheels/ruamel_yaml_clib/${vpython_platform}", "ruamel-yaml-clib"),
        ("infra/python/wheels/numpy/${vpython_platform}", "numpy"),
        ("infra/python/wheels/numpy/mac-arm64_cp38_cp38", "numpy"),
        ("infra/python/wheels/pillow/linux-amd64_cp38_cp38", "pillow"),
        ("infra/python/wheels/psutil/${platform}_${py_python}_${py_abi}", "psutil"),
        ("infra/python/wheels/markdown-it-py-py3", "markdown-it-py"),  # ONE suffix only
        ("infra/python/wheels/absl-py-py3", "absl-py"),
        ("infra/python/wheels/httpx_sse-py3", "httpx-sse"),
        ("infra/python/wheels/opencv_python/${vpython_platform}", "opencv-python"),
        ("infra/python/wheels/requests_py2_py3", "requests"),
        ("infra/python/wheels/futures-py2", "futures"),
        ("infra/python/wheels/typing-extensions-py3", "typing-extensions"),
        ("infra/python/wheels/six-py2_py3/version:2.15.0", "six"),
        ("infra/python/wheels/my._-package", "my-package"),
        ("infra/python/wheels/complex---name", "complex-name"),
        ("infra/python/wheels/PyYAML-py3", "pyyaml"),
        # other prefixes: last segment that is not a template (nor a literal platform)
        ("my-package", "my-package"),
        ("custom/third_party/requests", "requests"),
        ("custom/third_party/numpy/${vpython_platform}", "numpy"),
        ("custom/third_party/numpy/linux-amd64", "numpy"),
        ("infra/tools/python/six-py3/${vpython_platform}", "six"),
    ],
)
def test_pypi_name(cipd_name, expected):
    assert pypi_name(cipd_name) == expected


@pytest.mark.parametrize("cipd_name", ["infra/python/wheels/", "${vpython_platform}", "${a}/${x}", "infra/python/wheels/${x}"])
def test_pypi_name_unmappable(cipd_name):
    e = WheelEntry(cipd_name, "version:1", line=7)
    with pytest.raises(SpecError) as info:
        pypi_name(cipd_name, entry=e, path="x/.vpython3")
    assert info.value.path == "x/.vpython3" and info.value.line == 7
    assert "x/.vpython3:7:" in str(info.value)


@pytest.mark.parametrize(
    "cipd_version,expected",
    [
        ("version:1.16.0", "1.16.0"),
        ("version:2.31.0", "2.31.0"),
        ("version:0.39b0", "0.39b0"),
        ("version:1.10.0.post2", "1.10.0.post2"),
        ("version:5.8.0.chromium.3", "5.8.0"),
        ("version:1.10.2.4.chromium.1", "1.10.2.4"),
        ("version:4.5.3.56.chromium.4", "4.5.3.56"),
        ("version:1.2.0+chromium.1", "1.2.0"),
        ("version:1.2.0.google.2", "1.2.0"),
        ("version:1.2.0.compatible.1", "1.2.0"),
        ("version:1.2.0.post1.chromium.1", "1.2.0.post1"),
        ("version:2024.07.31", "2024.7.31"),
        ("version:2@1.15.0.chromium.1", "1.15.0"),
        ("version:2@20.25.1.chromium.8", "20.25.1"),
        ("version:1.2.0.c1", "1.2.0rc1"),
        ("version:1.2.0a1", "1.2.0a1"),
        ("version:1.0", "1.0"),  # not 1: trailing zeros are kept (PyPI files say 1.0)
        ("version:1.2x.supported.1", ">=1.20,<1.22"),
        ("version:1.2x.supported.2", ">=1.20,<1.22"),
        ("version:2.3x.supported.1", ">=2.30,<2.40"),
    ],
)
def test_pypi_version(cipd_version, expected):
    assert pypi_version(cipd_version) == expected


def test_pypi_specifier():
    assert pypi_specifier("version:1.16.0") == "==1.16.0"
    assert pypi_specifier("version:1.2x.supported.1") == ">=1.20,<1.22"
    assert is_version_range(">=1.20,<1.22") and not is_version_range("1.2")


@pytest.mark.parametrize(
    "cipd_version,why",
    [
        ("latest", "ref"),
        ("stable", "ref"),
        ("git_revision:0123456789abcdef0123456789abcdef01234567", "git_revision"),
        ("build_id:123", "build_id"),
        ("0123456789abcdef0123456789abcdef01234567", "instance ID"),
        ("Yc1bCTVHyDWHrNFJiAXnbD0MaCy5YyCYDxIIi_cMnMwC", "instance ID"),
        ("version:2.5.6-0a1b2c3dx", "not a PEP 440"),
        ("version:1.2.0-hash", "not a PEP 440"),
        ("version:abc", "not a PEP 440"),
        ("version:1.2.0+local.7", "local version label"),
        ("", "empty"),
    ],
)
def test_pypi_version_unmappable(cipd_version, why):
    e = WheelEntry("infra/python/wheels/foo-py3", cipd_version, line=12)
    with pytest.raises(SpecError) as info:
        pypi_version(cipd_version, entry=e, path="src/.vpython3")
    err = info.value
    text = str(err)
    assert why in text
    assert err.path == "src/.vpython3" and err.line == 12
    assert text.startswith("src/.vpython3:12: ")
    assert "infra/python/wheels/foo-py3" in text and repr(cipd_version) in text
    assert "version:" in (err.hint or "")


def test_denylist():
    assert "Chromium-internal" in denylist_reason("infra-libs")
    assert "Chromium-internal" in denylist_reason("expect-tests", target_is_py3=False)
    assert "Python 2" in denylist_reason("futures", cipd_name="infra/python/wheels/futures-py2_py3")
    assert denylist_reason("futures", target_is_py3=False) is None
    # an explicit -py3 build of a backport is the author's deliberate choice
    assert denylist_reason("configparser", cipd_name="infra/python/wheels/configparser-py3") is None
    assert denylist_reason("six") is None


def test_the_config_map_renames_repins_or_drops_an_entry():
    from vpython.spec.cipd import mapped

    entry = WheelEntry("infra/python/wheels/opencv_python/${vpython_platform}", "version:2.4.13.2", line=7)
    table = {"opencv-python==2.4.13.2": ("", "4.1.2.30"), "opencv-python": ("other", ""),
             "infra/python/wheels/infra_libs-py2": None}
    assert mapped(entry, "opencv-python", "==2.4.13.2", table) == ("opencv-python", "==4.1.2.30")
    assert mapped(entry, "opencv-python", "==3.0", table) == ("other", "==3.0")  # name key: any version
    gone = WheelEntry("infra/python/wheels/infra_libs-py2", "version:1.3.0")
    assert mapped(gone, "infra-libs", "==1.3.0", table) is None  # the CIPD name as written wins
    assert mapped(gone, "six", "==1.0", {}) == ("six", "==1.0")
