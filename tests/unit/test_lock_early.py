"""Starting uv from a provisional plan, and using its result only for the same inputs."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from vpython.lock import early, engine_uv
from vpython.lock.plan import Plan
from vpython.lock.targets import Target
from vpython.settings.sources import Sources
from vpython.spec.discover import DiscoveredSpec

NO_INPUTS = (False, (), None, None)


class _FakeJob:
    cancelled = False

    def cancel(self):
        self.cancelled = True


def _plan(reqs, targets=("win_amd64",)):
    return Plan(discovered=None, spec=None, lock_path="x", targets=[Target((3, 11), p) for p in targets],
                requirements=list(reqs), closed=False, sources=Sources(), engine="uv", spec_hash="")


def test_early_resolution_is_used_only_for_the_same_inputs():
    job = _FakeJob()
    started = early.Early(_plan(["a"]), job, NO_INPUTS)
    assert started.take(_plan(["a"]), NO_INPUTS) is job and not job.cancelled
    assert started.take(_plan(["a"]), NO_INPUTS) is None  # taken once
    job = _FakeJob()
    started = early.Early(_plan(["a"]), job, NO_INPUTS)
    assert started.take(_plan(["a", "b"]), NO_INPUTS) is None and job.cancelled
    job = _FakeJob()
    started = early.Early(_plan(["a"]), job, NO_INPUTS)
    assert started.take(_plan(["a"], ("win32",)), NO_INPUTS) is None and job.cancelled
    job = _FakeJob()
    started = early.Early(_plan(["a"]), job, NO_INPUTS)
    assert started.take(_plan(["a"]), (True, (), None, None)) is None and job.cancelled  # --upgrade


def test_same_resolution_compares_what_uv_is_given():
    assert early.same_resolution(_plan(["a"]), _plan(["a"]))
    assert not early.same_resolution(_plan(["a"]), _plan(["a"], ("win32",)))
    other = Plan(**{**_plan(["a"]).__dict__, "sources": Sources(index_url="https://mirror.example/simple")})
    assert not early.same_resolution(_plan(["a"]), other)
    assert early.inputs_of(0, ["x"], None, None) == (False, ("x",), None, None)


@pytest.fixture
def started(monkeypatch, tmp_path):
    """engine_uv.start recorded instead of run: (calls list)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    calls = []

    def fake_start(requirements, sources, targets, **kw):
        calls.append((list(requirements), [t.key for t in targets], kw))
        return _FakeJob()

    monkeypatch.setattr(engine_uv, "start", fake_start)
    return calls


def _pep723(tmp_path, body):
    script = str(tmp_path / "t.py")
    return DiscoveredSpec("pep723", script, body, 0, "test", str(tmp_path / "pylock.t.toml"))


FLAGS = SimpleNamespace(interpreter=None, index_url=None, extra_index_urls=(), find_links=(), offline=None,
                        exclude_newer=None)


def test_start_early_starts_uv_from_the_toml_alone(tmp_path, started, capsys):
    d = _pep723(tmp_path, 'dependencies = ["b", "a>=1"]\n[tool.vpython]\npython-version = "3.11"\n'
                          'platforms = ["win_amd64"]\n')
    got = early.start_early(d, flags=FLAGS, previous_text="old", python="/usr/bin/python3",
                            tool_cache=str(tmp_path / "tool-cache"))
    assert got is not None and isinstance(got.job, _FakeJob)
    assert started == [(["a>=1", "b"], ["cp311-cp311-win_amd64"],
                        {"python": "/usr/bin/python3", "previous_lock": "old", "upgrade": False,
                         "upgrade_packages": (), "context": d.path, "cache_dir": str(tmp_path / "tool-cache")})]
    assert got.inputs == (False, (), "old", "/usr/bin/python3")
    assert got.plan.spec_hash == ""  # provisional: the real plan computes it
    assert capsys.readouterr().err == ""  # the real pass says what there is to say


@pytest.mark.parametrize("kind, body, kw", [
    ("textproto", 'python_version: "3.11"\n', {}),  # no provisional read for text protos
    ("pep723", 'dependencies = ["a"]\n[tool.vpython]\npython-version = "3.11"\n', {"engine": "pex"}),
    ("pep723", "dependencies = 3\n", {}),  # rejected: the real parse reports it
    ("pep723", 'dependencies = ["a"]\nrequires-python = ">=3.10"\n', {}),  # needs interpreter discovery
    ("pep723", '[tool.vpython]\npython-version = "3.11"\n', {}),  # nothing to resolve
    ("pep723", 'dependencies = ["a"]\n[tool.vpython]\npython-version = "3.11"\n', {"engine": "poetry"}),
])
def test_start_early_declines_what_it_cannot_race(tmp_path, started, kind, body, kw):
    d = _pep723(tmp_path, body)
    d = DiscoveredSpec(kind, d.path, d.text, 0, "test", d.lock_path)
    assert early.start_early(d, flags=FLAGS, **kw) is None
    assert started == []


def test_a_plan_error_in_the_early_pass_is_silent(tmp_path, started, capsys):
    d = _pep723(tmp_path, 'dependencies = ["a"]\n[tool.vpython]\nplatforms = ["freebsd_amd64"]\n')
    assert early.start_early(d, flags=FLAGS, pythons=["3.11"]) is None
    assert started == [] and capsys.readouterr().err == ""
    assert sys.modules["vpython.log"]._level[0] < 1000  # log.quiet() restored the level
