"""Seeded envs (vpython.settings.seeds, vpython.env.closure): text-proto envs get pip,
setuptools and wheel through the store, as Chromium's did; PEP 723 envs do not.

The loopback index serves tiny stand-ins for the seeds at the versions vpython picks
for the running Python (``setuptools`` provides a ``pkg_resources`` module, as the real
one up to 81.0.0 does), so nothing comes from PyPI.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest

from tests.support import make_wheel, serve_index
from tests.support.pythons import pyenv_python
from tests.support.vp import envs_in, run_vpython
from vpython.settings.seeds import default_seeds

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"

SHOW = textwrap.dedent('''\
    import json, os, sys
    site = [p for p in sys.path if p.endswith("site-packages")][0]
    print(json.dumps(sorted("==".join(n[:-len(".dist-info")].split("-", 1))
                            for n in os.listdir(site) if n.endswith(".dist-info"))))
    ''')


def seed_wheels(directory, python=sys.version_info[:2], **versions):
    """Stand-ins for pip/setuptools/wheel at vpython's default versions for ``python``
    (or ``versions``)."""
    pins = dict(default_seeds(tuple(python)), **versions)
    for name, version in pins.items():
        files = {f"{name}/__init__.py": f"__version__ = {version!r}\n"}
        if name == "setuptools":
            files["pkg_resources/__init__.py"] = "def require(*a):\n    return []\n"
        make_wheel(directory, name, version, files=files, tag="py2.py3-none-any")
    return pins


@pytest.fixture
def seeded(tmp_path, vpython_root, monkeypatch):
    """A loopback index with the seeds, ``needs-st`` (imports pkg_resources and requires
    setuptools, like protobuf 3.x and opentelemetry-api 1.x) and ``tinydep``; seeding on."""
    wheels = tmp_path / "wheels"
    pins = seed_wheels(wheels)
    seed_wheels(wheels, pip="24.0")
    make_wheel(wheels, "needs-st", "1.0", requires=["setuptools"],
               files={"needs_st/__init__.py": "import pkg_resources\nVERSION = '1.0'\n"})
    make_wheel(wheels, "tinydep", "1.0")
    monkeypatch.delenv("VPYTHON_SEEDS", raising=False)
    config = tmp_path / "config.toml"
    config.write_text("")
    with serve_index(wheels) as index:
        def run(*args, config_text=None, extra_env=None, **kw):
            if config_text is not None:
                config.write_text(config_text)
            env = {"VPYTHON_INDEX_URL": index.url, "VPYTHON_CONFIG": str(config), **(extra_env or {})}
            return run_vpython(args, cwd=tmp_path, env=env, **kw)

        run.pins = pins
        run.root = vpython_root
        run.wheels = wheels
        yield run


def _spec(tmp_path, name="s.py", body="", python=PY):
    spec = tmp_path / f"{name}.vpython3"
    spec.write_text(f'python_version: "{python}"\n'
                    'wheel: < name: "infra/python/wheels/needs-st-py3" version: "version:1.0" >\n' + body)
    script = tmp_path / name
    script.write_text("import needs_st\n" + SHOW)
    return spec, script


def test_a_text_proto_env_is_seeded_and_the_seeds_close_the_spec(seeded, tmp_path):
    _, script = _spec(tmp_path)
    r = seeded(script, check=0)
    got = json.loads(r.stdout)
    assert got == sorted(["needs_st==1.0"] + [f"{n}=={v}" for n, v in seeded.pins.items()])
    assert "warning" not in r.stderr  # setuptools (a dependency of needs-st) is a seed: closed
    env = os.path.join(seeded.root, "v1", "envs", envs_in(seeded.root)[0])
    meta = json.load(open(os.path.join(env, ".vpython-env.json")))
    assert {f"{n}=={v}" for n, v in seeded.pins.items()} <= set(meta["packages"])  # part of the env key
    assert all(sha for sha in meta["wheels"].values())  # fetched by sha256 like any pin


def test_the_spec_pin_of_a_seed_wins(seeded, tmp_path):
    _, script = _spec(tmp_path, body='wheel: < name: "infra/python/wheels/pip-py3" version: "version:24.0" >\n')
    got = json.loads(seeded(script, check=0).stdout)
    assert "pip==24.0" in got and f"pip=={seeded.pins['pip']}" not in got


def test_seeds_suppressed_by_config_and_by_env(seeded, tmp_path):
    spec, script = _spec(tmp_path)
    r = seeded(script, config_text="seeds = false\n", check=1)  # pkg_resources is gone
    assert "No module named 'pkg_resources'" in r.stderr
    assert f"warning: {spec}:2: needs-st==1.0 depends on setuptools==" in r.stderr  # not closed now
    script2 = tmp_path / "t.py"
    script2.write_text(SHOW)
    (tmp_path / "t.py.vpython3").write_text('wheel: < name: "infra/python/wheels/tinydep-py3" version: "version:1.0" >\n')
    assert json.loads(seeded(script2, config_text="", extra_env={"VPYTHON_SEEDS": "0"}, check=0).stdout) == [
        "tinydep==1.0"]
    on = json.loads(seeded(script2, config_text="seeds = false\n", extra_env={"VPYTHON_SEEDS": "1"}, check=0).stdout)
    assert len(on) == 4  # VPYTHON_SEEDS=1 wins over the config


def test_seeds_overridden_by_config(seeded, tmp_path):
    _, script = _spec(tmp_path)
    r = seeded(script, config_text='[seeds]\npip = "24.0"\nwheel = false\n', check=0)
    got = json.loads(r.stdout)
    assert "pip==24.0" in got and not any(g.startswith("wheel==") for g in got)
    assert f"setuptools=={seeded.pins['setuptools']}" in got


def test_bad_seeds_config_is_a_located_error(seeded, tmp_path):
    _, script = _spec(tmp_path)
    r = seeded(script, config_text='[seeds]\npip = "latest"\n', check=2)
    assert "seeds.pip: must be a version" in r.stderr and "config.toml" in r.stderr
    r = seeded(script, config_text='[seeds]\nnumpy = "1.0"\n', check=2)
    assert "seeds.numpy" in r.stderr and "not a seed package" in r.stderr


def test_a_seed_the_index_lacks_says_how_to_change_it(seeded, tmp_path):
    _, script = _spec(tmp_path)
    r = seeded(script, config_text='[seeds]\npip = "99.0"\n', check=2)
    assert "pip==99.0 is not published on the configured package sources" in r.stderr
    assert '[seeds] pip = "<version>"' in r.stderr and "VPYTHON_SEEDS=0" in r.stderr


def test_pep723_envs_stay_unseeded(seeded, tmp_path):
    script = tmp_path / "p.py"
    script.write_text("# /// script\n# dependencies = ['tinydep']\n# ///\n" + SHOW)
    assert json.loads(seeded(script, check=0).stdout) == ["tinydep==1.0"]


def test_an_empty_text_proto_spec_still_gets_its_seeds(seeded, tmp_path):
    script = tmp_path / "e.py"
    script.write_text(SHOW)
    (tmp_path / "e.py.vpython3").write_text(f'python_version: "{PY}"\n')
    assert len(json.loads(seeded(script, check=0).stdout)) == 3


def test_the_lock_of_a_text_proto_spec_records_the_seeds(seeded, tmp_path):
    from vpython.lock.pylock import read_lock

    _, script = _spec(tmp_path)
    seeded("lock", script, check=0)
    _, raw = read_lock(str(tmp_path / "pylock.s.toml"))
    got = {p["name"]: p["version"] for p in raw["packages"]}
    assert got == {"needs-st": "1.0", **seeded.pins}
    assert all(p["wheels"][0]["hashes"]["sha256"] for p in raw["packages"])


def test_seeds_on_a_python38_env(seeded, tmp_path):
    # virtualenv 21.5+ has no seed wheels for 3.8 and refuses to seed it: vpython's seeds
    # come from the index, at versions that support 3.8.
    if pyenv_python(8) is None:
        pytest.skip("no CPython 3.8 installed")
    pins = seed_wheels(seeded.wheels, python=(3, 8))
    assert pins == {"pip": "25.0.1", "setuptools": "75.3.4", "wheel": "0.45.1"}
    _, script = _spec(tmp_path, python="3.8")
    got = json.loads(seeded(script, check=0).stdout)
    assert got == sorted(["needs_st==1.0"] + [f"{n}=={v}" for n, v in pins.items()])
