"""uv's output read into candidates, and pruned to the wheels some target can install."""

from __future__ import annotations

from vpython import toml
from vpython.lock import uv_pylock
from vpython.lock.select import select_packages, select_with_builds
from vpython.lock.targets import Target

TARGETS = [Target((3, 11), p) for p in ("manylinux_2_28_x86_64", "macosx_11_0_arm64", "win_amd64")]
ALL = frozenset(t.key for t in TARGETS)


def test_uv_pylock_is_read_into_candidates(tmp_path):
    data = {"packages": [
        {"name": "Foo_Bar", "version": "1.0", "marker": "sys_platform == 'win32'",
         "wheels": [{"url": "file:///srv/w/foo_bar-1.0-py3-none-any.whl", "hashes": {"sha256": "a" * 64}}]},
        {"name": "baz", "version": "2", "sdist": {"url": "https://x/baz-2.tar.gz", "hashes": {"sha256": "b" * 64}}},
    ]}
    foo, baz = uv_pylock.candidates_from_pylock(data, TARGETS, str(tmp_path))
    assert foo.name == "foo-bar" and foo.installed_on == {TARGETS[2].key}
    assert foo.wheels[0].path == "/srv/w/foo_bar-1.0-py3-none-any.whl" and foo.wheels[0].url is None
    assert baz.wheels == () and baz.has_sdist_only
    assert baz.sdist.filename == "baz-2.tar.gz" and baz.sdist.url == "https://x/baz-2.tar.gz"
    packages, gaps = select_packages([foo, baz], TARGETS, lock_dir=str(tmp_path))
    assert gaps == []  # every target builds baz from its sdist
    by_name = {p.name: p for p in packages}
    assert by_name["baz"].wheels == () and by_name["baz"].sdist.sha256 == "b" * 64
    assert by_name["baz"].builds == tuple(sorted(ALL)) and by_name["foo-bar"].sdist is None
    _, gaps, builds = select_with_builds([foo, baz], TARGETS, lock_dir=str(tmp_path))
    assert {(b.name, b.target) for b in builds} == {("baz", k) for k in ALL}


def test_uv_output_is_pruned_to_wheels_some_target_can_install():
    text = (
        '[[packages]]\nname = "numpy"\nversion = "2.4.6"\nwheels = [\n'
        '    { url = "https://x/numpy-2.4.6-cp311-cp311-win_amd64.whl", size = 1, hashes = { sha256 = "aa" } },\n'
        '    { url = "https://x/numpy-2.4.6-cp312-cp312-win_amd64.whl", size = 1, hashes = { sha256 = "bb" } },\n'
        '    { url = "https://x/numpy-2.4.6-cp311-cp311-musllinux_1_2_x86_64.whl", hashes = { sha256 = "cc" } },\n'
        '    { url = "https://x/numpy-2.4.6-pp311-pypy311_pp73-win_amd64.whl", hashes = { sha256 = "dd" } },\n'
        ']\n\n[[packages]]\nname = "six"\nversion = "1"\n'
        'wheels = [{ url = "https://x/six-1-py2.py3-none-any.whl", hashes = { sha256 = "ee" } }]\n'
    )
    supported = set()
    for t in TARGETS:
        supported.update(t.tag_strings())
    pruned = uv_pylock.prune_wheel_lines(text, supported)
    assert "cp311-cp311-win_amd64" in pruned and "six-1-py2.py3-none-any" in pruned
    assert "cp312" not in pruned and "musllinux" not in pruned and "pypy" not in pruned
    data = toml.loads(pruned)
    assert [len(p["wheels"]) for p in data["packages"]] == [1, 1]
