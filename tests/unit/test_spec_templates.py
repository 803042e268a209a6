"""CIPD ${var} templates: the variables of the selected tag, expansion and skips
(luci-go cipd template_test.go, wheels/pep425_test.go; docs reference §7)."""

from __future__ import annotations

import pytest
from packaging import tags as ptags

from vpython.errors import SpecError
from vpython.spec.model import PEP425Tag
from vpython.spec.templates import TEMPLATE_VARS, expand_template, template_vars


def T(text: str) -> ptags.Tag:
    return ptags.Tag(*text.split("-"))


def test_template_vars_partial_tag():
    got = template_vars(PEP425Tag(platform="manylinux1_x86_64"))
    assert got == {"os": "linux", "arch": "amd64", "platform": "linux-amd64", "py_platform": "manylinux1_x86_64"}
    got = template_vars(PEP425Tag(python="cp38", abi="cp38", platform="win32"))
    assert got["vpython_platform"] == "windows-386_cp38_cp38"
    assert got["py_tag"] == "cp38-cp38-win32"


def test_a_full_tag_sets_every_variable():
    assert sorted(template_vars(T("cp311-cp311-win_amd64"))) == sorted(TEMPLATE_VARS)


VARS = template_vars(T("cp311-cp311-manylinux1_x86_64"))


@pytest.mark.parametrize(
    "template,expected",
    [
        ("infra/python/wheels/six-py2_py3", "infra/python/wheels/six-py2_py3"),
        ("infra/python/wheels/numpy/${vpython_platform}", "infra/python/wheels/numpy/linux-amd64_cp311_cp311"),
        ("a/${platform}_${py_python}_${py_abi}", "a/linux-amd64_cp311_cp311"),
        ("a/${os}-${arch}/${py_platform}/${py_tag}", "a/linux-amd64/manylinux1_x86_64/cp311-cp311-manylinux1_x86_64"),
        ("a/${os=linux,mac}", "a/linux"),
        ("a/${os=mac,windows}", None),  # skipped silently
        ("a/${arch=arm64}/${vpython_platform}", None),
        ("a/${nope=x}/${os=mac}", None),  # as in the original, a skip wins over an unknown var
    ],
)
def test_expand_template(template, expected):
    assert expand_template(template, VARS) == expected


@pytest.mark.parametrize("template", ["a/${nope}", "a/${nope=linux}", "a/$os", "a/${os", "a/$"])
def test_expand_template_errors(template):
    with pytest.raises(SpecError):
        expand_template(template, VARS)
    with pytest.raises(SpecError) as e:
        expand_template("a/${nope}", VARS)
    assert "known: " in e.value.message and e.value.hint
