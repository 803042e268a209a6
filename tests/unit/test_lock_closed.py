"""Resolver input for closed (text-proto) specs: per-target pins and their markers."""

from __future__ import annotations

import pytest

from vpython.errors import ResolutionError
from vpython.lock import closed
from vpython.lock.markers import evaluator
from vpython.lock.targets import Target
from vpython.spec.parse import parse_spec


TEXTPROTO = """\
python_version: "3.11"
wheel: < name: "infra/python/wheels/six-py2_py3" version: "version:1.16.0" >
wheel: <
  name: "infra/python/wheels/pywin32/${vpython_platform}"
  version: "version:306"
  match_tag: < platform: "win_amd64" >
>
wheel: <
  name: "infra/python/wheels/psutil/${vpython_platform}"
  version: "version:5.9.0"
  not_match_tag: < platform: "win_amd64" >
>
wheel: <
  name: "infra/python/wheels/psutil/${vpython_platform}"
  version: "version:5.8.0"
  match_tag: < platform: "win_amd64" >
>
"""


def test_closed_spec_pins_become_markers_per_target():
    spec = parse_spec("textproto", TEXTPROTO, "/x/tool.vpython3")
    targets = [Target((3, 11), p) for p in ("manylinux_2_28_x86_64", "macosx_11_0_arm64", "win_amd64")]
    reqs, expected = closed.closed_requirements(spec, targets)
    by_name = {}
    for r in reqs:
        text, _, marker = r.partition(" ; ")
        by_name[text] = marker or None
    assert by_name["six==1.16.0"] is None
    assert set(by_name) == {"six==1.16.0", "pywin32==306", "psutil==5.9.0", "psutil==5.8.0"}
    on = {text: {t.platform for t in targets if evaluator(m)(t)} for text, m in by_name.items()}
    assert on["pywin32==306"] == {"win_amd64"}
    assert on["psutil==5.8.0"] == {"win_amd64"}
    assert on["psutil==5.9.0"] == {"manylinux_2_28_x86_64", "macosx_11_0_arm64"}
    assert sorted(expected[targets[2].key]) == ["psutil", "pywin32", "six"]
    assert str(expected[targets[0].key]["psutil"].specifier) == "==5.9.0"


def test_pins_that_markers_cannot_separate_are_a_clear_error():
    spec = parse_spec("textproto", """\
python_version: "3.11"
wheel: < name: "infra/python/wheels/muslonly-py3" version: "version:1.0" match_tag: < platform: "musllinux_1_2_x86_64" > >
""", "/x/tool.vpython3")
    targets = [Target((3, 11), "manylinux_2_28_x86_64"), Target((3, 11), "musllinux_1_2_x86_64")]
    with pytest.raises(ResolutionError) as e:
        closed.closed_requirements(spec, targets)
    assert "muslonly==1.0" in str(e.value) and e.value.exit_code == 2


def test_entry_markers_are_keyed_by_the_pin_and_merge_entries():
    spec = parse_spec("textproto", TEXTPROTO, "/x/tool.vpython3")
    got = closed.entry_markers(spec)
    assert got["six==1.16.0"] == ""  # applies everywhere
    assert "win32" in got["psutil==5.8.0"] and "win32" in got["pywin32==306"]
    assert got["psutil==5.9.0"].startswith(("sys_platform != 'win32'", "platform_machine != 'AMD64'"))


def test_without_marker_drops_only_the_marker():
    assert str(closed.without_marker("six==1.16.0 ; sys_platform == 'win32'")) == "six==1.16.0"
    assert str(closed.without_marker("a[x]>=1")) == "a[x]>=1"
