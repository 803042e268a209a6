"""What a lock run decides before resolving: targets, Python versions, resolver input."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from vpython.interpreters import discover, select
from vpython.errors import UserError
from vpython.lock import plan
from vpython.lock.targets import DEFAULT_PLATFORMS
from vpython.spec.model import PEP425Tag, Spec


def _keys(targets):
    return [t.key for t in targets]


def test_precedence_platform_flag_then_tool_then_verify_tags_then_default():
    spec = Spec(kind="textproto", python_version="3.11",
                verify_pep425_tags=(PEP425Tag("cp311", "cp311", "manylinux1_x86_64"),
                                    PEP425Tag("cp311", "cp311", "win_amd64")))
    got, origin = plan.choose_targets(spec)
    assert origin == "verify_pep425_tag"
    assert _keys(got) == ["cp311-cp311-manylinux_2_5_x86_64", "cp311-cp311-win_amd64"]
    got, origin = plan.choose_targets(spec, platforms=["macosx_11_0_arm64"])
    assert (origin, _keys(got)) == ("--platform", ["cp311-cp311-macosx_11_0_arm64"])
    got, _ = plan.choose_targets(spec, pythons=["3.12"])
    assert _keys(got) == ["cp312-cp312-manylinux_2_5_x86_64", "cp312-cp312-win_amd64"]
    toml = Spec(kind="pep723", dependencies=("x",), tool={"python-version": "3.10", "platforms": ["win_amd64"]})
    got, origin = plan.choose_targets(toml)
    assert (origin, _keys(got)) == ("[tool.vpython] platforms", ["cp310-cp310-win_amd64"])
    plain = Spec(kind="pep723", dependencies=("x",), tool={"python-version": "3.12"})
    got, origin = plan.choose_targets(plain)
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
    assert plan.default_python(spec) == (3, 10)
    with pytest.raises(UserError):
        plan.default_python(Spec(kind="pep723", requires_python=">=3.14"))


def test_runner_mismatch_is_warned(monkeypatch, capsys):
    found = [_fake_interp(v) for v in [(3, 11, 7), (3, 10, 13)]]
    monkeypatch.setattr(discover, "find_interpreters", lambda cache_dir=None: found)
    monkeypatch.setattr(select, "select_interpreter", lambda **kw: _fake_interp((3, 11, 7)))
    assert plan.default_python(Spec(kind="pep723", requires_python=">=3.10")) == (3, 10)
    assert "runs here use 3.11" in capsys.readouterr().err


def test_without_any_version_the_running_interpreter_is_used():
    import sys

    assert plan.default_python(Spec(kind="pep723", dependencies=("x",))) == tuple(sys.version_info[:2])


@pytest.mark.parametrize("value", ["2026-01-31", "2026-01-31T00:00:00Z", "2026-01-31T10:00:00+02:00"])
def test_exclude_newer_accepts_timestamps(value):
    assert plan.validate_exclude_newer(value) == value


def test_exclude_newer_rejects_garbage():
    with pytest.raises(UserError) as e:
        plan.validate_exclude_newer("last tuesday")
    assert e.value.exit_code == 2 and e.value.hint


def test_engine_comes_from_the_flag_then_the_environment(monkeypatch):
    monkeypatch.delenv("VPYTHON_LOCK_ENGINE", raising=False)
    assert plan.engine_name(None) == "uv"
    monkeypatch.setenv("VPYTHON_LOCK_ENGINE", "pex")
    assert plan.engine_name(None) == "pex" and plan.engine_name("uv") == "uv"
    monkeypatch.setenv("VPYTHON_LOCK_ENGINE", "poetry")
    with pytest.raises(UserError) as e:
        plan.engine_name(None)
    assert "VPYTHON_LOCK_ENGINE=poetry" in str(e.value) and e.value.hint


FLAGS = SimpleNamespace(interpreter=None, index_url=None, find_links=(), offline=None, exclude_newer=None)


def _discovered(tmp_path, body):
    from vpython.spec.discover import DiscoveredSpec

    script = tmp_path / "t.py"
    return DiscoveredSpec("pep723", str(script), body, 0, "test", str(tmp_path / "pylock.t.toml"))


def test_make_plan_for_an_open_spec(tmp_path, monkeypatch):
    from vpython.spec.load import spec_hash

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    d = _discovered(tmp_path, 'dependencies = ["b", "a>=1"]\n[tool.vpython]\npython-version = "3.11"\n'
                              'platforms = ["win_amd64"]\nexclude-newer = "2026-01-01"\n')
    p = plan.make_plan(d, flags=FLAGS)
    assert (p.requirements, [t.key for t in p.targets], p.target_origin) == (
        ["a>=1", "b"], ["cp311-cp311-win_amd64"], "[tool.vpython] platforms")
    assert p.spec_hash == spec_hash(d) and p.spec_path == "t.py" and not p.closed and p.expected == {}
    assert p.sources.exclude_newer == "2026-01-01" and p.engine == "uv"
    assert plan.make_plan(d, flags=FLAGS, exclude_newer="none").sources.exclude_newer is None
    with pytest.raises(UserError) as e:
        plan.make_plan(d, flags=FLAGS, engine="pex")
    assert "exclude-newer cutoff 2026-01-01" in e.value.message and "--engine uv" in e.value.hint


def test_make_plan_keeps_the_cutoff_the_lock_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    d = _discovered(tmp_path, 'dependencies = ["a"]\n[tool.vpython]\npython-version = "3.11"\n'
                              'platforms = ["win_amd64"]\n')
    previous = {"tool": {"vpython": {"exclude-newer": "2025-01-01T00:00:00Z"}}}
    assert plan.make_plan(d, flags=FLAGS, previous=previous).sources.exclude_newer == "2025-01-01T00:00:00Z"
    assert plan.make_plan(d, flags=FLAGS, previous=previous, exclude_newer="none").sources.exclude_newer is None
    assert plan.make_plan(d, flags=FLAGS).sources.exclude_newer is None


def test_nothing_to_lock(tmp_path):
    from vpython.spec.discover import DiscoveredSpec

    with pytest.raises(UserError) as e:
        plan.make_plan(DiscoveredSpec("empty", None, "", 0, "no spec found", None), flags=FLAGS)
    assert "nothing to lock" in e.value.message and e.value.hint
