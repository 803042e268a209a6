"""vpython.store.sdists: wheels built once from sdists, offline from a loopback index."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.support import make_wheel, serve_index, sha256_file, uv_binary
from tests.support.sdists import (
    make_backend_wheels,
    make_sdist,
    setuptools_pyproject,
    setuptools_wheels,
    start_builder,
    tinybackend_pyproject,
)
from vpython.errors import BuildError, IntegrityError, UserError
from vpython.interpreters.discover import default_interpreter_path
from vpython.interpreters.probe import probe
from vpython.settings.sources import Sources
from vpython.store import sdists
from vpython.store.root import Layout
from vpython.store.sdist_check import wheel_problem
from vpython.store.sdists import SdistRef, built_wheel, find_built

pytestmark = pytest.mark.skipif(uv_binary() is None, reason="needs the uv binary")

# A hang guard for waits on other processes, not a performance bound.
PATIENCE = 180


@pytest.fixture
def house(tmp_path):
    """The index's directory: tinybackend, tinyhelper and (when virtualenv has one) setuptools."""
    d = tmp_path / "house"
    make_backend_wheels(d)
    setuptools_wheels(d)
    return d


@pytest.fixture
def index(house):
    with serve_index(house) as idx:
        yield idx


@pytest.fixture
def layout(tmp_path):
    return Layout(str(tmp_path / "root"))


@pytest.fixture
def interp(layout):
    return probe(default_interpreter_path(), layout.interpreters)


def needs_setuptools(house: Path) -> None:
    if not list(house.glob("setuptools-*.whl")):
        pytest.skip("virtualenv ships no setuptools wheel for this Python")


def ref(path: Path, name: str, version: str, index=None, **over) -> SdistRef:
    fields = {
        "name": name,
        "version": version,
        "filename": path.name,
        "sha256": sha256_file(path),
        "size": path.stat().st_size,
        "url": index.file_url(path.name) if index else None,
        "path": None if index else str(path),
    }
    fields.update(over)
    return SdistRef(**fields)


def tiny(house: Path, tmp_path: Path, index, name: str = "tinypkg", **config) -> SdistRef:
    """A tinybackend sdist of ``name`` 1.0 published on the index."""
    mod = name.replace("-", "_")
    path = make_sdist(
        house,
        name,
        "1.0",
        pyproject=tinybackend_pyproject(),
        files={f"src/{mod}/__init__.py": "VALUE = 42\n"},
        config=config,
    )
    return ref(path, name, "1.0", index)


def lines(path: Path) -> list:
    return path.read_text().splitlines() if path.exists() else []


def entries(layout: Layout) -> list:
    base = Path(sdists.built_dir(layout))
    return sorted(p.name for p in base.glob("*/*") if p.is_dir()) if base.exists() else []


def work_dirs(layout: Layout) -> list:
    return sorted(Path(layout.tmp).glob("sdist-*")) if os.path.isdir(layout.tmp) else []


# --------------------------------------------------------------------------- builds and hits


def test_setuptools_sdist_builds_once_then_hits_in_this_and_another_process(
    house, index, layout, interp, tmp_path, capsys
):
    needs_setuptools(house)
    counter = tmp_path / "counter"
    setup = f"from setuptools import setup\nopen({str(counter)!r}, 'a').write('built\\n')\nsetup(name='stpkg', version='2.0', py_modules=['stpkg'])\n"
    path = make_sdist(
        house, "stpkg", "2.0", pyproject=setuptools_pyproject(), setup_py=setup, files={"stpkg.py": "X = 1\n"}
    )
    sd = ref(path, "stpkg", "2.0", index)
    sources = Sources(index_url=index.url)

    from vpython import log

    log.set_level("info")
    try:
        first = built_wheel(sd, interp, sources, layout)
    finally:
        log.set_level("error")
    assert "building stpkg 2.0 from source (first time only)" in capsys.readouterr().err
    assert first.built and first.filename == "stpkg-2.0-py3-none-any.whl"
    assert first.sha256 == sha256_file(first.path)
    assert first.path.startswith(os.path.join(sdists.built_dir(layout), sd.sha256, first.key) + os.sep)
    meta = json.loads(Path(first.path).with_name("build.json").read_text())
    assert meta["sdist"]["sha256"] == sd.sha256 and meta["wheel"]["sha256"] == first.sha256
    assert meta["machinery"]["tool"] == "uv build" and meta["machinery"]["version"].startswith("uv ")
    assert meta["interpreter"]["version"] == interp.version_string and meta["seconds"] > 0
    with zipfile.ZipFile(first.path) as zf:
        assert zf.read("stpkg.py") == b"X = 1\n"
    assert os.stat(first.path).st_mode & 0o222 == 0  # published read-only
    built_lines = lines(counter)
    assert built_lines  # setup.py ran (at least once: a backend may run it per hook)

    again = built_wheel(sd, interp, sources, layout)
    assert not again.built and (again.path, again.sha256) == (first.path, first.sha256)
    assert find_built(sd, interp, layout) == again

    index.fail_files = True  # a hit needs neither the sdist nor the index
    proc = start_builder(
        {"root": layout.root, "sdist": sd.__dict__, "index_url": index.url, "python": interp.path},
        tmp_path / "other.err",
    )
    out, _ = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 0, (tmp_path / "other.err").read_text()
    other = json.loads(out)
    assert other == {"sha256": first.sha256, "path": first.path, "built": False}
    assert lines(counter) == built_lines  # nothing built again
    assert work_dirs(layout) == []


def test_non_setuptools_backend_with_dynamic_build_requirements(house, index, layout, interp, tmp_path):
    counter = tmp_path / "counter"
    # The build imports tinyhelper: it works only if get_requires_for_build_wheel's answer
    # was installed into the build env.
    sd = tiny(
        house, tmp_path, index, name="dynpkg", counter=str(counter), extra_requires=["tinyhelper"],
        **{"import": "tinyhelper"},
    )
    w = built_wheel(sd, interp, Sources(index_url=index.url), layout)
    assert w.built and w.filename == "dynpkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(w.path) as zf:
        assert zf.read("dynpkg/__init__.py") == b"VALUE = 42\n"
    assert len(lines(counter)) == 1
    assert "/files/tinyhelper-1.0-py3-none-any.whl" in " ".join(index.requests)


def test_legacy_setup_py_only_sdist_offline_from_find_links(house, layout, interp, tmp_path):
    needs_setuptools(house)
    setup = "from setuptools import setup\nsetup(name='legacy-pkg', version='0.5', py_modules=['legacy_pkg'])\n"
    path = make_sdist(tmp_path / "sdists", "legacy-pkg", "0.5", setup_py=setup, files={"legacy_pkg.py": "Y = 2\n"})
    sd = ref(path, "legacy-pkg", "0.5")
    sources = Sources(index_url="", find_links=(str(house),), offline=True)
    w = built_wheel(sd, interp, sources, layout)
    assert w.filename == "legacy_pkg-0.5-py3-none-any.whl"
    with zipfile.ZipFile(w.path) as zf:
        assert zf.read("legacy_pkg.py") == b"Y = 2\n"


def test_c_extension_is_built_for_this_interpreter_and_runs(house, index, layout, interp, tmp_path):
    needs_setuptools(house)
    if shutil.which("gcc") is None and shutil.which("cc") is None:
        pytest.skip("no C compiler")
    source = (
        "#include <Python.h>\n"
        'static PyObject *answer(PyObject *s, PyObject *a) { return PyLong_FromLong(42); }\n'
        'static PyMethodDef m[] = {{"answer", answer, METH_NOARGS, ""}, {0}};\n'
        'static struct PyModuleDef d = {PyModuleDef_HEAD_INIT, "cmod", 0, -1, m};\n'
        "PyMODINIT_FUNC PyInit_cmod(void) { return PyModule_Create(&d); }\n"
    )
    setup = "from setuptools import setup, Extension\nsetup(name='cpkg', version='1.0', ext_modules=[Extension('cmod', ['cmod.c'])])\n"
    path = make_sdist(house, "cpkg", "1.0", pyproject=setuptools_pyproject(), setup_py=setup, files={"cmod.c": source})
    w = built_wheel(ref(path, "cpkg", "1.0", index), interp, Sources(index_url=index.url), layout)
    abi = sdists.build_key(interp).split("-")[0]
    assert w.filename.startswith(f"cpkg-1.0-{abi}-{abi}-")
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(w.path) as zf:
        zf.extractall(unpacked)
    out = subprocess.run(
        [interp.path, "-I", "-c", f"import sys; sys.path.insert(0, {str(unpacked)!r}); import cmod; print(cmod.answer())"],
        stdout=subprocess.PIPE,
        check=True,
    )
    assert out.stdout.strip() == b"42"


def test_key_names_abi_and_a_libc_or_os_versioned_platform(interp):
    key = sdists.build_key(interp)
    abi, _, platform = key.partition("-")
    assert abi == f"cp{interp.version[0]}{interp.version[1]}" + interp.abiflags
    if sys.platform.startswith("linux") and (interp.probe.get("libc") or "").startswith("glibc"):
        major, minor = interp.probe["libc"].split()[1].split(".")[:2]
        assert platform.startswith(f"manylinux_{major}_{minor}_")


# --------------------------------------------------------------------------- concurrency and kills


def _wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_eight_processes_build_once(house, index, layout, interp, tmp_path):
    counter, started, release = tmp_path / "counter", tmp_path / "started", tmp_path / "release"
    sd = tiny(house, tmp_path, index, counter=str(counter), started=str(started), release=str(release))
    args = {"root": layout.root, "sdist": sd.__dict__, "index_url": index.url, "python": interp.path}
    errs = [tmp_path / f"p{i}.err" for i in range(8)]
    procs = [start_builder(args, err) for err in errs]
    try:
        _wait_for(started.exists, "the first build to start")
        # Every other process is waiting on the entry's lock before the build may finish.
        _wait_for(
            lambda: sum("waiting for another vpython building tinypkg 1.0" in e.read_text() for e in errs) == 7,
            "seven waiters",
        )
        release.touch()
        results = [json.loads(p.communicate(timeout=PATIENCE)[0]) for p in procs]
    finally:
        release.touch()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0] * 8, [e.read_text() for e in errs]
    assert len(lines(counter)) == 1
    assert len({(r["sha256"], r["path"]) for r in results}) == 1
    assert sorted(r["built"] for r in results) == [False] * 7 + [True]
    assert sum("from source (first time only)" in e.read_text() for e in errs) == 1


def test_sigkill_during_build_leaves_nothing_used_and_the_next_call_builds(house, index, layout, interp, tmp_path):
    counter, started, release = tmp_path / "counter", tmp_path / "started", tmp_path / "release"
    sd = tiny(house, tmp_path, index, counter=str(counter), started=str(started), release=str(release))
    args = {"root": layout.root, "sdist": sd.__dict__, "index_url": index.url, "python": interp.path}
    victim = start_builder(args, tmp_path / "victim.err")
    try:
        _wait_for(started.exists, "the build to start")
        victim.send_signal(signal.SIGKILL)  # vpython only: uv and the backend live on, orphaned
        victim.wait(timeout=PATIENCE)
    finally:
        if victim.poll() is None:
            victim.kill()
    assert victim.returncode == -signal.SIGKILL
    assert find_built(sd, interp, layout) is None and entries(layout) == []
    leftover = work_dirs(layout)
    assert len(leftover) == 1  # the dead builder's work dir: gc's, never read

    release.touch()  # the orphan may finish now, into its dead work dir
    w = built_wheel(sd, interp, Sources(index_url=index.url), layout)
    assert w.built and wheel_problem(w.path, "tinypkg", "1.0", _tags(interp)) is None
    assert len(lines(counter)) == 2
    assert work_dirs(layout) == leftover


@pytest.mark.parametrize("stage", ["sdist-built", "sdist-publish"])
def test_sigkill_at_each_stage_then_a_clean_build(house, index, layout, interp, tmp_path, stage):
    counter = tmp_path / "counter"
    sd = tiny(house, tmp_path, index, counter=str(counter))
    args = {"root": layout.root, "sdist": sd.__dict__, "index_url": index.url, "python": interp.path}
    env = dict(os.environ, VPYTHON_TEST_KILL_AT=stage)
    victim = start_builder(args, tmp_path / "victim.err", env=env)
    victim.communicate(timeout=PATIENCE)
    assert victim.returncode == -signal.SIGKILL
    assert find_built(sd, interp, layout) is None and entries(layout) == []
    w = built_wheel(sd, interp, Sources(index_url=index.url), layout)
    assert w.built and len(lines(counter)) == 2


def _tags(interp):
    from vpython.interpreters.tags import target_tags

    return target_tags(interp)


# --------------------------------------------------------------------------- failures and refusals


def test_failing_build_error_has_package_version_log_tail_path_and_hint(house, index, layout, interp, tmp_path):
    sd = tiny(house, tmp_path, index, name="brokenpkg", fail=True)
    with pytest.raises(BuildError) as info:
        built_wheel(sd, interp, Sources(index_url=index.url), layout)
    e = info.value
    text = str(e)
    assert "brokenpkg 1.0" in text and (e.package, e.version) == ("brokenpkg", "1.0")
    assert "build line 40" in text and "build line 1\n" not in text  # the tail, not the whole log
    assert e.log_path and e.log_path in text
    assert e.log_path.startswith(os.path.join(layout.base, "logs") + os.sep)
    whole = Path(e.log_path).read_text()
    assert "build line 1\n" in whole and "tinybackend was told to fail" in whole
    assert e.hint and "--find-links" in e.hint and "pin a version of brokenpkg" in e.hint
    assert find_built(sd, interp, layout) is None and entries(layout) == [] and work_dirs(layout) == []


def test_missing_compiler_gets_the_compiler_hint(house, index, layout, interp, tmp_path, monkeypatch):
    needs_setuptools(house)
    setup = "from setuptools import setup, Extension\nsetup(name='nocc', version='1.0', ext_modules=[Extension('nocc', ['nocc.c'])])\n"
    path = make_sdist(house, "nocc", "1.0", pyproject=setuptools_pyproject(), setup_py=setup, files={"nocc.c": "int x;\n"})
    monkeypatch.setenv("CC", str(tmp_path / "no-such-dir" / "gcc"))
    with pytest.raises(BuildError) as info:
        built_wheel(ref(path, "nocc", "1.0", index), interp, Sources(index_url=index.url), layout)
    assert "install a C compiler" in info.value.hint
    assert entries(layout) == []


def test_wrong_wheel_from_the_backend_is_refused_and_nothing_stored(house, index, layout, interp, tmp_path):
    # uv itself refuses a wheel whose version differs from the sdist's...
    sd = tiny(house, tmp_path, index, name="liar", wheel_version="9.9")
    with pytest.raises(BuildError, match=r"9\.9"):
        built_wheel(sd, interp, Sources(index_url=index.url), layout)
    # ...but not one this interpreter cannot install: vpython's own check does.
    sd = tiny(house, tmp_path, index, name="alien", tag="cp27-cp27mu-win32")
    with pytest.raises(BuildError) as info:
        built_wheel(sd, interp, Sources(index_url=index.url), layout)
    assert "the built wheel is unusable" in str(info.value) and "cp27-cp27mu-win32" in str(info.value)
    assert entries(layout) == [] and work_dirs(layout) == []


def test_sdist_hash_or_size_mismatch_is_refused_before_building(house, index, layout, interp, tmp_path):
    counter = tmp_path / "counter"
    good = tiny(house, tmp_path, index, counter=str(counter))
    for bad in (SdistRef(**dict(good.__dict__, sha256="0" * 64)), SdistRef(**dict(good.__dict__, size=good.size + 1))):
        with pytest.raises(IntegrityError):
            built_wheel(bad, interp, Sources(index_url=index.url), layout)
    assert not counter.exists() and entries(layout) == []
    assert not any(Path(sdists.sdists_dir(layout)).glob("*/*"))


def test_ref_that_is_not_an_sdist_of_that_package_is_a_user_error(house, index, layout, interp, tmp_path):
    good = tiny(house, tmp_path, index)
    with pytest.raises(UserError, match="not of otherpkg"):
        built_wheel(SdistRef(**dict(good.__dict__, name="otherpkg")), interp, Sources(index_url=index.url), layout)
    with pytest.raises(IntegrityError, match="not a sha256"):
        built_wheel(SdistRef(**dict(good.__dict__, sha256="../../etc")), interp, Sources(), layout)


def test_allow_build_false_refuses_naming_package_and_switch_even_when_stored(house, index, layout, interp, tmp_path):
    sd = tiny(house, tmp_path, index)
    with pytest.raises(UserError) as info:
        built_wheel(sd, interp, Sources(index_url=index.url), layout, allow_build=False)
    text = str(info.value)
    assert info.value.exit_code == 2
    for word in ("tinypkg 1.0", "--only-binary", "VPYTHON_ONLY_BINARY", "only-binary", sd.filename):
        assert word in text
    assert index.served_files() == [] and entries(layout) == []
    built_wheel(sd, interp, Sources(index_url=index.url), layout)
    with pytest.raises(UserError, match="building from source is turned off"):
        built_wheel(sd, interp, Sources(index_url=index.url), layout, allow_build=False)


# --------------------------------------------------------------------------- isolation


def test_nothing_written_outside_the_root_and_no_credentials_on_argv(house, layout, interp, tmp_path, monkeypatch):
    needs_setuptools(house)
    watched = tmp_path / "watched"
    (watched / "home").mkdir(parents=True)
    (watched / "tmp").mkdir()
    monkeypatch.setenv("HOME", str(watched / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(watched / "home" / ".cache"))
    monkeypatch.setenv("TMPDIR", str(watched / "tmp"))
    monkeypatch.delenv("UV_CACHE_DIR", raising=False)
    with serve_index(house, auth=("builder", "s3cret-token")) as idx:
        sources = Sources(index_url=idx.auth_url)
        sd = tiny(house, tmp_path, idx, touch_home=True)
        w = built_wheel(sd, interp, sources, layout)
        path = make_sdist(
            house, "stiso", "1.0", pyproject=setuptools_pyproject(),
            setup_py="from setuptools import setup\nsetup(name='stiso', version='1.0', py_modules=['stiso'])\n",
            files={"stiso.py": ""},
        )
        built_wheel(ref(path, "stiso", "1.0", idx), interp, sources, layout)
        assert "/files/tinybackend-1.0-py3-none-any.whl" in " ".join(idx.requests)
    assert [str(p) for p in watched.rglob("*") if p.is_file()] == []
    build_log = Path(w.path).with_name("build.log").read_text()
    assert build_log.startswith("$ ") and "s3cret-token" not in build_log
    assert "s3cret-token" not in Path(w.path).with_name("build.json").read_text()


def test_wheel_problem_names_what_is_wrong(tmp_path, interp):
    tags = _tags(interp)
    good = make_wheel(tmp_path / "good", "okpkg", "1.0")
    assert wheel_problem(str(good), "okpkg", "1.0", tags) is None
    assert "not of okpkg 2.0" in wheel_problem(str(good), "okpkg", "2.0", tags)
    alien = make_wheel(tmp_path / "alien", "okpkg", "1.0", tag="cp27-cp27mu-win32")
    assert "none of which" in wheel_problem(str(alien), "okpkg", "1.0", tags)
    broken = tmp_path / "broken" / "okpkg-1.0-py3-none-any.whl"
    broken.parent.mkdir()
    broken.write_bytes(good.read_bytes()[:-40])
    assert "not a readable zip" in wheel_problem(str(broken), "okpkg", "1.0", tags)
    nowheel = tmp_path / "nowheel" / "okpkg-1.0-py3-none-any.whl"
    nowheel.parent.mkdir()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(nowheel, "w") as dst:
        for item in src.infolist():
            if not item.filename.endswith("/WHEEL"):
                dst.writestr(item, src.read(item))
    assert "no WHEEL" in wheel_problem(str(nowheel), "okpkg", "1.0", tags)


def _other_interpreter(interp, layout):
    from vpython.interpreters.discover import find_interpreters

    for other in find_interpreters(layout.interpreters):
        if tuple(other.version[:2]) != tuple(interp.version[:2]) and tuple(other.version[:2]) >= (3, 6):
            return other
    pytest.skip("needs a second CPython 3.6+ of another minor version")


def test_one_entry_per_interpreter_abi(house, index, layout, interp, tmp_path):
    # tinybackend and its wheel carry no Requires-Python: the same index serves any 3.x.
    other = _other_interpreter(interp, layout)
    counter = tmp_path / "counter"
    sd = tiny(house, tmp_path, index, counter=str(counter))
    sources = Sources(index_url=index.url)
    here, there = built_wheel(sd, interp, sources, layout), built_wheel(sd, other, sources, layout)
    assert here.built and there.built and here.key != there.key
    assert there.key.startswith(f"cp{other.version[0]}{other.version[1]}")
    assert entries(layout) == sorted([here.key, there.key])
    assert json.loads(Path(there.path).with_name("build.json").read_text())["interpreter"]["version"] == (
        other.version_string
    )
    assert len(lines(counter)) == 2
    assert not built_wheel(sd, other, sources, layout).built


def test_source_options_keep_credentials_off_argv():
    from vpython.store.sdist_uv import source_options

    argv, env = source_options(
        Sources(
            index_url="https://u:tok@private.example/simple",
            extra_index_urls=("https://mirror.example/simple", "https://v:tok2@other.example/simple"),
            find_links=("/srv/wheels", "/srv/more"),
            offline=True,
            exclude_newer="2024-01-01T00:00:00Z",
        )
    )
    assert "tok" not in " ".join(argv)
    assert env == {
        "UV_INDEX_URL": "https://u:tok@private.example/simple",
        "UV_EXTRA_INDEX_URL": "https://mirror.example/simple https://v:tok2@other.example/simple",
    }
    assert argv == ["--find-links", "/srv/wheels", "--find-links", "/srv/more", "--offline",
                    "--exclude-newer", "2024-01-01T00:00:00Z"]
    argv, env = source_options(Sources(index_url="", find_links=("https://w:t@host/links/",)))
    assert argv == ["--no-index"] and env == {"UV_FIND_LINKS": "https://w:t@host/links/"}


@pytest.mark.parametrize(
    ("log_line", "fix"),
    [
        ("src/x.c:1:10: fatal error: Python.h: No such file or directory", "Python development headers"),
        ("error: command 'gcc' failed: No such file or directory", "install a C compiler"),
        ("unable to execute 'x86_64-linux-gnu-gcc': No such file or directory", "install a C compiler"),
        ("src/_yaml.c:4:10: fatal error: yaml.h: No such file or directory", "provides the C header yaml.h"),
        ("error: can't find Rust compiler", "install a Rust toolchain"),
        ("  cause: Failed to resolve requirements from `build-system.requires`", "could not be installed"),
        ("error: something else entirely", ""),
    ],
)
def test_failure_hint_names_the_fix_the_log_points_at(interp, log_line, fix):
    from vpython.store.sdist_errors import failure_hint

    hint = failure_hint("noise\n" + log_line + "\nmore noise\n", "psutil", "5.7.2", interp, offline=False)
    assert fix in hint
    assert hint.endswith("supply it with --find-links / VPYTHON_FIND_LINKS") and "pin a version of psutil" in hint
    if not fix:
        assert hint.startswith("pin a version")
