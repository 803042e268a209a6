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
    files = [str(p) for repo in ("pypi", "vpython_toolchains", "vpython_toolchains_deps_linux_x86_64") for p in (external / repo).rglob("BUILD.bazel")]
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
    H.write_bazelrc(other_dir, lab.repository_cache, None, lab.blocked)
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
    interpreter = lab.python.encode()
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
    """After one fetch, `clean --expunge` and a build with no usable network: every URL of
    both locks (the example's and the vpython tool's) unreachable, and a proxy that refuses
    connections. The repository cache alone is enough, and so is --distdir alone."""
    lock_path = lab.ws.dir / H.LOCK_NAME
    original = lock_path.read_text()
    root = lab.ws.dir.parent.parent  # the checkout copy
    lab.ws.bazel("build", "//:greet", "//:lock")  # fills the repository cache if no test before did
    served_before = lab.index.served_files()
    assert sorted(set(served_before)) == sorted(served_before), f"a wheel was downloaded twice: {served_before}"
    assert [f for f in served_before if f.startswith(("pex-", "uv-"))], "the tool's wheels came from elsewhere"
    # Same file names and sha256, but URLs nothing answers: only the repository cache can help.
    H.rewrite_lock(lock_path, {f: f"https://unreachable.invalid/wheels/{f}" for f in lab.wheels})
    H.rewrite_tool_lock(root, urls={f: f"https://unreachable.invalid/tool/{f}" for f in lab.tool_wheels})
    refused = "http://127.0.0.1:9"  # nothing listens on the discard port
    offline = dict(lab.ws.env, HTTP_PROXY=refused, HTTPS_PROXY=refused, http_proxy=refused, https_proxy=refused)
    try:
        lab.ws.bazel("clean", "--expunge")
        lab.ws.bazel("build", "//:greet", "//:lock", env=offline)
        proc = lab.ws.bazel("run", "//:greet", "--", "<World & co>", env=offline)
        assert EXPECTED in proc.stdout
        # Control: with an empty repository cache the same build cannot fetch.
        lab.ws.bazel("clean", "--expunge")
        # (No proxy here: Bazel retries a refused proxy for seconds; an unknown host fails at once.)
        failed = lab.ws.bazel("build", "//:greet", f"--repository_cache={lab.root / 'empty-repo-cache'}",
                              check=False)
        assert failed.returncode != 0
        assert "unreachable.invalid" in failed.stderr, failed.stderr[-3000:]
        # --distdir: a directory of the wheels (matched by file name and sha256) is enough,
        # still with no repository cache and no reachable URL.
        lab.ws.bazel("build", "//:greet", "//:lock", f"--repository_cache={lab.root / 'empty-repo-cache-2'}",
                     f"--distdir={lab.root / 'wheels'}", env=offline)
    finally:
        lock_path.write_text(original)
        H.rewrite_tool_lock(root, doc=lab.tool_lock)
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


# --------------------------------------------------------------------------- hermetic toolchain

def _tool_deps_inputs(spawn):
    return sorted(i["path"].split("/", 2)[2] for i in spawn["inputs"]
                  if i["path"].startswith("external/vpython_toolchains_deps_"))


def test_build_actions_run_the_tool_on_the_locked_wheels_only(lab):
    """The tool's dependencies are the wheels the tool lock selects for this Python on this
    exec platform (declared inputs, not uv's), never the host's site-packages."""
    lab.ws.bazel("clean")
    spawns = _vpython_spawns(lab, "build", EXAMPLE_TARGETS, name="exec-tool-deps.json")
    selected = lab.tool_lock["targets"][H.host_tool_target()]
    expected = sorted(["manifest.json"] + [f"wheels/{f}" for f in selected if not f.startswith("uv-")])
    assert len(spawns) == 3
    for spawn in spawns:
        assert _tool_deps_inputs(spawn) == expected, spawn["progressMessage"]
        blocked = [i["path"] for i in spawn["inputs"] for b in lab.blocked if b in i["path"]]
        assert not blocked, blocked
    launcher = _tool_launcher(lab.ws).read_text()
    assert f"PY='{lab.python}'" in launcher  # the venv --without-pip interpreter, as given
    assert "-B -E -s -S" in launcher and "cpython 3.11" in launcher


def _write_probe_package(ws_dir: Path, paths: list) -> None:
    """A genrule that counts, inside the sandbox, what each path holds."""
    checks = " ".join(f"echo {p} $$(ls -A {p} 2>/dev/null | wc -l);" for p in paths)
    (ws_dir / "probe").mkdir(exist_ok=True)
    (ws_dir / "probe" / "BUILD.bazel").write_text(
        f'genrule(name = "blocked", outs = ["blocked.txt"], cmd = "({checks}) > $@")\n')


def test_bazel_test_everything_with_host_site_packages_and_cache_blocked(lab):
    """The whole example (and //attrs) passes `bazel test //...` with the toolchain on a
    `venv --without-pip` interpreter, while --sandbox_block_path hides the host Python's
    site-packages (where vpython's dependencies are installed) and ~/.cache."""
    assert lab.blocked and any(p.endswith("site-packages") for p in lab.blocked), lab.blocked
    assert any(p.endswith(".cache") for p in lab.blocked), lab.blocked
    non_empty = [p for p in lab.blocked if os.listdir(p)]
    assert non_empty, "nothing to block on this host"
    _write_probe_package(lab.ws.dir, non_empty)
    try:
        lab.ws.bazel("build", "//probe:blocked")
        seen = dict(line.rsplit(" ", 1) for line in (lab.ws.bin() / "probe" / "blocked.txt").read_text().splitlines())
        assert seen == {p: "0" for p in non_empty}, seen  # the control: empty inside the sandbox
        proc = lab.ws.bazel("test", "//...", "--nocache_test_results")
        out = proc.stdout + proc.stderr
        assert re.search(r"Executed (\d+) out of \1 tests?: \1 tests? pass", out), out[-3000:]
        for target in ("//:greet_test", "//:lock_test", "//attrs:show_test"):
            assert target in out, out[-3000:]
    finally:
        shutil.rmtree(lab.ws.dir / "probe")


def test_strict_action_env_does_not_change_the_build_actions(lab):
    """Build actions set their whole environment: flipping --incompatible_strict_action_env
    (the example's .bazelrc turns it on) leaves their keys, hence their results, as they
    are: after `clean`, every VpythonBuild is a cache hit."""
    lab.ws.bazel("build", EXAMPLE_TARGETS)
    lab.ws.bazel("clean")
    spawns = _vpython_spawns(lab, "build", EXAMPLE_TARGETS, "--noincompatible_strict_action_env", name="exec-nostrict.json")
    assert len(spawns) == 3
    assert all(s.get("remoteCacheHit") for s in spawns), [s["progressMessage"] for s in spawns if not s.get("remoteCacheHit")]


def test_too_old_interpreter_fails_naming_the_toolchain_and_the_fix(lab):
    """Python 3.8 as the toolchain's interpreter: the build stops at analysis with the
    tool's label, the problem and the fix. On the way, @pypi's lockfile is read by that
    Python, which has no tomllib, with the tomli wheel of the tool lock."""
    old = next((p for p in (_real_python(v) for v in ("3.8", "3.7", "3.6")) if p), None)
    if not old:
        pytest.skip("no Python older than 3.9 here")
    if H._real_tomli() is None:
        pytest.skip("no pip here to take tomli from for the stand-in tomli wheel")
    env = dict(lab.ws.env, VPYTHON_BAZEL_PYTHON=old)
    try:
        proc = lab.ws.bazel("build", "//:greet", check=False, env=env)
    finally:
        lab.ws.bazel("build", "//:greet")  # back to the bare 3.11 interpreter
    err = proc.stderr
    assert proc.returncode != 0
    assert "vpython_tool @vpython_toolchains//:vpython: the host Python " in err, err[-3000:]
    assert re.search(r"is Python 3\.[6-8]\.\d+; the vpython tool needs 3\.9 or newer", err), err[-3000:]
    assert "Fix: point vpython_register_toolchains at CPython 3.9 or newer" in err, err[-3000:]
    assert "cannot read the lockfile" not in err, err[-3000:]


def _other_linux():
    return "linux_arm64" if _host_arch() == "x86_64" else "linux_x86_64"


def test_interpreter_as_a_label_and_a_remote_exec_platform(lab):
    """exec_interpreters: the host platform's interpreter as a label (an action input: no
    input of any build action holds an absolute path, and the outputs are those of the
    host-path toolchain), and another platform's for remote execution, whose actions get
    that platform's tool wheels and interpreter (analysed with aquery; nothing here can run
    them)."""
    if _host_arch() not in ("x86_64", "aarch64"):
        pytest.skip("needs a Linux x86_64 or aarch64 host")
    lab.ws.bazel("build", EXAMPLE_TARGETS)
    host_key, other_key = f"linux_{'arm64' if _host_arch() == 'aarch64' else 'x86_64'}", _other_linux()
    other_dir = H.copy_tree(lab.root / "A", lab.root / "C")
    fake = lab.root / "remote-python"
    (fake / "bin").mkdir(parents=True, exist_ok=True)
    (fake / "bin" / "python3").write_text("#!/bin/sh\necho 'a stand-in for a remote worker\'s Python' >&2\nexit 1\n")
    venv = Path(lab.python).parent.parent
    workspace = other_dir / "WORKSPACE"
    text = workspace.read_text()
    assert 'vpython_register_toolchains(python_version = "3.11")' in text
    text = text.replace('vpython_register_toolchains(python_version = "3.11")', f"""vpython_register_toolchains(
    exec_interpreters = {{
        "{host_key}": "@tool_python//:bin/python3",
        "{other_key}": "@remote_python//:bin/python3",
    }},
    python_version = "3.11",
)""")
    text = text.replace('workspace(name = "vpython_example")\n', f"""workspace(name = "vpython_example")

new_local_repository(
    name = "tool_python",
    build_file_content = 'exports_files(["bin/python3"])',
    path = "{venv}",
)

new_local_repository(
    name = "remote_python",
    build_file_content = 'exports_files(["bin/python3"])',
    path = "{fake}",
)
""")
    workspace.write_text(text)
    H.write_bazelrc(other_dir, lab.repository_cache, None, lab.blocked)
    other = H.Workspace(other_dir, lab.root / "output-base-C", lab.ws.env)
    lab.extra.append(other)
    try:
        log = lab.root / "exec-C.json"
        proc = other.bazel("test", EXAMPLE_TARGETS, f"--execution_log_json_file={log}")
        assert re.search(r"2 tests? pass", proc.stdout + proc.stderr), proc.stdout + proc.stderr
        launcher = _tool_launcher(other).read_text()
        assert "PY=\"$R/\"'tool_python/bin/python3'" in launcher, launcher
        execroot = Path(other.bazel("info", "execution_root").stdout.strip())
        needles = {"the test directory": str(lab.root).encode(), "the interpreter's path": str(venv).encode(),
                   "the output base": str(other.output_base).encode(), "the checkout": str(H.REPO).encode()}
        spawns = H.spawns(H.parse_execution_log(log))
        assert len(spawns) == 3
        for spawn in spawns:
            assert "external/tool_python/bin/python3" in {i["path"] for i in spawn["inputs"]}
            for item in spawn["inputs"]:
                data = (execroot / item["path"]).read_bytes()
                leaked = [what for what, needle in needles.items() if needle in data]
                assert not leaked, f"{item['path']} contains {leaked}"
        # The artifacts are those of the host-path toolchain (the launchers differ: they pin
        # the interpreter by its runfiles path, here @tool_python's).
        names = ("greet.venv", "greet_pex.pex", "greet_pex.pex.cdx.json", "greet_test.venv")
        assert H.tree_digest([other.bin() / n for n in names]) == H.tree_digest([lab.ws.bin() / n for n in names])
        assert "export VPYTHON_PYTHON=\"$R/\"'tool_python/bin/python3'" in (other.bin() / "greet").read_text()

        # The other platform's toolchain: its tool wheels and its interpreter as inputs.
        query = other.bazel("aquery", 'mnemonic("VpythonBuild", //:greet)',
                            f"--extra_execution_platforms=@vpython//toolchains:{other_key}").stdout
        inputs = query.split("Inputs: [", 1)[1].split("]", 1)[0]
        assert f"bazel-out/host/bin/external/vpython_toolchains/vpython_exec_{other_key}," in inputs, query[:3000]
        assert f"external/vpython_toolchains_deps_{other_key}/manifest.json" in inputs, query[:3000]
        assert f"external/vpython_toolchains_deps_{host_key}/" not in inputs, query[:3000]
        # ... whose interpreter (a runfile, behind the runfiles middleman above) is the label.
        deps = other.bazel("query", f"deps(@vpython_toolchains//:vpython_exec_{other_key})").stdout
        assert "@remote_python//:bin/python3" in deps.split(), deps[-2000:]
    finally:
        other.shutdown()
