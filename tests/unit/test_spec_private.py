"""vpython.spec.private: which pins no source has, and the error that says how to supply them."""

from __future__ import annotations

import pytest

from vpython.settings import listing
from vpython.settings.listing import File, ListingError
from vpython.settings.sources import Sources
from vpython.spec.private import missing_packages
from vpython.spec.textproto import parse_textproto

SPEC = '''python_version: "3.11"
wheel: < name: "infra/python/wheels/futures-py2_py3" version: "version:3.1.1" >
wheel: < name: "infra/python/wheels/infra_libs-py2_py3" version: "version:2.3.0" >
wheel: < name: "infra/python/wheels/opencv_python/${vpython_platform}" version: "version:2.4.13.2" >
'''

FILES = {
    "futures": [File("futures-3.1.1.tar.gz", "u", None, "a" * 64, yanked=True),
                File("futures-3.1.1.post1.tar.gz", "u", None, "a" * 64)],
    "opencv-python": [File("opencv_python-4.1.2.30-cp311-cp311-manylinux1_x86_64.whl", "u", None, "a" * 64)],
    "pip": [File("pip-24.0-py3-none-any.whl", "u", None, "a" * 64)],
}


@pytest.fixture
def spec(monkeypatch, tmp_path):
    (tmp_path / "c.toml").write_text("")
    monkeypatch.setenv("VPYTHON_CONFIG", str(tmp_path / "c.toml"))
    monkeypatch.setattr(listing, "project_files", lambda name, sources: FILES.get(name))
    return parse_textproto(SPEC, "/src/.vpython3")


def test_absent_projects_and_versions_are_named_yanked_exact_pins_are_not(spec):
    pins = ["futures==3.1.1", "infra-libs==2.3.0", "opencv-python==2.4.13.2", "pip==26.3"]
    e = missing_packages(spec, pins, Sources(), seeds=["pip==26.3"])
    assert (e.path, e.line, e.exit_code) == ("/src/.vpython3", 3, 2)
    assert e.message.startswith("infra-libs==2.3.0 is not published on the configured package sources (https://pypi.org/simple)")
    assert "futures" not in e.message  # yanked, but an exact pin may take it (PEP 592)
    assert "opencv-python==2.4.13.2 (wheel 'infra/python/wheels/opencv_python/${vpython_platform}', line 4): " \
           "the sources have opencv-python but not that version (newest: 4.1.2.30)" in e.message
    assert "pip==26.3 (a seed vpython adds to text-proto envs): the sources have pip" in e.message
    assert "Chromium-internal" in e.message and '[cipd] "infra-libs==2.3.0" = "<project>"' in e.hint
    assert missing_packages(spec, ["futures==3.1.1"], Sources()) is None
    assert missing_packages(spec, ["futures>=3.1"], Sources()) is None


def test_only_a_missing_seed_points_at_the_seeds_config(spec):
    e = missing_packages(spec, ["pip==26.3"], Sources(), seeds=["pip==26.3"])
    assert e.line is None and '[seeds] pip = "<version>"' in e.hint and "VPYTHON_SEEDS=0" in e.hint


def test_unknowable_answers_leave_the_resolver_error(spec, monkeypatch):
    assert missing_packages(spec, ["infra-libs==2.3.0"], Sources(offline=True)) is None

    def broken(name, sources):
        raise ListingError("cannot read the index")

    monkeypatch.setattr(listing, "project_files", broken)
    assert missing_packages(spec, ["infra-libs==2.3.0"], Sources()) is None
