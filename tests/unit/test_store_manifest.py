"""vpython.store.manifest: an entry's manifest and link info, written by freeze and
checked against the files (tamper detection)."""

from __future__ import annotations

import json
import os

import pytest

from tests.support.entries import make_entry
from vpython.store.manifest import (
    LINK_INFO,
    META_DIR,
    PLACEHOLDER_SHEBANG,
    entry_intact,
    freeze,
    has_placeholder,
    legacy_link_info,
    parse_manifest,
    read_link_info,
    read_manifest,
)


def test_freeze_then_read_round_trips_and_makes_files_read_only(tmp_path):
    entry = make_entry(tmp_path / "e")
    freeze(entry)
    manifest = read_manifest(entry)
    rels = [rel for rel, _, _ in manifest]
    assert sorted(rels) == sorted(
        [
            "bin/data.txt",
            "bin/tool",
            "lib/python3.11/site-packages/pkg/__init__.py",
            "lib/python3.11/site-packages/pkg-1.0.dist-info/RECORD",
        ]
    )
    assert not any(r.startswith(META_DIR) for r in rels)  # the entry's own records are not listed
    for rel, size, mtime in manifest:
        st = os.lstat(os.path.join(entry, rel))
        assert (st.st_size, st.st_mtime_ns) == (size, mtime) and not st.st_mode & 0o222
    dirs, rewrite = read_link_info(entry)
    assert dirs.index("lib") < dirs.index("lib/python3.11") < dirs.index("lib/python3.11/site-packages")
    assert rewrite == {"bin/tool"}  # placeholder shebang: rewritten per env, not linked
    assert entry_intact(entry)


@pytest.mark.parametrize("how", ["content", "mtime", "writable", "missing", "manifest"])
def test_entry_intact_finds_every_kind_of_tampering(tmp_path, how):
    entry = make_entry(tmp_path / "e")
    freeze(entry)
    target = os.path.join(entry, "lib/python3.11/site-packages/pkg/__init__.py")
    if how == "content":
        os.chmod(target, 0o644)
        with open(target, "a") as f:
            f.write("evil()\n")
        os.chmod(target, 0o444)
    elif how == "mtime":
        st = os.stat(target)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    elif how == "writable":
        os.chmod(target, 0o644)
    elif how == "missing":
        os.chmod(os.path.dirname(target), 0o755)
        os.unlink(target)
    else:
        with open(os.path.join(entry, META_DIR, "manifest"), "w") as f:
            f.write("pkg/__init__.py\tnot-a-size\t0\n")
    assert not entry_intact(entry)


def test_parse_manifest_handles_tabs_in_paths_and_empty_text():
    assert parse_manifest("") == []
    assert parse_manifest("a\t1\t2\nb/c\t3\t4\n") == [("a", 1, 2), ("b/c", 3, 4)]
    assert parse_manifest("we\tird\t5\t6\n") == [("we\tird", 5, 6)]
    with pytest.raises(ValueError):
        parse_manifest("a\tb\n")


def test_legacy_link_info_for_entries_built_before_link_json(tmp_path):
    entry = make_entry(tmp_path / "e")
    freeze(entry)
    os.unlink(os.path.join(entry, META_DIR, LINK_INFO))
    assert read_link_info(entry) is None
    dirs, rewrite = legacy_link_info(entry, read_manifest(entry))
    on_disk = [os.path.relpath(d, entry) for d, _, _ in os.walk(entry) if d != entry and META_DIR not in d]
    assert (dirs, rewrite) == (sorted(on_disk), {"bin/tool"})


def test_a_broken_link_info_raises_for_the_linker_to_report(tmp_path):
    entry = make_entry(tmp_path / "e")
    freeze(entry)
    with open(os.path.join(entry, META_DIR, LINK_INFO), "w") as f:
        json.dump({"dirs": []}, f)
    with pytest.raises(KeyError):
        read_link_info(entry)


def test_has_placeholder_reads_only_the_first_bytes(tmp_path):
    (tmp_path / "a").write_bytes(PLACEHOLDER_SHEBANG + b"\n")
    (tmp_path / "b").write_bytes(b"#!/usr/bin/python3\n")
    assert has_placeholder(str(tmp_path / "a")) and not has_placeholder(str(tmp_path / "b"))
