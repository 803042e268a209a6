"""vpython.lock.engine_uv's child environment: caches inside the root, credentials off argv."""

from __future__ import annotations

import os

from vpython.lock import engine_uv
from vpython.settings.sources import Sources


def test_uv_gets_its_caches_inside_the_root_and_none_of_the_users_uv_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "users-own-uv-cache"))
    monkeypatch.setenv("UV_INDEX_URL", "https://elsewhere.example/simple")
    cache = tmp_path / "root" / "v1" / "tool-cache"
    argv, env = engine_uv.source_args(Sources(index_url="https://u:secret@idx.example/simple"))
    child = engine_uv.uv_env(env, str(cache))
    assert child["UV_CACHE_DIR"] == str(cache / "uv") and os.path.isdir(cache / "uv")
    assert child["UV_CREDENTIALS_DIR"].startswith(str(cache))
    assert child["UV_PYTHON_DOWNLOADS"] == "never"
    assert child["UV_INDEX_URL"] == "https://u:secret@idx.example/simple"  # ours, through the environment
    assert "secret" not in " ".join(argv)


def test_without_a_root_the_users_uv_cache_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv"))
    assert engine_uv.uv_env({}, None)["UV_CACHE_DIR"] == str(tmp_path / "uv")
