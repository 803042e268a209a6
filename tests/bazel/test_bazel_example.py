"""The real Bazel (4.2.3, offline) on examples/bazel: build, run, test, caches, platforms.

The tests share one prepared workspace and Bazel server (the `lab` fixture); each test
builds what it needs first (a no-op when an earlier test did), and a test that changes
the workspace puts it back. Wheels come from a local
index (stand-ins with the lock's file names), never from PyPI.
"""

from __future__ import annotations

import glob
import json
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

# The example's own package; the test-only //attrs package (tests/bazel/example_attrs) has
# its own tests below.
EXAMPLE_TARGETS = "//:all"
# Every output of `bazel build //:all` in bazel-bin (runfiles trees aside): artifacts, the
# pex's SBOM, launchers, the lock targets' scripts.
ARTIFACTS = ("greet.venv", "greet_pex.pex", "greet_pex.pex.cdx.json", "greet_test.venv", "greet", "greet_pex",
             "greet_test", "lock.sh", "lock_test.check.sh")
EXPECTED = "Hello, &lt;World &amp; co&gt;!"
ATTRS_ARGS = "args: ['--data', 'attrs/data.txt', 'two words', '$HOME']"


def _vpython_spawns(lab, *args, name="exec.json"):
    log = lab.root / name
    lab.ws.bazel(*args, f"--execution_log_json_file={log}")
    return H.spawns(H.parse_execution_log(log))


def test_build_everything(lab):
    lab.ws.bazel("clean")  # every VpythonBuild spawn shows up in the log, whatever ran before
    spawns = _vpython_spawns(lab, "build", EXAMPLE_TARGETS)
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
    lab.ws.bazel("build", EXAMPLE_TARGETS)
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
    lab.ws.bazel("build", EXAMPLE_TARGETS)  # fills the disk cache if no test before did
    lab.ws.bazel("clean")
    spawns = _vpython_spawns(lab, "build", EXAMPLE_TARGETS, name="exec-after-clean.json")
    assert len(spawns) == 3
    missed = [s["progressMessage"] for s in spawns if not s.get("remoteCacheHit")]
    assert not missed, f"not served from --disk_cache: {missed}"
    assert all(s["runner"] in H.CACHE_HIT_RUNNERS for s in spawns), [s["runner"] for s in spawns]


def _action_keys(spawns):
    """What a VpythonBuild spawn's cache key is made of, per output."""
    return {tuple(s["listedOutputs"]): {
        "args": s["commandArgs"],
        "env": s["environmentVariables"],
        "platform": s.get("platform"),
        "inputs": sorted({(i["path"], i["digest"]["hash"]) for i in s["inputs"]}),
    } for s in spawns}


def _tool_launcher(ws) -> Path:
    """The vpython tool's launcher, built for the exec platform (bazel-out/host/bin on 4.2.3)."""
    found = [Path(p) for p in glob.glob(str(ws.dir / "bazel-out" / "*" / "bin" / "external" / "vpython_toolchains" / "vpython"))
             if os.path.isfile(p)]
    assert len(found) == 1, found
    return found[0]


def test_copy_at_another_path_with_another_output_base_is_byte_identical(lab):
    lab.ws.bazel("clean")
    log_a = lab.root / "exec-A.json"
    lab.ws.bazel("build", EXAMPLE_TARGETS, f"--execution_log_json_file={log_a}")
    other_dir = H.copy_tree(lab.root / "A", lab.root / "B" / "some" / "deeper" / "place")
    H.write_bazelrc(other_dir, lab.repository_cache, None)
    other = H.Workspace(other_dir, lab.root / "output-base-B" / "x", lab.ws.env)
    lab.extra.append(other)
    log = lab.root / "exec-B.json"
    # No disk cache and plain local execution: the bytes must come from running the
    # actions again at the other path, not from a cache filled by copy A.
    other.bazel("build", EXAMPLE_TARGETS, "--disk_cache=", "--spawn_strategy=local", f"--execution_log_json_file={log}")
    spawns = H.spawns(H.parse_execution_log(log))
    assert len(spawns) == 3 and not [s for s in spawns if s.get("remoteCacheHit")]
    a = H.tree_digest([lab.ws.bin() / name for name in ARTIFACTS] + [_tool_launcher(lab.ws)])
    b = H.tree_digest([other.bin() / name for name in ARTIFACTS] + [_tool_launcher(other)])
    assert a.keys() == b.keys()
    assert {"greet_pex.pex.cdx.json", "lock.sh", "lock_test.check.sh", "vpython"} <= set(a), sorted(a)
    differing = sorted(k for k in a if a[k] != b[k])
    assert not differing, f"differ between the two checkouts: {differing}"

    # The action keys themselves (arguments, environment, every input's path and digest)
    # are the same at both paths, so a shared cache serves either checkout.
    keys_a = _action_keys(H.spawns(H.parse_execution_log(log_a)))
    keys_b = _action_keys(spawns)
    assert keys_a.keys() == keys_b.keys() and len(keys_a) == 3
    for output in keys_a:
        for part in ("args", "env", "platform", "inputs"):
            assert keys_a[output][part] == keys_b[output][part], f"{output}: {part} differs between checkouts"
    other.shutdown()


def test_only_the_tool_launcher_holds_an_absolute_path_among_the_action_inputs(lab):
    """docs/bazel.md: the host interpreter's path (in the tool launcher) is the one
    machine-specific part of a VpythonBuild action key."""
    lab.ws.bazel("clean")
    log = lab.root / "exec-inputs.json"
    lab.ws.bazel("build", EXAMPLE_TARGETS, f"--execution_log_json_file={log}")
    execroot = Path(lab.ws.bazel("info", "execution_root").stdout.strip())
    interpreter = H.python_for_tool().encode()
    needles = {"the temporary test directory": str(lab.root).encode(),
               "the output base": str(lab.ws.output_base).encode(),
               "the checkout": str(H.REPO).encode()}
    with_interpreter = set()
    for spawn in H.spawns(H.parse_execution_log(log)):
        assert not [a for a in spawn["commandArgs"] if a.startswith("/")], spawn["commandArgs"]
        assert not [v for v in spawn["environmentVariables"] if "/" in v["value"]], spawn["environmentVariables"]
        for item in spawn["inputs"]:
            assert not item["path"].startswith("/"), item["path"]
            data = (execroot / item["path"]).read_bytes()
            leaked = [what for what, needle in needles.items() if needle in data]
            assert not leaked, f"{item['path']} contains {leaked}"
            if interpreter in data:
                with_interpreter.add(item["path"])
    assert with_interpreter == {str(_tool_launcher(lab.ws).relative_to(lab.ws.dir))}, with_interpreter


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
        first = _vpython_spawns(lab, "build", EXAMPLE_TARGETS, *flags, name="exec-remote-1.json")
        assert len(first) == 3 and not [s for s in first if s.get("remoteCacheHit")]
        lab.ws.bazel("clean")
        second = _vpython_spawns(lab, "build", EXAMPLE_TARGETS, *flags, name="exec-remote-2.json")
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
    ("windows_arm64", "win_arm64"),
    ("linux_arm64", "manylinux2014_aarch64.manylinux_2_17_aarch64.manylinux_2_28_aarch64"),
])
def test_build_for_another_platform_uses_that_platforms_wheels(lab, platform, expected):
    lab.ws.bazel("build", "//:greet", "//:greet_pex", f"--platforms=@vpython//toolchains:{platform}")
    assert _wheel_tag_in_venv(lab.ws.bin() / "greet.venv") == expected
    assert _wheel_tag_in_pex(lab.ws.bin() / "greet_pex.pex") == expected


def test_platform_missing_from_a_lock_fails_naming_the_target_and_the_fix(lab):
    # //attrs:six_only's own lock covers Linux only.
    proc = lab.ws.bazel("build", "//attrs:six_only", "--platforms=@vpython//toolchains:windows_arm64", check=False)
    assert proc.returncode != 0
    err = proc.stderr
    assert "the lock attrs/pylock.six_only.toml has no target cp312-cp312-win_arm64" in err, err[-3000:]
    assert "vpython lock --platform win_arm64 --python 3.12" in err, err[-3000:]


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


# --------------------------------------------------------------------------- SBOM of a pex

def test_pex_sbom_is_a_declared_output_in_its_own_output_group(lab):
    lab.ws.bazel("clean")
    log = lab.root / "exec-sbom.json"
    # Local execution, no cache: whatever the action writes lands in bazel-out.
    lab.ws.bazel("build", "//:greet_pex", "--output_groups=+sbom", "--spawn_strategy=local", "--disk_cache=",
                 f"--execution_log_json_file={log}")
    sbom = lab.ws.bin() / "greet_pex.pex.cdx.json"
    doc = json.loads(sbom.read_text())
    assert doc["bomFormat"] == "CycloneDX"
    components = sorted((c["name"], c["version"]) for c in doc["components"])
    assert components == [("markupsafe", "3.0.3"), ("six", "1.17.0")], components
    declared = {os.path.basename(p) for s in H.parse_execution_log(log) for p in s.get("listedOutputs", [])}
    assert {"greet_pex.pex", "greet_pex.pex.cdx.json"} <= declared, declared
    # Launcher and runfiles come from Bazel-internal actions (not in the execution log).
    internal = {"greet_pex", "greet_pex.runfiles", "greet_pex.runfiles_manifest"}
    undeclared = sorted(set(os.listdir(lab.ws.bin())) - declared - internal)
    assert not undeclared, f"files in bazel-bin that no action declared: {undeclared}"
    # `--output_groups=sbom` alone yields the SBOM (and what it needs), not the launcher.
    proc = lab.ws.bazel("build", "//:greet_pex", "--output_groups=sbom")
    assert "greet_pex.pex.cdx.json" in proc.stderr and "bazel-bin/greet_pex\n" not in proc.stderr, proc.stderr


# --------------------------------------------------------------------------- attributes

def test_args_data_env_and_the_pinned_interpreter_with_bazel_run(lab):
    for target, kind in (("//attrs:show", "venv binary"), ("//attrs:show_pex", "pex binary")):
        out = lab.ws.bazel("run", target).stdout
        assert ATTRS_ARGS in out, out  # args: $(location), quoting, $$
        assert "data: attribute data 42" in out, out  # a data file, read at run time
        assert f"env ATTRS_KIND: {kind}" in out, out
        assert "env ATTRS_DATA: attrs/data.txt" in out, out  # env with $(location)
        assert "python: 3.11" in out and "deps: 1.17.0 &lt;ok&gt;" in out, out
        # The toolchain's interpreter, from the runfiles (no absolute path in the launcher).
        pinned = re.search(r"VPYTHON_PYTHON: (\S+)", out).group(1)
        assert pinned.endswith(".runfiles/vpython_toolchains/host_python/python3.11"), pinned
        assert os.path.realpath(pinned) == os.path.realpath(H.python_for_tool())
        # `bazel run target -- more` appends to the rule's args.
        more = lab.ws.bazel("run", target, "--", "extra").stdout
        assert "'$HOME', 'extra']" in more, more


def test_args_data_env_with_bazel_test(lab):
    proc = lab.ws.bazel("test", "//attrs:show_test", "--test_output=all", "--nocache_test_results")
    out = proc.stdout + proc.stderr
    assert ATTRS_ARGS in out and "env ATTRS_KIND: venv test" in out, out
    assert "attributes OK" in out and "1 test passes" in out, out


def test_launchers_pin_the_interpreter_without_absolute_paths(lab, tmp_path):
    lab.ws.bazel("build", "//:greet", "//:greet_pex", "//attrs:six_only")
    for name in ("greet", "greet_pex"):
        text = (lab.ws.bin() / name).read_text()
        assert "export VPYTHON_PYTHON=\"$R/\"'vpython_toolchains/host_python/python3.11'" in text, text
        body = text.split("\n", 1)[1]  # after the #!/usr/bin/env bash line
        assert not re.search(r"(?<![\w$\"'])/(usr|root|tmp|home|work)/", body), body
    # python_version = "3.12" differs from the toolchain's Python: nothing pinned.
    assert "VPYTHON_PYTHON=" not in (lab.ws.bin() / "attrs" / "six_only").read_text()
    # With no python3.11 on PATH at all, the pinned interpreter still runs both artifacts.
    only_bash = tmp_path / "bin"
    only_bash.mkdir()
    (only_bash / "bash").symlink_to(shutil.which("bash"))
    env = dict(_clean_env(), PATH=str(only_bash))
    for name in ("greet", "greet_pex"):
        proc = subprocess.run([str(lab.ws.bin() / name), "<World & co>"], cwd="/", capture_output=True, text=True,
                              env=env, timeout=60)
        assert proc.returncode == 0 and EXPECTED in proc.stdout, proc.stdout + proc.stderr


def _real_python(version):
    """A real pythonX.Y binary (not a pyenv shim), or None."""
    candidates = [os.path.join(d, f"python{version}") for d in os.environ.get("PATH", "").split(os.pathsep)]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            with open(c, "rb") as f:
                if f.read(2) != b"#!":
                    return c
    return None


def test_lock_attribute_with_per_package_deps_and_python_version(lab):
    lab.ws.bazel("build", "//attrs:six_only")
    venv = lab.ws.bin() / "attrs" / "six_only.venv"
    meta = json.loads((venv / "vpython-artifact.json").read_text())
    assert meta["python"] == "3.12" and meta["platform"] == "cp312-cp312-manylinux_2_28_" + _host_arch(), meta
    assert [p["name"] for p in meta["packages"]] == ["six"], meta["packages"]
    assert (venv / "lib" / "python3.12" / "site-packages" / "six.py").is_file()
    python312 = _real_python("3.12")
    if not python312:
        pytest.skip("no python3.12 binary here to run the 3.12 venv")
    env = dict(_clean_env(), VPYTHON_PYTHON=python312)
    proc = subprocess.run([str(lab.ws.bin() / "attrs" / "six_only")], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "six_only: six 1.17.0 | python 3.12 | venv: True" in proc.stdout, proc.stdout
