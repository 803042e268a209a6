"""Python 2.7 specs (Chromium's ``.vpython`` files): envs on a CPython 2.7, offline.

The spec's packages are tiny wheels and sdists on a loopback index; the real 2.7 tools
(virtualenv 20.21.1, pip 20.3.4) and seeds (pip 20.3.4, setuptools 44.1.1, wheel 0.37.1)
come from a machine-local wheelhouse (``tests/support/tools27.py``) passed as find-links.
Skipped where no CPython 2.7 is installed.
"""

from __future__ import annotations

import json
import os
import zipfile

import pytest

from tests.support import make_wheel, serve_index
from tests.support.pythons import pyenv_python27
from tests.support.sdists import _BACKEND, make_sdist, tinybackend_pyproject
from tests.support.tools27 import ensure_wheelhouse
from tests.support.vp import envs_in, run_vpython

PY27 = pyenv_python27()
pytestmark = pytest.mark.skipif(PY27 is None, reason="no CPython 2.7 installed")

SPEC = '''python_version: "2.7"
wheel: <
  name: "infra/python/wheels/py2only-py2"
  version: "version:1.0"
>
wheel: <
  name: "infra/python/wheels/cp27bin/${vpython_platform}"
  version: "version:1.0.chromium.1"
>
wheel: <
  name: "infra/python/wheels/dual-py2_py3"
  version: "version:2.0"
>
'''

SCRIPT = '''from __future__ import print_function
import json, sys, os
import py2only, cp27bin, dual, pip, setuptools, pkg_resources
print(json.dumps({"python": list(sys.version_info[:2]), "py2only": py2only.__version__,
                  "cp27bin": cp27bin.__version__, "dual": dual.WHICH, "pip": pip.__version__,
                  "setuptools": setuptools.__version__, "prefix": sys.prefix,
                  "pyc": os.path.exists(py2only.__file__.rstrip("c") + "c")}))
'''


@pytest.fixture
def house27(tmp_path):
    """(index dir, tool wheelhouse): the spec's wheels, two sdists and a py2 tinybackend."""
    tools = ensure_wheelhouse()
    d = tmp_path / "index27"
    make_wheel(d, "py2only", "1.0", tag="py2-none-any")
    make_wheel(d, "cp27bin", "1.0", tag="cp27-cp27mu-manylinux1_x86_64")
    make_wheel(d, "dual", "2.0", tag="py3-none-any", files={"dual/__init__.py": "WHICH = 'py3'\n"})
    make_wheel(d, "dual", "2.0", tag="py2-none-any", files={"dual/__init__.py": "WHICH = 'py2'\n"})
    make_wheel(d, "tinybackend", "1.0", tag="py2.py3-none-any", files={"tinybackend/__init__.py": _BACKEND})
    make_sdist(d, "tiny27", "1.0", pyproject=tinybackend_pyproject(), config={"tag": "py2-none-any"},
               files={"src/tiny27/__init__.py": "__version__ = '1.0'\n"})
    make_sdist(d, "legacy27", "1.0", files={"legacy27/__init__.py": "__version__ = '1.0'\n"},
               setup_py="from setuptools import setup\nsetup(name='legacy27', version='1.0', packages=['legacy27'])\n")
    return d, tools


def test_a_27_spec_runs_on_27_with_its_wheels_and_the_27_seeds(house27, tmp_path, vpython_root, monkeypatch):
    index_dir, tools = house27
    monkeypatch.delenv("VPYTHON_SEEDS", raising=False)
    spec = tmp_path / "deps.vpython"
    spec.write_text(SPEC)
    script = tmp_path / "tool.py"
    script.write_text(SCRIPT)
    config = tmp_path / "config.toml"
    config.write_text("")
    with serve_index(index_dir) as index:
        env = {"VPYTHON_INDEX_URL": index.url, "VPYTHON_FIND_LINKS": str(tools), "VPYTHON_CONFIG": str(config)}
        r = run_vpython(["-vpython-log-level", "info", "-vpython-spec", spec, script], cwd=tmp_path, env=env, check=0)
        got = json.loads(r.stdout)
        assert got["python"] == [2, 7] and got["py2only"] == "1.0" and got["cp27bin"] == "1.0"
        assert got["dual"] == "py2"  # the py2 wheel of a version that has both
        assert (got["pip"], got["setuptools"]) == ("20.3.4", "44.1.1")  # the last for 2.7
        assert got["pyc"]  # store entries byte-compiled by the 2.7 itself
        assert "fetching vpython's virtualenv-py27 tool" in r.stderr
        (env_name,) = envs_in(vpython_root)
        env_dir = os.path.join(vpython_root, "v1", "envs", env_name)
        assert got["prefix"] == env_dir
        bindir = os.path.join(env_dir, "bin")
        assert {"pip", "pip2", "pip2.7", "easy_install-2.7", "wheel", "python2.7"} <= set(os.listdir(bindir))
        with open(os.path.join(bindir, "pip2.7")) as f:  # "#!python", or /bin/sh for a long path
            assert os.path.join(bindir, "python") in "".join(f.readlines()[:3])
        pip = run_vpython(["-vpython-spec", spec, "-m", "pip", "--version"], cwd=tmp_path, env=env, check=0)
        assert pip.stdout.startswith("pip 20.3.4 from " + env_dir) and "(python 2.7)" in pip.stdout
        # A second spec on 2.7 reuses the tool and the skeleton; a warm run touches nothing.
        r = run_vpython(["-vpython-spec", spec, script], cwd=tmp_path, env=env, check=0)
        assert json.loads(r.stdout) == got and "fetching" not in r.stderr


def test_the_27_resolution_pins_each_file_and_takes_sdists_where_no_wheel_fits(house27, tmp_path):
    from vpython.env.pinned import resolve_pins
    from vpython.interpreters.probe import probe
    from vpython.lock.pylock import parse_lock_text
    from vpython.settings.sources import Sources
    from vpython.spec.textproto import parse_textproto

    index_dir, _ = house27
    interp = probe(PY27, str(tmp_path / "probe"))
    spec = parse_textproto(SPEC, str(tmp_path / "s.vpython"))
    with serve_index(index_dir) as index:
        text = resolve_pins(spec, ["cp27bin==1.0", "dual==2.0", "tiny27==1.0"], [], interp,
                            Sources(index_url=index.url))
    _, raw = parse_lock_text(text, "x")
    by = {p["name"]: p for p in raw["packages"]}
    assert by["dual"]["wheels"][0]["url"].endswith("dual-2.0-py2-none-any.whl")
    assert by["cp27bin"]["wheels"][0]["url"].endswith("cp27bin-1.0-cp27-cp27mu-manylinux1_x86_64.whl")
    assert by["tiny27"]["sdist"]["url"].endswith("tiny27-1.0.tar.gz") and by["tiny27"]["sdist"]["hashes"]["sha256"]
    assert raw["requires-python"] == "==2.7.*"


def test_a_27_pin_the_sources_lack_is_the_private_package_error(house27, tmp_path):
    from vpython.env.pinned import resolve_pins
    from vpython.errors import ResolutionError
    from vpython.interpreters.probe import probe
    from vpython.settings.sources import Sources
    from vpython.spec.textproto import parse_textproto

    index_dir, _ = house27
    interp = probe(PY27, str(tmp_path / "probe"))
    text = 'python_version: "2.7"\nwheel: <\n  name: "infra/python/wheels/infra_libs-py2"\n  version: "version:1.3.0"\n>\n'
    spec = parse_textproto(text, str(tmp_path / "s.vpython"))
    with serve_index(index_dir) as index, pytest.raises(ResolutionError) as e:
        resolve_pins(spec, ["infra-libs==1.3.0"], [], interp, Sources(index_url=index.url))
    assert e.value.line == 2 and "infra-libs==1.3.0 is not published" in e.value.message


@pytest.mark.parametrize("name", ["tiny27", "legacy27"])
def test_sdists_build_on_27_with_pip_20_3_4(house27, tmp_path, name):
    from vpython.interpreters.probe import probe
    from vpython.settings.sources import Sources
    from vpython.store import sdist_pip27
    from vpython.store.root import Layout
    from vpython.store.sdists import SdistRef, built_wheel
    from vpython.store.wheels import sha256_file

    index_dir, tools = house27
    sdist = index_dir / f"{name}-1.0.tar.gz"
    layout = Layout(str(tmp_path / "root"))
    interp = probe(PY27, layout.interpreters)
    ref = SdistRef(name, "1.0", sdist.name, sha256_file(str(sdist)), path=str(sdist))
    with serve_index(index_dir) as index:
        # tinybackend comes from the index; setuptools 44.1.1 and wheel 0.37.1 (what pip
        # resolves for a setup.py sdist on 2.7) from the find-links wheelhouse.
        sources = Sources(index_url=index.url, find_links=(str(tools),))
        w = built_wheel(ref, interp, sources, layout)
        again = built_wheel(ref, interp, sources, layout)
    assert w.built and not again.built and again.sha256 == w.sha256
    assert w.filename.startswith(f"{name}-1.0-py2") and w.key.startswith("cp27mu-")
    with zipfile.ZipFile(w.path) as zf:
        assert f"{name}/__init__.py" in zf.namelist()
    meta = json.loads(open(os.path.join(os.path.dirname(w.path), "build.json")).read())
    assert meta["machinery"]["tool"] == sdist_pip27.TOOL and meta["interpreter"]["version"].startswith("2.7")


def test_a_vpython_file_without_python_version_runs_on_an_explicit_27(house27, tmp_path, vpython_root):
    index_dir, tools = house27
    spec = tmp_path / ".vpython"
    spec.write_text('wheel: < name: "infra/python/wheels/py2only-py2" version: "version:1.0" >\n')
    with serve_index(index_dir) as index:
        env = {"VPYTHON_INDEX_URL": index.url, "VPYTHON_FIND_LINKS": str(tools)}
        r = run_vpython(["-vpython-interpreter", PY27, "-vpython-spec", spec, "-c",
                         "import sys, py2only; print('%d %s' % (sys.version_info[0], py2only.__version__))"],
                        cwd=tmp_path, env=env, check=0)
    assert r.stdout.split() == ["2", "1.0"]
