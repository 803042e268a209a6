"""The one lockfile writer: determinism, PEP 751 validity, no secrets/paths/timestamps."""

from __future__ import annotations

import os
import random

import pytest

from vpython.lock import engine_pex, engine_uv
from vpython.lock.locker import staleness
from vpython.lock.model import Candidate, LockResult, RawWheel
from vpython.lock.pylock import parse_lock_text, read_lock, render_lock, write_lock
from vpython.lock.select import select_packages
from vpython.lock.targets import Target

TARGETS = [Target((3, 11), p) for p in ("manylinux_2_28_x86_64", "macosx_11_0_arm64", "win_amd64")]
ALL = frozenset(t.key for t in TARGETS)


def _candidates(wheel_dir):
    def local(name):
        path = os.path.join(wheel_dir, name)
        with open(path, "wb") as f:
            f.write(name.encode())
        return RawWheel(name, "a" * 64, path=path)

    return [
        Candidate("fastpkg", "1.0", (
            RawWheel("fastpkg-1.0-cp311-cp311-win_amd64.whl", "B" * 64,
                     url="https://tok:s3cret@pypi.example/files/fastpkg-1.0-cp311-cp311-win_amd64.whl", size=10),
            RawWheel("fastpkg-1.0-cp311-cp311-macosx_11_0_arm64.whl", "c" * 64,
                     url="https://pypi.example/files/fastpkg-1.0-cp311-cp311-macosx_11_0_arm64.whl", size=11),
            RawWheel("fastpkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "d" * 64,
                     url="https://pypi.example/files/fastpkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", size=12),
        ), ALL),
        Candidate("puredep", "1.1", (local("puredep-1.1-py3-none-any.whl"),), ALL),
        Candidate("winonly", "2.0", (local("winonly-2.0-py3-none-any.whl"),), frozenset({TARGETS[2].key})),
    ]


def _render(candidates, lock_dir, targets=TARGETS, engine="uv", spec_path=None):
    packages, gaps = select_packages(candidates, targets, lock_dir=lock_dir)
    assert not gaps
    result = LockResult(packages, list(targets), engine, ">=3.11")
    return render_lock(result, spec_hash="f" * 64, spec_path=spec_path)


def test_same_resolution_same_bytes_whatever_the_order(tmp_path):
    wheels = tmp_path / "wheelhouse"
    wheels.mkdir()
    lock_dir = tmp_path / "proj"
    lock_dir.mkdir()
    base = _candidates(str(wheels))
    first = _render(base, str(lock_dir))
    rng = random.Random(7)
    for _ in range(5):
        shuffled = [Candidate(c.name, c.version, tuple(rng.sample(c.wheels, len(c.wheels))), c.installed_on)
                    for c in rng.sample(base, len(base))]
        assert _render(shuffled, str(lock_dir), targets=rng.sample(TARGETS, len(TARGETS))) == first


def test_output_is_valid_pep751_without_secrets_paths_or_timestamps(tmp_path):
    wheels = tmp_path / "wheelhouse"
    wheels.mkdir()
    (tmp_path / "proj").mkdir()
    text = _render(_candidates(str(wheels)), str(tmp_path / "proj"))
    lock, raw = parse_lock_text(text, "x")
    assert raw["created-by"] == "vpython" and raw["lock-version"] == "1.0"
    assert "s3cret" not in text and "tok" not in text
    assert str(tmp_path) not in text
    assert "upload-time" not in text
    names = [p["name"] for p in raw["packages"]]
    assert names == sorted(names)
    pure = next(p for p in raw["packages"] if p["name"] == "puredep")
    assert pure["wheels"][0]["path"] == "../wheelhouse/puredep-1.1-py3-none-any.whl"
    assert pure["wheels"][0]["size"] == len("puredep-1.1-py3-none-any.whl")
    fast = next(p for p in raw["packages"] if p["name"] == "fastpkg")
    assert [w["name"] for w in fast["wheels"]] == sorted(w["name"] for w in fast["wheels"])
    assert fast["wheels"][-1]["hashes"]["sha256"] == "b" * 64  # lower-cased
    win = next(p for p in raw["packages"] if p["name"] == "winonly")
    assert win["marker"] == "sys_platform == 'win32'"
    assert raw["tool"]["vpython"] == {"spec-hash": "f" * 64, "targets": sorted(t.key for t in TARGETS)}
    # One environment per targeted OS: installers elsewhere refuse the lock up front.
    assert raw["environments"] == ["sys_platform == 'darwin'", "sys_platform == 'linux'", "sys_platform == 'win32'"]
    # What an installer on each target gets, through packaging.pylock itself.
    for t in TARGETS:
        got = sorted(p.name for p, _ in lock.select(environment=t.environment(), tags=t.tags()))
        assert got == (["fastpkg", "puredep", "winonly"] if t.platform == "win_amd64" else ["fastpkg", "puredep"])


def test_the_engine_does_not_show_in_the_file(tmp_path):
    (tmp_path / "w").mkdir()
    (tmp_path / "p").mkdir()
    a = _render(_candidates(str(tmp_path / "w")), str(tmp_path / "p"), engine="uv")
    b = _render(_candidates(str(tmp_path / "w")), str(tmp_path / "p"), engine="pex")
    assert a == b and "engine" not in a


def test_environments_refuse_an_untargeted_os(tmp_path):
    (tmp_path / "w").mkdir()
    linux = [TARGETS[0]]
    cands = [c for c in _candidates(str(tmp_path / "w")) if c.name == "puredep"]
    lock, raw = parse_lock_text(_render(cands, str(tmp_path), targets=linux), "x")
    assert raw["environments"] == ["sys_platform == 'linux'"]
    assert [p.name for p, _ in lock.select(environment=linux[0].environment(), tags=linux[0].tags())] == ["puredep"]
    from packaging.pylock import PylockSelectError

    mac = TARGETS[1]  # a pure wheel would fit: the environments key is what refuses it
    with pytest.raises(PylockSelectError):
        list(lock.select(environment=mac.environment(), tags=mac.tags()))


def test_the_spec_is_recorded_and_another_specs_lock_is_recognised(tmp_path):
    from vpython.lock.pylock import owner_conflict, spec_path_in_lock

    (tmp_path / "w").mkdir()
    lock_path = str(tmp_path / "pylock.a-b.toml")
    assert spec_path_in_lock(lock_path, str(tmp_path / "a.b.py")) == "a.b.py"
    text = _render(_candidates(str(tmp_path / "w")), str(tmp_path), spec_path="a.b.py")
    _, raw = parse_lock_text(text, "x")
    assert raw["tool"]["vpython"]["spec"] == "a.b.py"
    assert owner_conflict(raw, lock_path, str(tmp_path / "a.b.py")) is None
    assert owner_conflict(raw, lock_path, str(tmp_path / "a.b.py.vpython3")) is None  # same script
    assert owner_conflict(raw, lock_path, str(tmp_path / "a-b.py")) == "a.b.py"
    # A lock written before the spec was recorded belongs to whoever uses it.
    _, old = parse_lock_text(_render(_candidates(str(tmp_path / "w")), str(tmp_path)), "x")
    assert "spec" not in old["tool"]["vpython"]
    assert owner_conflict(old, lock_path, str(tmp_path / "a-b.py")) is None
    # Directory specs: .vpython3 and vpython.toml are one owner.
    _, d = parse_lock_text(_render(_candidates(str(tmp_path / "w")), str(tmp_path), spec_path="vpython.toml"), "x")
    assert owner_conflict(d, str(tmp_path / "pylock.vpython.toml"), str(tmp_path / ".vpython3")) is None


def test_write_is_atomic_and_reports_no_change(tmp_path):
    path = tmp_path / "pylock.x.toml"
    assert write_lock(str(path), "a = 1\n") is True
    assert write_lock(str(path), "a = 1\n") is False
    assert write_lock(str(path), "a = 2\n") is True
    assert path.read_text() == "a = 2\n"
    assert sorted(os.listdir(tmp_path)) == ["pylock.x.toml"]


def test_staleness(tmp_path):
    (tmp_path / "w").mkdir()
    path = tmp_path / "pylock.x.toml"
    assert staleness(str(path), "f" * 64, TARGETS) == "it does not exist"
    write_lock(str(path), _render(_candidates(str(tmp_path / "w")), str(tmp_path)))
    assert staleness(str(path), "f" * 64, TARGETS) is None
    assert staleness(str(path), "e" * 64, TARGETS) == "the spec changed since it was locked"
    extra = TARGETS + [Target((3, 11), "manylinux_2_28_aarch64")]
    assert "cp311-cp311-manylinux_2_28_aarch64" in staleness(str(path), "f" * 64, extra)
    read_lock(str(path))
    write_lock(str(path), _render(_candidates(str(tmp_path / "w")), str(tmp_path), spec_path="x.py"))
    assert staleness(str(path), "f" * 64, TARGETS, spec_path=str(tmp_path / "x.py")) is None
    assert staleness(str(path), "f" * 64, TARGETS, spec_path=str(tmp_path / "x-y.py")) == \
        "it is the lock of another spec (x.py)"


def test_uv_pylock_is_read_into_candidates(tmp_path):
    data = {"packages": [
        {"name": "Foo_Bar", "version": "1.0", "marker": "sys_platform == 'win32'",
         "wheels": [{"url": "file:///srv/w/foo_bar-1.0-py3-none-any.whl", "hashes": {"sha256": "a" * 64}}]},
        {"name": "baz", "version": "2", "sdist": {"url": "https://x/baz-2.tar.gz", "hashes": {"sha256": "b" * 64}}},
    ]}
    foo, baz = engine_uv.candidates_from_pylock(data, TARGETS, str(tmp_path))
    assert foo.name == "foo-bar" and foo.installed_on == {TARGETS[2].key}
    assert foo.wheels[0].path == "/srv/w/foo_bar-1.0-py3-none-any.whl" and foo.wheels[0].url is None
    assert baz.wheels == () and baz.has_sdist_only
    packages, gaps = select_packages([foo, baz], TARGETS, lock_dir=str(tmp_path))
    assert {g.name for g in gaps} == {"baz"}


def test_pex_lock_is_read_into_candidates():
    data = {"locked_resolves": [
        {"platform_tag": ["cp311", "cp311", t.platform], "locked_requirements": [
            {"project_name": "PureDep", "version": "1", "artifacts": [
                {"algorithm": "sha256", "hash": "a" * 64, "url": "file:///w/puredep-1.0-py3-none-any.whl"}]},
        ] + ([{"project_name": "winonly", "version": "2.0", "artifacts": [
            {"algorithm": "sha256", "hash": "c" * 64,
             "url": "https://x.example/winonly-2.0-py3-none-any.whl"}]}] if t.platform == "win_amd64" else [])}
        for t in TARGETS
    ]}
    got = {c.name: c for c in engine_pex.candidates_from_lock(data, TARGETS)}
    assert got["puredep"].installed_on == ALL
    assert got["winonly"].installed_on == {TARGETS[2].key}
    assert got["puredep"].wheels[0].path == "/w/puredep-1.0-py3-none-any.whl"


@pytest.mark.parametrize("value", ["2026-01-31", "2026-01-31T00:00:00Z", "2026-01-31T10:00:00+02:00"])
def test_exclude_newer_accepts_timestamps(value):
    from vpython.lock.locker import validate_exclude_newer

    assert validate_exclude_newer(value) == value


def test_exclude_newer_rejects_garbage():
    from vpython.errors import UserError
    from vpython.lock.locker import validate_exclude_newer

    with pytest.raises(UserError) as e:
        validate_exclude_newer("last tuesday")
    assert e.value.exit_code == 2


def test_uv_output_is_pruned_to_wheels_some_target_can_install():
    text = (
        '[[packages]]\nname = "numpy"\nversion = "2.4.6"\nwheels = [\n'
        '    { url = "https://x/numpy-2.4.6-cp311-cp311-win_amd64.whl", size = 1, hashes = { sha256 = "aa" } },\n'
        '    { url = "https://x/numpy-2.4.6-cp312-cp312-win_amd64.whl", size = 1, hashes = { sha256 = "bb" } },\n'
        '    { url = "https://x/numpy-2.4.6-cp311-cp311-musllinux_1_2_x86_64.whl", hashes = { sha256 = "cc" } },\n'
        '    { url = "https://x/numpy-2.4.6-pp311-pypy311_pp73-win_amd64.whl", hashes = { sha256 = "dd" } },\n'
        ']\n\n[[packages]]\nname = "six"\nversion = "1"\n'
        'wheels = [{ url = "https://x/six-1-py2.py3-none-any.whl", hashes = { sha256 = "ee" } }]\n'
    )
    supported = set()
    for t in TARGETS:
        supported.update(t.tag_strings())
    pruned = engine_uv.prune_wheel_lines(text, supported)
    assert "cp311-cp311-win_amd64" in pruned and "six-1-py2.py3-none-any" in pruned
    assert "cp312" not in pruned and "musllinux" not in pruned and "pypy" not in pruned
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python < 3.11
        import tomli as tomllib

    data = tomllib.loads(pruned)
    assert [len(p["wheels"]) for p in data["packages"]] == [1, 1]
