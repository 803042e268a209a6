"""``vpython lock`` / ``verify`` end to end against a local index (no PyPI).

The index serves ONE binary package built here for three platforms (``fastpkg``: manylinux
x86_64, macOS arm64, Windows amd64) plus a pure dependency in two versions, so the
multi-platform wheel selection is really exercised.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import textwrap

import pytest

from tests.support import make_wheel, serve_index, sha256_file
from tests.support.sdists import make_backend_wheels, make_sdist, tinybackend_pyproject

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
CP = f"cp{sys.version_info[0]}{sys.version_info[1]}"
PLATFORMS = ("manylinux_2_17_x86_64", "macosx_11_0_arm64", "win_amd64")
TARGET_KEYS = sorted(f"{CP}-{CP}-{p}" for p in PLATFORMS)


def _host_is_linux_x86_64() -> bool:
    import platform

    return sys.platform == "linux" and platform.machine() == "x86_64"


def build_fast_wheels(directory):
    os.makedirs(directory, exist_ok=True)
    for plat in PLATFORMS:
        make_wheel(directory, "fastpkg", "1.0", tag=f"{CP}-{CP}-{plat}", requires=["puredep>=1"])
    make_wheel(directory, "puredep", "1.0")
    make_wheel(directory, "puredep", "1.1")
    make_wheel(directory, "winonly", "2.0")
    return directory


@pytest.fixture
def fast_wheels(tmp_path):
    return build_fast_wheels(str(tmp_path / "wheels"))


@pytest.fixture
def fast_index(fast_wheels):
    with serve_index(fast_wheels) as index:
        yield index


@pytest.fixture
def sdist_index(tmp_path):
    """puredep as a wheel, srconly as an sdist only."""
    directory = str(tmp_path / "sdists")
    os.makedirs(directory)
    make_wheel(directory, "puredep", "1.0")
    make_backend_wheels(directory)  # uv reads srconly's metadata through its backend
    make_sdist(directory, "srconly", "1.0", pyproject=tinybackend_pyproject())
    with serve_index(directory) as index:
        yield index


def pep723_script(directory, deps=("fastpkg",), platforms=PLATFORMS, name="tool.py", body="import fastpkg\n"
                  "print('fastpkg', fastpkg.__version__)\n"):
    os.makedirs(directory, exist_ok=True)
    plats = ", ".join(f'"{p}"' for p in platforms)
    dep_list = ", ".join(f'"{d}"' for d in deps)
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(f"""\
            # /// script
            # dependencies = [{dep_list}]
            # [tool.vpython]
            # python-version = "{PY}"
            # platforms = [{plats}]
            # ///
            """) + body)
    return path


def vpython(*args, cwd, env=None, check=None):
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = REPO + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "vpython", *args], cwd=cwd, env=full_env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=300)
    if check is not None:
        assert proc.returncode == check, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def read_lock(path):
    from packaging.pylock import Pylock

    try:
        import tomllib
    except ImportError:  # pragma: no cover
        import tomli as tomllib
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    return Pylock.from_dict(raw), raw


# --------------------------------------------------------------------------- lock

def test_lock_selects_per_platform_wheels_and_relocks_identically(tmp_path, fast_index, fast_wheels):
    script = pep723_script(tmp_path / "proj")
    lock_path = tmp_path / "proj" / "pylock.tool.toml"
    proc = vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    assert "pylock.tool.toml" in proc.stdout
    first = lock_path.read_bytes()
    lock, raw = read_lock(lock_path)
    assert raw["created-by"] == "vpython"
    by_name = {p["name"]: p for p in raw["packages"]}
    assert sorted(by_name) == ["fastpkg", "puredep"]
    assert by_name["puredep"]["version"] == "1.1"  # ranges resolve to the newest version
    fast = sorted(w["name"] for w in by_name["fastpkg"]["wheels"])
    assert fast == sorted(f"fastpkg-1.0-{CP}-{CP}-{p}.whl" for p in PLATFORMS)
    for w in by_name["fastpkg"]["wheels"] + by_name["puredep"]["wheels"]:
        assert w["url"].startswith(fast_index.base_url + "files/")
        assert w["hashes"]["sha256"] == sha256_file(os.path.join(fast_wheels, w["name"]))
        assert w["size"] == os.path.getsize(os.path.join(fast_wheels, w["name"]))
    assert raw["tool"]["vpython"]["targets"] == TARGET_KEYS
    assert raw["tool"]["vpython"]["spec"] == "tool.py"  # whose lock this is (lockfile-relative)
    assert "engine" not in raw["tool"]["vpython"]  # both engines write the same bytes
    text = first.decode()
    assert "upload-time" not in text and str(tmp_path) not in text
    # Each target's installer (packaging.pylock) picks that target's wheel.
    from vpython.lock.targets import parse_target

    for key in TARGET_KEYS:
        t = parse_target(key, [])[0]
        chosen = {p.name: d.filename for p, d in lock.select(environment=t.environment(), tags=t.tags())}
        assert chosen["fastpkg"] == f"fastpkg-1.0-{key}.whl"
        assert chosen["puredep"] == "puredep-1.1-py3-none-any.whl"
    # Same spec + same index = same bytes (also when the lock is re-created from scratch).
    proc = vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    assert "unchanged" in proc.stdout
    assert lock_path.read_bytes() == first
    lock_path.unlink()
    vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    assert lock_path.read_bytes() == first
    assert sorted(os.listdir(tmp_path / "proj")) == ["pylock.tool.toml", "tool.py"]  # no temp files left


def test_relock_keeps_pins_until_upgrade(tmp_path, fast_index, fast_wheels):
    script = pep723_script(tmp_path / "proj")
    lock_path = tmp_path / "proj" / "pylock.tool.toml"
    os.rename(os.path.join(fast_wheels, "puredep-1.1-py3-none-any.whl"), str(tmp_path / "held-back.whl"))
    vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    assert 'version = "1.0"' in lock_path.read_text()
    os.rename(str(tmp_path / "held-back.whl"), os.path.join(fast_wheels, "puredep-1.1-py3-none-any.whl"))
    vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    assert "puredep-1.0-py3-none-any.whl" in lock_path.read_text()  # preference: the locked pin
    vpython("lock", script, "--index-url", fast_index.url, "--upgrade", "puredep", cwd=tmp_path, check=0)
    assert "puredep-1.1-py3-none-any.whl" in lock_path.read_text()


def test_a_broken_current_lockfile_is_replaced(tmp_path, fast_index):
    script = pep723_script(tmp_path / "proj")
    lock_path = tmp_path / "proj" / "pylock.tool.toml"
    lock_path.write_text("this is [not toml\n")
    proc = vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    assert "ignoring the current lockfile" in proc.stderr
    read_lock(lock_path)
    proc = vpython("lock", "--check", script, cwd=tmp_path, check=0)


def test_check_for_ci(tmp_path, fast_index):
    script = pep723_script(tmp_path / "proj")
    proc = vpython("lock", "--check", script, cwd=tmp_path, check=1)
    assert "pylock.tool.toml" in proc.stderr and "does not exist" in proc.stderr
    assert f"vpython lock {script}" in proc.stderr
    assert not (tmp_path / "proj" / "pylock.tool.toml").exists()
    vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    proc = vpython("lock", "--check", script, cwd=tmp_path, check=0)
    assert "up to date" in proc.stdout
    # A target the lock does not cover is stale too.
    proc = vpython("lock", "--check", script, "--platform", "win_amd64", "--platform", "musllinux_1_2_x86_64",
                   cwd=tmp_path, check=1)
    assert f"{CP}-{CP}-musllinux_1_2_x86_64" in proc.stderr
    assert "--platform musllinux_1_2_x86_64" in proc.stderr  # the exact fixing command
    # Edit the spec: stale, and the message names the lockfile and the command.
    with open(script, encoding="utf-8") as f:
        text = f.read()
    with open(script, "w", encoding="utf-8") as f:
        f.write(text.replace('dependencies = ["fastpkg"]', 'dependencies = ["fastpkg", "puredep<2"]'))
    proc = vpython("lock", "--check", script, cwd=tmp_path, check=1)
    assert "pylock.tool.toml is stale" in proc.stderr and "spec changed" in proc.stderr
    assert f"run `vpython lock {script}`" in proc.stderr


def test_check_fix_command_keeps_the_source_flags(tmp_path, fast_index, fast_wheels):
    script = pep723_script(tmp_path / "proj")
    proc = vpython("lock", "--check", script, "--index-url", fast_index.url, "--find-links", fast_wheels,
                   "--exclude-newer", "2100-01-01", "--engine", "uv", cwd=tmp_path, check=1)
    assert (f"fix: run `vpython lock {script} --index-url {fast_index.url} --find-links {fast_wheels} "
            "--engine uv --exclude-newer 2100-01-01`") in proc.stderr


def test_dotted_script_names_get_their_own_locks(tmp_path, fast_index):
    proj = tmp_path / "proj"
    plain = pep723_script(proj, deps=("puredep",), name="build.py", body="import puredep\n")
    dotted = pep723_script(proj, deps=("fastpkg",), name="build.linux.py")
    vpython("lock", plain, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    first = (proj / "pylock.build.toml").read_bytes()
    proc = vpython("lock", dotted, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    assert "pylock.build-linux.toml" in proc.stdout
    assert (proj / "pylock.build.toml").read_bytes() == first  # not overwritten
    _, raw = read_lock(proj / "pylock.build-linux.toml")
    assert raw["tool"]["vpython"]["spec"] == "build.linux.py"
    assert {p["name"] for p in raw["packages"]} == {"fastpkg", "puredep"}
    # Each spec finds its own lock (verify uses the lock discovery gives it).
    for script, lock in ((plain, "pylock.build.toml"), (dotted, "pylock.build-linux.toml")):
        proc = vpython("verify", script, cwd=tmp_path, check=0)
        assert f"against {proj / lock}" in proc.stdout
        vpython("lock", "--check", script, cwd=tmp_path, check=0)


def test_a_lock_of_another_spec_is_never_overwritten(tmp_path, fast_index):
    proj = tmp_path / "proj"
    dotted = pep723_script(proj, deps=("fastpkg",), name="build.linux.py")
    dashed = pep723_script(proj, deps=("puredep",), name="build-linux.py", body="import puredep\n")
    lock_path = proj / "pylock.build-linux.toml"
    vpython("lock", dotted, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    before = lock_path.read_bytes()
    proc = vpython("lock", dashed, "--index-url", fast_index.url, cwd=tmp_path, check=2)
    assert str(lock_path) in proc.stderr
    assert "build.linux.py" in proc.stderr and str(dashed) in proc.stderr
    assert "rename one of them" in proc.stderr
    assert lock_path.read_bytes() == before
    proc = vpython("lock", "--check", dashed, cwd=tmp_path, check=1)
    assert "lock of another spec (build.linux.py)" in proc.stderr
    # A lock from before the spec was recorded is anyone's: read, used and replaced as before.
    lock_path.write_text(re.sub(r'(?m)^spec = .*\n', "", lock_path.read_text()))
    vpython("lock", "--check", dotted, cwd=tmp_path, check=0)
    vpython("lock", dashed, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    assert read_lock(lock_path)[1]["tool"]["vpython"]["spec"] == "build-linux.py"


def test_lock_and_verify_take_a_directory(tmp_path, fast_index):
    proj = tmp_path / "p9"
    proj.mkdir()
    plats = ", ".join(f'"{p}"' for p in PLATFORMS)
    (proj / "vpython.toml").write_text(
        f'dependencies = ["fastpkg"]\n[tool.vpython]\npython-version = "{PY}"\nplatforms = [{plats}]\n')
    proc = vpython("lock", "p9", "--index-url", fast_index.url, cwd=tmp_path, check=0)
    assert "pylock.vpython.toml" in proc.stdout
    assert (proj / "pylock.vpython.toml").is_file()
    proc = vpython("verify", "p9", cwd=tmp_path, check=0)
    assert "all 3 target(s) ok" in proc.stdout
    vpython("lock", "--check", str(proj), cwd=tmp_path, check=0)


def test_sdist_only_package_is_locked_as_an_sdist_or_explained_under_only_binary(tmp_path, sdist_index):
    script = pep723_script(tmp_path / "proj", deps=("puredep", "srconly"))
    proc = vpython("lock", script, "--index-url", sdist_index.url, "--only-binary", cwd=tmp_path, check=2)
    assert "srconly has only an sdist" in proc.stderr and "--only-binary" in proc.stderr
    assert "--find-links" in proc.stderr
    assert "--no-build" not in proc.stderr  # uv's flag, not one the user passed
    assert not (tmp_path / "proj" / "pylock.tool.toml").exists()
    vpython("lock", script, "--index-url", sdist_index.url, cwd=tmp_path, check=0)
    _, raw = read_lock(str(tmp_path / "proj" / "pylock.tool.toml"))
    srconly = next(p for p in raw["packages"] if p["name"] == "srconly")
    assert srconly["sdist"]["name"] == "srconly-1.0.tar.gz" and "wheels" not in srconly


def test_exclude_newer_cutoff_is_applied_recorded_and_reused(tmp_path, fast_wheels):
    times = {name: "2024-01-01T00:00:00Z" for name in os.listdir(fast_wheels)}
    times["puredep-1.1-py3-none-any.whl"] = "2025-06-01T00:00:00Z"
    script = pep723_script(tmp_path / "proj")
    lock_path = tmp_path / "proj" / "pylock.tool.toml"
    with serve_index(fast_wheels, upload_times=times) as index:
        vpython("lock", script, "--index-url", index.url, "--exclude-newer", "2025-01-01T00:00:00Z",
                cwd=tmp_path, check=0)
        _, raw = read_lock(lock_path)
        assert {p["name"]: p["version"] for p in raw["packages"]}["puredep"] == "1.0"  # 1.1 is too new
        assert raw["tool"]["vpython"]["exclude-newer"] == "2025-01-01T00:00:00Z"
        assert "upload-time" not in lock_path.read_text()
        first = lock_path.read_bytes()
        # A later re-lock that drops every pin still honours the recorded cutoff.
        proc = vpython("lock", script, "--index-url", index.url, "--upgrade", "--log-level", "info",
                       cwd=tmp_path, check=0)
        assert "keeping the lock's exclude-newer cutoff 2025-01-01T00:00:00Z" in proc.stderr
        assert lock_path.read_bytes() == first
        # `none` drops it: the newest version comes back and the key goes.
        vpython("lock", script, "--index-url", index.url, "--upgrade", "--exclude-newer", "none",
                cwd=tmp_path, check=0)
        _, raw = read_lock(lock_path)
        assert {p["name"]: p["version"] for p in raw["packages"]}["puredep"] == "1.1"
        assert "exclude-newer" not in raw["tool"]["vpython"]


def test_unsatisfiable_platform_fails_at_lock_time(tmp_path, fast_index):
    script = pep723_script(tmp_path / "proj", platforms=PLATFORMS + ("manylinux_2_28_aarch64",))
    proc = vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=2)
    assert f"fastpkg 1.0 has no wheel for {CP}-{CP}-manylinux_2_28_aarch64" in proc.stderr
    assert not (tmp_path / "proj" / "pylock.tool.toml").exists()


def test_default_targets_cover_five_platforms(tmp_path, fast_index):
    script = pep723_script(tmp_path / "proj", deps=("puredep",), platforms=())
    with open(script, encoding="utf-8") as f:
        text = f.read()
    with open(script, "w", encoding="utf-8") as f:
        f.write(text.replace("# platforms = []\n", ""))
    vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    _, raw = read_lock(tmp_path / "proj" / "pylock.tool.toml")
    assert raw["tool"]["vpython"]["targets"] == sorted(
        f"{CP}-{CP}-{p}" for p in ("manylinux_2_28_x86_64", "manylinux_2_28_aarch64", "macosx_11_0_x86_64",
                                   "macosx_11_0_arm64", "win_amd64"))
    # --platform overrides everything.
    vpython("lock", script, "--index-url", fast_index.url, "--platform", "win_amd64", "--python", "3.12",
            cwd=tmp_path, check=0)
    _, raw = read_lock(tmp_path / "proj" / "pylock.tool.toml")
    assert raw["tool"]["vpython"]["targets"] == ["cp312-cp312-win_amd64"]


def test_credentials_never_reach_the_lockfile_or_output(tmp_path, fast_wheels):
    with serve_index(fast_wheels, auth=("builder", "s3cr3t-t0ken")) as index:
        script = pep723_script(tmp_path / "proj")
        proc = vpython("lock", script, "--index-url", index.auth_url, cwd=tmp_path, check=0)
        text = (tmp_path / "proj" / "pylock.tool.toml").read_text()
        assert "s3cr3t" not in text and "builder" not in text
        assert "s3cr3t" not in proc.stdout + proc.stderr
        _, raw = read_lock(tmp_path / "proj" / "pylock.tool.toml")
        assert raw["packages"][0]["index"] == index.url
        assert all(w["url"].startswith(index.base_url) for p in raw["packages"] for w in p["wheels"])
        # A failing resolution does not print them either.
        bad = pep723_script(tmp_path / "proj2", deps=("no-such-package",))
        proc = vpython("lock", bad, "--index-url", index.auth_url, cwd=tmp_path, check=2)
        assert "s3cr3t" not in proc.stdout + proc.stderr


def test_find_links_wheels_get_relative_paths(tmp_path, fast_wheels):
    script = pep723_script(tmp_path / "proj")
    vpython("lock", script, "--index-url", "none", "--find-links", fast_wheels, cwd=tmp_path, check=0)
    text = (tmp_path / "proj" / "pylock.tool.toml").read_text()
    assert 'path = "../wheels/puredep-1.1-py3-none-any.whl"' in text
    assert str(tmp_path) not in text and "file:" not in text


def test_offline_uses_only_cached_data(tmp_path, fast_wheels):
    script = pep723_script(tmp_path / "proj")
    with serve_index(fast_wheels) as index:
        url = index.url
        vpython("lock", script, "--index-url", url, cwd=tmp_path, check=0)
    first = (tmp_path / "proj" / "pylock.tool.toml").read_bytes()
    (tmp_path / "proj" / "pylock.tool.toml").unlink()
    vpython("lock", script, "--index-url", url, "--offline", cwd=tmp_path, check=0)  # server is gone
    assert (tmp_path / "proj" / "pylock.tool.toml").read_bytes() == first
    other = pep723_script(tmp_path / "proj2", deps=("winonly",))
    with serve_index(fast_wheels) as index:  # not cached: offline must fail, not fetch
        proc = vpython("lock", other, "--index-url", index.url, "--offline", cwd=tmp_path, check=2)
        assert not [p for p in index.requests if p.startswith("/simple/")]
    assert "offline" in proc.stderr


def test_user_errors_exit_2_without_writing(tmp_path, fast_index):
    script = pep723_script(tmp_path / "proj")
    for args, needle in [
        (["--platform", "freebsd_amd64"], "--platform 'freebsd_amd64'"),
        (["--python", "three"], "--python 'three'"),
        (["--exclude-newer", "yesterday"], "--exclude-newer 'yesterday'"),
        (["--engine", "poetry"], "--engine"),
    ]:
        proc = vpython("lock", script, "--index-url", fast_index.url, *args, cwd=tmp_path, check=2)
        assert needle in proc.stderr, proc.stderr
    proc = vpython("lock", str(tmp_path / "nope.py"), cwd=tmp_path, check=2)
    assert "no such file" in proc.stderr
    assert not (tmp_path / "proj" / "pylock.tool.toml").exists()


# --------------------------------------------------------------------------- text proto

def _textproto(directory, extra=""):
    os.makedirs(directory, exist_ok=True)
    script = os.path.join(directory, "tool.py")
    with open(script, "w", encoding="utf-8") as f:
        f.write("import fastpkg\nprint(fastpkg.__version__)\n")
    tags = "".join(f'verify_pep425_tag: < python: "{CP}" abi: "{CP}" platform: "{p}" >\n' for p in PLATFORMS)
    with open(script + ".vpython3", "w", encoding="utf-8") as f:
        f.write(f'python_version: "{PY}"\n'
                'wheel: < name: "infra/python/wheels/fastpkg/${vpython_platform}" version: "version:1.0" >\n'
                + extra + tags)
    return script


def test_closed_textproto_missing_dependency_is_named_and_left_out(tmp_path, fast_index):
    # As a run installs it (Chromium's vpython installed exactly the listed wheels): a
    # warning naming the missing package and the line to add; the lock lists the pins only.
    script = _textproto(tmp_path / "proj")
    proc = vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    assert "warning:" in proc.stderr and "not closed" in proc.stderr
    assert "puredep==1.1" in proc.stderr
    assert 'version: "version:1.1"' in proc.stderr  # the line to add
    _, raw = read_lock(tmp_path / "proj" / "pylock.tool.toml")
    assert [p["name"] for p in raw["packages"]] == ["fastpkg"]
    config = tmp_path / "strict.toml"
    config.write_text("strict-closure = true\n")
    os.unlink(tmp_path / "proj" / "pylock.tool.toml")
    proc = vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=2,
                   env={"VPYTHON_CONFIG": str(config)})
    assert "not closed" in proc.stderr and "puredep==1.1" in proc.stderr
    assert not (tmp_path / "proj" / "pylock.tool.toml").exists()


def test_closed_textproto_locks_exact_pins_and_per_platform_markers(tmp_path, fast_index):
    script = _textproto(tmp_path / "proj", extra=(
        'wheel: < name: "infra/python/wheels/puredep-py3" version: "version:1.0" >\n'
        'wheel: < name: "infra/python/wheels/winonly-py3" version: "version:2.0"\n'
        '         match_tag: < platform: "win_amd64" > >\n'))
    vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    _, raw = read_lock(tmp_path / "proj" / "pylock.tool.toml")
    got = {p["name"]: (p["version"], p.get("marker")) for p in raw["packages"]}
    assert got == {"fastpkg": ("1.0", None), "puredep": ("1.0", None),  # 1.0 as pinned, not the newer 1.1
                   "winonly": ("2.0", "sys_platform == 'win32'")}
    assert raw["tool"]["vpython"]["targets"] == TARGET_KEYS  # from verify_pep425_tag
    proc = vpython("verify", script, cwd=tmp_path, check=0)
    for key in TARGET_KEYS:
        assert re.search(rf"ok\s+{key}", proc.stdout)


# --------------------------------------------------------------------------- verify

def test_verify_reports_per_platform(tmp_path, fast_index):
    script = pep723_script(tmp_path / "proj", platforms=PLATFORMS + ("manylinux_2_28_aarch64",))
    # No lockfile: resolve for each target.
    proc = vpython("verify", script, "--index-url", fast_index.url, cwd=tmp_path, check=1)
    assert re.search(rf"FAIL\s+{CP}-{CP}-manylinux_2_28_aarch64", proc.stdout)
    assert f"fastpkg 1.0 has no wheel for {CP}-{CP}-manylinux_2_28_aarch64" in proc.stdout
    assert re.search(rf"ok\s+{CP}-{CP}-win_amd64", proc.stdout)
    # With a lock: check the lock's targets plus any asked for; the original's spelling too.
    ok = pep723_script(tmp_path / "proj2")
    vpython("lock", ok, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    proc = vpython("verify", ok, cwd=tmp_path, check=0)
    assert "all 3 target(s) ok" in proc.stdout
    proc = vpython("-vpython-tool", "verify", ok, cwd=tmp_path,
                   env={"VPYTHON_VIRTUALENV_ROOT": str(tmp_path / "root")}, check=0)
    assert "all 3 target(s) ok" in proc.stdout
    proc = vpython("verify", ok, "--platform", "macosx_11_0_x86_64", cwd=tmp_path, check=1)
    assert f"fastpkg 1.0 has no wheel for {CP}-{CP}-macosx_11_0_x86_64" in proc.stdout


def test_legacy_verify_of_a_textproto_without_verify_tags_checks_nothing(tmp_path, fast_index):
    """``-vpython-tool verify`` keeps the original's contract: a .vpython3 with no
    verify_pep425_tag has nothing to verify. ``vpython verify`` checks the default
    platforms (fastpkg has no wheel for some of them, so it fails)."""
    script = _textproto(tmp_path / "proj", extra='wheel: < name: "infra/python/wheels/puredep-py3" version: "version:1.1" >\n')
    spec = script + ".vpython3"
    with open(spec, encoding="utf-8") as f:
        text = "".join(line for line in f if not line.startswith("verify_pep425_tag"))
    with open(spec, "w", encoding="utf-8") as f:
        f.write(text)
    env = {"VPYTHON_VIRTUALENV_ROOT": str(tmp_path / "root"), "VPYTHON_INDEX_URL": fast_index.url}
    proc = vpython("-vpython-tool", "verify", script, cwd=tmp_path, env=env, check=0)
    assert "has no verify_pep425_tag; nothing to verify" in proc.stdout
    proc = vpython("verify", script, "--index-url", fast_index.url, cwd=tmp_path, env=env, check=1)
    assert "FAIL" in proc.stdout and "default platforms" in proc.stdout


# --------------------------------------------------------------------------- engines

def _pex_env(tmp_path):
    return {"PEX_ROOT": str(tmp_path / "pex-root")}


@pytest.mark.slow
@pytest.mark.parametrize("case", ["pep723", "marker-split", "textproto", "find-links"])
def test_pex_engine_writes_the_same_bytes(tmp_path, fast_index, fast_wheels, case):
    sources = ["--index-url", fast_index.url]
    if case == "pep723":
        script = pep723_script(tmp_path / "proj")
    elif case == "marker-split":
        # pex resolves each target alone (1.0 on Windows, 1.1 elsewhere); uv picks the one
        # version every target accepts. The pex engine must agree on it.
        script = pep723_script(tmp_path / "proj", deps=("fastpkg", "puredep<1.1 ; sys_platform == 'win32'"))
    elif case == "textproto":
        script = _textproto(tmp_path / "proj", extra=(
            'wheel: < name: "infra/python/wheels/puredep-py3" version: "version:1.0" >\n'
            'wheel: < name: "infra/python/wheels/winonly-py3" version: "version:2.0"\n'
            '         match_tag: < platform: "win_amd64" > >\n'))
    else:
        script = pep723_script(tmp_path / "proj")
        sources = ["--index-url", "none", "--find-links", fast_wheels]
    lock_path = tmp_path / "proj" / "pylock.tool.toml"
    vpython("lock", script, *sources, cwd=tmp_path, check=0)
    by_uv = lock_path.read_bytes()
    lock_path.unlink()
    vpython("lock", script, *sources, "--engine", "pex", cwd=tmp_path, env=_pex_env(tmp_path), check=0)
    assert lock_path.read_bytes() == by_uv
    if case == "marker-split":
        _, raw = read_lock(lock_path)
        assert [(p["name"], p["version"]) for p in raw["packages"]] == [("fastpkg", "1.0"), ("puredep", "1.0")]


@pytest.mark.slow
def test_pex_engine_keeps_the_locked_pins_until_upgrade(tmp_path, fast_index, fast_wheels):
    script = pep723_script(tmp_path / "proj")
    lock_path = tmp_path / "proj" / "pylock.tool.toml"
    held = str(tmp_path / "held-back.whl")
    os.rename(os.path.join(fast_wheels, "puredep-1.1-py3-none-any.whl"), held)
    vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)  # uv: puredep 1.0
    os.rename(held, os.path.join(fast_wheels, "puredep-1.1-py3-none-any.whl"))
    before = lock_path.read_bytes()
    proc = vpython("lock", script, "--index-url", fast_index.url, "--engine", "pex", cwd=tmp_path,
                   env=_pex_env(tmp_path), check=0)
    assert "unchanged" in proc.stdout and lock_path.read_bytes() == before  # still 1.0
    vpython("lock", script, "--index-url", fast_index.url, "--engine", "pex", "--upgrade", "puredep",
            cwd=tmp_path, env=_pex_env(tmp_path), check=0)
    assert "puredep-1.1-py3-none-any.whl" in lock_path.read_text()
    # Pins that no longer fit the spec do not block a re-lock.
    with open(script, encoding="utf-8") as f:
        text = f.read()
    with open(script, "w", encoding="utf-8") as f:
        f.write(text.replace('dependencies = ["fastpkg"]', 'dependencies = ["fastpkg", "puredep<1.1"]'))
    vpython("lock", script, "--index-url", fast_index.url, "--engine", "pex", cwd=tmp_path,
            env=_pex_env(tmp_path), check=0)
    assert "puredep-1.0-py3-none-any.whl" in lock_path.read_text()


def test_pex_engine_refuses_a_cutoff_up_front(tmp_path, fast_index):
    script = pep723_script(tmp_path / "proj")
    proc = vpython("lock", script, "--index-url", fast_index.url, "--engine", "pex", "--exclude-newer",
                   "2026-01-01", cwd=tmp_path, env=_pex_env(tmp_path), check=2)
    assert "pex engine cannot apply the exclude-newer cutoff 2026-01-01 (from --exclude-newer)" in proc.stderr
    assert "--engine uv" in proc.stderr
    assert "cp3" not in proc.stderr  # no platform is blamed
    assert not (tmp_path / "pex-root").exists()  # refused before pex ran
    assert not (tmp_path / "proj" / "pylock.tool.toml").exists()
    # A cutoff recorded in the current lock is named as such, with the way out.
    # (this index publishes no upload times, so the cutoff is written in by hand)
    vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    lock_path = tmp_path / "proj" / "pylock.tool.toml"
    lock_path.write_text(lock_path.read_text() + 'exclude-newer = "2100-01-01"\n')
    assert read_lock(lock_path)[1]["tool"]["vpython"]["exclude-newer"] == "2100-01-01"
    proc = vpython("lock", script, "--index-url", fast_index.url, "--engine", "pex", cwd=tmp_path,
                   env=_pex_env(tmp_path), check=2)
    assert "[tool.vpython] exclude-newer of" in proc.stderr and "--exclude-newer none" in proc.stderr


@pytest.mark.slow
def test_pex_failure_on_every_target_blames_no_platform(tmp_path, sdist_index):
    script = pep723_script(tmp_path / "proj", deps=("srconly",), platforms=PLATFORMS[:2])  # 1 + 2 pex runs
    proc = vpython("lock", script, "--index-url", sdist_index.url, "--engine", "pex", cwd=tmp_path,
                   env=_pex_env(tmp_path), check=2)
    assert "srconly" in proc.stderr and "sdist" in proc.stderr
    assert "drop " not in proc.stderr and "for cp3" not in proc.stderr


def test_direct_wheel_reference_is_locked_as_a_wheel(tmp_path, fast_wheels):
    from pathlib import Path

    url = Path(fast_wheels, "puredep-1.0-py3-none-any.whl").as_uri()
    script = pep723_script(tmp_path / "proj", deps=(f"puredep @ {url}",), body="import puredep\n")
    vpython("lock", script, "--index-url", "none", cwd=tmp_path, check=0)
    lock, raw = read_lock(tmp_path / "proj" / "pylock.tool.toml")
    (pkg,) = raw["packages"]
    assert (pkg["name"], pkg["version"]) == ("puredep", "1.0")
    assert [w["name"] for w in pkg["wheels"]] == ["puredep-1.0-py3-none-any.whl"]
    assert pkg["wheels"][0]["hashes"]["sha256"] == sha256_file(os.path.join(fast_wheels, "puredep-1.0-py3-none-any.whl"))


# --------------------------------------------------------------------------- runs

def _envs(root):
    return glob.glob(os.path.join(str(root), "v*", "envs", "*", ""))


@pytest.mark.skipif(not _host_is_linux_x86_64(), reason="the fixture's only Linux wheel is x86_64")
def test_run_installs_exactly_the_locked_files_without_resolving(tmp_path, fast_index):
    script = pep723_script(tmp_path / "proj")
    vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    _, raw = read_lock(tmp_path / "proj" / "pylock.tool.toml")
    locked = {p["name"]: p["version"] for p in raw["packages"]}
    root = tmp_path / "root"
    fast_index.requests.clear()
    fast_index.log.clear()
    proc = vpython(script, cwd=tmp_path, env={"VPYTHON_VIRTUALENV_ROOT": str(root)}, check=0)
    assert proc.stdout.strip() == "fastpkg 1.0"
    assert not [p for p in fast_index.requests if p.startswith("/simple")], fast_index.requests
    assert sorted(fast_index.served_files()) == sorted([
        f"fastpkg-1.0-{CP}-{CP}-manylinux_2_17_x86_64.whl", "puredep-1.1-py3-none-any.whl"])
    (env,) = _envs(root)
    infos = glob.glob(os.path.join(env, "lib", "python*", "site-packages", "*.dist-info"))
    installed = {}
    for info in infos:
        name, version = os.path.basename(info)[: -len(".dist-info")].rsplit("-", 1)
        installed[name.replace("_", "-")] = version
        assert os.path.isfile(os.path.join(info, "RECORD"))
    assert installed == locked


@pytest.mark.skipif(not _host_is_linux_x86_64(), reason="the fixture's only Linux wheel is x86_64")
def test_run_with_a_stale_lock_warns_and_relocks_into_the_cache_only(tmp_path, fast_index):
    script = pep723_script(tmp_path / "proj")
    vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    lockfile = tmp_path / "proj" / "pylock.tool.toml"
    before = lockfile.read_bytes()
    # The spec changes after locking: a new dependency the lock does not have.
    with open(script, encoding="utf-8") as f:
        text = f.read()
    with open(script, "w", encoding="utf-8") as f:
        f.write(text.replace('dependencies = ["fastpkg"]', 'dependencies = ["fastpkg", "winonly"]')
                .replace("import fastpkg\n", "import fastpkg, winonly\n"))
    root = tmp_path / "root"
    env = {"VPYTHON_VIRTUALENV_ROOT": str(root), "VPYTHON_INDEX_URL": fast_index.url}
    proc = vpython(script, cwd=tmp_path, env=env, check=0)
    assert proc.stdout.strip() == "fastpkg 1.0"
    assert "pylock.tool.toml is stale" in proc.stderr and f"vpython lock {script}" in proc.stderr
    assert lockfile.read_bytes() == before, "a run must never rewrite the user's lockfile"
    cached = glob.glob(os.path.join(str(root), "v*", "locks", "*.pylock.toml"))
    assert len(cached) == 1
    with open(cached[0], encoding="utf-8") as f:
        assert 'name = "winonly"' in f.read()


@pytest.mark.skipif(not _host_is_linux_x86_64(), reason="the fixture's only Linux wheel is x86_64")
def test_a_wrong_size_in_the_lock_is_refused_and_nothing_installed(tmp_path, fast_index, fast_wheels):
    script = pep723_script(tmp_path / "proj")
    vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    lock_path = tmp_path / "proj" / "pylock.tool.toml"
    actual = os.path.getsize(os.path.join(fast_wheels, "puredep-1.1-py3-none-any.whl"))
    text = lock_path.read_text()
    entry = 'name = "puredep-1.1-py3-none-any.whl"\n'
    head, tail = text.split(entry)
    tail = tail.replace(f"size = {actual}\n", f"size = {actual + 7}\n", 1)
    lock_path.write_text(head + entry + tail)
    root = tmp_path / "root"
    proc = vpython(script, cwd=tmp_path, env={"VPYTHON_VIRTUALENV_ROOT": str(root)})
    assert proc.returncode != 0
    assert "size mismatch for puredep-1.1-py3-none-any.whl" in proc.stderr
    assert f"expects {actual + 7} bytes but the file has {actual} bytes" in proc.stderr
    assert _envs(root) == []


@pytest.mark.skipif(not _host_is_linux_x86_64(), reason="the fixture's only Linux wheel is x86_64")
def test_tampered_artifact_is_refused_and_nothing_installed(tmp_path, fast_index, fast_wheels):
    script = pep723_script(tmp_path / "proj")
    vpython("lock", script, "--index-url", fast_index.url, cwd=tmp_path, check=0)
    wheel = os.path.join(fast_wheels, "puredep-1.1-py3-none-any.whl")
    good = sha256_file(wheel)
    os.unlink(wheel)
    make_wheel(fast_wheels, "puredep", "1.1", files={"puredep/__init__.py": "raise SystemExit('evil')\n"})
    bad = sha256_file(wheel)
    assert bad != good
    root = tmp_path / "root"
    proc = vpython(script, cwd=tmp_path, env={"VPYTHON_VIRTUALENV_ROOT": str(root)})
    assert proc.returncode != 0
    assert good in proc.stderr and bad in proc.stderr
    assert "puredep-1.1-py3-none-any.whl" in proc.stderr
    assert "evil" not in proc.stdout
    assert _envs(root) == []


# --------------------------------------------------------------------------- PyPI

@pytest.mark.network
@pytest.mark.skipif(os.environ.get("VPYTHON_NETWORK_TESTS") != "1", reason="set VPYTHON_NETWORK_TESTS=1")
def test_lock_requests_and_numpy_from_pypi_for_default_targets(tmp_path):
    script = os.path.join(str(tmp_path), "net.py")
    with open(script, "w", encoding="utf-8") as f:
        f.write(f'# /// script\n# dependencies = ["requests", "numpy"]\n# [tool.vpython]\n'
                f'# python-version = "{PY}"\n# ///\nimport requests, numpy\n')
    vpython("lock", script, "--index-url", "https://pypi.org/simple", cwd=tmp_path, check=0)
    lock, raw = read_lock(os.path.join(str(tmp_path), "pylock.net.toml"))
    from vpython.lock.targets import DEFAULT_PLATFORMS, Target

    names = {p["name"] for p in raw["packages"]}
    assert {"requests", "numpy", "urllib3", "idna", "certifi", "charset-normalizer"} <= names
    for plat in DEFAULT_PLATFORMS:
        t = Target(sys.version_info[:2], plat)
        chosen = {p.name: d.filename for p, d in lock.select(environment=t.environment(), tags=t.tags())}
        assert chosen["numpy"].endswith(".whl") and "none-any" not in chosen["numpy"]
    numpy = next(p for p in raw["packages"] if p["name"] == "numpy")
    assert len(numpy["wheels"]) == len(DEFAULT_PLATFORMS)
