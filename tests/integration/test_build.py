"""``vpython build`` end to end, with wheels built here and a local index (no PyPI).

The index serves ``fastpkg`` 1.0 as a binary wheel for three platforms (each wheel's
module says which platform it was built for), ``puredep`` 1.0/1.1 and ``tinycli`` (a
console script). The artifacts are checked for what the issue asks: identical bytes
from two build directories, running with the locked versions, relocation, cross-platform
contents, refusal of a platform the lock lacks, building with the index gone.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import textwrap
import zipfile

import pytest

from tests.support import make_wheel, serve_index, sha256_file
from tests.support.vp import run_vpython

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
CP = f"cp{sys.version_info[0]}{sys.version_info[1]}"
PLATFORMS = ("manylinux_2_17_x86_64", "macosx_11_0_arm64", "win_amd64")
HOST_OK = sys.platform == "linux" and os.uname().machine == "x86_64"
REAL_PYTHON = os.path.realpath(sys.executable)

pytestmark = pytest.mark.skipif(not HOST_OK, reason="the fixture lock targets linux x86_64 as the host platform")


def build_wheels(directory):
    os.makedirs(directory, exist_ok=True)
    for plat in PLATFORMS:
        make_wheel(directory, "fastpkg", "1.0", tag=f"{CP}-{CP}-{plat}", requires=["puredep>=1"],
                   files={"fastpkg/__init__.py": f"__version__ = '1.0'\nBUILT_FOR = '{plat}'\n"})
    make_wheel(directory, "puredep", "1.0")
    make_wheel(directory, "puredep", "1.1")
    make_wheel(directory, "tinycli", "1.0", entry_points={"console_scripts": {"tinycli": "tinycli:main"}})
    return directory


SCRIPT = """\
# /// script
# dependencies = ["fastpkg", "tinycli"]
# [tool.vpython]
# python-version = "{py}"
# platforms = [{platforms}]
# ///
import sys
import fastpkg, puredep, tinycli
print("fastpkg", fastpkg.__version__, fastpkg.BUILT_FOR, "puredep", puredep.__version__)
print("prefix", sys.prefix)
print("args", sys.argv[1:])
"""


def write_script(directory, platforms=PLATFORMS):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "tool.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(SCRIPT.format(py=PY, platforms=", ".join(f'"{p}"' for p in platforms)))
    return path


@pytest.fixture
def wheels(tmp_path):
    return build_wheels(str(tmp_path / "wheels"))


@pytest.fixture
def project(tmp_path, wheels, vpython_root):
    """A script and its lockfile (locked against a local index that is then shut down)."""
    script = write_script(str(tmp_path / "proj"))
    with serve_index(wheels) as index:
        run_vpython(["lock", script, "--index-url", index.url], cwd=tmp_path, check=0)
    lock = os.path.join(os.path.dirname(script), "pylock.tool.toml")
    assert os.path.isfile(lock)
    return script, lock


def build(args, cwd, check=0, env=None):
    proc = run_vpython(["build", *args], cwd=cwd, check=check, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def offline_args(lock, wheels):
    return ["--lock", lock, "--find-links", wheels, "--offline"]


def tree_listing(root):
    """Every path with its type, mode, mtime and content hash or symlink target."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                what = "link " + os.readlink(p)
            elif stat.S_ISDIR(st.st_mode):
                what = "dir"
            else:
                with open(p, "rb") as f:
                    what = "file " + hashlib.sha256(f.read()).hexdigest()
            out.append((rel, oct(stat.S_IMODE(st.st_mode)), int(st.st_mtime), what))
    return sorted(out)


def run(cmd, env_extra=None, path=None):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = path if path is not None else os.path.dirname(REAL_PYTHON) + os.pathsep + "/usr/bin:/bin"
    for k, v in (env_extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)


# --------------------------------------------------------------------------- venv

def test_venv_is_byte_reproducible_runs_and_survives_a_move(tmp_path, project, wheels):
    script, lock = project
    # Relative paths, as Bazel passes them: relative to the working directory (which is
    # not the spec's directory, nor at the same depth).
    cwd_a = tmp_path / "a" / "ws"
    os.makedirs(cwd_a)
    os.makedirs(tmp_path / "b" / "deeper" / "dir")
    build([os.path.relpath(script, cwd_a), "-o", "../out.venv",
           *offline_args(os.path.relpath(lock, cwd_a), os.path.relpath(wheels, cwd_a))], cwd=cwd_a)
    proc = build([script, "-o", str(tmp_path / "b" / "deeper" / "dir" / "out.venv"), *offline_args(lock, wheels)],
                 cwd=tmp_path / "b", env={"SOURCE_DATE_EPOCH": None})
    a, b = tmp_path / "a" / "out.venv", tmp_path / "b" / "deeper" / "dir" / "out.venv"
    assert tree_listing(a) == tree_listing(b)
    assert len(tree_listing(a)) > 20
    assert {m for _, _, m, _ in tree_listing(a)} == {315532800}
    # Nothing inside names the build directory or any absolute path.
    for root in (a, b):
        for dirpath, _, filenames in os.walk(root):
            for name in filenames:
                p = os.path.join(dirpath, name)
                if os.path.islink(p):
                    assert not os.path.isabs(os.readlink(p)), p
                    continue
                with open(p, "rb") as f:
                    data = f.read()
                assert str(tmp_path).encode() not in data, p
                assert os.path.dirname(REAL_PYTHON).encode() not in data, p
    assert sorted(os.listdir(tmp_path / "a")) == ["out.venv", "ws"]  # no work dirs left
    meta = json.loads((a / "vpython-artifact.json").read_text())
    assert meta["platform"] == f"{CP}-{CP}-manylinux_2_17_x86_64"
    assert meta["content-sha256"] in proc.stdout
    assert {p["name"]: p["version"] for p in meta["packages"]} == {"fastpkg": "1.0", "puredep": "1.1", "tinycli": "1.0"}
    # PEP 405 venv with the wheel's own metadata.
    site = a / "lib" / f"python{PY}" / "site-packages"
    assert (a / "pyvenv.cfg").read_text().startswith("include-system-site-packages = false\n")
    assert (site / "fastpkg-1.0.dist-info" / "INSTALLER").read_text() == "vpython\n"
    assert (site / "fastpkg-1.0.dist-info" / "RECORD").is_file()
    assert not list(a.rglob("*.pyc"))

    # Runs with the locked versions; the tree is sys.prefix; arguments pass through.
    res = run([str(a / "bin" / "tool"), "x", "--y"], {"VPYTHON_PYTHON": REAL_PYTHON})
    assert res.returncode == 0, res.stderr
    assert "fastpkg 1.0 manylinux_2_17_x86_64 puredep 1.1" in res.stdout
    assert f"prefix {a}" in res.stdout and "args ['x', '--y']" in res.stdout
    res = run([str(a / "bin" / "tinycli")])  # interpreter found on PATH this time
    assert res.returncode == 0 and "tinycli 1.0" in res.stdout, res.stderr
    res = run([str(a / "bin" / "python"), "-c", "import sys, subprocess; print(sys.prefix == sys.base_prefix);"
               "subprocess.run([sys.executable, '-c', 'import sys, puredep; print(sys.prefix)'])"])
    assert res.stdout.split() == ["False", str(a)], res.stderr

    # Move the tree: it keeps working from its new place.
    moved = tmp_path / "elsewhere" / "renamed.venv"
    os.makedirs(moved.parent)
    os.rename(a, moved)
    res = run([str(moved / "bin" / "tool")])
    assert res.returncode == 0, res.stderr
    assert f"prefix {moved}" in res.stdout and "puredep 1.1" in res.stdout
    # Through a symlink to the launcher (as in a Bazel runfiles tree).
    os.symlink(moved / "bin" / "tool", tmp_path / "tool-link")
    res = run([str(tmp_path / "tool-link")])
    assert res.returncode == 0 and f"prefix {moved}" in res.stdout, res.stderr


def test_venv_shim_skips_script_wrappers_and_explains_a_missing_interpreter(tmp_path, project, wheels):
    script, lock = project
    out = tmp_path / "out.venv"
    build([script, "-o", str(out), *offline_args(lock, wheels)], cwd=tmp_path)
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (fake / f"python{PY}").write_text("#!/bin/sh\necho wrapper-ran\nexit 3\n")
    (fake / f"python{PY}").chmod(0o755)
    # The venv's own bin/ first on PATH (an activated venv) and a wrapper script: both skipped.
    path = os.pathsep.join([str(out / "bin"), str(fake), os.path.dirname(REAL_PYTHON), "/usr/bin", "/bin"])
    res = run([str(out / "bin" / "python"), "-c", "import sys, fastpkg; print(sys.prefix)"], path=path)
    assert res.returncode == 0 and res.stdout.strip() == str(out), (res.stdout, res.stderr)
    res = run([str(out / "bin" / "python"), "-c", "pass"], path=str(fake) + os.pathsep + "/nonexistent")
    assert res.returncode == 127
    assert f"no python{PY} interpreter found" in res.stderr and "VPYTHON_PYTHON" in res.stderr


@pytest.mark.parametrize("version", ["3.9", "3.10", "3.12", "3.13"])
def test_venv_for_other_pythons_runs_on_real_interpreters(tmp_path, wheels, vpython_root, version):
    from vpython.interpreters.discover import pyenv_root

    binary = os.path.join(pyenv_root(), "versions")
    found = sorted(d for d in os.listdir(binary) if d.startswith(version + ".")) if os.path.isdir(binary) else []
    if not found:
        pytest.skip(f"no pyenv CPython {version}")
    interp = os.path.join(binary, found[-1], "bin", f"python{version}")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "app.py").write_text(textwrap.dedent(f"""\
        # /// script
        # dependencies = ["puredep==1.0", "tinycli"]
        # [tool.vpython]
        # python-version = "{version}"
        # platforms = ["manylinux_2_17_x86_64"]
        # ///
        import sys, puredep
        print(sys.version_info[:2], sys.prefix, puredep.__version__)
        """))
    with serve_index(wheels) as index:
        run_vpython(["lock", str(proj / "app.py"), "--index-url", index.url], cwd=tmp_path, check=0)
    out = tmp_path / "out.venv"
    build([str(proj / "app.py"), "-o", str(out), "--find-links", wheels, "--offline"], cwd=tmp_path)
    assert (out / "lib" / f"python{version}" / "site-packages" / "puredep").is_dir()
    moved = tmp_path / "moved"
    os.rename(out, moved)
    major, minor = version.split(".")
    res = run([str(moved / "bin" / "app")], path=os.path.dirname(interp) + os.pathsep + "/usr/bin:/bin")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"({major}, {minor}) {moved} 1.0"
    res = run([str(moved / "bin" / "tinycli")], {"VPYTHON_PYTHON": interp})
    assert res.returncode == 0 and "tinycli 1.0" in res.stdout, res.stderr


def test_compiled_venv_is_reproducible_too(tmp_path, project, wheels):
    script, lock = project
    for d in ("one", "two"):
        build([script, "-o", str(tmp_path / d / "out.venv"), "--compile", *offline_args(lock, wheels)], cwd=tmp_path)
    a, b = tmp_path / "one" / "out.venv", tmp_path / "two" / "out.venv"
    assert tree_listing(a) == tree_listing(b)
    pycs = list(a.rglob("*.pyc"))
    assert pycs and any("fastpkg" in str(p) for p in pycs)
    assert not any(str(tmp_path).encode() in p.read_bytes() for p in pycs)
    res = run([str(a / "bin" / "tool")])
    assert res.returncode == 0 and "puredep 1.1" in res.stdout, res.stderr


# --------------------------------------------------------------------------- pex

def test_pex_is_byte_reproducible_and_runs(tmp_path, project, wheels):
    script, lock = project
    outs = []
    for d in ("one", "two/deeper"):
        os.makedirs(tmp_path / d)
        build([script, "--format", "pex", "-o", "tool.pex", *offline_args(lock, wheels)], cwd=tmp_path / d)
        outs.append(tmp_path / d / "tool.pex")
    assert sha256_file(outs[0]) == sha256_file(outs[1])
    pex = outs[0]
    env = {"PEX_ROOT": str(tmp_path / "pex-root")}
    for cmd in ([str(pex), "a1"], [REAL_PYTHON, str(pex), "a1"]):
        res = run(cmd, env)
        assert res.returncode == 0, res.stderr
        assert "fastpkg 1.0 manylinux_2_17_x86_64 puredep 1.1" in res.stdout and "args ['a1']" in res.stdout
    with zipfile.ZipFile(pex) as zf:
        names = zf.namelist()
        info = json.loads(zf.read("PEX-INFO"))
    assert f".deps/fastpkg-1.0-{CP}-{CP}-manylinux_2_17_x86_64.whl/" in names
    assert str(tmp_path) not in json.dumps(info)
    # The SBOM beside it: every package, its version and the locked wheel's sha256.
    doc = json.loads((tmp_path / "one" / "tool.pex.cdx.json").read_text())
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.5"
    assert doc["metadata"]["component"]["hashes"] == [{"alg": "SHA-256", "content": sha256_file(pex)}]
    comps = {c["name"]: c for c in doc["components"]}
    assert sorted(comps) == ["fastpkg", "puredep", "tinycli"]
    wheel = f"fastpkg-1.0-{CP}-{CP}-manylinux_2_17_x86_64.whl"
    assert comps["fastpkg"]["hashes"][0]["content"] == sha256_file(os.path.join(wheels, wheel))
    assert comps["fastpkg"]["purl"] == f"pkg:pypi/fastpkg@1.0?file_name={wheel}"
    assert (tmp_path / "one" / "tool.pex.cdx.json").read_bytes() == (tmp_path / "two/deeper" / "tool.pex.cdx.json").read_bytes()


def test_pex_entry_point_and_venv_mode(tmp_path, project, wheels):
    script, lock = project
    out = tmp_path / "cli.pex"
    build([script, "--format", "pex", "-o", str(out), "--entry-point", "tinycli:main", "--pex-venv",
           *offline_args(lock, wheels)], cwd=tmp_path)
    env = {"PEX_ROOT": str(tmp_path / "pex-root")}
    for cmd in ([str(out)], [str(out)], [REAL_PYTHON, str(out)]):  # the first run creates the venv
        res = run(cmd, env)
        assert res.returncode == 0 and "tinycli 1.0" in res.stdout, res.stderr
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read("PEX-INFO"))["venv"] is True
    assert os.path.isdir(tmp_path / "pex-root" / "venvs")
    # --sh-boot: warm runs exec the venv's python from a /bin/sh preamble, no Python boot first.
    with open(out, "rb") as f:
        head = f.read(4096)
    assert head.startswith(b"#!/bin/sh\n") and f'"python{PY}"'.encode() in head


# --------------------------------------------------------------------------- cross-platform

@pytest.mark.parametrize("platform", ["macosx_11_0_arm64", "win_amd64"])
def test_cross_platform_artifacts_hold_the_target_wheels(tmp_path, project, wheels, platform):
    script, lock = project
    venv = tmp_path / "out.venv"
    build([script, "-o", str(venv), "--platform", platform, *offline_args(lock, wheels)], cwd=tmp_path)
    windows = platform.startswith("win")
    site = venv / ("Lib/site-packages" if windows else f"lib/python{PY}/site-packages")
    wheel_meta = (site / "fastpkg-1.0.dist-info" / "WHEEL").read_text()
    assert f"Tag: {CP}-{CP}-{platform}" in wheel_meta
    assert f"BUILT_FOR = '{platform}'" in (site / "fastpkg" / "__init__.py").read_text()
    assert json.loads((venv / "vpython-artifact.json").read_text())["platform"] == f"{CP}-{CP}-{platform}"
    if windows:
        assert (venv / "Scripts" / "tinycli.cmd").is_file() and not (venv / "bin").exists()
    pex = tmp_path / "out.pex"
    build([script, "--format", "pex", "-o", str(pex), "--platform", platform, *offline_args(lock, wheels)],
          cwd=tmp_path)
    with zipfile.ZipFile(pex) as zf:
        deps = sorted({n.split("/")[1] for n in zf.namelist() if n.startswith(".deps/") and n.count("/") >= 2})
    assert deps == [f"fastpkg-1.0-{CP}-{CP}-{platform}.whl", "puredep-1.1-py3-none-any.whl",
                    "tinycli-1.0-py3-none-any.whl"]
    sbom = json.loads((tmp_path / "out.pex.cdx.json").read_text())
    props = {p["name"]: p["value"] for p in sbom["metadata"]["component"]["properties"]}
    assert props["vpython:platform"] == f"{CP}-{CP}-{platform}"


def test_a_platform_the_lock_lacks_is_refused(tmp_path, project, wheels):
    script, lock = project
    for fmt in ("venv", "pex"):
        out = tmp_path / f"out.{fmt}"
        proc = build([script, "--format", fmt, "-o", str(out), "--platform", "manylinux_2_28_aarch64",
                      *offline_args(lock, wheels)], cwd=tmp_path, check=2)
        assert "has no target manylinux_2_28_aarch64" in proc.stderr
        for plat in PLATFORMS:
            assert f"{CP}-{CP}-{plat}" in proc.stderr
        assert not out.exists()
    proc = build([script, "-o", str(tmp_path / "x"), "--platform", "manylinux_2_17_x86_64", "--python", "3.99",
                  *offline_args(lock, wheels)], cwd=tmp_path, check=2)
    assert "has no target cp399-cp399-manylinux_2_17_x86_64" in proc.stderr
    assert sorted(os.listdir(tmp_path)) == sorted(["proj", "wheels", "vpython-root"])


# --------------------------------------------------------------------------- inputs

def test_builds_with_the_index_gone(tmp_path, project, wheels, monkeypatch):
    """The lock's URLs point at the stopped index: find-links by file name, or the store."""
    script, lock = project
    with open(lock, encoding="utf-8") as f:
        assert "http://127.0.0.1" in f.read()
    monkeypatch.setenv("VPYTHON_VIRTUALENV_ROOT", str(tmp_path / "fresh-root"))
    build([script, "-o", str(tmp_path / "a.venv"), "--lock", lock, "--find-links", wheels], cwd=tmp_path)
    assert not (tmp_path / "fresh-root").exists()  # verified in place: no cache writes at all
    build([script, "--format", "pex", "-o", str(tmp_path / "a.pex"), "--lock", lock, "--find-links", wheels],
          cwd=tmp_path)
    res = run([str(tmp_path / "a.pex")], {"PEX_ROOT": str(tmp_path / "pex-root")})
    assert res.returncode == 0 and "puredep 1.1" in res.stdout, res.stderr
    # An unusable cache root (here: below a file; root ignores permissions) only costs
    # time: pex builds with a throwaway cache, to the same bytes.
    (tmp_path / "not-a-dir").write_text("")
    build([script, "--format", "pex", "-o", str(tmp_path / "b.pex"), "--lock", lock, "--find-links", wheels,
           "--root", str(tmp_path / "not-a-dir" / "root")], cwd=tmp_path)
    assert sha256_file(tmp_path / "a.pex") == sha256_file(tmp_path / "b.pex")
    # Without find-links and with nothing stored, the dead index is the only source: exit nonzero, nothing built.
    proc = build([script, "-o", str(tmp_path / "b.venv"), "--lock", lock], cwd=tmp_path, check=1)
    assert "cannot download" in proc.stderr and not (tmp_path / "b.venv").exists()


def test_a_wheel_that_does_not_match_the_lock_is_rejected(tmp_path, project, wheels):
    script, lock = project
    bad = tmp_path / "bad"
    bad.mkdir()
    make_wheel(bad, "puredep", "1.1", files={"puredep/__init__.py": "__version__ = 'evil'\n"})
    out = tmp_path / "out.venv"
    out.mkdir()
    (out / "vpython-artifact.json").write_text("{}")  # a previous build's (a plain directory is refused)
    (out / "keep").write_text("old build")
    proc = build([script, "-o", str(out), "--lock", lock, "--find-links", str(bad), "--find-links", wheels,
                  "--offline"], cwd=tmp_path, check=1)
    assert "hash mismatch for puredep-1.1-py3-none-any.whl" in proc.stderr and str(bad) in proc.stderr
    assert (out / "keep").read_text() == "old build"  # the previous OUT is untouched
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".out.venv")]


def test_without_a_lockfile_it_locks_into_the_cache(tmp_path, wheels, vpython_root):
    script = write_script(str(tmp_path / "proj"), platforms=("manylinux_2_17_x86_64",))
    with serve_index(wheels) as index:
        url = index.url
        proc = build([script, "-o", str(tmp_path / "out.venv"), "--index-url", url], cwd=tmp_path)
    assert sorted(os.listdir(tmp_path / "proj")) == ["tool.py"]  # nothing written beside the script
    cached = [n for n in os.listdir(vpython_root / "v1" / "locks") if n.startswith("build-")]
    assert len(cached) == 1, cached
    res = run([str(tmp_path / "out.venv" / "bin" / "tool")])
    assert res.returncode == 0 and "puredep 1.1" in res.stdout, (proc.stderr, res.stderr)
    # The spec's declared platform, not this machine's own tag (e.g. manylinux_2_36 from
    # its glibc), so two builders get the same target.
    assert json.loads((tmp_path / "out.venv" / "vpython-artifact.json").read_text())["platform"] == \
        f"{CP}-{CP}-manylinux_2_17_x86_64"
    # Second build, same sources: the cached resolution and the stored wheels are reused
    # (the index is gone now).
    build([script, "-o", str(tmp_path / "again.venv"), "--index-url", url], cwd=tmp_path)
    assert tree_listing(tmp_path / "out.venv") == tree_listing(tmp_path / "again.venv")


@pytest.mark.parametrize("args, message", [
    (["--platform", "solaris_sparc"], "--platform 'solaris_sparc': not a platform tag"),
    (["--python", "two"], "--python 'two': not a Python version"),
    (["--lock", "missing.toml"], "--lock missing.toml: no such file"),
    (["--entry-point", "not a module"], "--entry-point 'not a module': expected MODULE:FUNC"),
    (["--main", "nope.py"], "--main nope.py: no such file"),
    (["--format", "pex", "--compile"], "--compile applies to --format venv only"),
    (["--format", "zip"], "invalid choice: 'zip'"),
    (["--entry-name", "../evil", "--entry-point", "tinycli:main"], "is not a plain file name"),
])
def test_bad_input_is_exit_2_with_a_message(tmp_path, project, wheels, args, message):
    script, lock = project
    proc = build([script, "-o", str(tmp_path / "out"), "--find-links", wheels, "--offline", *args],
                 cwd=tmp_path, check=2)
    assert message in proc.stderr
    assert not (tmp_path / "out").exists()


def test_missing_script_and_missing_output_flag(tmp_path, vpython_root):
    proc = build([str(tmp_path / "nope.py"), "-o", str(tmp_path / "out")], cwd=tmp_path, check=2)
    assert "nope.py: no such file or directory" in proc.stderr
    proc = build([str(tmp_path)], cwd=tmp_path, check=2)
    assert "-o/--output" in proc.stderr


def test_a_stale_lockfile_is_not_built_from(tmp_path, project, wheels):
    """The spec changed after locking: build locks into the cache (with a warning) and
    leaves the user's lockfile alone, as runs do."""
    script, lock = project
    before = open(lock, "rb").read()
    with open(script, encoding="utf-8") as f:
        text = f.read()
    with open(script, "w", encoding="utf-8") as f:
        f.write(text.replace('dependencies = ["fastpkg", "tinycli"]', 'dependencies = ["fastpkg", "puredep==1.0"]'))
    with serve_index(wheels) as index:
        proc = build([script, "-o", str(tmp_path / "out.venv"), "--index-url", index.url], cwd=tmp_path)
    assert "pylock.tool.toml is stale" in proc.stderr
    assert open(lock, "rb").read() == before
    meta = json.loads((tmp_path / "out.venv" / "vpython-artifact.json").read_text())
    assert {p["name"]: p["version"] for p in meta["packages"]} == {"fastpkg": "1.0", "puredep": "1.0"}
    assert meta["platform"].startswith(f"{CP}-{CP}-manylinux_")


@pytest.mark.parametrize("fmt", ["venv", "pex"])
def test_a_crash_or_a_full_disk_leaves_the_previous_output(tmp_path, project, wheels, fmt):
    script, lock = project
    out = tmp_path / f"out.{fmt}"
    build([script, "--format", fmt, "-o", str(out), *offline_args(lock, wheels)], cwd=tmp_path)
    before = tree_listing(out) if fmt == "venv" else sha256_file(out)
    args = [script, "--format", fmt, "-o", str(out), "--entry-point", "tinycli:main", "--entry-name", "cli",
            *offline_args(lock, wheels)]
    proc = run_vpython(["build", *args], cwd=tmp_path, env={"VPYTHON_TEST_KILL_AT": "artifact-built"})
    assert proc.returncode == -9
    assert (tree_listing(out) if fmt == "venv" else sha256_file(out)) == before
    proc = build(args, cwd=tmp_path, check=1, env={"VPYTHON_TEST_FAIL_AT": "artifact-built:ENOSPC"})
    assert f"cannot build {out}: No space left on device" in proc.stderr
    assert (tree_listing(out) if fmt == "venv" else sha256_file(out)) == before
    leftovers = [n for n in os.listdir(tmp_path) if n.startswith(f".out.{fmt}")]
    assert len(leftovers) == 1  # only the killed build's work dir; the failed one cleaned up


# --------------------------------------------------------------------------- what -o may replace

def test_out_that_is_the_cwd_an_input_or_not_ours_is_refused_untouched(tmp_path, project, wheels):
    script, lock = project
    danger = tmp_path / "danger" / "sub"
    danger.mkdir(parents=True)
    (danger / "precious.txt").write_text("keep me")
    script_bytes = open(script, "rb").read()
    lock_bytes = open(lock, "rb").read()
    proj = os.path.dirname(script)
    other = tmp_path / "proj" / "other.py"
    other.write_text("print('other')\n")
    cases = [
        # (cwd, -o, extra args, what the message names)
        (danger, ".", [], "is the working directory"),
        (danger, "..", [], "contains the working directory"),
        (tmp_path, script, ["--format", "pex"], "is the script or spec to build"),
        (tmp_path, script, [], "is the script or spec to build"),
        (tmp_path, lock, ["--format", "pex"], "is the lock"),
        (tmp_path, proj, [], "contains the script or spec to build"),
        (tmp_path, wheels, [], "is a --find-links directory"),
        (tmp_path, str(other), ["--main", str(other), "--format", "pex"], "is the --main script"),
        (tmp_path, str(tmp_path / "danger"), [], "is a directory that is not a vpython build output"),
    ]
    for cwd, out, extra, message in cases:
        proc = build([script, "-o", out, *extra, *offline_args(lock, wheels)], cwd=cwd, check=2)
        lines = [line for line in proc.stderr.splitlines() if "error" in line]
        assert len(lines) == 1 and message in lines[0] and f"-o {out}" in lines[0], (out, proc.stderr)
    assert (danger / "precious.txt").read_text() == "keep me"
    assert open(script, "rb").read() == script_bytes and open(lock, "rb").read() == lock_bytes
    assert other.read_text() == "print('other')\n"
    assert sorted(os.listdir(danger)) == ["precious.txt"]
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".cdx.json") or n.startswith(".")]


@pytest.mark.parametrize("fmt", ["venv", "pex"])
def test_an_existing_directory_or_file_that_is_not_an_artifact_is_refused(tmp_path, project, wheels, fmt):
    script, lock = project
    plain = tmp_path / "isdir"
    plain.mkdir()
    (plain / "notes.txt").write_text("mine")
    proc = build([script, "--format", fmt, "-o", str(plain), *offline_args(lock, wheels)], cwd=tmp_path, check=2)
    assert "is a directory that is not a vpython build output" in proc.stderr
    assert sorted(os.listdir(plain)) == ["notes.txt"]
    assert not (tmp_path / "isdir.cdx.json").exists()  # nothing published before the refusal
    notes = tmp_path / "notes.pex"
    notes.write_text("not a pex")
    proc = build([script, "--format", fmt, "-o", str(notes), *offline_args(lock, wheels)], cwd=tmp_path, check=2)
    assert "is an existing file that is not a pex" in proc.stderr and notes.read_text() == "not a pex"
    assert not (tmp_path / "notes.pex.cdx.json").exists()
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]


def test_previous_artifacts_are_replaced_and_a_stale_pex_sbom_goes_with_its_pex(tmp_path, project, wheels):
    script, lock = project
    out = tmp_path / "out"
    sbom = tmp_path / "out.cdx.json"
    out.mkdir()  # an empty directory, as Bazel pre-creates a declare_directory output
    build([script, "--format", "venv", "-o", str(out), *offline_args(lock, wheels)], cwd=tmp_path)
    assert (out / "vpython-artifact.json").is_file()
    build([script, "--format", "pex", "-o", str(out), *offline_args(lock, wheels)], cwd=tmp_path)
    assert out.is_file() and sbom.is_file()
    build([script, "--format", "venv", "-o", str(out), *offline_args(lock, wheels)], cwd=tmp_path)
    assert (out / "vpython-artifact.json").is_file()
    assert not sbom.exists()  # it described the pex that is gone
    build([script, "--format", "pex", "-o", str(out), *offline_args(lock, wheels)], cwd=tmp_path)
    assert out.is_file() and sbom.is_file()
    doc = json.loads(sbom.read_text())
    assert doc["metadata"]["component"]["hashes"][0]["content"] == sha256_file(out)
    assert sorted(os.listdir(tmp_path)) == sorted(["out", "out.cdx.json", "proj", "wheels", "vpython-root"])


def test_a_kill_or_failure_between_pex_and_sbom_never_mismatches_them(tmp_path, project, wheels):
    script, lock = project
    out = tmp_path / "tool.pex"
    sbom = tmp_path / "tool.pex.cdx.json"
    build([script, "--format", "pex", "-o", str(out), *offline_args(lock, wheels)], cwd=tmp_path)
    old_pex, old_sbom = sha256_file(out), sbom.read_bytes()
    args = [script, "--format", "pex", "-o", str(out), "--entry-point", "tinycli:main", *offline_args(lock, wheels)]
    proc = build(args, cwd=tmp_path, check=1, env={"VPYTHON_TEST_FAIL_AT": "artifact-partly-published:ENOSPC"})
    assert "No space left on device" in proc.stderr
    assert sha256_file(out) == old_pex and sbom.read_bytes() == old_sbom  # both restored
    proc = run_vpython(["build", *args], cwd=tmp_path, env={"VPYTHON_TEST_KILL_AT": "artifact-partly-published"})
    assert proc.returncode == -9
    assert sha256_file(out) != old_pex  # the new pex is in place ...
    assert not sbom.exists()  # ... and the old SBOM is not beside it (it is in .tool.pex.cdx.json.old-*)
    build(args, cwd=tmp_path)
    doc = json.loads(sbom.read_text())
    assert doc["metadata"]["component"]["hashes"][0]["content"] == sha256_file(out)


# --------------------------------------------------------------------------- entry points and --main

@pytest.mark.parametrize("fmt", ["venv", "pex"])
def test_main_file_other_than_the_script(tmp_path, project, wheels, fmt):
    script, lock = project
    other = tmp_path / "proj" / "serve.py"
    other.write_text("import sys, fastpkg, puredep\nprint('serve', fastpkg.__version__, puredep.__version__, "
                     "sys.argv[1:])\n")
    out = tmp_path / f"serve.{fmt}"
    build([script, "--format", fmt, "-o", str(out), "--main", str(other), *offline_args(lock, wheels)], cwd=tmp_path)
    if fmt == "venv":
        assert sorted(os.listdir(out / "app")) == ["serve.py"]
        assert json.loads((out / "vpython-artifact.json").read_text())["entry"] == "bin/serve"
        cmd = [str(out / "bin" / "serve"), "x"]
    else:
        cmd = [str(out), "x"]
    res = run(cmd, {"PEX_ROOT": str(tmp_path / "pex-root")})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "serve 1.0 1.1 ['x']"


def test_venv_entry_point_named_like_the_packages_console_script(tmp_path, project, wheels):
    script, lock = project
    out = tmp_path / "cli.venv"
    proc = build([script, "-o", str(out), "--entry-point", "tinycli:main", *offline_args(lock, wheels)], cwd=tmp_path)
    assert "clashes" not in proc.stderr
    assert json.loads((out / "vpython-artifact.json").read_text())["entry"] == "bin/tinycli"
    res = run([str(out / "bin" / "tinycli")])
    assert res.returncode == 0 and "tinycli 1.0" in res.stdout, res.stderr
    # Another function under that name is still an error that says what to do.
    proc = build([script, "-o", str(tmp_path / "x.venv"), "--entry-point", "puredep:main", "--entry-name", "tinycli",
                  *offline_args(lock, wheels)], cwd=tmp_path, check=2)
    assert "clashes with bin/tinycli" in proc.stderr and "--entry-name" in proc.stderr
    assert not (tmp_path / "x.venv").exists()


# --------------------------------------------------------------------------- reproducibility, SBOM, network

def test_pex_venv_mode_is_byte_reproducible(tmp_path, project, wheels):
    script, lock = project
    outs = []
    for d in ("one", "two/deeper"):
        os.makedirs(tmp_path / d)
        build([script, "--format", "pex", "--pex-venv", "-o", "tool.pex", *offline_args(lock, wheels)],
              cwd=tmp_path / d)
        outs.append(tmp_path / d / "tool.pex")
    assert sha256_file(outs[0]) == sha256_file(outs[1])
    assert (tmp_path / "one" / "tool.pex.cdx.json").read_bytes() == (tmp_path / "two/deeper" / "tool.pex.cdx.json").read_bytes()


_UUID_URN = r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
_TOP_KEYS = {"$schema", "bomFormat", "specVersion", "serialNumber", "version", "metadata", "components", "services",
             "externalReferences", "dependencies", "compositions", "properties", "vulnerabilities", "annotations",
             "formulation", "signature"}
_COMPONENT_TYPES = {"application", "framework", "library", "container", "platform", "operating-system", "device",
                    "device-driver", "firmware", "file", "machine-learning-model", "data"}


def check_cyclonedx_15(doc):
    """The CycloneDX 1.5 JSON schema's rules for what vpython writes (no new dependency)."""
    import re

    assert set(doc) <= _TOP_KEYS, set(doc) - _TOP_KEYS
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.5"
    assert isinstance(doc["version"], int) and doc["version"] >= 1
    assert re.match(_UUID_URN, doc["serialNumber"]), doc["serialNumber"]

    def check_hashes(hashes):
        assert hashes
        for h in hashes:
            assert set(h) == {"alg", "content"} and h["alg"] == "SHA-256"
            assert re.match(r"^[0-9a-f]{64}$", h["content"]), h

    def check_component(c):
        assert c["type"] in _COMPONENT_TYPES and isinstance(c["name"], str) and c["name"]
        for p in c.get("properties", []):
            assert set(p) == {"name", "value"} and isinstance(p["value"], str)
        if "hashes" in c:
            check_hashes(c["hashes"])

    tools = doc["metadata"]["tools"]["components"]
    for t in tools:
        check_component(t)
        assert t["version"]
    check_component(doc["metadata"]["component"])
    refs = [doc["metadata"]["component"]["bom-ref"]]
    for c in doc["components"]:
        check_component(c)
        assert c["version"] and c["purl"].startswith("pkg:pypi/") and f"@{c['version']}" in c["purl"]
        check_hashes(c["hashes"])
        for ref in c.get("externalReferences", []):
            assert ref["type"] == "distribution" and ref["url"]
        refs.append(c["bom-ref"])
    assert len(refs) == len(set(refs))  # bom-refs are unique
    for d in doc["dependencies"]:
        assert d["ref"] in refs and all(r in refs for r in d["dependsOn"])
    return tools


@pytest.mark.parametrize("fmt", ["venv", "pex"])
def test_sbom_is_cyclonedx_15_and_names_the_tools(tmp_path, project, wheels, fmt):
    from importlib.metadata import version

    script, lock = project
    out = tmp_path / f"out.{fmt}"
    build([script, "--format", fmt, "-o", str(out), *offline_args(lock, wheels)], cwd=tmp_path)
    path = out / "vpython-artifact.cdx.json" if fmt == "venv" else tmp_path / f"out.{fmt}.cdx.json"
    doc = json.loads(path.read_text())
    tools = {t["name"]: t["version"] for t in check_cyclonedx_15(doc)}
    assert "vpython" in tools
    assert [c["name"] for c in doc["components"]] == ["fastpkg", "puredep", "tinycli"]
    if fmt == "pex":
        with zipfile.ZipFile(out) as zf:
            built_by = json.loads(zf.read("PEX-INFO"))["build_properties"]["pex_version"]
        assert tools["pex"] == built_by == version("pex")
    else:
        assert tools["installer"] == version("installer") and "pex" not in tools


def test_locked_pex_build_without_any_network_gives_the_same_bytes(tmp_path, project, wheels):
    import shutil

    script, lock = project
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare, "-rn", "true"], capture_output=True) if unshare else None
    if probe is None or probe.returncode != 0:
        pytest.skip("cannot make a network namespace here (no `unshare -rn`)")
    normal = tmp_path / "normal.pex"
    build([script, "--format", "pex", "-o", str(normal), "--lock", lock, "--find-links", wheels], cwd=tmp_path)
    isolated = tmp_path / "isolated.pex"
    from tests.support.vp import vpython_cmd

    env = dict(os.environ, VPYTHON_VIRTUALENV_ROOT=str(tmp_path / "fresh-root"))  # nothing stored: no cache to lean on
    proc = subprocess.run(["unshare", "-rn", *vpython_cmd(), "build", script, "--format", "pex", "-o", str(isolated),
                           "--lock", lock, "--find-links", wheels], cwd=tmp_path, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert sha256_file(isolated) == sha256_file(normal)


def test_a_pexrc_cannot_change_the_pex_build(tmp_path, project, wheels):
    """~/.pexrc settings would apply to pex's CLI: the build ignores rc files."""
    script, lock = project
    home = tmp_path / "home"
    home.mkdir()
    (home / ".pexrc").write_text("PEX_VERBOSE=not-a-number\n")
    build([script, "--format", "pex", "-o", str(tmp_path / "a.pex"), *offline_args(lock, wheels)], cwd=tmp_path,
          env={"HOME": str(home)})
    build([script, "--format", "pex", "-o", str(tmp_path / "b.pex"), *offline_args(lock, wheels)], cwd=tmp_path)
    assert sha256_file(tmp_path / "a.pex") == sha256_file(tmp_path / "b.pex")


def test_running_a_tree_adds_pycache_unless_it_was_compiled(tmp_path, project, wheels):
    """docs/artifacts.md: content-sha256 describes the tree as built; Python writes
    __pycache__ into a writable tree it runs, except where --compile put the .pyc."""
    from vpython.artifacts.reproducible import tree_digest

    script, lock = project
    excludes = {"vpython-artifact.json", "vpython-artifact.cdx.json"}
    for compiled in (False, True):
        out = tmp_path / f"out-{compiled}.venv"
        build([script, "-o", str(out), *(["--compile"] if compiled else []), *offline_args(lock, wheels)], cwd=tmp_path)
        recorded = json.loads((out / "vpython-artifact.json").read_text())["content-sha256"]
        assert tree_digest(str(out), exclude=excludes) == recorded
        res = run([str(out / "bin" / "tool")], {"PYTHONDONTWRITEBYTECODE": None})
        assert res.returncode == 0, res.stderr
        assert (tree_digest(str(out), exclude=excludes) == recorded) is compiled
