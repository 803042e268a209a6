"""Imports go one way through the layers (tests/support/layers.py holds the list)."""

from __future__ import annotations

import os
import textwrap

from tests.support.layers import LAYERS, check

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_vpython_imports_only_go_down():
    violations = check(os.path.join(REPO, "vpython"), "vpython")
    assert not violations, "\n".join(map(str, violations))


def _fake(tmp_path, files: dict) -> str:
    root = tmp_path / "fakepkg"
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return str(root)


_CLEAN = {
    "__init__.py": "",
    "errors.py": "",
    "spec/__init__.py": "",
    "spec/parse.py": "from fakepkg.errors import X\n",
    "cli/__init__.py": "",
    "cli/main.py": "from fakepkg.spec import parse\n",
}
_FAKE_LAYERS = (("cli",), ("lock", "store"), ("spec",), ("errors", ""))


def test_clean_fake_package_passes(tmp_path):
    assert check(_fake(tmp_path, _CLEAN), "fakepkg", _FAKE_LAYERS) == []


def test_upward_import_fails_even_inside_a_function(tmp_path):
    files = dict(_CLEAN)
    files["spec/parse.py"] = "def f():\n    from fakepkg.cli import main\n"
    files["cli/main.py"] = ""  # else the upward import is also a cycle
    (v,) = check(_fake(tmp_path, files), "fakepkg", _FAKE_LAYERS)
    assert (v.importer, v.imported, v.line) == ("fakepkg.spec.parse", "fakepkg.cli", 2)
    assert "higher layer" in v.why


def test_relative_upward_import_fails(tmp_path):
    files = dict(_CLEAN)
    files["spec/parse.py"] = "from ..cli import main\n"
    files["cli/main.py"] = ""
    violations = check(_fake(tmp_path, files), "fakepkg", _FAKE_LAYERS)
    assert [(v.imported, v.line) for v in violations] == [("fakepkg.cli", 1)]


def test_siblings_in_one_layer_stay_independent(tmp_path):
    files = dict(
        _CLEAN,
        **{
            "lock/__init__.py": "",
            "store/__init__.py": "",
            "store/wheels.py": "from fakepkg.lock import model\n",
            "lock/model.py": "",
        },
    )
    violations = check(_fake(tmp_path, files), "fakepkg", _FAKE_LAYERS)
    assert any("share a layer" in v.why for v in violations)


def test_cycle_inside_a_layer_fails(tmp_path):
    files = dict(
        _CLEAN, **{"spec/a.py": "from fakepkg.spec import b\n", "spec/b.py": "import fakepkg.spec.a\n"}
    )
    violations = check(_fake(tmp_path, files), "fakepkg", _FAKE_LAYERS)
    assert [v.why for v in violations] == ["import cycle: fakepkg.spec.a -> fakepkg.spec.b"]


def test_module_outside_every_layer_is_named(tmp_path):
    files = dict(_CLEAN, **{"stray.py": ""})
    violations = check(_fake(tmp_path, files), "fakepkg", _FAKE_LAYERS)
    assert [v.importer for v in violations] == ["fakepkg.stray"]


def test_every_layer_component_exists():
    top = os.path.join(REPO, "vpython")
    for layer in LAYERS:
        for comp in layer:
            if comp:
                assert os.path.exists(os.path.join(top, comp)) or os.path.exists(
                    os.path.join(top, comp + ".py")
                ), comp
