"""vpython.settings.seeds / settings.compat: which pip, setuptools and wheel a text-proto env gets."""

from __future__ import annotations

import pytest

from vpython.errors import ConfigError
from vpython.settings import compat
from vpython.settings.seeds import DEFAULT_SEEDS, default_seeds, seed_pins, validate


def test_default_seeds_are_the_last_releases_for_each_python():
    assert default_seeds((2, 7, 18)) == {"pip": "20.3.4", "setuptools": "44.1.1", "wheel": "0.37.1"}
    assert default_seeds((3, 6)) == {"pip": "21.3.1", "setuptools": "59.6.0", "wheel": "0.37.1"}
    assert default_seeds((3, 7)) == {"pip": "24.0", "setuptools": "68.0.0", "wheel": "0.42.0"}
    assert default_seeds((3, 8)) == {"pip": "25.0.1", "setuptools": "75.3.4", "wheel": "0.45.1"}
    assert default_seeds((3, 9)) == {"pip": "26.0.1", "setuptools": "81.0.0", "wheel": "0.45.1"}
    # New Pythons get the newest row; setuptools stays at 81.0.0 (pkg_resources), wheel at
    # 0.45.1 (no dependencies).
    assert default_seeds((3, 13)) == default_seeds((3, 99)) == DEFAULT_SEEDS[(3, 10)]
    assert default_seeds((3, 13))["setuptools"] == "81.0.0" and default_seeds((3, 13))["wheel"] == "0.45.1"


def test_config_and_env_switch(monkeypatch):
    monkeypatch.delenv("VPYTHON_SEEDS", raising=False)
    assert seed_pins((3, 11), None) == default_seeds((3, 11))
    assert seed_pins((3, 11), False) == {}
    assert seed_pins((3, 11), True) == default_seeds((3, 11))
    assert seed_pins((3, 11), {"pip": "24.0", "wheel": False}) == {"pip": "24.0", "setuptools": "81.0.0"}
    monkeypatch.setenv("VPYTHON_SEEDS", "0")
    assert seed_pins((3, 11), {"pip": "24.0"}) == {}
    monkeypatch.setenv("VPYTHON_SEEDS", "1")
    assert seed_pins((3, 11), False) == default_seeds((3, 11))  # the variable wins over the file


@pytest.mark.parametrize("value, key", [
    ("yes", "seeds"), (3, "seeds"), ({"numpy": "1.0"}, "seeds.numpy"), ({"pip": "latest"}, "seeds.pip"),
    ({"pip": True}, "seeds.pip"),
])
def test_bad_values_name_the_key(value, key):
    with pytest.raises(ConfigError) as e:
        validate(value, "/c.toml")
    assert (e.value.path, e.value.key) == ("/c.toml", key) and e.value.exit_code == 2


def test_compat_reads_the_config_file(tmp_path, monkeypatch):
    monkeypatch.delenv("VPYTHON_SEEDS", raising=False)
    config = tmp_path / "c.toml"
    config.write_text('strict-closure = true\n[seeds]\nsetuptools = "70.0"\n[cipd]\n"a==1" = "b==2"\n')
    monkeypatch.setenv("VPYTHON_CONFIG", str(config))
    assert compat.strict_closure() is True
    assert compat.seeds_for((3, 11))["setuptools"] == "70.0"
    assert compat.cipd_map() == {"a==1": ("b", "2")}
    config.write_text('strict-closure = "yes"\n')
    with pytest.raises(ConfigError) as e:
        compat.strict_closure()
    assert e.value.key == "strict-closure"
    config.write_text('bogus = 1\n')
    with pytest.raises(ConfigError) as e:
        compat.load_config()
    assert e.value.key == "bogus" and "seeds" in e.value.hint and "cipd" in e.value.hint


@pytest.mark.parametrize("table, key", [
    ({"a": 1}, "cipd.a"), ({"a": "b c"}, "cipd.a"), ({"a": "==x.y!"}, "cipd.a"), ({"==1.0": "b"}, "cipd.==1.0"),
    ({"a": "=="}, "cipd.a"),
])
def test_bad_cipd_entries_name_the_key(table, key):
    with pytest.raises(ConfigError) as e:
        compat.validate_compat({"cipd": table}, "/c.toml")
    assert e.value.key == key


def test_cipd_keys_and_values_are_normalised():
    got = compat.validate_compat({"cipd": {
        "Infra_Libs": "My.Lib", "OpenCV-Python==2.4.13.02": "==4.1", "infra/python/wheels/x-py3": False,
    }}, "/c.toml")["cipd"]
    assert got == {"infra-libs": ("my-lib", ""), "opencv-python==2.4.13.2": ("", "4.1"),
                   "infra/python/wheels/x-py3": None}
