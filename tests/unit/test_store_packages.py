"""vpython.store.packages: building store entries from verified wheels."""

from __future__ import annotations

import os
import sys

import pytest

from tests.support import make_evil_wheel, make_wheel, sha256_file
from vpython.env.plan import PlanInterpreter
from vpython.errors import IntegrityError
from vpython.lock.pylock import Artifact
from vpython.store import packages, wheels
from vpython.store.manifest import entry_intact, read_manifest
from vpython.store.root import Layout

INTERP = PlanInterpreter(sys.executable, tuple(sys.version_info[:3]), sys.implementation.cache_tag)
SITE = packages.site_packages_rel(INTERP.version)


def _artifact(wheel) -> Artifact:
    return Artifact(
        name=wheel.name.split("-")[0],
        version="1.0",
        filename=wheel.name,
        sha256=sha256_file(wheel),
        path=str(wheel),
    )


class Fetcher:
    """fetch_many over the real wheel store, counting what it was asked for."""

    def __init__(self, layout):
        self.layout, self.asked = layout, []

    def __call__(self, artifacts):
        self.asked.append(sorted(a.filename for a in artifacts))
        return wheels.fetch_all(artifacts, self.layout, sources=None)


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink_escape"])
def test_check_archive_refuses_escaping_members_naming_the_wheel(tmp_path, kind):
    wheel = make_evil_wheel(tmp_path, kind)
    with pytest.raises(IntegrityError, match="refusing member") as e:
        packages.check_archive(str(wheel), wheel.name)
    assert e.value.path == wheel.name and e.value.hint
    assert str(e.value).startswith(f"{wheel.name}: refusing member")


def test_check_archive_refuses_a_non_zip_and_accepts_a_good_wheel(tmp_path):
    bad = tmp_path / "x-1.0-py3-none-any.whl"
    bad.write_bytes(b"not a zip")
    with pytest.raises(IntegrityError, match="not a valid wheel") as e:
        packages.check_archive(str(bad), bad.name)
    assert e.value.path == bad.name
    packages.check_archive(str(make_wheel(tmp_path, "good", "1.0")), "good")


def test_check_archive_caps_the_unpacked_size(tmp_path, monkeypatch):
    wheel = make_wheel(tmp_path, "big", "1.0", files={"big/data.bin": b"\0" * 4096})
    monkeypatch.setattr(packages, "MAX_UNPACKED", 1024)
    with pytest.raises(IntegrityError, match="unpacks to more than 1024 bytes") as e:
        packages.check_archive(str(wheel), wheel.name)
    assert "VPYTHON_MAX_WHEEL_UNPACKED_BYTES" in e.value.hint


def test_names_of_entries_and_site_packages():
    a = Artifact(name="a", version="1", filename="a-1-py3-none-any.whl", sha256="f" * 64)
    assert packages.entry_name(a, "cpython-311") == "f" * 64 + "-cpython-311"
    assert packages.site_packages_rel((3, 11, 7)) == "lib/python3.11/site-packages"
    assert packages.site_packages_rel((3, 11, 7), windows=True) == "Lib/site-packages"


def test_ensure_entries_builds_frozen_compiled_entries_once(tmp_path):
    layout = Layout(str(tmp_path / "root"))
    wheel = make_wheel(
        tmp_path / "wh", "tinypkg", "1.0", entry_points={"console_scripts": {"tinypkg": "tinypkg:main"}}
    )
    art = _artifact(wheel)
    fetch = Fetcher(layout)
    progress = []
    result = packages.ensure_entries([art], layout, INTERP, fetch, progress=progress.append)
    entry = result[art.sha256]
    assert entry == os.path.join(layout.packages, packages.entry_name(art, INTERP.cache_tag))
    assert entry_intact(entry) and fetch.asked == [[wheel.name]]
    rels = {rel for rel, _, _ in read_manifest(entry)}
    assert f"{SITE}/tinypkg/__init__.py" in rels and "bin/tinypkg" in rels
    assert any(r.startswith(f"{SITE}/tinypkg/__pycache__/") for r in rels)  # compiled once, here
    with open(os.path.join(entry, "bin", "tinypkg"), "rb") as f:
        assert f.readline().startswith(b"#!/__vpython_env_python__")
    installer = [r for r in rels if r.endswith(".dist-info/INSTALLER")]
    with open(os.path.join(entry, installer[0])) as f:
        assert f.read() == "vpython\n"
    assert progress == ["unpacking and compiling 1 package(s)"]
    assert os.listdir(layout.tmp) == []  # the work dir was published by rename
    assert packages.ensure_entries([art], layout, INTERP, fetch) == result
    assert fetch.asked == [[wheel.name]]  # a warm store fetches nothing


def test_a_script_shipped_both_in_data_and_as_an_entry_point_is_the_entry_points(tmp_path):
    # pylint 1.8.4 and 2.7.4 (pins of tests/corpus/rubuslab+depot_tools/pylint-*) do this;
    # installer writes the entry point first and then refused the .data copy ("File already
    # exists"). pip keeps the entry point's wrapper and lists it once in RECORD.
    layout = Layout(str(tmp_path / "root"))
    wheel = make_wheel(tmp_path / "wh", "tinypkg", "1.0", entry_points={"console_scripts": {"tinypkg": "tinypkg:main"}},
                       data={"scripts": {"tinypkg": "#!python\nprint('the .data copy')\n"}})
    art = _artifact(wheel)
    entry = packages.ensure_entries([art], layout, INTERP, Fetcher(layout))[art.sha256]
    with open(os.path.join(entry, "bin", "tinypkg"), "rb") as f:
        text = f.read()
    assert b"tinypkg" in text and b"the .data copy" not in text
    record = next(r for r, _, _ in read_manifest(entry) if r.endswith(".dist-info/RECORD"))
    with open(os.path.join(entry, record)) as f:
        assert sum(1 for line in f if line.split(",")[0].endswith("bin/tinypkg")) == 1


def test_verify_rebuilds_an_entry_edited_in_place(tmp_path):
    layout = Layout(str(tmp_path / "root"))
    art = _artifact(make_wheel(tmp_path / "wh", "tinypkg", "1.0"))
    entry = packages.ensure_entries([art], layout, INTERP, Fetcher(layout))[art.sha256]
    target = os.path.join(entry, SITE, "tinypkg", "__init__.py")
    os.chmod(target, 0o644)
    with open(target, "a") as f:
        f.write("evil()\n")
    assert packages.ensure_entries([art], layout, INTERP, Fetcher(layout)) == {art.sha256: entry}
    assert not entry_intact(entry)  # without verify an entry is taken as it is (link checks it)
    packages.ensure_entries([art], layout, INTERP, Fetcher(layout), verify=True)
    assert entry_intact(entry)
    with open(target) as f:
        assert "evil" not in f.read()


def test_a_stored_wheel_gone_bad_is_fetched_again_once(tmp_path):
    layout = Layout(str(tmp_path / "root"))
    art = _artifact(make_wheel(tmp_path / "wh", "tinypkg", "1.0"))
    stored = wheels.fetch_one(art, layout, sources=None)
    os.chmod(stored, 0o644)
    with open(stored, "r+b") as f:
        f.write(b"XX")  # bit rot after it was verified
    fetch = Fetcher(layout)
    entry = packages.ensure_entries([art], layout, INTERP, fetch)[art.sha256]
    assert entry_intact(entry) and sha256_file(stored) == art.sha256
    assert len(fetch.asked) == 2  # once for the build, once more after the mismatch


def test_a_bad_wheel_leaves_nothing_behind(tmp_path):
    layout = Layout(str(tmp_path / "root"))
    art = _artifact(make_evil_wheel(tmp_path / "wh", "record_lies"))
    with pytest.raises(IntegrityError, match="RECORD does not match") as e:
        packages.ensure_entries([art], layout, INTERP, Fetcher(layout))
    assert e.value.path == art.filename and e.value.hint
    assert os.listdir(layout.packages) == [] and os.listdir(layout.tmp) == []


def test_pip_and_setuptools_scripts_are_named_for_the_target_python():
    # pip 20.3.4's wheel was built on 3.8: pip renames pip3.8 for the Python it installs into.
    v = packages.versioned_script
    assert [v("pip", n, (2, 7, 18)) for n in ("pip", "pip3", "pip3.8")] == ["pip", "pip2", "pip2.7"]
    assert v("setuptools", "easy_install-3.8", (2, 7)) == "easy_install-2.7"
    assert v("setuptools", "easy_install", (2, 7)) == "easy_install"
    assert v("tinycli", "pip3.8", (2, 7)) == "pip3.8"  # only pip's and setuptools' own
