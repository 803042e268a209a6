"""Reading and writing PEP 751 lockfiles: one deterministic writer (no secrets, paths or
timestamps), atomic writes, and errors that name the file, the key or the line."""

from __future__ import annotations

import os
import random

import pytest

from vpython.lock.model import Candidate, LockResult, RawWheel
from vpython.lock.pylock import parse_lock_text, read_lock
from vpython.lock.pylock_write import render_lock, write_lock
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




def test_write_keeps_the_mode_of_an_existing_lock_and_the_umask_default_for_a_new_one(tmp_path):
    path = tmp_path / "pylock.x.toml"
    old = os.umask(0o027)
    try:
        write_lock(str(path), "a = 1\n")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o640
    path.chmod(0o604)
    write_lock(str(path), "a = 2\n")
    assert path.stat().st_mode & 0o777 == 0o604 and path.read_text() == "a = 2\n"


def test_a_failed_write_is_a_lock_error_and_leaves_nothing(tmp_path, monkeypatch):
    import errno

    from vpython.errors import LockError

    path = tmp_path / "pylock.x.toml"
    path.write_text("a = 1\n")

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(LockError) as e:
        write_lock(str(path), "a = 2\n")
    assert e.value.path == str(path) and e.value.hint and e.value.exit_code == 2
    assert os.strerror(errno.ENOSPC) in e.value.message
    assert sorted(os.listdir(tmp_path)) == ["pylock.x.toml"] and path.read_text() == "a = 1\n"
    with pytest.raises(LockError) as e:
        write_lock(str(tmp_path / "missing-dir" / "pylock.x.toml"), "a = 2\n")
    assert e.value.path == str(tmp_path / "missing-dir" / "pylock.x.toml")


VALID = ('lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "six"\nversion = "1"\n'
         '[[packages.wheels]]\nname = "six-1-py3-none-any.whl"\nurl = "https://x/six.whl"\n')


def _lock_error(text, source="/w/pylock.toml"):
    from vpython.errors import LockError

    with pytest.raises(LockError) as e:
        parse_lock_text(text, source)
    assert e.value.path == source and e.value.hint and e.value.exit_code == 2
    return e.value


def test_errors_carry_the_key_path():
    e = _lock_error(VALID + "hashes = {sha256 = 1}\n")
    assert e.key == "packages[0].wheels[0].hashes"
    assert str(e).startswith("/w/pylock.toml: packages[0].wheels[0].hashes: invalid PEP 751 lockfile: ")
    e = _lock_error('lock-version = "2.0"\ncreated-by = "x"\npackages = []\n')
    assert e.key == "lock-version" and str(e).startswith("/w/pylock.toml: lock-version: ")


def test_toml_syntax_errors_carry_line_and_column():
    e = _lock_error('lock-version = "1.0"\ncreated-by = \n')
    assert (e.line, e.column, e.key) == (2, 14, None)
    assert str(e).startswith("/w/pylock.toml:2:14: not valid TOML: ")
    e = _lock_error('lock-version = [\n"1.0"')  # "at end of document": the last character
    assert (e.line, e.column) == (2, 6)


def test_a_wheel_without_sha256_names_its_key(tmp_path):
    from packaging import tags

    from vpython.errors import LockError
    from vpython.lock.pylock import select_artifacts

    lock, _ = parse_lock_text(VALID + 'hashes = {md5 = "00"}\n', "/w/pylock.toml")
    with pytest.raises(LockError) as e:
        select_artifacts(lock, source="/w/pylock.toml", environment=None, tags=list(tags.sys_tags()))
    assert (e.value.path, e.value.key) == ("/w/pylock.toml", "packages[0].wheels[0].hashes") and e.value.hint


def test_read_lock_locates_bad_bytes_and_reads_universal_newlines(tmp_path):
    from vpython.errors import LockError

    path = tmp_path / "pylock.x.toml"
    path.write_bytes(b'lock-version = "1.0"\ncreated-by = "\xff"\n')
    with pytest.raises(LockError) as e:
        read_lock(str(path))
    assert (e.value.path, e.value.line) == (str(path), 2) and e.value.hint
    path.write_bytes(b'lock-version = "1.0"\rcreated-by = "x"\r\npackages = []\n')
    assert read_lock(str(path))[1]["created-by"] == "x"
    with pytest.raises(LockError) as e:
        read_lock(str(tmp_path / "nope.toml"))
    assert e.value.path == str(tmp_path / "nope.toml") and "cannot read" in e.value.message


SDIST_ONLY = ('lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "srconly"\nversion = "1.0"\n'
              '[packages.sdist]\nname = "srconly-1.0.tar.gz"\npath = "sdists/srconly-1.0.tar.gz"\nsize = 3\n'
              '[packages.sdist.hashes]\nsha256 = "' + "A" * 64 + '"\n')


def test_a_package_with_only_an_sdist_is_selected_as_an_sdist_artifact():
    from packaging import tags

    from vpython.lock.pylock import select_artifacts

    lock, _ = parse_lock_text(SDIST_ONLY, "/w/pylock.toml")
    (a,) = select_artifacts(lock, source="/w/pylock.toml", environment=None, tags=list(tags.sys_tags()))
    assert (a.kind, a.filename, a.sha256, a.path, a.size) == (
        "sdist", "srconly-1.0.tar.gz", "a" * 64, "/w/sdists/srconly-1.0.tar.gz", 3)
    from vpython.errors import LockError

    lock, _ = parse_lock_text(SDIST_ONLY.replace('sha256 = "', 'md5 = "'), "/w/pylock.toml")
    with pytest.raises(LockError) as e:
        select_artifacts(lock, source="/w/pylock.toml", environment=None, tags=list(tags.sys_tags()))
    assert e.value.key == "packages[0].sdist.hashes"
