"""vpython.store.link: linking a store entry into an env, checked file by file."""

from __future__ import annotations

from vpython.store.link import EntryChanged, discard_changed
from vpython.store.root import Layout


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
