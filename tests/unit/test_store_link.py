"""vpython.store.link: linking a store entry into an env, checked file by file."""

from __future__ import annotations

import json
import os

import pytest

from tests.support.entries import make_entry
from vpython.store.link import EntryChanged, discard_changed, link_entry
from vpython.store.manifest import LINK_INFO, META_DIR, SCRIPTS, freeze
from vpython.store.root import Layout

INIT = "lib/python3.11/site-packages/pkg/__init__.py"


@pytest.fixture
def entry(tmp_path):
    e = make_entry(tmp_path / "store" / "e")
    freeze(e)
    return e


def _env(tmp_path, name="env"):
    d = tmp_path / name
    (d / "bin").mkdir(parents=True)  # the skeleton's bin
    return str(d)


def test_link_entry_hardlinks_every_file_and_returns_the_scripts_to_rewrite(tmp_path, entry):
    env = _env(tmp_path)
    made: set = set()
    scripts, rewrites = link_entry(entry, env, made)
    assert scripts == []
    assert rewrites == [(os.path.join(entry, "bin/tool"), os.path.join(env, "bin/tool"))]
    assert not os.path.exists(os.path.join(env, "bin/tool"))  # the env writes its own copy
    src, dst = os.stat(os.path.join(entry, INIT)), os.stat(os.path.join(env, INIT))
    assert (src.st_dev, src.st_ino) == (dst.st_dev, dst.st_ino)  # one inode, no copy
    assert "lib/python3.11/site-packages/pkg" in made and "bin" in made
    assert not os.path.exists(os.path.join(env, META_DIR))


def test_two_entries_share_dirs_and_the_same_bytes_at_one_path_are_linked_once(tmp_path, entry):
    other = make_entry(tmp_path / "store" / "f")  # the very same files (a namespace __init__.py)
    freeze(other)
    env = _env(tmp_path)
    made: set = set()
    owners: dict = {}
    link_entry(entry, env, made, owners)
    scripts, rewrites = link_entry(other, env, made, owners)
    assert os.stat(os.path.join(env, INIT)).st_ino == os.stat(os.path.join(entry, INIT)).st_ino
    assert rewrites == []  # bin/tool: already the first entry's


def test_two_entries_with_different_files_at_one_path_are_an_error_naming_both(tmp_path, entry):
    from tests.support.entries import ENTRY_FILES
    from vpython.store.link import FileConflict

    files = dict(ENTRY_FILES)
    files.pop("lib/python3.11/site-packages/pkg-1.0.dist-info/RECORD")
    files["lib/python3.11/site-packages/other-2.0.dist-info/RECORD"] = b""
    files[INIT] = b"x = 2\n"
    other = make_entry(tmp_path / "store" / "f", files)
    freeze(other)
    env = _env(tmp_path)
    made: set = set()
    owners: dict = {}
    link_entry(entry, env, made, owners)
    with pytest.raises(FileConflict) as e:
        link_entry(other, env, made, owners)
    assert str(e.value).startswith(f"pkg-1.0 and other-2.0 both install {INIT}, with different contents")
    assert e.value.exit_code == 2 and "drop pkg or other" in e.value.hint


@pytest.mark.parametrize("rel", ["bin/python", "bin/python3", "bin/python3.11", "bin/pythonw", "pyvenv.cfg",
                                 "bin/activate", "bin/activate.fish", "bin/activate_this.py",
                                 ".vpython-env.json"])
def test_a_wheel_may_not_write_the_envs_own_files(tmp_path, rel):
    from tests.support.entries import ENTRY_FILES
    from vpython.errors import IntegrityError

    e = make_entry(tmp_path / "store" / "evil", {**ENTRY_FILES, rel: b"#!/bin/sh\necho pwned\n"})
    freeze(e)
    env = _env(tmp_path)
    with pytest.raises(IntegrityError, match=f"pkg-1.0 would overwrite the env's own {rel}: refused"):
        link_entry(e, env, set(), {})
    assert not os.path.lexists(os.path.join(env, rel))


def test_a_wheel_may_not_replace_what_the_skeleton_put_in_the_env(tmp_path):
    from tests.support.entries import ENTRY_FILES
    from vpython.errors import IntegrityError

    for i, rel in enumerate(("CACHEDIR.TAG", "bin/tool")):  # a linked file; a rewritten script
        e = make_entry(tmp_path / "store" / f"e{i}", {**ENTRY_FILES, rel: ENTRY_FILES["bin/tool"]})
        freeze(e)
        env = _env(tmp_path, f"env{i}")
        with open(os.path.join(env, rel), "w") as f:
            f.write("the skeleton's\n")
        with pytest.raises(IntegrityError, match=f"own {rel} .from the env's skeleton.: refused"):
            link_entry(e, env, set(), {})
        assert open(os.path.join(env, rel)).read() == "the skeleton's\n"


def test_a_changed_entry_raises_with_its_identity(tmp_path, entry):
    target = os.path.join(entry, INIT)
    os.chmod(target, 0o644)
    with open(target, "a") as f:
        f.write("evil()\n")
    os.chmod(target, 0o444)
    with pytest.raises(EntryChanged, match=f"{INIT} was modified") as e:
        link_entry(entry, _env(tmp_path))
    st = os.stat(entry)
    assert e.value.entry == entry and e.value.ident == (st.st_dev, st.st_ino)


def test_a_missing_file_or_entry_or_broken_metadata_raises(tmp_path, entry):
    os.unlink(os.path.join(entry, INIT))
    with pytest.raises(EntryChanged, match="is missing"):
        link_entry(entry, _env(tmp_path, "a"))
    with open(os.path.join(entry, META_DIR, LINK_INFO), "w") as f:
        f.write("{")
    with pytest.raises(EntryChanged, match="metadata cannot be read"):
        link_entry(entry, _env(tmp_path, "b"))
    with pytest.raises(EntryChanged, match="it is gone") as e:
        link_entry(str(tmp_path / "store" / "nope"), _env(tmp_path, "c"))
    assert e.value.ident is None


def test_an_entry_built_before_link_info_links_from_its_manifest(tmp_path, entry):
    os.unlink(os.path.join(entry, META_DIR, LINK_INFO))
    spec = [{"name": "tool2", "module": "pkg", "attr": "main", "section": "console"}]
    with open(os.path.join(entry, META_DIR, SCRIPTS), "w") as f:
        json.dump(spec, f)
    env = _env(tmp_path)
    scripts, rewrites = link_entry(entry, env)
    assert scripts == spec and [os.path.basename(d) for _, d in rewrites] == ["tool"]
    assert os.path.isfile(os.path.join(env, INIT))


def test_a_rebuilt_entry_is_not_discarded_for_an_older_change(tmp_path):
    """Two runs find the same changed entry; the first rebuilds it. The second's
    EntryChanged names the old entry dir (its identity): the new one stays."""
    layout = Layout(str(tmp_path / "root"))
    entry = tmp_path / "root" / "v1" / "store" / "packages" / "e"
    entry.mkdir(parents=True)
    discard_changed(EntryChanged(str(entry), "x was modified", (0, 0)), layout)
    assert entry.is_dir()
    st = entry.stat()
    discard_changed(EntryChanged(str(entry), "x was modified", (st.st_dev, st.st_ino)), layout)
    assert not entry.exists()
    discard_changed(
        EntryChanged(str(entry), "x was modified", (st.st_dev, st.st_ino)), layout
    )  # gone: no error
