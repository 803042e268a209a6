"""vpython.store.packages: building store entries from verified wheels."""

from __future__ import annotations

import os
import sys

import pytest

from tests.support import make_evil_wheel, make_wheel, sha256_file
from vpython.env.plan import PlanInterpreter
from vpython.errors import IntegrityError
from vpython.lock.pylock import Artifact
from vpython.store import archive, packages, pyc, wheels
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

    def __call__(self, artifacts, on_ready=None):
        self.asked.append(sorted(a.filename for a in artifacts))
        return wheels.fetch_all(artifacts, self.layout, sources=None, on_ready=on_ready)


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
    monkeypatch.setattr(archive, "MAX_UNPACKED", 1024)
    with pytest.raises(IntegrityError, match="unpacks to more than 1024 bytes") as e:
        packages.check_archive(str(wheel), wheel.name)
    assert "VPYTHON_MAX_WHEEL_UNPACKED_BYTES" in e.value.hint


def test_names_of_entries_and_site_packages():
    a = Artifact(name="a", version="1", filename="a-1-py3-none-any.whl", sha256="f" * 64)
    assert packages.entry_name(a, "cpython-311") == "f" * 64 + "-cpython-311"
    assert packages.site_packages_rel((3, 11, 7)) == "lib/python3.11/site-packages"
    assert packages.site_packages_rel((3, 11, 7), windows=True) == "Lib/site-packages"


def test_ensure_entries_builds_frozen_entries_once(tmp_path):
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
    assert not pyc.is_compiled(entry)  # published first; .pyc come after (vpython.store.compiler)
    with open(os.path.join(entry, "bin", "tinypkg"), "rb") as f:
        assert f.readline().startswith(b"#!/__vpython_env_python__")
    installer = [r for r in rels if r.endswith(".dist-info/INSTALLER")]
    with open(os.path.join(entry, installer[0])) as f:
        assert f.read() == "vpython\n"
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
    art = _artifact(make_evil_wheel(tmp_path / "wh", "dotdot"))
    with pytest.raises(IntegrityError, match="escapes the install dir") as e:
        packages.ensure_entries([art], layout, INTERP, Fetcher(layout))
    assert e.value.path == art.filename and e.value.hint
    assert os.listdir(layout.packages) == [] and os.listdir(layout.tmp) == []


def test_a_wheel_whose_record_lies_is_installed_with_one_warning(tmp_path, capsys):
    """Its bytes are the locked sha256: the archive's bytes are installed (as pip and uv
    do), the entry's own RECORD holds their true hashes, and one warning names it."""
    layout = Layout(str(tmp_path / "root"))
    wheel = make_evil_wheel(tmp_path / "wh", "record_lies")
    art = _artifact(wheel)
    entry = packages.ensure_entries([art], layout, INTERP, Fetcher(layout))[art.sha256]
    assert entry_intact(entry)
    err = capsys.readouterr().err
    assert err.count("RECORD does not match") == 1 and art.filename in err and "__init__.py" in err
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        data = zf.read("evil_record_lies/__init__.py")
    with open(os.path.join(entry, SITE, "evil_record_lies", "__init__.py"), "rb") as f:
        assert f.read() == data


def test_pip_and_setuptools_scripts_are_named_for_the_target_python():
    # pip 20.3.4's wheel was built on 3.8: pip renames pip3.8 for the Python it installs into.
    from vpython.store.unpack import versioned_script as v
    assert [v("pip", n, (2, 7, 18)) for n in ("pip", "pip3", "pip3.8")] == ["pip", "pip2", "pip2.7"]
    assert v("setuptools", "easy_install-3.8", (2, 7)) == "easy_install-2.7"
    assert v("setuptools", "easy_install", (2, 7)) == "easy_install"
    assert v("tinycli", "pip3.8", (2, 7)) == "pip3.8"  # only pip's and setuptools' own
def test_a_hash_mismatch_in_a_pipelined_build_fails_cleanly_and_stores_nothing_of_it(tmp_path):
    """Wheels are unpacked as they arrive; one whose bytes are not the locked ones stops
    the build with the mismatch error: it is neither in the wheel store nor an entry, no
    work files are left, and what was published meanwhile is complete."""
    from tests.support import serve_index
    from vpython.settings.sources import Sources

    wh = tmp_path / "wh"
    made = [make_wheel(wh, f"pkg{i}", "1.0", files={f"pkg{i}/__init__.py": f"X = {i}\n" * 2000})
            for i in range(4)]
    layout = Layout(str(tmp_path / "root"))
    with serve_index(wh) as index:
        arts = [Artifact(name=f"pkg{i}", version="1.0", filename=w.name, sha256=sha256_file(w),
                         url=index.file_url(w.name)) for i, w in enumerate(made)]
        bad = Artifact(name="pkg2", version="1.0", filename=made[2].name, sha256="0" * 64,
                       url=index.file_url(made[2].name))
        arts[2] = bad
        published = []

        def fetch(a, on_ready=None):
            return wheels.fetch_all(a, layout, Sources(), on_ready=on_ready)

        with pytest.raises(IntegrityError, match=f"expects sha256 {'0' * 64}") as e:
            packages.ensure_entries(arts, layout, INTERP, fetch, on_entry=published.append)
    assert made[2].name in str(e.value)
    assert not os.path.exists(os.path.join(layout.wheels, "0" * 64))
    assert not os.path.exists(packages.entry_dir(layout, bad, INTERP))
    assert os.listdir(layout.tmp) == []
    names = set(os.listdir(layout.packages))
    assert names == {os.path.basename(p) for p in published}  # every published entry was announced ...
    assert all(entry_intact(os.path.join(layout.packages, n)) for n in names)  # ... and is complete


def test_unpacking_checks_each_member_against_record_as_it_is_written(tmp_path):
    """The single pass over the archive finds a .data script whose bytes differ from
    RECORD (read whole and checked) as well as a payload file (checked while streaming),
    and returns them for the caller's warning."""
    from tests.support.wheels import _order, _record_text, _write_zip, _zipinfo, record_hash, wheel_contents
    from vpython.store import unpack

    dist_info, contents = wheel_contents("lies", "1.0", data={"scripts": {"tool": "#!python\nprint(1)\n"}})
    order = _order(contents, dist_info)
    script = next(n for n in order if n.endswith(".data/scripts/tool"))
    rows = [(n, record_hash(b"other" if n == script else contents[n]), str(len(contents[n]))) for n in order[:-1]]
    contents[f"{dist_info}/RECORD"] = _record_text(rows + [(f"{dist_info}/RECORD", "", "")])
    path = tmp_path / "lies-1.0-py3-none-any.whl"
    _write_zip(path, [(_zipinfo(n), contents[n]) for n in order])
    work = tmp_path / "work"
    work.mkdir()
    issues = unpack.unpack(str(path), path.name, str(work), SITE, INTERP.version)
    assert issues == [f"{script} (hash / size)"]
    assert "tool" in unpack.record_warning(path.name, issues) and path.name in unpack.record_warning(path.name, issues)


def test_record_algorithms_are_case_insensitive_and_unknown_ones_are_reported(tmp_path):
    """pip 20.3 wrote ``SHA256=`` in the 2.7 wheels it built (httplib2, crcmod, ...)."""
    from tests.support.wheels import _order, _record_text, _write_zip, _zipinfo, record_hash, wheel_contents
    from vpython.store import unpack

    dist_info, contents = wheel_contents("upper", "1.0")
    order = _order(contents, dist_info)
    rows = [(n, record_hash(contents[n]).replace("sha256=", "SHA256="), str(len(contents[n]))) for n in order[:-1]]
    contents[f"{dist_info}/RECORD"] = _record_text(rows + [(f"{dist_info}/RECORD", "", "")])
    path = tmp_path / "upper-1.0-py3-none-any.whl"
    _write_zip(path, [(_zipinfo(n), contents[n]) for n in order])
    work = tmp_path / "work"
    work.mkdir()
    issues = unpack.unpack(str(path), path.name, str(work), SITE, INTERP.version)
    assert not [i for i in issues if "hash / size" in i], issues  # every member's bytes checked out


@pytest.mark.parametrize("kind", ["good", "record_lies"])
def test_large_wheels_are_unpacked_by_a_child_with_the_same_checks(tmp_path, monkeypatch, capsys, kind):
    monkeypatch.setattr(packages, "CHILD_BYTES", 0)  # every wheel counts as large here
    layout = Layout(str(tmp_path / "root"))
    wheel = make_wheel(tmp_path / "wh", "tinypkg", "1.0") if kind == "good" else make_evil_wheel(tmp_path / "wh", kind)
    art = _artifact(wheel)
    if kind == "good":
        entry = packages.ensure_entries([art], layout, INTERP, Fetcher(layout))[art.sha256]
        assert entry_intact(entry) and f"{SITE}/tinypkg/__init__.py" in {r for r, _, _ in read_manifest(entry)}
    else:  # the child's RECORD findings come back for the same warning
        entry = packages.ensure_entries([art], layout, INTERP, Fetcher(layout))[art.sha256]
        assert entry_intact(entry)
        err = capsys.readouterr().err
        assert "RECORD does not match" in err and art.filename in err
    assert os.listdir(layout.tmp) == []
