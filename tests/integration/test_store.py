"""The shared package store (issue 4): standard-looking envs assembled from shared files."""

from __future__ import annotations

import os
import subprocess
import sys
import json
import textwrap

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
