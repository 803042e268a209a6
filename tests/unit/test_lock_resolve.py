"""From a plan to lockfile text, with the engine recorded instead of run: the early job
is used when it fits, preferences that uv rejects are dropped, a closed spec must list
every package, gaps are refused."""

from __future__ import annotations

import pytest

from vpython.errors import ResolutionError
from vpython.lock import early, engine_uv, resolve
from vpython.lock.model import Candidate, LockResult, LockedPackage, RawWheel
from vpython.lock.plan import Plan
from vpython.lock.pylock import parse_lock_text
from vpython.lock.targets import Target
from vpython.settings.sources import Sources
from vpython.spec.discover import DiscoveredSpec

TARGETS = [Target((3, 11), "win_amd64"), Target((3, 12), "manylinux_2_28_x86_64")]
PURE = Candidate("puredep", "1.1", (RawWheel("puredep-1.1-py3-none-any.whl", "a" * 64,
                                             url="https://files.example/puredep-1.1-py3-none-any.whl"),),
                 frozenset(t.key for t in TARGETS))


class _Job:
    def __init__(self, result):
        self._result, self.cancelled = result, False

    def result(self):
        if isinstance(self._result, Exception):
            raise self._result
        return self._result

    def cancel(self):
        self.cancelled = True


def _plan(tmp_path, requirements=("puredep",), closed=False, expected=None):
    d = DiscoveredSpec("pep723", str(tmp_path / "t.py"), "", 0, "test", str(tmp_path / "pylock.t.toml"))
    return Plan(discovered=d, spec=None, lock_path=d.lock_path, targets=list(TARGETS),
                requirements=list(requirements), closed=closed, sources=Sources(), engine="uv",
                spec_hash="f" * 64, expected=expected or {})


@pytest.fixture
def uv(monkeypatch):
    """engine_uv.start recorded: returns the queued jobs in order."""
    calls, queue = [], []

    def start(requirements, sources, targets, **kw):
        calls.append(kw)
        return queue.pop(0)

    monkeypatch.setattr(engine_uv, "start", start)
    return calls, queue


def test_nothing_to_resolve_runs_no_engine(tmp_path, uv):
    result = resolve.resolve(_plan(tmp_path, requirements=()))
    assert result.packages == [] and result.requires_python == ">=3.11" and uv[0] == []


def test_the_early_job_is_used_when_it_was_started_for_the_same_plan(tmp_path, uv):
    calls, _ = uv
    plan = _plan(tmp_path)
    job = _Job([PURE])
    result = resolve.resolve(plan, early=early.Early(plan, job, (False, (), None, None)))
    assert calls == [] and not job.cancelled
    assert [p.name for p in result.packages] == ["puredep"] and result.gaps == []


def test_an_early_job_for_other_inputs_is_cancelled_and_uv_started(tmp_path, uv):
    calls, queue = uv
    plan = _plan(tmp_path)
    stale = _Job([])
    queue.append(_Job([PURE]))
    result = resolve.resolve(plan, previous_text="old", early=early.Early(plan, stale, (False, (), None, None)))
    assert stale.cancelled and calls[0]["previous_lock"] == "old"
    assert [p.name for p in result.packages] == ["puredep"]


def test_preferences_uv_cannot_use_are_dropped(tmp_path, uv):
    calls, queue = uv
    queue += [_Job(ResolutionError("conflict", hint="h")), _Job([PURE])]
    result = resolve.resolve(_plan(tmp_path), previous_text="old lock")
    assert [c.get("previous_lock") for c in calls] == ["old lock", None]
    assert [p.name for p in result.packages] == ["puredep"]
    queue.append(_Job(ResolutionError("conflict", hint="h")))
    with pytest.raises(ResolutionError):  # without a previous lock, nothing to drop
        resolve.resolve(_plan(tmp_path))


def test_lock_renders_valid_pep751_text(tmp_path, uv):
    uv[1].append(_Job([PURE]))
    result, text = resolve.lock(_plan(tmp_path))
    _, raw = parse_lock_text(text, "x")
    assert [p["name"] for p in raw["packages"]] == ["puredep"]
    assert raw["tool"]["vpython"]["spec-hash"] == "f" * 64 and result.engine == "uv"


def test_a_gap_is_refused(tmp_path, uv):
    winonly = Candidate("winonly", "2.0", (RawWheel("winonly-2.0-cp311-cp311-win_amd64.whl", "b" * 64,
                                                    url="https://files.example/w.whl"),),
                        frozenset(t.key for t in TARGETS))
    uv[1].append(_Job([PURE, winonly]))
    with pytest.raises(ResolutionError) as e:
        resolve.lock(_plan(tmp_path))
    assert "winonly 2.0 has no wheel for cp312-cp312-manylinux_2_28_x86_64" in e.value.message


def test_a_closed_spec_must_list_what_the_resolution_installs(tmp_path):
    keys = [t.key for t in TARGETS]
    plan = _plan(tmp_path, closed=True, expected={keys[0]: {"puredep": None}, keys[1]: {}})
    result = LockResult([LockedPackage("puredep", "1.1", None, (), targets=tuple(keys)),
                         LockedPackage("extra", "2", None, (), targets=(keys[1],))], list(TARGETS), "uv", "")
    missing = resolve.missing_from_closed(plan, result)
    assert missing == [("extra", "2", [keys[1]]), ("puredep", "1.1", [keys[1]])]
    with pytest.raises(ResolutionError) as e:
        resolve.raise_for_missing(plan, missing)
    assert e.value.path == plan.discovered.path and e.value.exit_code == 2
    assert f"  - extra==2 (on {keys[1]})" in e.value.message
    assert 'name: "infra/python/wheels/extra-py3" version: "version:2"' in e.value.hint
    assert resolve.missing_from_closed(_plan(tmp_path), result) == []  # open specs may add packages
    resolve.raise_for_missing(plan, [])
