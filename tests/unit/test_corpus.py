"""The compatibility corpus, offline: every real spec in tests/corpus parses and
normalizes as tests/corpus/MANIFEST.toml says it should.

For each file: find its spec the way vpython does (``-vpython-spec FILE``, or the inline
block of a script), parse it, and normalize it for every target it names (its Python on
Linux x86_64, plus each of its ``verify_pep425_tag`` entries) with tag lists built by
``packaging.tags``, as the target interpreter would report them. Then:

* ``builds``: a closed set of exact pins for every target;
* ``private``: the same, with the manifest's CIPD-only packages among the pins (a name,
  or ``name==version`` for a version only CIPD has): normalization pins them like any
  other (a wheelhouse may supply them), and the install fails with the private-package
  error (``vpython.spec.private``; checked by the network test);
* ``broken``: a SpecError at the manifest's ``error_line`` of that file.

The manifest itself is checked too: every file under tests/corpus is listed, with the
git blob id of its bytes (corpus files are never edited) and a kind that matches it.
"""

from __future__ import annotations

import hashlib
import os
import re

import pytest
from packaging import tags as ptags
from packaging.utils import canonicalize_name

from tests.support.corpus import CORPUS_DIR, load_manifest

# The project's entry points this test drives; other files under tests/corpus are data.
from vpython.errors import SpecError
from vpython.spec.discover import discover
from vpython.spec.normalize import normalize_spec
from vpython.spec.parse import parse_spec

ENTRIES = load_manifest()
NOT_SPECS = {"MANIFEST.toml", "README.md", "conftest.py"}
ALL_PRIVATE = {item for e in ENTRIES for item in e.private}


def _private_hits(items, pins: set) -> set:
    """The ``private`` items (``name``: any version of it; ``name==version``: that pin)
    that match one of ``pins`` ({(PEP 503 name, specifier)})."""
    hits = set()
    for item in items:
        name, _, version = item.partition("==")
        if any(n == name and (not version or s == f"=={version}") for n, s in pins):
            hits.add(item)
    return hits


def load(entry):
    """The parsed spec of a corpus file, found as vpython finds it."""
    if entry.is_inline:
        found = discover(target_kind="script", target=entry.abspath, cwd=os.path.dirname(entry.abspath))
        assert found.path == entry.abspath and found.line_offset > 0, found.origin
    else:
        found = discover(target_kind="script", target=None, cwd=CORPUS_DIR, explicit=entry.abspath)
    assert found.kind == "textproto", found.origin
    return parse_spec(found.kind, found.text, found.path, found.line_offset)


# --------------------------------------------------------------------------- targets

_LEGACY = {5: "manylinux1", 12: "manylinux2010", 17: "manylinux2014"}
_LINUX = re.compile(r"^(?:manylinux(?P<legacy>1|2010|2014)|manylinux_2_(?P<minor>\d+)|linux)_(?P<arch>.+)$")
_LEGACY_MINOR = {"1": 5, "2010": 12, "2014": 17}


def _linux_platforms(platform: str) -> list:
    """``manylinux*_A`` / ``linux_A`` -> what pip reports on such a host, newest glibc first
    (Chromium's ``linux_arm64`` is pip's ``aarch64``; bare ``linux_A`` means glibc 2.28)."""
    m = _LINUX.match(platform)
    assert m, platform
    arch = {"arm64": "aarch64", "amd64": "x86_64"}.get(m["arch"], m["arch"])
    top = _LEGACY_MINOR[m["legacy"]] if m["legacy"] else int(m["minor"] or 28)
    out = []
    for minor in range(top, 4, -1):
        out.append(f"manylinux_2_{minor}_{arch}")
        if minor in _LEGACY:
            out.append(f"{_LEGACY[minor]}_{arch}")
    return out + [f"linux_{arch}"]


def platforms_for(platform: str) -> list:
    if platform.startswith(("manylinux", "linux_")):
        return _linux_platforms(platform)
    m = re.match(r"^macosx_(\d+)_(\d+)_(.+)$", platform)
    if m:
        arch = {"intel": "x86_64"}.get(m[3], m[3])
        return list(ptags.mac_platforms((int(m[1]), int(m[2])), arch))
    return [platform]  # win32, win_amd64, ...


def host_tags(python: tuple, abi: str, platform: str) -> list:
    """The compatible-tag list of CPython ``python`` with ``abi`` on ``platform``."""
    plats = platforms_for(platform)
    interp = f"cp{python[0]}{python[1]}"
    return list(ptags.cpython_tags(python, [abi], plats)) + list(ptags.compatible_tags(python, interp, plats))


def targets(entry, spec) -> list:
    """(label, tag list) for the spec's Python on Linux x86_64 and each verify_pep425_tag."""
    major, minor = (int(x) for x in (spec.python_version or entry.python).split(".")[:2])
    abi = f"cp{major}{minor}" + ("mu" if major == 2 else "")
    out = [
        (
            f"cp{major}{minor}-{abi}-manylinux_2_28_x86_64",
            host_tags((major, minor), abi, "manylinux_2_28_x86_64"),
        )
    ]
    for tag in spec.verify_pep425_tags:
        m = re.match(r"^cp(\d)(\d+)$", tag.python)
        assert m and tag.abi and tag.platform, f"{entry.file}: unexpected verify tag {tag}"
        version = (int(m[1]), int(m[2]))
        out.append((f"{tag.python}-{tag.abi}-{tag.platform}", host_tags(version, tag.abi, tag.platform)))
    return out


# --------------------------------------------------------------------------- manifest


def _git_blob(path: str) -> str:
    with open(path, "rb") as f:
        data = f.read()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_manifest_lists_every_corpus_file_once():
    on_disk = set()
    for dirpath, _, names in os.walk(CORPUS_DIR):
        for name in names:
            rel = os.path.relpath(os.path.join(dirpath, name), CORPUS_DIR)
            if rel not in NOT_SPECS:
                on_disk.add(rel.replace(os.sep, "/"))
    listed = [e.file for e in ENTRIES]
    assert len(listed) == len(set(listed)), "a file is listed twice in MANIFEST.toml"
    assert on_disk == set(listed), (sorted(on_disk - set(listed)), sorted(set(listed) - on_disk))
    assert len(ENTRIES) >= 30


def test_manifest_has_the_variety_the_corpus_is_for():
    kinds = {e.kind for e in ENTRIES}
    assert kinds == {"textproto", "vpython2", "inline"}
    assert {e.expected for e in ENTRIES} == {"builds", "private", "broken"}
    assert len({e.repository for e in ENTRIES}) >= 10


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.file for e in ENTRIES])
def test_entry_is_the_published_file(entry):
    """The bytes are the blob the manifest names (``git rev-parse COMMIT:PATH`` upstream)."""
    assert entry.file == f"{entry.repository.replace('/', '+', 1)}/{entry.path}"
    assert re.fullmatch(r"[0-9a-f]{40}", entry.commit)
    assert entry.url == f"https://github.com/{entry.repository}/blob/{entry.commit}/{entry.path}"
    assert _git_blob(entry.abspath) == entry.blob, f"{entry.file} differs from the published file"


# --------------------------------------------------------------------------- specs


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.file for e in ENTRIES])
def test_entry_parses_and_normalizes_as_the_manifest_expects(entry):
    if entry.expected == "broken":
        with pytest.raises(SpecError) as info:
            load(entry)
        assert (info.value.path, info.value.line) == (entry.abspath, entry.error_line), str(info.value)
        return
    spec = load(entry)
    assert spec.python_version in (entry.python, ""), (spec.python_version, entry.python)
    assert (entry.kind == "vpython2") == (entry.python == "2.7" and not entry.is_inline)
    for label, tags in targets(entry, spec):
        try:
            reqs = normalize_spec(spec, tags)
        except SpecError as e:
            # Normalization pins internal names (the install then gives the private-package
            # error); a SpecError is accepted only for the names the manifest lists, at their line.
            folded = e.message.lower().replace("_", "-")
            named = any(item.partition("==")[0] in folded for item in entry.private)
            assert entry.expected == "private" and named, f"{label}: {e}"
            assert e.path == entry.abspath and e.line, f"{label}: {e}"
            continue
        assert reqs.closed, label
        pins = set()
        for req in reqs.requirements:
            m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(==[^,;\s]+|>=[^,;\s]+,<[^,;\s]+)", req)
            assert m, f"{label}: {req!r} is not an exact pin"
            pins.add((canonicalize_name(m[1]), m[2]))
        if entry.expected == "private":
            missing = set(entry.private) - _private_hits(entry.private, pins)
            assert not missing, f"{label}: {sorted(missing)} not among the pins"
        else:
            hits = _private_hits(ALL_PRIVATE, pins)
            assert not hits, f"{label}: pins what only Chromium's CIPD has: {sorted(hits)}"
