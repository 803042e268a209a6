"""The shared package store (issue 4): standard-looking envs assembled from shared files."""

from __future__ import annotations

import os
import subprocess
import sys
import json
import textwrap
import time

import pytest

from tests.support.vp import envs_in, run_vpython, vpython_cmd
from tests.support.wheels import make_wheel, sha256_file


@pytest.fixture
def env_vars(local_index, vpython_root):
    return {"VPYTHON_INDEX_URL": local_index.url}


def test_pip_list_sees_every_package(env_vars, vpython_root, tmp_path):
    script = tmp_path / "s.py"
    script.write_text("# /// script\n# dependencies = [\"tinyapp\", \"tinycli\"]\n# ///\n")
    r = run_vpython(["install", script], cwd=tmp_path, env=env_vars, check=0)
    env_dir = r.stdout.strip().splitlines()[-1]
    py = os.path.join(env_dir, "bin", "python")
    pip = subprocess.run([sys.executable, "-m", "pip", "--python", py, "list", "--format", "freeze",
                          "--disable-pip-version-check"], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr
    assert set(pip.stdout.split()) >= {"tinyapp==1.0", "tinycli==1.0", "tinydep==1.1"}
    check = subprocess.run([sys.executable, "-m", "pip", "--python", py, "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    cfg = open(os.path.join(env_dir, "pyvenv.cfg")).read()
    assert "home" in cfg and "include-system-site-packages = false" in cfg


def test_tracebacks_show_env_paths_not_store_paths(local_index, wheelhouse, vpython_root, tmp_path):
    make_wheel(wheelhouse, "boom", "1.0", files={"boom/__init__.py": "def go():\n    raise ValueError('x')\n"})
    script = tmp_path / "s.py"
    script.write_text("# /// script\n# dependencies = [\"boom\"]\n# ///\nimport boom, sys\nprint(boom.go.__code__.co_filename)\nboom.go()\n")
    r = run_vpython([script], cwd=tmp_path, env={"VPYTHON_INDEX_URL": local_index.url})
    assert r.returncode == 1
    (env,) = envs_in(vpython_root)
    assert f"/v1/envs/{env}/" in r.stdout  # co_filename rewritten by importlib on load
    assert "store/packages" not in r.stdout + r.stderr
    assert f"/v1/envs/{env}/" in r.stderr.splitlines()[-3]  # the traceback frame


def test_concurrent_assembly_of_different_envs_sharing_packages(env_vars, vpython_root, tmp_path):
    specs = [["tinyapp"], ["tinyapp", "tinycli"], ["tinycli"], ["tinydep==1.0"], ["tinyapp", "tinydep==1.0"],
             ["tinycli", "tinydep==1.0"]]
    procs = []
    for i, deps in enumerate(specs):
        s = tmp_path / f"s{i}.py"
        s.write_text("# /// script\n# dependencies = %s\n# ///\nimport importlib.metadata as m\n"
                     "print(sorted(d.metadata['Name'] for d in m.distributions()))\n" % (str(deps).replace("'", '"')))
        env = dict(os.environ, **env_vars)
        procs.append(subprocess.Popen(vpython_cmd() + [str(s)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    assert len(envs_in(vpython_root)) == len(specs)
    for entry in (vpython_root / "v1" / "store" / "packages").iterdir():
        assert (entry / ".vpython" / "manifest").exists()


def test_store_files_are_read_only(env_vars, vpython_root, tmp_path):
    s = tmp_path / "s.py"
    s.write_text("# /// script\n# dependencies = [\"tinyapp\"]\n# ///\n")
    run_vpython(["install", s], cwd=tmp_path, env=env_vars, check=0)
    for entry in (vpython_root / "v1" / "store" / "packages").iterdir():
        for f in entry.rglob("*.py"):
            assert not (f.stat().st_mode & 0o222), f


def test_data_scripts_get_env_shebang(local_index, wheelhouse, vpython_root, tmp_path):
    make_wheel(wheelhouse, "withscript", "1.0",
               data={"scripts": {"hello-data": b"#!python\nimport sys\nprint('data script', sys.prefix)\n"}})
    s = tmp_path / "s.py"
    s.write_text(textwrap.dedent('''\
        # /// script
        # dependencies = ["withscript"]
        # ///
        import subprocess, sys
        print(subprocess.run(["hello-data"], capture_output=True, text=True).stdout.strip() == "data script " + sys.prefix)
        '''))
    r = run_vpython([s], cwd=tmp_path, env={"VPYTHON_INDEX_URL": local_index.url}, check=0)
    assert r.stdout.strip() == "True"


def test_installer_and_pep610_direct_url_records(env_vars, vpython_root, tmp_path):
    """INSTALLER in every dist-info; direct_url.json (listed in RECORD) only for a package
    the spec named by URL, per PEP 610; the shared store's RECORD stays untouched."""
    direct = make_wheel(tmp_path / "direct", "directpkg", "2.0")
    url = direct.resolve().as_uri()
    script = tmp_path / "s.py"
    script.write_text(f'# /// script\n# dependencies = ["tinyapp", "directpkg @ {url}"]\n# ///\n')
    r = run_vpython(["install", script], cwd=tmp_path, env=env_vars, check=0)
    env_dir = r.stdout.strip().splitlines()[-1]
    py = os.path.join(env_dir, "bin", "python")
    probe = textwrap.dedent("""\
        import importlib.metadata as m, json
        for name in ("tinyapp", "directpkg"):
            d = m.distribution(name)
            files = {str(f) for f in d.files}
            print(name, d.read_text("INSTALLER").strip(), d.read_text("direct_url.json"),
                  any(f.endswith("direct_url.json") for f in files))
        """)
    out = subprocess.run([py, "-c", probe], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "tinyapp vpython None False"
    name, installer, *rest = out[1].split(" ")
    assert (name, installer, rest[-1]) == ("directpkg", "vpython", "True")
    info = json.loads(" ".join(rest[:-1]))
    assert info["url"] == url and info["archive_info"]["hashes"]["sha256"] == sha256_file(direct)
    freeze = subprocess.run([sys.executable, "-m", "pip", "--python", py, "freeze", "--disable-pip-version-check"],
                            capture_output=True, text=True)
    assert f"directpkg @ {url}" in freeze.stdout and "tinyapp==1.0" in freeze.stdout, freeze.stdout + freeze.stderr
    check = subprocess.run([sys.executable, "-m", "pip", "--python", py, "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    # The store's copy of RECORD does not mention direct_url.json: other envs share it.
    records = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(str(vpython_root), "v1", "store", "packages"))
               for f in fs if f == "RECORD" and "directpkg" in d]
    assert records and all("direct_url.json" not in open(p).read() for p in records)


# --------------------------------------------------------------------------- gc and cache info

def _install(script_path, deps, env_vars, tmp_path, extra=""):
    script_path.write_text("# /// script\n# dependencies = %s\n# ///\n%s" % (json.dumps(deps), extra))
    r = run_vpython(["install", script_path], cwd=tmp_path, env=env_vars, check=0)
    env_dir = r.stdout.strip().splitlines()[-1]
    return os.path.basename(env_dir)


def _meta(root, key):
    return json.loads((root / "v1" / "envs" / key / ".vpython-env.json").read_text())


def _age_env(root, key, days):
    old = time.time() - days * 86400
    lock = root / "v1" / "envs" / f"{key}.lock"  # `install` does not make it; runs do
    lock.touch()
    os.utime(lock, (old, old))


def _disk_bytes(root) -> int:
    """What du counts (by size): every inode under ``root`` once."""
    seen, total = set(), 0
    for d, _, files in os.walk(root):
        for f in files:
            st = os.lstat(os.path.join(d, f))
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


def test_gc_keeps_what_a_surviving_env_uses_and_reports_only_bytes_really_freed(
        local_index, wheelhouse, vpython_root, tmp_path):
    """Two envs share a 2 MiB package; gc deletes one. It used to report the shared
    package's bytes as freed (they are not: the store and the other env keep the inode)."""
    from vpython.store.gc import collect
    from vpython.store.root import Layout

    make_wheel(wheelhouse, "bigpkg", "1.0", files={"bigpkg/__init__.py": "", "bigpkg/blob.bin": os.urandom(2 << 20)})
    env_vars = {"VPYTHON_INDEX_URL": local_index.url}
    gone = _install(tmp_path / "a.py", ["bigpkg", "tinydep==1.0"], env_vars, tmp_path)
    kept = _install(tmp_path / "b.py", ["bigpkg", "tinycli"], env_vars, tmp_path,
                    "import bigpkg, tinycli; print('b ok')\n")
    _age_env(vpython_root, gone, 30)
    layout = Layout(str(vpython_root))
    dry = collect(layout, 7 * 86400, dry_run=True)
    assert dry.envs_deleted == [gone] and len(dry.packages_deleted) == 1
    before = _disk_bytes(vpython_root)
    report = collect(layout, 7 * 86400)
    dropped = before - _disk_bytes(vpython_root)
    assert report.envs_deleted == [gone] and report.envs_kept == [kept]
    assert 0 < report.bytes_freed < (1 << 20)  # the 2 MiB blob is still linked by the other env
    assert report.bytes_freed == dropped == dry.bytes_freed
    # Only tinydep 1.0 (its entry and wheel) was used by the deleted env alone.
    meta = _meta(vpython_root, kept)
    assert sorted(os.listdir(vpython_root / "v1" / "store" / "packages")) == meta["entries"]
    assert sorted(os.listdir(vpython_root / "v1" / "store" / "wheels")) == sorted(meta["wheels"].values())
    r = run_vpython([tmp_path / "b.py"], cwd=tmp_path, env=env_vars, check=0)
    assert "b ok" in r.stdout and "assembling" not in r.stderr  # warm: nothing it needs was touched


def test_gc_sweep_sees_an_env_published_after_the_env_phase(env_vars, vpython_root, tmp_path, monkeypatch):
    """An env published between gc's env phase and its store sweep (a build that
    finished meanwhile) keeps its entries, wheels and spec pointer. gc used to compute
    the remaining envs before taking the store lock and deleted all three."""
    from vpython.store import gc
    from vpython.store.root import Layout

    old = _install(tmp_path / "a.py", ["tinyapp"], env_vars, tmp_path)
    meta = _meta(vpython_root, old)
    _age_env(vpython_root, old, 30)
    v1 = vpython_root / "v1"
    new_key = "f" * 32

    def publish_meanwhile(layout):
        d = v1 / "envs" / new_key
        d.mkdir()
        (d / "pyvenv.cfg").write_text("home = /usr/bin\n")
        (d / ".vpython-env.json").write_text(json.dumps(dict(meta, key=new_key)))
        (v1 / "envs" / f"{new_key}.lock").touch()
        (v1 / "specs" / "newdigest").write_text(f"env={new_key}\ninterpreter=x\ninterpreter_id=y\n")

    monkeypatch.setattr(gc, "_envs_collected", publish_meanwhile)
    report = gc.collect(Layout(str(vpython_root)), 7 * 86400)
    assert report.envs_deleted == [old] and not report.store_busy
    assert report.packages_deleted == [] and report.wheels_deleted == []
    assert sorted(os.listdir(v1 / "store" / "packages")) == meta["entries"]
    assert (v1 / "specs" / "newdigest").exists()
    assert len(report.pointers_deleted) == 1  # the deleted env's own pointer


def test_gc_collects_skeletons_build_locks_and_cached_resolutions(env_vars, vpython_root, tmp_path):
    from vpython.store.gc import collect
    from vpython.store.root import Layout

    a = _install(tmp_path / "a.py", ["tinyapp"], env_vars, tmp_path)
    b = _install(tmp_path / "b.py", ["tinycli"], env_vars, tmp_path)
    v1 = vpython_root / "v1"
    layout = Layout(str(vpython_root))
    (skeleton,) = os.listdir(v1 / "skeletons")
    assert _meta(vpython_root, a)["skeleton"] == skeleton == _meta(vpython_root, b)["skeleton"]
    info = json.loads((v1 / "skeletons" / skeleton / ".vpython-skeleton.json").read_text())
    assert os.path.exists(info["interpreter"])
    assert not (v1 / "envs" / a / ".vpython-skeleton.json").exists()  # the template's, not copied
    # A template of an interpreter that no longer exists, and a crashed template build.
    dead = v1 / "skeletons" / ("d" * 32)
    (dead / "bin").mkdir(parents=True)
    (dead / "pyvenv.cfg").write_text("home = /gone\n")
    (dead / ".vpython-skeleton.json").write_text(json.dumps({"interpreter": "/gone/python3", "interpreter_id": "1:2:3"}))
    crashed, fresh = v1 / "skeletons" / ".tmp-x-old", v1 / "skeletons" / ".tmp-x-new"
    crashed.mkdir()
    fresh.mkdir()
    hour_ago = time.time() - 7200
    os.utime(crashed, (hour_ago, hour_ago))
    # Build-lock files: of an env that is gone (collected), of a live env (kept), of a
    # gone env whose lock someone holds (kept: never race a builder).
    (v1 / "envs" / ".gone1.build.lock").touch()
    held_lock = v1 / "envs" / ".gone2.build.lock"
    held_lock.touch()
    # Cached resolutions: one per spec digest, beside specs/<digest>.
    locks = sorted(os.listdir(v1 / "locks"))  # and plans (vpython.env.plan), keyed alike
    assert len([n for n in locks if n.endswith(".pylock.toml")]) == 2
    assert all(n.split(".")[0] in os.listdir(v1 / "specs") for n in locks)
    month_ago = time.time() - 30 * 86400
    for n in ("orphan-old", "orphan-new"):
        (v1 / "locks" / f"{n}.pylock.toml").write_text("lock-version = '1.0'\n")
        (v1 / "locks" / f"{n}.plan.json").write_text("{}")
    for n in ("orphan-old.pylock.toml", "orphan-old.plan.json"):
        os.utime(v1 / "locks" / n, (month_ago, month_ago))
    for n in locks:
        os.utime(v1 / "locks" / n, (month_ago, month_ago))  # old, but their pointers are live
    import fcntl

    fd = os.open(held_lock, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        report = collect(layout, 7 * 86400)
    finally:
        os.close(fd)
    assert report.skeletons_deleted == [dead.name]
    assert os.path.isdir(v1 / "skeletons" / skeleton) and not crashed.exists() and fresh.exists()
    assert report.build_locks_deleted == [".gone1.build.lock"] and held_lock.exists()
    assert (v1 / "envs" / f".{a}.build.lock").exists()
    assert report.cached_locks_deleted == ["orphan-old.plan.json", "orphan-old.pylock.toml"]
    assert sorted(os.listdir(v1 / "locks")) == sorted(locks + ["orphan-new.plan.json", "orphan-new.pylock.toml"])
    # Once no env uses it, the live interpreter's template goes too, with every lock.
    report = collect(layout, 0)
    assert sorted(report.envs_deleted) == sorted([a, b]) and report.skeletons_deleted == [skeleton]
    assert os.listdir(v1 / "skeletons") == [fresh.name]
    assert os.listdir(v1 / "locks") == [] and os.listdir(v1 / "specs") == []
    assert [n for n in os.listdir(v1 / "envs") if n.endswith(".build.lock")] == []  # gone2's is free now
    # And the next run makes everything again.
    r = run_vpython([tmp_path / "a.py"], cwd=tmp_path, env=env_vars, check=0)
    assert r.returncode == 0 and len(os.listdir(v1 / "skeletons")) == 2


def test_gc_collects_the_pex_build_cache_only_when_unused_and_not_in_use(vpython_root, tmp_path):
    """`vpython build --format pex` keeps pex's cache in <root>/v1/pex-root, using it under
    the shared store lock; gc deletes it whole once unused for the threshold."""
    import fcntl

    from vpython.store.gc import collect
    from vpython.store.locks import store_lock_path
    from vpython.store.root import Layout

    layout = Layout(str(vpython_root))
    cache = vpython_root / "v1" / "pex-root"
    (cache / "installed_wheels" / "abc").mkdir(parents=True)
    (cache / "installed_wheels" / "abc" / "mod.py").write_bytes(b"x" * 4096)
    assert collect(layout, 7 * 86400).pex_cache_deleted == [] and cache.exists()  # fresh: kept
    month_ago = time.time() - 30 * 86400
    os.utime(cache, (month_ago, month_ago))
    # A build holds the store lock shared while pex uses its cache: gc sweeps nothing.
    fd = os.open(store_lock_path(layout), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        report = collect(layout, 7 * 86400)
    finally:
        os.close(fd)
    assert report.store_busy and cache.exists()
    dry = collect(layout, 7 * 86400, dry_run=True)
    assert dry.pex_cache_deleted == ["pex-root"] and cache.exists() and dry.bytes_freed >= 4096
    report = collect(layout, 7 * 86400)
    assert report.pex_cache_deleted == ["pex-root"] and not cache.exists() and report.bytes_freed >= 4096


def test_a_pex_build_marks_its_cache_used_and_holds_the_store_lock(vpython_root):
    import fcntl

    from vpython.artifacts import build as artifact_build
    from vpython.store.locks import store_lock_path
    from vpython.store.root import Layout

    layout = Layout(str(vpython_root))
    os.makedirs(layout.pex_root)
    month_ago = time.time() - 30 * 86400
    os.utime(layout.pex_root, (month_ago, month_ago))
    seen = {}

    def what_gc_would_see():
        fd = os.open(store_lock_path(layout), os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # gc's lock: must be refused now
            seen["exclusive"] = True
        except BlockingIOError:
            seen["exclusive"] = False
        finally:
            os.close(fd)
        seen["mtime"] = os.stat(layout.pex_root).st_mtime

    with artifact_build._using_pex_cache(layout.pex_root):  # around pex_file.build
        what_gc_would_see()
    assert seen["exclusive"] is False and seen["mtime"] > month_ago + 86400


def test_cache_info_shows_last_use_sizes_and_every_kind_of_file(env_vars, vpython_root, tmp_path):
    from vpython.cli.cmd_gc import human_bytes

    a = _install(tmp_path / "a.py", ["tinyapp"], env_vars, tmp_path)
    _age_env(vpython_root, a, 3)
    (vpython_root / "v1" / "envs" / ".gone.build.lock").touch()
    r = run_vpython(["cache", "info"], cwd=tmp_path, env=env_vars, check=0)
    lines = r.stdout.splitlines()
    (row,) = [line for line in lines if line.startswith(a[:16])]
    assert row.split()[1] == "2" and "3d ago" in row and "script" in row
    packages = vpython_root / "v1" / "store" / "packages"
    size = _disk_bytes(packages)
    assert size > 0
    (pk,) = [line for line in lines if line.startswith("package entries")]
    assert pk.split()[2] == "2" and human_bytes(size) in pk
    (wh,) = [line for line in lines if line.startswith("wheels")]
    assert wh.split()[1] == "2" and human_bytes(_disk_bytes(vpython_root / "v1" / "store" / "wheels")) in wh
    for name, count in (("skeletons", "1"), ("cached locks", "1"), ("spec pointers", "1"), ("build locks", "2"),
                        ("interpreters", None), ("virtualenv data", None), ("pex build cache", None), ("tmp", None)):
        (line,) = [x for x in lines if x.startswith(name)]
        if count:
            assert line[len(name):].split()[0] == count, line
    assert "1 for deleted envs" in [x for x in lines if x.startswith("build locks")][0]
    (total,) = [line for line in lines if line.startswith("total")]
    assert human_bytes(_disk_bytes(vpython_root)) in total


# --------------------------------------------------------------------------- assembly details

def test_copy_fallback_when_hardlinks_fail(env_vars, vpython_root, tmp_path, monkeypatch, capsys):
    """A store on another filesystem than the env (EXDEV): every file is copied, the
    copied .pyc still matches its copied source (loaded, not recompiled), the env runs."""
    import errno

    from vpython.cli.main import main

    for k, v in env_vars.items():
        monkeypatch.setenv(k, v)
    calls = []

    def no_link(src, dst, *a, **kw):
        calls.append(src)
        raise OSError(errno.EXDEV, "Invalid cross-device link", src)

    monkeypatch.setattr(os, "link", no_link)
    script = tmp_path / "s.py"
    script.write_text("# /// script\n# dependencies = [\"tinyapp\", \"tinycli\"]\n# ///\n")
    assert main(["install", str(script)]) == 0
    monkeypatch.undo()
    assert calls, "the build never tried to hardlink"
    env_dir = capsys.readouterr().out.strip().splitlines()[-1]
    (site,) = [os.path.join(env_dir, "lib", d, "site-packages") for d in os.listdir(os.path.join(env_dir, "lib"))]
    files = [os.path.join(d, f) for d, _, fs in os.walk(site) for f in fs]
    assert files and all(os.lstat(f).st_nlink == 1 for f in files)
    py = os.path.join(env_dir, "bin", "python")
    src = os.path.join(site, "tinyapp", "__init__.py")
    pyc = subprocess.run([py, "-c", f"import importlib.util; print(importlib.util.cache_from_source({src!r}))"],
                         capture_output=True, text=True, check=True).stdout.strip()
    magic = subprocess.run([py, "-c", "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
                           capture_output=True, text=True, check=True).stdout
    header = open(pyc, "rb").read(16)
    st = os.stat(src)
    assert header[:4].hex() == magic
    if int.from_bytes(header[4:8], "little") == 0:  # timestamp pyc: must match the copy's mtime and size
        assert int.from_bytes(header[8:12], "little") == int(st.st_mtime) & 0xFFFFFFFF
        assert int.from_bytes(header[12:16], "little") == st.st_size & 0xFFFFFFFF
    r = subprocess.run([py, "-v", "-c", "import tinyapp; print(tinyapp.__version__)"], capture_output=True, text=True)
    assert r.stdout.strip() == "1.0" and f"code object from '{pyc}'" in r.stderr
    cli = subprocess.run([os.path.join(env_dir, "bin", "tinycli")], capture_output=True, text=True)
    assert cli.returncode == 0 and "tinycli 1.0" in cli.stdout


def test_data_headers_and_data_files_land_where_pip_puts_them(local_index, wheelhouse, vpython_root, tmp_path):
    make_wheel(wheelhouse, "withdata", "1.0", data={
        "headers": {"withdata.h": "#define WITHDATA 1\n"},
        "data": {"share/withdata/table.txt": "a b c\n"},
    })
    script = tmp_path / "s.py"
    script.write_text("# /// script\n# dependencies = [\"withdata\"]\n# ///\n")
    r = run_vpython(["install", script], cwd=tmp_path, env={"VPYTHON_INDEX_URL": local_index.url}, check=0)
    env_dir = r.stdout.strip().splitlines()[-1]
    py = os.path.join(env_dir, "bin", "python")
    probe = ("import sysconfig, json; print(json.dumps([sysconfig.get_path('data'), "
             "sysconfig.get_path('include').replace(sysconfig.get_path('data'), '')]))")
    data_dir, _ = json.loads(subprocess.run([py, "-c", probe], capture_output=True, text=True, check=True).stdout)
    assert os.path.realpath(data_dir) == os.path.realpath(env_dir)
    ver = subprocess.run([py, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    header = os.path.join(env_dir, "include", "site", f"python{ver}", "withdata", "withdata.h")
    table = os.path.join(env_dir, "share", "withdata", "table.txt")
    assert open(header).read() == "#define WITHDATA 1\n" and open(table).read() == "a b c\n"
    assert os.stat(header).st_nlink >= 2 and os.stat(table).st_nlink >= 2  # linked from the store
    # Listed in RECORD, so pip uninstall and importlib.metadata know them.
    files = subprocess.run([py, "-c", "import importlib.metadata as m; print('\\n'.join(str(f.locate()) for f in "
                            "m.distribution('withdata').files))"], capture_output=True, text=True, check=True).stdout
    located = {os.path.realpath(p) for p in files.split()}
    assert os.path.realpath(header) in located and os.path.realpath(table) in located
