"""vpython.artifacts.inputs.choose_target: which lock target a build is for."""

from __future__ import annotations

import pytest

from vpython.artifacts import inputs
from vpython.errors import UserError
from vpython.lock.targets import parse_target

KEYS = ["cp311-cp311-manylinux_2_28_x86_64", "cp311-cp311-manylinux_2_28_aarch64",
        "cp311-cp311-macosx_11_0_arm64", "cp311-cp311-win_amd64", "cp312-cp312-manylinux_2_28_x86_64"]


def choice(keys=KEYS):
    return inputs.LockChoice(None, {}, "pylock.app.toml", [parse_target(k, [])[0] for k in keys])


def never():
    raise AssertionError("the fallback python must not be consulted when the lock decides")


def test_platform_and_python_pick_the_recorded_target():
    t = inputs.choose_target(choice(), "manylinux_2_28_aarch64", None, never)
    assert t.key == "cp311-cp311-manylinux_2_28_aarch64"
    t = inputs.choose_target(choice(), "manylinux_2_28_x86_64", "3.12", never)
    assert t.key == "cp312-cp312-manylinux_2_28_x86_64"
    t = inputs.choose_target(choice(), "cp311-cp311-win_amd64", None, never)
    assert t.key == "cp311-cp311-win_amd64" and t.environment()["sys_platform"] == "win32"
    # Legacy spelling canonicalised before the comparison.
    lock = choice(["cp311-cp311-manylinux_2_17_x86_64"])
    assert inputs.choose_target(lock, "manylinux2014_x86_64", None, never).key == "cp311-cp311-manylinux_2_17_x86_64"


def test_ambiguous_python_needs_the_flag():
    with pytest.raises(UserError, match="pass --python X.Y"):
        inputs.choose_target(choice(), "manylinux_2_28_x86_64", None, never)


@pytest.mark.parametrize("platform, python, named", [
    ("macosx_11_0_x86_64", None, "macosx_11_0_x86_64"),
    ("manylinux_2_28_aarch64", "3.12", "cp312-cp312-manylinux_2_28_aarch64"),
    ("cp313-cp313-win_amd64", None, "cp313-cp313-win_amd64"),
])
def test_a_target_the_lock_lacks_is_named_with_what_it_has(platform, python, named):
    with pytest.raises(UserError) as e:
        inputs.choose_target(choice(), platform, python, never)
    text = str(e.value)
    assert f"has no target {named}" in text and "pylock.app.toml" in text
    for k in KEYS:
        assert k in text
    assert e.value.exit_code == 2


def test_conflicting_python_and_full_tag():
    with pytest.raises(UserError, match="names Python 3.11 but --python is 3.12"):
        inputs.choose_target(choice(), "cp311-cp311-win_amd64", "3.12", never)


def test_host_default_uses_the_lock_target_for_this_os_and_cpu(monkeypatch):
    monkeypatch.setattr(inputs, "_host_os_arch", lambda: ("linux", "arm64"))
    assert inputs.choose_target(choice(), None, None, never).key == "cp311-cp311-manylinux_2_28_aarch64"
    monkeypatch.setattr(inputs, "_host_os_arch", lambda: ("darwin", "arm64"))
    assert inputs.choose_target(choice(), None, None, never).key == "cp311-cp311-macosx_11_0_arm64"
    monkeypatch.setattr(inputs, "_host_os_arch", lambda: ("linux", "x86_64"))
    assert inputs.choose_target(choice(), None, "3.12", never).key == "cp312-cp312-manylinux_2_28_x86_64"
    monkeypatch.setattr(inputs, "_host_os_arch", lambda: ("linux", "riscv64"))
    with pytest.raises(UserError, match="no target for this machine"):
        inputs.choose_target(choice(), None, None, never)


def test_a_lock_without_recorded_targets_builds_what_is_asked():
    t = inputs.choose_target(choice([]), "macosx_11_0_arm64", None, lambda: (3, 10))
    assert t.key == "cp310-cp310-macosx_11_0_arm64"


def test_host_platform_prefers_a_pep600_tag(monkeypatch):
    import packaging.tags

    monkeypatch.setattr(packaging.tags, "platform_tags",
                        lambda: iter(["linux_x86_64", "manylinux_2_36_x86_64", "manylinux_2_35_x86_64"]))
    assert inputs.host_platform() == "manylinux_2_36_x86_64"
    monkeypatch.setattr(packaging.tags, "platform_tags", lambda: iter(["linux_armv7l"]))
    assert inputs.host_platform() == "linux_armv7l"


def test_host_default_prefers_the_best_floor_this_machine_runs(monkeypatch):
    keys = ["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux_2_28_x86_64",
            "cp311-cp311-manylinux_2_39_x86_64", "cp311-cp311-musllinux_1_2_x86_64"]
    monkeypatch.setattr(inputs, "_host_os_arch", lambda: ("linux", "x86_64"))
    monkeypatch.setattr(inputs, "_host_platform_tags",
                        lambda: ["linux_x86_64"] + [f"manylinux_2_{m}_x86_64" for m in range(36, 16, -1)])
    assert inputs.choose_target(choice(keys), None, None, never).key == "cp311-cp311-manylinux_2_28_x86_64"
    # Only a floor above this machine's: still built (for deploying elsewhere).
    only = ["cp311-cp311-manylinux_2_39_x86_64"]
    assert inputs.choose_target(choice(only), None, None, never).key == only[0]
