"""Private packages (vpython.spec.private): a pin no configured source publishes gets an
error naming the spec file and line, the package and version, and how to supply it; a
local wheelhouse, a private index or the config's [cipd] map then makes the spec build.
"""

from __future__ import annotations

import sys

import pytest

from tests.support import make_wheel, serve_index
from tests.support.corpus import Entry, Outcome, check_outcome
from tests.support.vp import run_vpython

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"

SPEC = f'''python_version: "{PY}"
wheel: <
  name: "infra/python/wheels/tinydep-py3"
  version: "version:1.0"
>
wheel: <
  name: "infra/python/wheels/infra_libs-py2_py3"
  version: "version:2.3.0"
>
'''


@pytest.fixture
def public(tmp_path, vpython_root):
    """A loopback "PyPI" with tinydep 1.0 and opencv-python 4.1.2.30 only."""
    wheels = tmp_path / "public"
    make_wheel(wheels, "tinydep", "1.0")
    make_wheel(wheels, "opencv-python", "4.1.2.30", files={"cv2/__init__.py": "__version__ = '4.1.2.30'\n"})
    config = tmp_path / "config.toml"
    config.write_text("")
    with serve_index(wheels) as index:
        def run(*args, extra_env=None, **kw):
            env = {"VPYTHON_INDEX_URL": index.url, "VPYTHON_CONFIG": str(config), **(extra_env or {})}
            return run_vpython(args, cwd=tmp_path, env=env, **kw)

        run.index, run.config = index, config
        yield run


def _script(tmp_path, spec=SPEC, body="import infra_libs; print('infra_libs', infra_libs.__version__)\n"):
    (tmp_path / "tool.py.vpython3").write_text(spec)
    script = tmp_path / "tool.py"
    script.write_text(body)
    return script


def test_an_internal_package_is_named_with_its_line_and_the_ways_to_supply_it(public, tmp_path):
    script = _script(tmp_path)
    r = public(script, check=2)
    spec = tmp_path / "tool.py.vpython3"
    assert f"{spec}:6: infra-libs==2.3.0 is not published on the configured package sources ({public.index.url})" in r.stderr
    assert "wheel 'infra/python/wheels/infra_libs-py2_py3', line 6" in r.stderr
    assert "Chromium-internal" in r.stderr and "CIPD" in r.stderr
    for fix in ("VPYTHON_FIND_LINKS=", "-vpython-find-links", "-vpython-index-url", '[cipd] "infra-libs==2.3.0" = "<project>"'):
        assert fix in r.stderr, fix
    assert "Traceback" not in r.stderr
    # The corpus manifest's `private` expectation accepts exactly this error.
    # (Entry.abspath joins CORPUS_DIR and file: an absolute file is taken as it is.)
    entry = Entry(file=str(spec), repository="r/r", path="p", commit="0" * 40, blob="0" * 40, url="u",
                  kind="textproto", python=PY, expected="private", private=("infra-libs",))
    assert check_outcome(Outcome(entry, 2, 0.1, r.stderr)) == []


def test_a_local_wheelhouse_supplies_the_internal_package(public, tmp_path):
    script = _script(tmp_path)
    wheelhouse = tmp_path / "internal"
    make_wheel(wheelhouse, "infra_libs", "2.3.0", tag="py2.py3-none-any")
    r = public(script, extra_env={"VPYTHON_FIND_LINKS": str(wheelhouse)}, check=0)
    assert "infra_libs 2.3.0" in r.stdout
    r = public("-vpython-find-links", wheelhouse, script, check=0)  # the flag works the same way
    assert "infra_libs 2.3.0" in r.stdout


def test_a_private_index_supplies_it(public, tmp_path):
    script = _script(tmp_path)
    private = tmp_path / "private"
    make_wheel(private, "tinydep", "1.0")
    make_wheel(private, "infra-libs", "2.3.0")
    with serve_index(private) as index:
        r = public("-vpython-index-url", index.url, script, check=0)
    assert "infra_libs 2.3.0" in r.stdout


def test_a_version_only_cipd_had_is_named_and_the_cipd_map_repins_it(public, tmp_path):
    spec = f'python_version: "{PY}"\nwheel: <\n  name: "infra/python/wheels/opencv_python/${{vpython_platform}}"\n' \
           '  version: "version:2.4.13.2"\n>\n'
    script = _script(tmp_path, spec, body="import cv2; print('cv2', cv2.__version__)\n")
    r = public(script, check=2)
    assert "opencv-python==2.4.13.2 is not published" in r.stderr
    assert "the sources have opencv-python but not that version (newest: 4.1.2.30)" in r.stderr
    assert '[cipd] "opencv-python==2.4.13.2" = "opencv-python==<version>"' in r.stderr
    public.config.write_text('[cipd]\n"opencv-python==2.4.13.2" = "opencv-python==4.1.2.30"\n')
    assert "cv2 4.1.2.30" in public(script, check=0).stdout


def test_the_cipd_map_can_leave_a_package_out(public, tmp_path):
    script = _script(tmp_path, body="import tinydep; print('tinydep only')\n")
    public.config.write_text("[cipd]\ninfra-libs = false\n")
    assert "tinydep only" in public(script, check=0).stdout


def test_vpython_lock_gives_the_same_private_package_error(public, tmp_path):
    script = _script(tmp_path)
    r = public("lock", script, check=2)
    assert f"{tmp_path / 'tool.py.vpython3'}:6: infra-libs==2.3.0 is not published" in r.stderr
    assert "VPYTHON_FIND_LINKS" in r.stderr and not (tmp_path / "pylock.tool.toml").exists()
