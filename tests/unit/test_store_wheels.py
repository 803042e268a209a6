"""vpython.store.wheels: every wheel stored once, by sha256, verified before it is kept."""

from __future__ import annotations

import os

import pytest

from tests.support import make_wheel, serve_index, sha256_file
from vpython.errors import IntegrityError, UserError, VPythonError
from vpython.lock.pylock import Artifact
from vpython.settings.sources import Sources
from vpython.store import wheels
from vpython.store.root import Layout


@pytest.fixture
def wheel(tmp_path):
    return make_wheel(tmp_path / "wh", "tinypkg", "1.0")


def _artifact(wheel, **kw) -> Artifact:
    fields = dict(name="tinypkg", version="1.0", filename=wheel.name, sha256=sha256_file(wheel))
    fields.update(kw)
    return Artifact(**fields)


def _nothing_stored(layout: Layout) -> bool:
    return not os.listdir(layout.wheels) if os.path.isdir(layout.wheels) else True


def test_a_locked_path_is_copied_verified_and_read_only(tmp_path, wheel):
    layout = Layout(str(tmp_path / "root"))
    art = _artifact(wheel, path=str(wheel))
    stored = wheels.fetch_one(art, layout, Sources())
    assert stored == wheels.stored_path(layout, art) == os.path.join(layout.wheels, art.sha256, wheel.name)
    assert sha256_file(stored) == art.sha256 and not os.stat(stored).st_mode & 0o222
    assert os.listdir(layout.tmp) == []  # the .part file was renamed into place
    os.unlink(wheel)
    assert wheels.fetch_one(art, layout, Sources()) == stored  # stored: the source is not needed


def test_a_wheel_dir_wins_and_file_urls_work(tmp_path, wheel):
    layout = Layout(str(tmp_path / "root"))
    art = _artifact(wheel, url=f"file://{wheel}")
    assert sha256_file(wheels.fetch_one(art, layout, Sources(offline=True))) == art.sha256
    other = Layout(str(tmp_path / "root2"))
    art2 = _artifact(wheel, url="http://127.0.0.1:9/never-contacted.whl")
    assert wheels.fetch_one(art2, other, Sources(), wheel_dirs=[str(wheel.parent)])


def test_a_hash_mismatch_stores_nothing_and_names_both_hashes(tmp_path, wheel):
    layout = Layout(str(tmp_path / "root"))
    art = _artifact(wheel, path=str(wheel), sha256="0" * 64)
    with pytest.raises(
        IntegrityError, match=f"expects sha256 {'0' * 64} but the file has sha256 {sha256_file(wheel)}"
    ) as e:
        wheels.fetch_one(art, layout, Sources())
    assert e.value.hint and _nothing_stored(layout) and os.listdir(layout.tmp) == []


def test_a_size_mismatch_stores_nothing(tmp_path, wheel):
    layout = Layout(str(tmp_path / "root"))
    art = _artifact(wheel, path=str(wheel), size=1)
    with pytest.raises(IntegrityError, match="size mismatch") as e:
        wheels.fetch_one(art, layout, Sources())
    assert "vpython lock" in e.value.hint and _nothing_stored(layout)


def test_a_sha256_that_is_not_hex_never_becomes_a_path(tmp_path, wheel):
    layout = Layout(str(tmp_path / "root"))
    with pytest.raises(IntegrityError, match="is not a sha256 hex digest") as e:
        wheels.fetch_one(_artifact(wheel, path=str(wheel), sha256="../../etc"), layout, Sources())
    assert e.value.hint and not os.path.exists(os.path.dirname(layout.wheels))


def test_user_errors_for_missing_sources_have_hints(tmp_path, wheel):
    layout = Layout(str(tmp_path / "root"))
    missing = str(tmp_path / "gone.whl")
    with pytest.raises(UserError, match="does not exist") as e:
        wheels.fetch_one(_artifact(wheel, path=missing), layout, Sources())
    assert e.value.path == missing and e.value.hint
    with pytest.raises(UserError, match="neither a url nor a path") as e:
        wheels.fetch_one(_artifact(wheel), layout, Sources())
    assert e.value.hint
    with pytest.raises(UserError, match="offline mode is on") as e:
        wheels.fetch_one(_artifact(wheel, url="https://x.invalid/w.whl"), layout, Sources(offline=True))
    assert "find-links" in e.value.hint


def test_fetch_all_downloads_in_parallel_from_an_index_once(tmp_path):
    wh = tmp_path / "wh"
    made = [make_wheel(wh, f"pkg{i}", "1.0") for i in range(3)]
    layout = Layout(str(tmp_path / "root"))
    with serve_index(wh) as index:
        arts = [_artifact(w, name=f"pkg{i}", url=index.file_url(w.name)) for i, w in enumerate(made)]
        progress = []
        got = wheels.fetch_all(arts, layout, Sources(), progress=progress.append)
        assert got == {a.sha256: wheels.stored_path(layout, a) for a in arts}
        assert all(sha256_file(p) == s for s, p in got.items())
        assert progress == ["fetching 3 wheel(s)"]
        assert wheels.fetch_all(arts, layout, Sources(), progress=progress.append) == got
        assert sorted(index.served_files()) == sorted(w.name for w in made)  # each once
        assert not os.listdir(os.path.join(os.path.dirname(layout.wheels), "fetching"))


def test_an_http_error_names_the_file_without_credentials(tmp_path, wheel):
    layout = Layout(str(tmp_path / "root"))
    with serve_index(wheel.parent, fail_files=True, fail_status=404) as index:
        url = index.file_url(wheel.name).replace("http://", "http://user:s3cret@")
        with pytest.raises(VPythonError, match="HTTP 404") as e:
            wheels.fetch_one(_artifact(wheel, url=url), layout, Sources())
    assert "s3cret" not in str(e.value) and e.value.hint and _nothing_stored(layout)


def test_discard_stored_keeps_a_copy_that_was_replaced_meanwhile(tmp_path, wheel):
    layout = Layout(str(tmp_path / "root"))
    art = _artifact(wheel, path=str(wheel))
    stored = wheels.fetch_one(art, layout, Sources())
    wheels.discard_stored(layout, art, (0, 0))  # not the file that is there now
    assert os.path.isfile(stored)
    st = os.stat(stored)
    wheels.discard_stored(layout, art, (st.st_dev, st.st_ino))
    assert not os.path.exists(stored)


def test_sha256_file(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    assert wheels.sha256_file(str(tmp_path / "f")) == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
