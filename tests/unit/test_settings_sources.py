"""vpython.settings.sources: package-source settings, their precedence and validation."""

from __future__ import annotations

import pytest

from vpython.errors import ConfigError
from vpython.settings.sources import load_sources


class F:
    index_url = None
    find_links = ()
    offline = False


def test_defaults_are_pypi(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    s = load_sources()
    assert s.index_url == "https://pypi.org/simple" and s.find_links == () and not s.offline


def test_precedence_flag_env_spec_config(monkeypatch, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('index-url = "https://config/simple"\nfind-links = ["/cfg"]\noffline = true\n')
    monkeypatch.setenv("VPYTHON_CONFIG", str(cfg))
    s = load_sources()
    assert (s.index_url, s.find_links, s.offline) == ("https://config/simple", ("/cfg",), True)
    s = load_sources(spec_tool={"index-url": "https://spec/simple", "find-links": ["wh"]}, base_dir="/proj")
    assert s.index_url == "https://spec/simple" and s.find_links == ("/proj/wh",)
    monkeypatch.setenv("VPYTHON_INDEX_URL", "https://env/simple")
    monkeypatch.setenv("VPYTHON_FIND_LINKS", "/a /b")
    s = load_sources(spec_tool={"index-url": "https://spec/simple"})
    assert s.index_url == "https://env/simple" and s.find_links == ("/a", "/b")
    f = F()
    f.index_url = "none"
    s = load_sources(flags=f, spec_tool={"index-url": "https://spec/simple"})
    assert s.index_url == "" and s.index_urls() == []
    assert s.origin["index-url"] == "command line"


def test_bad_config_names_file_and_key(monkeypatch, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('index_url = "x"\n')
    monkeypatch.setenv("VPYTHON_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match=r"c.toml: index_url: not a config key\n  hint: known keys: index-url") as e:
        load_sources()
    assert (e.value.path, e.value.key) == (str(cfg), "index_url")
    cfg.write_text('offline = "yes"\n')
    with pytest.raises(ConfigError, match="c.toml: offline: must be true or false\n  hint: write true or false") as e:
        load_sources()
    assert e.value.key == "offline"
    cfg.write_text('index-url = [\n')
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_sources()
    cfg.write_bytes(b'# caf\xe9\nindex-url = "x"\n')
    with pytest.raises(ConfigError, match=r"c.toml:1: the config file is not UTF-8 text") as e:
        load_sources()
    assert e.value.line == 1 and e.value.exit_code == 2
    monkeypatch.setenv("VPYTHON_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="missing.toml: VPYTHON_CONFIG: no such file"):
        load_sources()


def test_only_binary_from_config_env_and_flag(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert not load_sources().only_binary
    cfg = tmp_path / "c.toml"
    cfg.write_text("only-binary = true\n")
    monkeypatch.setenv("VPYTHON_CONFIG", str(cfg))
    s = load_sources()
    assert s.only_binary and s.origin["only-binary"].startswith("config ")
    monkeypatch.setenv("VPYTHON_ONLY_BINARY", "0")
    assert not load_sources().only_binary  # the environment beats the config file
    f = F()
    f.only_binary = True
    s = load_sources(flags=f)
    assert s.only_binary and s.origin["only-binary"] == "command line"
    cfg.write_text('only-binary = "yes"\n')
    with pytest.raises(ConfigError, match="only-binary: must be true or false"):
        load_sources()


def test_only_binary_is_part_of_the_settings_digest():
    from vpython.settings import SETTINGS_ENV

    assert "VPYTHON_ONLY_BINARY" in SETTINGS_ENV


def test_build_constraints_are_read_and_checked(monkeypatch, tmp_path):
    cfg = tmp_path / "c.toml"
    monkeypatch.setenv("VPYTHON_CONFIG", str(cfg))
    cfg.write_text('[build-constraints]\n"pyyaml>=5.4,<6" = ["cython<3"]\n"x==1" = []\n')
    assert load_sources().build_constraints == (("pyyaml>=5.4,<6", ("cython<3",)), ("x==1", ()))
    for text, what in (('build-constraints = ["cython<3"]\n', "must be a table"),
                       ('[build-constraints]\n"pyyaml" = "cython<3"\n', "must be a list of strings"),
                       ('[build-constraints]\n"py yaml!" = []\n', "not a requirement"),
                       ('[build-constraints]\n"pyyaml" = ["cython[x]<3"]\n', "only a name and a version range")):
        cfg.write_text(text)
        with pytest.raises(ConfigError, match=what) as e:
            load_sources()
        assert e.value.key.startswith("build-constraints") and e.value.hint
