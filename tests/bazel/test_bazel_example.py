"""The real Bazel (4.2.3, offline) on examples/bazel: build, run, test, caches, platforms.

The tests share one prepared workspace and Bazel server (the `lab` fixture); each test
builds what it needs first (a no-op when an earlier test did), and a test that changes
the workspace puts it back. Wheels come from a local
index (stand-ins with the lock's file names), never from PyPI.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

import bazel_harness as H

pytestmark = [pytest.mark.bazel, pytest.mark.slow]

ARTIFACTS = ("greet.venv", "greet_pex.pex", "greet_test.venv", "greet", "greet_pex", "greet_test")
EXPECTED = "Hello, &lt;World &amp; co&gt;!"


def _vpython_spawns(lab, *args, name="exec.json"):
    log = lab.root / name
    lab.ws.bazel(*args, f"--execution_log_json_file={log}")
    return H.spawns(H.parse_execution_log(log))


def test_build_everything(lab):
    lab.ws.bazel("clean")  # every VpythonBuild spawn shows up in the log, whatever ran before
    spawns = _vpython_spawns(lab, "build", "//...")
    assert len(spawns) == 3, [s["progressMessage"] for s in spawns]  # greet, greet_pex, greet_test
    bin_dir = lab.ws.bin()
    assert (bin_dir / "greet.venv" / "pyvenv.cfg").is_file()
    assert (bin_dir / "greet_pex.pex").is_file()
    for spawn in spawns:
        args = spawn["commandArgs"]
        assert args[1] == "build", args
        assert not [a for a in args if a.startswith("/")], f"absolute path in {args}"
        assert spawn["progressMessage"].startswith("Building "), spawn["progressMessage"]
    # Nothing machine-specific in the outputs: no temp dir, output base or checkout path.
    needles = [str(lab.root).encode(), str(lab.ws.output_base).encode(), str(H.REPO).encode()]
    for rel in ("greet.venv", "greet_pex.pex"):
        root = bin_dir / rel
        for path in ([root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]):
            data = path.read_bytes()
            leaked = [n.decode() for n in needles if n in data]
            assert not leaked, f"{path} contains {leaked}"
        for path in ([] if root.is_file() else [p for p in root.rglob("*") if p.is_symlink()]):
            assert not os.readlink(path).startswith("/"), f"absolute symlink {path} -> {os.readlink(path)}"


def test_generated_repositories_are_buildifier_clean(lab):
    buildifier = H.find_buildifier()
    if not buildifier:
        pytest.skip("buildifier not found (CI: npm install -g @bazel/buildifier)")
    lab.ws.bazel("build", "//...")
    external = lab.ws.output_base / "external"
    files = [str(p) for repo in ("pypi", "vpython_toolchains") for p in (external / repo).rglob("BUILD.bazel")]
    assert len(files) >= 4, files
    proc = subprocess.run([buildifier, "--mode=check", "--lint=warn", *files], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_bazel_run_prints_what_the_script_computed(lab):
    proc = lab.ws.bazel("run", "//:greet", "--", "<World & co>")
    assert EXPECTED in proc.stdout, proc.stdout + proc.stderr
    assert "six 1.17.0 | markupsafe 3.0.3" in proc.stdout
    assert "prefix is a venv: True" in proc.stdout


def test_direct_execution_from_bazel_bin_and_through_a_symlink(lab, tmp_path):
    lab.ws.bazel("build", "//:greet", "//:greet_pex")
    launcher = lab.ws.bin() / "greet"
    direct = subprocess.run([str(launcher), "<World & co>"], cwd="/", capture_output=True, text=True,
                            env=_clean_env(), timeout=60)
    assert direct.returncode == 0 and EXPECTED in direct.stdout, direct.stdout + direct.stderr
    link = tmp_path / "my-greet"
    link.symlink_to(launcher.resolve())
    linked = subprocess.run([str(link), "<World & co>"], cwd=tmp_path, capture_output=True, text=True,
                            env=_clean_env(), timeout=60)
    assert linked.returncode == 0 and EXPECTED in linked.stdout, linked.stdout + linked.stderr
    pex = subprocess.run([str(lab.ws.bin() / "greet_pex"), "<World & co>"], cwd="/", capture_output=True,
                         text=True, env=_clean_env(), timeout=60)
    assert pex.returncode == 0 and EXPECTED in pex.stdout, pex.stdout + pex.stderr


def test_bazel_test_passes(lab):
    proc = lab.ws.bazel("test", "//:greet_test", "//:lock_test")
    assert "//:greet_test" in proc.stdout + proc.stderr
    assert re.search(r"2 tests? pass", proc.stdout + proc.stderr), proc.stdout + proc.stderr


def test_stale_lock_fails_and_names_the_fix(lab):
    spec = lab.ws.dir / "vpython.toml"
    original = spec.read_text()
    spec.write_text(original.replace('"six==1.17.0",', '"six==1.17.0",\n    "tinyextra==1.0",'))
    try:
        proc = lab.ws.bazel("test", "//:lock_test", "--test_output=errors", check=False)
    finally:
        spec.write_text(original)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "bazel run //:lock" in out, out


def test_bazel_run_lock_relocks_in_the_source_tree(lab):
    lock_path = lab.ws.dir / H.LOCK_NAME
    original = lock_path.read_text()
    try:
        # Resolves against the local index (the only target that resolves); the lockfile
        # is written in the workspace, beside vpython.toml, not in bazel-out.
        lab.ws.bazel("run", "//:lock", "--", "--index-url", lab.index.url)
        relocked = lock_path.read_text()
        assert f'index = "{lab.index.url}"' in relocked, relocked[:800]
        assert relocked != original
        lab.ws.bazel("test", "//:lock_test")
    finally:
        lock_path.write_text(original)


def test_disk_cache_hit_for_every_vpython_action_after_clean(lab):
    lab.ws.bazel("build", "//...")  # fills the disk cache if no test before did
    lab.ws.bazel("clean")
    spawns = _vpython_spawns(lab, "build", "//...", name="exec-after-clean.json")
    assert len(spawns) == 3
    missed = [s["progressMessage"] for s in spawns if not s.get("remoteCacheHit")]
    assert not missed, f"not served from --disk_cache: {missed}"
    assert all(s["runner"] in H.CACHE_HIT_RUNNERS for s in spawns), [s["runner"] for s in spawns]


def test_copy_at_another_path_with_another_output_base_is_byte_identical(lab):
    other_dir = H.copy_tree(lab.root / "A", lab.root / "B" / "some" / "deeper" / "place")
    H.write_bazelrc(other_dir, lab.repository_cache, None)
    other = H.Workspace(other_dir, lab.root / "output-base-B" / "x", lab.ws.env)
    lab.extra.append(other)
    log = lab.root / "exec-B.json"
    # No disk cache and plain local execution: the bytes must come from running the
    # actions again at the other path, not from a cache filled by copy A.
    other.bazel("build", "//...", "--disk_cache=", "--spawn_strategy=local", f"--execution_log_json_file={log}")
    spawns = H.spawns(H.parse_execution_log(log))
    assert len(spawns) == 3 and not [s for s in spawns if s.get("remoteCacheHit")]
    a = H.tree_digest([lab.ws.bin() / name for name in ARTIFACTS])
    b = H.tree_digest([other.bin() / name for name in ARTIFACTS])
    assert a.keys() == b.keys()
    differing = sorted(k for k in a if a[k] != b[k])
    assert not differing, f"differ between the two checkouts: {differing}"
    other.shutdown()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_remote_cache_on_nginx_webdav_hits_on_second_clean_build(lab):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not nginx:
        pytest.skip("nginx is not installed (CI: apt-get install -y nginx)")
    base = lab.root / "nginx"
    for d in ("cache", "tmp", "logs"):
        (base / d).mkdir(parents=True, exist_ok=True)
    port = _free_port()
    user = "user root;\n" if os.geteuid() == 0 else ""
    (base / "nginx.conf").write_text(f"""
worker_processes 1;
{user}pid {base}/nginx.pid;
error_log {base}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {base}/logs/access.log;
    client_body_temp_path {base}/tmp;
    proxy_temp_path {base}/tmp;
    fastcgi_temp_path {base}/tmp;
    uwsgi_temp_path {base}/tmp;
    scgi_temp_path {base}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {base}/cache;
        client_max_body_size 0;
        location / {{
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }}
    }}
}}
""")
    server = subprocess.Popen([nginx, "-c", str(base / "nginx.conf"), "-p", str(base), "-g", "daemon off;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"nginx did not start: {server.stderr.read().decode()}")
                time.sleep(0.05)
        flags = ("--disk_cache=", f"--remote_cache=http://127.0.0.1:{port}")
        lab.ws.bazel("clean")
        first = _vpython_spawns(lab, "build", "//...", *flags, name="exec-remote-1.json")
        assert len(first) == 3 and not [s for s in first if s.get("remoteCacheHit")]
        lab.ws.bazel("clean")
        second = _vpython_spawns(lab, "build", "//...", *flags, name="exec-remote-2.json")
        assert len(second) == 3
        missed = [s["progressMessage"] for s in second if not s.get("remoteCacheHit")]
        assert not missed, f"not served from the HTTP cache: {missed}"
        access = (base / "logs" / "access.log").read_text()
        assert re.search(r'"PUT [^"]*" 201', access), access[-2000:]
        assert re.search(r'"GET /ac/[^"]*" 200', access), access[-2000:]
    finally:
        server.send_signal(signal.SIGQUIT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wheel_tag_in_venv(venv: Path) -> str:
    inits = [p for p in venv.rglob("markupsafe/__init__.py")]
    assert len(inits) == 1, inits
    return re.search(r"__platform_tag__ = '([^']+)'", inits[0].read_text()).group(1)


def _wheel_tag_in_pex(pex: Path) -> str:
    with zipfile.ZipFile(pex) as zf:
        names = [n for n in zf.namelist() if n.endswith("markupsafe/__init__.py")]
        assert names, zf.namelist()[:50]
        tags = {re.search(r"__platform_tag__ = '([^']+)'", zf.read(n).decode()).group(1) for n in names}
    assert len(tags) == 1, tags
    return tags.pop()


@pytest.mark.parametrize("platform, expected", [
    ("macos_arm64", "macosx_11_0_arm64"),
    # The toolchain builds for macosx_11_0_x86_64; the locked wheel is tagged 10_9 (older
    # macOS wheels run on newer macOS).
    ("macos_x86_64", "macosx_10_9_x86_64"),
    ("windows_x86_64", "win_amd64"),
    ("linux_arm64", "manylinux2014_aarch64.manylinux_2_17_aarch64.manylinux_2_28_aarch64"),
])
def test_build_for_another_platform_uses_that_platforms_wheels(lab, platform, expected):
    lab.ws.bazel("build", "//:greet", "//:greet_pex", f"--platforms=@vpython//toolchains:{platform}")
    assert _wheel_tag_in_venv(lab.ws.bin() / "greet.venv") == expected
    assert _wheel_tag_in_pex(lab.ws.bin() / "greet_pex.pex") == expected


def test_host_build_uses_the_host_wheels(lab):
    lab.ws.bazel("build", "//:greet", "//:greet_pex")
    tag = _wheel_tag_in_venv(lab.ws.bin() / "greet.venv")
    assert "linux" in tag and tag.endswith(_host_arch()), tag


def test_repository_cache_and_distdir_after_expunge_with_unreachable_urls(lab):
    lock_path = lab.ws.dir / H.LOCK_NAME
    original = lock_path.read_text()
    lab.ws.bazel("build", "//:greet")  # fills the repository cache if no test before did
    served_before = lab.index.served_files()
    assert sorted(set(served_before)) == sorted(served_before), f"a wheel was downloaded twice: {served_before}"
    # Same file names and sha256, but URLs nothing answers: only the repository cache can help.
    H.rewrite_lock(lock_path, {f: f"https://unreachable.invalid/wheels/{f}" for f in lab.wheels})
    try:
        lab.ws.bazel("clean", "--expunge")
        lab.ws.bazel("build", "//:greet")
        proc = lab.ws.bazel("run", "//:greet", "--", "<World & co>")
        assert EXPECTED in proc.stdout
        # Control: with an empty repository cache the same build cannot fetch.
        lab.ws.bazel("clean", "--expunge")
        failed = lab.ws.bazel("build", "//:greet", f"--repository_cache={lab.root / 'empty-repo-cache'}",
                              check=False)
        assert failed.returncode != 0
        assert "unreachable.invalid" in failed.stderr, failed.stderr[-3000:]
        # --distdir: a directory of the wheels (matched by file name and sha256) is enough,
        # still with no repository cache and no reachable URL.
        lab.ws.bazel("build", "//:greet", f"--repository_cache={lab.root / 'empty-repo-cache-2'}",
                     f"--distdir={lab.root / 'wheels'}")
    finally:
        lock_path.write_text(original)
        lab.ws.bazel("clean", "--expunge")
    assert lab.index.served_files() == served_before, "the offline builds downloaded wheels"


def _host_arch():
    import platform

    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def _clean_env():
    return {k: v for k, v in os.environ.items()
            if k not in ("RUNFILES_DIR", "TEST_SRCDIR", "PYTHONPATH") and not k.startswith("VPYTHON_")}
