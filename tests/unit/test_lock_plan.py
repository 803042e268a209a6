"""What a lock run decides before resolving: targets, Python versions, resolver input."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from vpython.interpreters import discover, select
from vpython.errors import UserError
from vpython.lock import locker
from vpython.lock.markers import evaluator
from vpython.lock.targets import DEFAULT_PLATFORMS, Target
from vpython.spec.model import PEP425Tag, Spec
from vpython.spec.parse import parse_spec


def _keys(targets):
    return [t.key for t in targets]


def test_precedence_platform_flag_then_tool_then_verify_tags_then_default():
    spec = Spec(kind="textproto", python_version="3.11",
                verify_pep425_tags=(PEP425Tag("cp311", "cp311", "manylinux1_x86_64"),
                                    PEP425Tag("cp311", "cp311", "win_amd64")))
    got, origin = locker.choose_targets(spec)
    assert origin == "verify_pep425_tag"
    assert _keys(got) == ["cp311-cp311-manylinux_2_5_x86_64", "cp311-cp311-win_amd64"]
    got, origin = locker.choose_targets(spec, platforms=["macosx_11_0_arm64"])
    assert (origin, _keys(got)) == ("--platform", ["cp311-cp311-macosx_11_0_arm64"])
    got, _ = locker.choose_targets(spec, pythons=["3.12"])
    assert _keys(got) == ["cp312-cp312-manylinux_2_5_x86_64", "cp312-cp312-win_amd64"]
    toml = Spec(kind="pep723", dependencies=("x",), tool={"python-version": "3.10", "platforms": ["win_amd64"]})
    got, origin = locker.choose_targets(toml)
    assert (origin, _keys(got)) == ("[tool.vpython] platforms", ["cp310-cp310-win_amd64"])
    plain = Spec(kind="pep723", dependencies=("x",), tool={"python-version": "3.12"})
    got, origin = locker.choose_targets(plain)
    assert origin == "default platforms"
    assert sorted(_keys(got)) == sorted(f"cp312-cp312-{p}" for p in DEFAULT_PLATFORMS)


def _fake_interp(version):
    return SimpleNamespace(version=version, supported=version[:2] >= (3, 8),
                           version_string=".".join(map(str, version)))


def test_requires_python_picks_the_lowest_installed_minor(monkeypatch):
    found = [_fake_interp(v) for v in [(3, 13, 0), (3, 11, 7), (3, 10, 13), (3, 9, 18), (2, 7, 18)]]
    monkeypatch.setattr(discover, "find_interpreters", lambda cache_dir=None: found)
    monkeypatch.setattr(select, "select_interpreter", lambda **kw: _fake_interp((3, 10, 13)))
    spec = Spec(kind="pep723", dependencies=("x",), requires_python=">=3.10")
    assert locker.default_python(spec) == (3, 10)
    with pytest.raises(UserError):
        locker.default_python(Spec(kind="pep723", requires_python=">=3.14"))


def test_runner_mismatch_is_warned(monkeypatch, capsys):
    found = [_fake_interp(v) for v in [(3, 11, 7), (3, 10, 13)]]
    monkeypatch.setattr(discover, "find_interpreters", lambda cache_dir=None: found)
    monkeypatch.setattr(select, "select_interpreter", lambda **kw: _fake_interp((3, 11, 7)))
    assert locker.default_python(Spec(kind="pep723", requires_python=">=3.10")) == (3, 10)
    assert "runs here use 3.11" in capsys.readouterr().err


def test_without_any_version_the_running_interpreter_is_used():
    import sys

    assert locker.default_python(Spec(kind="pep723", dependencies=("x",))) == tuple(sys.version_info[:2])


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
    reqs, expected = locker.closed_requirements(spec, targets)
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
    from vpython.errors import ResolutionError

    with pytest.raises(ResolutionError) as e:
        locker.closed_requirements(spec, targets)
    assert "muslonly==1.0" in str(e.value) and e.value.exit_code == 2


class _FakeJob:
    cancelled = False

    def cancel(self):
        self.cancelled = True


def _plan(reqs, targets=("win_amd64",)):
    from vpython.settings.sources import Sources

    return locker.Plan(discovered=None, spec=None, lock_path="x", targets=[Target((3, 11), p) for p in targets],
                       requirements=list(reqs), closed=False, sources=Sources(), engine="uv", spec_hash="")


def test_early_resolution_is_used_only_for_the_same_inputs():
    job = _FakeJob()
    early = locker.Early(_plan(["a"]), job, (False, (), None, None))
    assert early.take(_plan(["a"]), (False, (), None, None)) is job and not job.cancelled
    job = _FakeJob()
    early = locker.Early(_plan(["a"]), job, (False, (), None, None))
    assert early.take(_plan(["a", "b"]), (False, (), None, None)) is None and job.cancelled
    job = _FakeJob()
    early = locker.Early(_plan(["a"]), job, (False, (), None, None))
    assert early.take(_plan(["a"], ("win32",)), (False, (), None, None)) is None and job.cancelled


def test_quick_spec_reads_pep723_with_tomllib_only():
    from vpython.spec.discover import DiscoveredSpec

    d = DiscoveredSpec("pep723", "/x/t.py", 'dependencies = ["a>=1"]\nrequires-python = ">=3.9"\n'
                       '[tool.vpython]\npython-version = "3.11"\n', 0, "test", "/x/pylock.t.toml")
    spec = locker._quick_spec(d)
    assert spec.dependencies == ("a>=1",) and spec.tool == {"python-version": "3.11"}
    bad = DiscoveredSpec("pep723", "/x/t.py", "dependencies = 3\n", 0, "test", "/x/pylock.t.toml")
    assert locker._quick_spec(bad) is None
