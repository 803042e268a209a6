"""The boolean algebra behind tag markers: folding, flattening, De Morgan, PEP 508 text."""

from __future__ import annotations

import itertools

from packaging.markers import Marker

from vpython.spec.marker_algebra import (
    FALSE,
    FALSE_MARKER,
    TRUE,
    Cmp,
    all_of,
    any_value,
    eq,
    negate,
    one_of,
    render,
)

LINUX = eq("sys_platform", "linux")
ARM = eq("platform_machine", "arm64")
PY38 = Cmp("python_version", ">=", "3.8")


def test_constants_fold_away():
    assert all_of(TRUE, LINUX) is LINUX and all_of(FALSE, LINUX) is FALSE
    assert one_of(FALSE, LINUX) is LINUX and one_of(TRUE, LINUX) is TRUE
    assert all_of() is TRUE and one_of() is FALSE
    assert render(TRUE) == "" and render(FALSE) == FALSE_MARKER
    assert not Marker(FALSE_MARKER).evaluate({"python_version": "2.7"})


def test_junctions_flatten_and_drop_repeats():
    assert render(all_of(LINUX, all_of(ARM, LINUX))) == "sys_platform == 'linux' and platform_machine == 'arm64'"
    assert render(one_of(all_of(LINUX, ARM), PY38)) == (
        "(sys_platform == 'linux' and platform_machine == 'arm64') or python_version >= '3.8'")
    assert render(any_value("platform_machine", "i686", "i386")) == (
        "platform_machine == 'i686' or platform_machine == 'i386'")


def test_negation_is_de_morgan_down_to_the_comparisons():
    assert render(negate(PY38)) == "python_version < '3.8'"
    assert render(negate(all_of(LINUX, ARM))) == "sys_platform != 'linux' or platform_machine != 'arm64'"
    assert negate(TRUE) is FALSE and negate(FALSE) is TRUE
    for op in ("==", "!=", ">=", "<", ">", "<="):
        assert render(negate(negate(Cmp("python_version", op, "3.8")))) == f"python_version {op} '3.8'"


def _environments():
    for platform, machine, python in itertools.product(("linux", "darwin"), ("arm64", "x86_64"), ("3.7", "3.11")):
        yield {"sys_platform": platform, "platform_machine": machine, "python_version": python}


def _holds(expr, environment) -> bool:
    text = render(expr)
    return True if text == "" else Marker(text).evaluate(environment)


def test_rendered_text_means_what_the_expression_says():
    atoms = [LINUX, ARM, PY38, TRUE, FALSE]
    exprs = list(atoms)
    for a, b in itertools.product(atoms, repeat=2):
        exprs += [all_of(a, b), one_of(a, b), one_of(all_of(a, b), negate(a))]
    for expr in exprs:
        for environment in _environments():
            assert _holds(negate(expr), environment) is not _holds(expr, environment), render(expr)
    for a, b in itertools.product(exprs[:8], repeat=2):
        for environment in _environments():
            assert _holds(all_of(a, b), environment) is (_holds(a, environment) and _holds(b, environment))
            assert _holds(one_of(a, b), environment) is (_holds(a, environment) or _holds(b, environment))
