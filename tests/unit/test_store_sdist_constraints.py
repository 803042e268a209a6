"""vpython.store.sdist_constraints: vpython's default build constraints and the config's."""

from __future__ import annotations

from packaging.requirements import Requirement

from vpython.settings.sources import Sources
from vpython.store.sdist_constraints import DEFAULTS, constraints_for


def test_defaults_pin_cython_below_3_for_the_pyyaml_releases_that_need_it():
    s = Sources()
    assert constraints_for("PyYAML", "5.4.1", s) == ["cython<3"]
    assert constraints_for("pyyaml", "6.0", s) == ["cython<3"]
    assert constraints_for("pyyaml", "5.3.1", s) == []  # no Cython in its build
    assert constraints_for("pyyaml", "6.0.1", s) == []  # pins cython<3 itself
    assert constraints_for("psutil", "5.7.2", s) == []


def test_every_default_is_a_valid_requirement_with_constraints():
    for selector, constraints in DEFAULTS:
        Requirement(selector)
        assert constraints and all(Requirement(c) for c in constraints)


def test_config_entries_replace_the_defaults_for_the_packages_they_select():
    s = Sources(build_constraints=(("pyyaml<6", ()),))
    assert constraints_for("pyyaml", "5.4.1", s) == []  # turned off
    assert constraints_for("pyyaml", "6.0", s) == ["cython<3"]  # not selected: the default holds
    s = Sources(build_constraints=(("mypkg==1.2", ("setuptools<60", "wheel<0.38")), ("mypkg", ("cython<3",))))
    assert constraints_for("MyPkg", "1.2", s) == ["cython<3", "setuptools<60", "wheel<0.38"]
    assert constraints_for("mypkg", "1.3", s) == ["cython<3"]
