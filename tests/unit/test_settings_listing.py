"""vpython.settings.listing: a project's files on the index (PEP 691 JSON, PEP 503 HTML)
and in find-links directories, from a loopback index."""

from __future__ import annotations

import pytest

from tests.support import make_wheel, serve_index
from tests.support.sdists import make_sdist
from vpython.settings.listing import ListingError, _from_html, project_files, project_of
from vpython.settings.sources import Sources


@pytest.fixture
def house(tmp_path):
    d = tmp_path / "house"
    make_wheel(d, "Tiny_Thing", "1.0", tag="py2-none-any", requires_python=">=2.7")
    make_sdist(d, "tiny-thing", "1.1")
    make_wheel(d, "other", "2.0")
    return d


def test_index_json_and_find_links(house, tmp_path):
    extra = tmp_path / "links"
    make_wheel(extra, "tiny-thing", "0.9")
    with serve_index(house) as index:
        files = project_files("tiny.thing", Sources(index_url=index.url, find_links=(str(extra),)))
        assert [f.filename for f in files] == [
            "tiny_thing-0.9-py3-none-any.whl", "tiny_thing-1.0-py2-none-any.whl", "tiny_thing-1.1.tar.gz"]
        local, wheel, sdist = files
        assert local.path and local.url is None and local.sha256 is None
        assert wheel.url.startswith(index.url.split("/simple")[0]) and len(wheel.sha256) == 64
        assert wheel.requires_python == ">=2.7" and wheel.has_metadata and wheel.size
        assert project_files("nothing-here", Sources(index_url=index.url)) is None
        assert project_files("nothing-here", Sources(index_url="", find_links=(str(extra),))) is None
        # the first index that has the project answers (uv's default strategy)
        with serve_index(extra) as second:
            got = project_files("other", Sources(index_url=second.url, extra_index_urls=(index.url,)))
            assert [f.filename for f in got] == ["other-2.0-py3-none-any.whl"]
    offline = Sources(index_url="http://127.0.0.1:9/simple", find_links=(str(extra),), offline=True)
    assert [f.filename for f in project_files("tiny-thing", offline)] == ["tiny_thing-0.9-py3-none-any.whl"]


def test_an_unreachable_index_is_a_listing_error():
    with pytest.raises(ListingError) as e:
        project_files("x", Sources(index_url="http://user:secret@127.0.0.1:9/simple"))
    assert "secret" not in str(e.value)


def test_pep503_html():
    page = ('<a href="../../f/a-1.0-py2-none-any.whl#sha256=' + "ab" * 32 + '" data-requires-python="&lt;3"'
            ' data-dist-info-metadata="sha256=x">a</a><a href="a-1.1.tar.gz" data-yanked="">y</a>')
    files = _from_html(page, "https://i.example/simple/a/", "i")
    assert [(f.filename, f.sha256, f.requires_python, f.yanked, f.has_metadata) for f in files] == [
        ("a-1.0-py2-none-any.whl", "ab" * 32, "<3", False, True), ("a-1.1.tar.gz", None, None, True, False)]
    assert files[0].url == "https://i.example/f/a-1.0-py2-none-any.whl"
    assert project_of("Foo_Bar-1.0.tar.gz") == "foo-bar" and project_of("README") is None
