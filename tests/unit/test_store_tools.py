"""vpython.store.tools: pinned tool wheels fetched by sha256 (find-links first), unpacked once."""

from __future__ import annotations

import os

import pytest

from tests.support import make_wheel, sha256_file
from vpython.errors import IntegrityError
from vpython.settings.sources import Sources
from vpython.store import tools
from vpython.store.root import Layout
from vpython.store.sdist_pip27 import source_environment


@pytest.fixture
def fake_tool(tmp_path, monkeypatch):
    links = tmp_path / "links"
    wheel = make_wheel(links, "faketool", "1.0")
    pinned = tools.ToolWheel("faketool", "1.0", wheel.name, sha256_file(wheel), wheel.stat().st_size,
                             "http://127.0.0.1:9/never/" + wheel.name)
    monkeypatch.setitem(tools.TOOLS, "fake", (pinned,))
    return links, wheel


def test_a_tool_is_fetched_from_find_links_verified_and_unpacked_once(fake_tool, tmp_path):
    links, _ = fake_tool
    layout = Layout(str(tmp_path / "root"))
    sources = Sources(index_url="", find_links=(str(links),))
    d = tools.ensure_tool(layout, sources, "fake")
    assert d == tools.tool_path(layout, "fake") and os.path.isfile(os.path.join(d, "faketool", "__init__.py"))
    os.unlink(os.path.join(links, os.listdir(links)[0]))
    assert tools.ensure_tool(layout, Sources(index_url="", offline=True), "fake") == d  # nothing fetched again


def test_a_tool_wheel_with_other_bytes_is_refused(fake_tool, tmp_path):
    links, wheel = fake_tool
    wheel.write_bytes(wheel.read_bytes() + b"x")
    layout = Layout(str(tmp_path / "root"))
    with pytest.raises(IntegrityError):
        tools.ensure_tool(layout, Sources(index_url="", find_links=(str(links),)), "fake")
    assert not os.path.exists(tools.tool_path(layout, "fake"))


def test_the_pinned_tools_are_the_last_for_python27():
    pins = {w.name: w.version for ws in tools.TOOLS.values() for w in ws}
    assert pins == {"virtualenv": "20.21.1", "distlib": "0.3.9", "filelock": "3.12.2", "platformdirs": "3.11.0",
                    "pip": "20.3.4"}
    assert all(len(w.sha256) == 64 and w.url.endswith("/" + w.filename) for ws in tools.TOOLS.values() for w in ws)


def test_pip27_gets_the_sources_through_its_environment():
    assert source_environment(Sources(index_url="https://u:t@i/simple", extra_index_urls=("https://e/simple",),
                                      find_links=("/w", "https://l/"))) == {
        "PIP_INDEX_URL": "https://u:t@i/simple", "PIP_EXTRA_INDEX_URL": "https://e/simple",
        "PIP_FIND_LINKS": "/w https://l/"}
    assert source_environment(Sources(index_url="https://i/simple", find_links=("/w", "https://l/"), offline=True)) == {
        "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "/w"}
