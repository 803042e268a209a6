"""vpython.env.plan: the per-digest plan, saved after a slow path and used while valid."""

from __future__ import annotations

import json
import os

import pytest

from vpython.env import plan as planmod
from vpython.env.build import env_key
from vpython.env.plan import PlanArtifact, PlanInterpreter, load_plan, plan_path, save_plan
from vpython.lock.pylock import Artifact
from vpython.spec.discover import DiscoveredSpec
from vpython.store.root import Layout

A = Artifact(
    name="tinypkg",
    version="1.0",
    filename="tinypkg-1.0-py3-none-any.whl",
    sha256="a" * 64,
    path="/wh/tinypkg-1.0-py3-none-any.whl",
    size=10,
)


@pytest.fixture
def case(tmp_path):
    """(layout, discovered, interp, lock file) of a spec that was built once."""
    python = tmp_path / "python3"
    python.write_text("#!")
    lock = tmp_path / "pylock.s.toml"
    lock.write_text("lock-version = '1.0'\n")
    discovered = DiscoveredSpec("pep723", str(tmp_path / "s.py"), "# deps", 0, "inline", str(lock))
    interp = PlanInterpreter(str(python), (3, 11, 7), "cpython-311")
    return Layout(str(tmp_path / "root")), discovered, interp, str(lock)


def _save(case, artifacts=(A,), key=None, warnings=("w1",)):
    layout, discovered, interp, lock = case
    key = key or env_key(interp, artifacts)
    save_plan(layout, "dg", discovered, interp, list(artifacts), key, lock, list(warnings))
    return key


def test_a_saved_plan_loads_back_with_the_same_key(case):
    layout, discovered, interp, _ = case
    key = _save(case)
    plan = load_plan(layout, "dg", discovered)
    assert plan is not None and plan.key == key and plan.warnings == ["w1"]
    assert (plan.interp.path, plan.interp.version, plan.interp.cache_tag) == (
        interp.path,
        (3, 11, 7),
        "cpython-311",
    )
    (a,) = plan.artifacts
    assert (a.name, a.filename, a.sha256, a.path, a.size, a.direct_url) == (
        A.name,
        A.filename,
        A.sha256,
        A.path,
        10,
        None,
    )
    assert os.listdir(layout.locks) == ["dg.plan.json"]  # published by rename, no temp left


def test_no_plan_without_a_save_or_for_another_digest(case):
    layout, discovered, _, _ = case
    assert load_plan(layout, "dg", discovered) is None
    _save(case)
    assert load_plan(layout, "other", discovered) is None


@pytest.mark.parametrize(
    "change", ["lock", "interpreter", "spec_path", "version", "format", "json", "artifact"]
)
def test_a_plan_is_used_only_while_everything_it_was_chosen_from_is_unchanged(case, change, monkeypatch):
    layout, discovered, interp, lock = case
    _save(case)
    path = plan_path(layout, "dg")
    if change == "lock":
        with open(lock, "a") as f:
            f.write("# edited\n")
    elif change == "interpreter":
        with open(interp.path, "a") as f:
            f.write("rebuilt")
    elif change == "spec_path":
        discovered = DiscoveredSpec(
            "pep723", discovered.path + "x", "# deps", 0, "inline", discovered.lock_path
        )
    elif change == "version":
        monkeypatch.setattr(planmod, "__version__", "99.0")
    elif change == "format":
        monkeypatch.setattr(planmod, "PLAN_FORMAT", "vpython-plan/2/1")
    else:
        data = json.load(open(path))
        if change == "json":
            data = "not a plan"
        else:
            del data["artifacts"][0]["sha256"]
        with open(path, "w") as f:
            json.dump(data, f)
    assert load_plan(layout, "dg", discovered) is None


def test_a_plan_whose_key_does_not_derive_is_stale(case):
    layout, discovered, _, _ = case
    _save(case, key="0" * 32)  # e.g. env keys changed in a new vpython
    assert load_plan(layout, "dg", discovered) is None


def test_no_plan_for_a_lock_whose_urls_carry_credentials(case):
    layout, discovered, _, _ = case
    secret = Artifact(
        name="p",
        version="1",
        filename="p-1-py3-none-any.whl",
        sha256="b" * 64,
        url="https://user:tok@example.invalid/p.whl",
    )
    _save(case, artifacts=(secret,))
    assert not os.path.exists(plan_path(layout, "dg"))


def test_a_cache_that_cannot_take_the_plan_only_costs_speed(case):
    layout, discovered, _, _ = case
    os.makedirs(layout.base)
    with open(layout.locks, "w") as f:  # locks/ cannot be made (as for a read-only root, even for root)
        f.write("")
    _save(case)  # no error
    assert os.path.isfile(layout.locks)


def test_plan_artifact_checks_its_required_fields():
    a = PlanArtifact({"name": "n", "version": "1", "filename": "f", "sha256": "s", "url": "u", "extra": 1})
    assert (a.url, a.path, a.size, a.direct_url) == ("u", None, None, None)
    assert vars(a)["extra"] == 1  # every field the plan holds
    with pytest.raises(TypeError):
        PlanArtifact({"name": "n", "version": 1, "filename": "f", "sha256": "s"})
    with pytest.raises(KeyError):
        PlanArtifact({"name": "n"})


def test_a_plan_with_a_built_wheel_holds_while_the_built_wheel_does(case, tmp_path):
    import dataclasses

    layout, discovered, _, _ = case
    built = tmp_path / "store-built" / "srconly-1.0-py3-none-any.whl"
    built.parent.mkdir()
    built.write_bytes(b"PK")
    b = dataclasses.replace(A, name="srconly", filename=built.name, path=str(built), built_from="b" * 64)
    _save(case, artifacts=(A, b))
    plan = load_plan(layout, "dg", discovered)
    assert plan is not None and [a.built_from for a in plan.artifacts] == [None, "b" * 64]
    built.unlink()  # gc collected it: the slow path builds it again from the same lock
    assert load_plan(layout, "dg", discovered) is None
