"""vpython.env.closure and vpython.env.pinned: a closed spec's pins + seeds, gaps as
warnings at the package's line, 2.7 file choice."""

from __future__ import annotations

import pytest

from vpython.env import closure, pinned
from vpython.errors import UserError
from vpython.settings.listing import File
from vpython.spec.model import Requirements
from vpython.spec.textproto import parse_textproto

SPEC = '''python_version: "3.11"
wheel: < name: "infra/python/wheels/pathos-py3" version: "version:0.2.8" >

wheel: < name: "infra/python/wheels/google-crc32c/${vpython_platform}" version: "version:1.5.0" >
'''


def test_seeds_join_the_pins_unless_the_spec_pins_them(monkeypatch, tmp_path):
    monkeypatch.delenv("VPYTHON_SEEDS", raising=False)
    (tmp_path / "c.toml").write_text("")
    monkeypatch.setenv("VPYTHON_CONFIG", str(tmp_path / "c.toml"))
    pins, seeds = closure.seeded_pins(Requirements(("a==1", "setuptools==40.0"), closed=True), (3, 11))
    assert seeds == ["pip==26.3", "wheel==0.45.1"] and pins == ["a==1", "setuptools==40.0", *seeds]


def test_gaps_warn_at_the_line_of_the_listed_package(capsys, monkeypatch, tmp_path):
    (tmp_path / "c.toml").write_text("")
    monkeypatch.setenv("VPYTHON_CONFIG", str(tmp_path / "c.toml"))
    spec = parse_textproto(SPEC, "/src/.vpython3")
    pins = ["google-crc32c==1.5.0", "pathos==0.2.8"]
    extras = [("cffi", "1.17.1"), ("dill", "0.4.0"), ("pox", "0.3.6"), ("pycparser", "2.22")]
    parents = {"dill": ["pathos"], "pox": ["pathos"], "cffi": ["google-crc32c"], "pycparser": ["cffi"]}
    closure.report_gaps(spec, pins, extras, parents)
    err = capsys.readouterr().err
    assert ("warning: /src/.vpython3:2: pathos==0.2.8 depends on dill==0.4.0, pox==0.3.6, which the spec does not "
            "list; installing exactly the listed packages") in err
    assert "/src/.vpython3:4: google-crc32c==1.5.0 depends on cffi==1.17.1, pycparser==2.22" in err  # transitive
    assert 'add: wheel: < name: "infra/python/wheels/dill-py3" version: "version:0.4.0" >' in err
    closure.report_gaps(spec, pins, [("mystery", "1")], {})  # who needs it unknown: one spec-level warning
    assert "warning: /src/.vpython3: the listed packages depend on mystery==1" in capsys.readouterr().err


def test_strict_closure_makes_a_gap_an_error(tmp_path, monkeypatch):
    config = tmp_path / "c.toml"
    config.write_text("strict-closure = true\n")
    monkeypatch.setenv("VPYTHON_CONFIG", str(config))
    spec = parse_textproto(SPEC, "/src/.vpython3")
    with pytest.raises(UserError) as e:
        closure.report_gaps(spec, ["pathos==0.2.8"], [("dill", "0.4.0")], {"dill": ["pathos"]})
    assert (e.value.path, e.value.line) == ("/src/.vpython3", 2) and "not closed" in e.value.message


def _f(name, **kw):
    return File(filename=name, url="https://x/" + name, path=None, sha256="a" * 64, **kw)


def test_pinned_takes_the_best_wheel_then_an_sdist():
    rank = {"cp27-cp27mu-manylinux1_x86_64": 0, "py2-none-any": 1}
    files = [
        _f("p-1.0-py3-none-any.whl"), _f("p-1.0-py2-none-any.whl"), _f("p-1.0-cp27-cp27mu-manylinux1_x86_64.whl"),
        _f("p-1.0.tar.gz"), _f("p-1.1-py2-none-any.whl", yanked=True), _f("p-1.2-py2-none-any.whl",
                                                                          requires_python=">=3.6"),
    ]
    assert pinned.choose("p==1.0", files, rank, "2.7.18").filename == "p-1.0-cp27-cp27mu-manylinux1_x86_64.whl"
    assert pinned.choose("p>=1.0", files, rank, "2.7.18").filename.startswith("p-1.0-cp27")  # 1.1 yanked, 1.2 py3
    assert pinned.choose("p==1.1", files, rank, "2.7.18").filename == "p-1.1-py2-none-any.whl"  # PEP 592
    sdist_only = [_f("q-2.0-py3-none-any.whl"), _f("q-2.0.zip"), _f("q-2.0.tar.gz")]
    assert pinned.choose("q==2.0", sdist_only, rank, "2.7.18").filename == "q-2.0.tar.gz"
    assert pinned.choose("q==3.0", sdist_only, rank, "2.7.18") is None
