"""vpython.settings: the config file's path and the settings that key the warm path."""

from __future__ import annotations

import os

from vpython.settings import SETTINGS_ENV, config_path


def test_config_path_is_vpython_config_then_the_user_config_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("VPYTHON_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == os.path.join(str(tmp_path / "xdg"), "vpython", "config.toml")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config_path() == os.path.join(str(tmp_path / "home"), ".config", "vpython", "config.toml")
    monkeypatch.setenv("VPYTHON_CONFIG", str(tmp_path / "c.toml"))
    assert config_path() == str(tmp_path / "c.toml")


def test_the_settings_environment_includes_every_source_variable():
    assert set(SETTINGS_ENV) >= {
        "VPYTHON_INDEX_URL",
        "VPYTHON_FIND_LINKS",
        "VPYTHON_OFFLINE",
        "VPYTHON_CONFIG",
    }
