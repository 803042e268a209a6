"""The test infrastructure itself: wheels are valid, hostile wheels are hostile, the index works."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import stat
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.support import (
    EVIL_KINDS,
    ZIP_BOMB_SIZE,
    build_wheelhouse,
    make_evil_wheel,
    make_wheel,
    make_wheel_variants,
    read_record,
    record_hash,
    serve_index,
    sha256_file,
    uv_binary,
)

try:
    import tomllib
except ImportError:  # pragma: no cover - 3.9/3.10
    import tomli as tomllib  # type: ignore[no-redef]


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / (name + (".exe" if os.name == "nt" else ""))


@pytest.fixture
def bare_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv


def _pip_install(venv: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(_venv_python(venv)), "install", "--no-cache-dir", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


# --------------------------------------------------------------------------- good wheels

def test_wheel_layout_and_metadata(tmp_path):
    whl = make_wheel(tmp_path, "Tiny.Thing", "1.0.0", requires=["tinydep>=1", "extra-dep; python_version<'3'"],
                     requires_python=">=3.8", entry_points={"console_scripts": {"tt": "tiny_thing:main"}})
    assert whl.name == "tiny_thing-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(whl) as zf:
        names = zf.namelist()
        assert names[-1] == "tiny_thing-1.0.0.dist-info/RECORD"
        assert names[0] == "tiny_thing/__init__.py"
        meta = zf.read("tiny_thing-1.0.0.dist-info/METADATA").decode()
        wheel = zf.read("tiny_thing-1.0.0.dist-info/WHEEL").decode()
        eps = zf.read("tiny_thing-1.0.0.dist-info/entry_points.txt").decode()
        init = zf.read("tiny_thing/__init__.py").decode()
        assert {zi.date_time for zi in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert "Metadata-Version: 2.1\nName: Tiny.Thing\nVersion: 1.0.0\n" in meta
    assert "Requires-Dist: tinydep>=1\n" in meta and "Requires-Python: >=3.8\n" in meta
    assert "Root-Is-Purelib: true" in wheel and "Tag: py3-none-any" in wheel
    assert "[console_scripts]\ntt = tiny_thing:main\n" in eps
    assert '__version__ = "1.0.0"' in init and "def hello():" in init
    # RECORD: every other entry with the right hash and size.
    with zipfile.ZipFile(whl) as zf:
        for path, digest, size in read_record(whl):
            if path.endswith("/RECORD"):
                assert (digest, size) == ("", "")
                continue
            body = zf.read(path)
            assert digest == record_hash(body) and size == str(len(body))
            assert "=" not in digest[len("sha256="):]


def test_wheels_are_deterministic(tmp_path):
    kw = dict(requires=["a", "b"], data={"scripts": {"s": "#!python\n"}}, entry_points={"x": {"b": "m:b", "a": "m:a"}})
    a = make_wheel(tmp_path / "a", "pkg", "2.0", **kw)
    b = make_wheel(tmp_path / "b", "pkg", "2.0", **kw)
    assert a.read_bytes() == b.read_bytes()


def test_compound_platform_tag_and_variants(tmp_path):
    tag = "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"
    whl = make_wheel(tmp_path, "native", "1.0", tag=tag)
    assert whl.name == f"native-1.0-{tag}.whl"
    with zipfile.ZipFile(whl) as zf:
        wheel = zf.read("native-1.0.dist-info/WHEEL").decode()
    assert "Root-Is-Purelib: false" in wheel
    assert "Tag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\n" in wheel
    paths = make_wheel_variants(tmp_path, "native", "1.0",
                                ["cp311-cp311-win_amd64", "cp311-cp311-macosx_11_0_arm64", tag])
    assert [p.name for p in paths] == ["native-1.0-cp311-cp311-win_amd64.whl",
                                       "native-1.0-cp311-cp311-macosx_11_0_arm64.whl", whl.name]


def test_wheels_install_with_pip_and_import(tmp_path, bare_venv):
    from packaging.tags import sys_tags

    wh = build_wheelhouse(tmp_path / "wh")
    native_tag = str(next(iter(sys_tags())))
    make_wheel(wh, "nativepkg", "3.0", tag=native_tag,
               data={"scripts": {"native-script": "#!python\nprint('from data scripts')\n"},
                     "data": {"share/nativepkg/readme.txt": b"hello data"}})
    proc = _pip_install(bare_venv, "--no-index", "--find-links", str(wh), "tinyapp", "tinycli", "tinydep==1.0",
                        "nativepkg")
    assert proc.returncode == 0, proc.stdout
    out = subprocess.run(
        [str(_venv_python(bare_venv)), "-c",
         "import tinyapp, tinydep, nativepkg; print(tinyapp.hello(), tinydep.__version__, nativepkg.hello())"],
        capture_output=True, text=True, check=True).stdout
    assert out.strip() == "tinyapp 1.0 1.0 nativepkg 3.0"
    assert subprocess.run([str(_bin(bare_venv, "tinycli"))], capture_output=True, text=True,
                          check=True).stdout.strip() == "tinycli 1.0"
    assert subprocess.run([str(_venv_python(bare_venv)), str(_bin(bare_venv, "native-script"))],
                          capture_output=True, text=True, check=True).stdout.strip() == "from data scripts"
    assert (bare_venv / "share/nativepkg/readme.txt").read_bytes() == b"hello data"


def test_installer_validates_good_wheels(tmp_path):
    pytest.importorskip("installer")
    from installer.sources import WheelFile

    wheels = [
        *build_wheelhouse(tmp_path / "wh").iterdir(),
        make_wheel(tmp_path, "withdata", "1.0", data={"scripts": {"x": "#!python\n"}, "data": {"d/f": b"\0\1"}}),
        make_wheel(tmp_path, "native", "1.0", tag="cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"),
        make_wheel(tmp_path, "custom", "1.0", files={"custom.py": "X = 1\n", "custom_pkg/a b,c.txt": b"odd name"}),
    ]
    for whl in wheels:
        with WheelFile.open(whl) as source:
            source.validate_record()


def test_corrupt_record_and_extra_lines_fail_validation(tmp_path):
    pytest.importorskip("installer")
    from installer.sources import WheelFile, _WheelFileValidationError

    bad = make_wheel(tmp_path / "a", "bad", "1.0", corrupt_record=True)
    extra = make_wheel(tmp_path / "b", "bad", "1.0", extra_record_lines=["bad/missing.py,sha256=AAAA,4"])
    assert "bad/missing.py" in [r[0] for r in read_record(extra)]
    with WheelFile.open(bad) as source, pytest.raises(_WheelFileValidationError):
        source.validate_record()
    # a RECORD line for a file that is not in the archive is still a well-formed RECORD
    with WheelFile.open(extra) as source:
        source.validate_record()


# --------------------------------------------------------------------------- hostile wheels

def _member(whl: Path, suffix: str) -> zipfile.ZipInfo:
    with zipfile.ZipFile(whl) as zf:
        return next(zi for zi in zf.infolist() if zi.filename.endswith(suffix))


@pytest.mark.parametrize("kind,name", [("dotdot", "../evil.py"), ("absolute", "/tmp/evil.py")])
def test_evil_paths(tmp_path, kind, name):
    whl = make_evil_wheel(tmp_path, kind)
    with zipfile.ZipFile(whl) as zf:
        assert name in zf.namelist()
        body = zf.read(name)
    # listed in RECORD with its true hash: only path validation can catch it
    assert [name, record_hash(body), str(len(body))] in read_record(whl)


def test_evil_record_lies(tmp_path):
    from installer.sources import WheelFile, _WheelFileValidationError

    whl = make_evil_wheel(tmp_path, "record_lies")
    rows = {r[0]: r for r in read_record(whl)}
    with zipfile.ZipFile(whl) as zf:
        body = zf.read("evil_record_lies/__init__.py")
    _, digest, size = rows["evil_record_lies/__init__.py"]
    assert size == str(len(body)) and digest != record_hash(body)
    with WheelFile.open(whl) as source, pytest.raises(_WheelFileValidationError, match="__init__.py"):
        source.validate_record()


def test_evil_symlink(tmp_path):
    whl = make_evil_wheel(tmp_path, "symlink_escape")
    zi = _member(whl, "/passwd")
    assert zi.create_system == 3 and stat.S_ISLNK(zi.external_attr >> 16)
    with zipfile.ZipFile(whl) as zf:
        assert zf.read(zi) == b"/etc/passwd"


def test_evil_zip_bomb_is_small_but_inflates_past_1gib(tmp_path):
    whl = make_evil_wheel(tmp_path, "zip_bomb")
    assert whl.stat().st_size < 2 * 1024 * 1024
    zi = _member(whl, "/bomb.bin")
    assert zi.file_size == ZIP_BOMB_SIZE > 1 << 30 and zi.compress_size < 2 * 1024 * 1024
    total, h = 0, hashlib.sha256()
    with zipfile.ZipFile(whl) as zf, zf.open(zi) as f:  # zipfile checks the CRC at EOF
        for block in iter(lambda: f.read(1 << 22), b""):
            total += len(block)
            h.update(block)
    assert total == ZIP_BOMB_SIZE
    digest = "sha256=" + base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode()
    assert ["evil_zip_bomb/bomb.bin", digest, str(ZIP_BOMB_SIZE)] in read_record(whl)


def test_evil_kinds_are_otherwise_valid_wheels(tmp_path):
    for kind in EVIL_KINDS:
        whl = make_evil_wheel(tmp_path, kind)
        with zipfile.ZipFile(whl) as zf:
            assert zf.namelist()[-1].endswith(".dist-info/RECORD")
            assert any(n.endswith(".dist-info/WHEEL") for n in zf.namelist())
    with pytest.raises(ValueError):
        make_evil_wheel(tmp_path, "nope")


# --------------------------------------------------------------------------- index

def _get(url: str, accept: str | None = None, auth: tuple | None = None):
    req = urllib.request.Request(url)
    if accept:
        req.add_header("Accept", accept)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, resp.headers.get("Content-Type"), resp.read()


def test_index_html_json_and_files(tmp_path, wheelhouse):
    make_wheel(wheelhouse, "Needs_Py", "2.0", requires_python=">=3.8,<4")
    with serve_index(wheelhouse) as idx:
        assert idx.url == f"http://127.0.0.1:{idx.port}/simple/"
        _, ctype, body = _get(idx.url)
        assert ctype.startswith("text/html")
        for name in ("tinyapp", "tinydep", "tinycli", "needs-py"):
            assert f'href="{name}/"' in body.decode()
        _, _, page = _get(idx.url + "tinydep/")
        for v in ("1.0", "1.1"):
            fn = f"tinydep-{v}-py3-none-any.whl"
            assert f'href="../../files/{fn}#sha256={sha256_file(wheelhouse / fn)}"' in page.decode()
        _, _, page = _get(idx.url + "needs-py/")
        assert 'data-requires-python="&gt;=3.8,&lt;4"' in page.decode()
        # PEP 691 JSON
        _, ctype, body = _get(idx.url + "needs-py/", accept="application/vnd.pypi.simple.v1+json")
        assert ctype == "application/vnd.pypi.simple.v1+json"
        doc = json.loads(body)
        assert doc["name"] == "needs-py" and doc["meta"]["api-version"].startswith("1.")
        (f,) = doc["files"]
        assert f["filename"] == "needs_py-2.0-py3-none-any.whl" and f["requires-python"] == ">=3.8,<4"
        assert f["hashes"]["sha256"] == sha256_file(wheelhouse / f["filename"])
        _, _, body = _get(idx.url, accept="application/vnd.pypi.simple.v1+json, text/html;q=0.1")
        assert {"name": "tinyapp"} in json.loads(body)["projects"]
        # html preferred when asked
        _, ctype, _ = _get(idx.url, accept="text/html, application/vnd.pypi.simple.v1+json;q=0.5")
        assert ctype.startswith("text/html")
        # non-normalized names redirect; urllib follows
        status, _, page = _get(idx.url + "TinyDep")
        assert status == 200 and b"tinydep-1.1" in page
        # the files and their PEP 658 metadata
        _, _, data = _get(idx.base_url + "files/tinyapp-1.0-py3-none-any.whl")
        assert data == (wheelhouse / "tinyapp-1.0-py3-none-any.whl").read_bytes()
        _, _, meta = _get(idx.base_url + "files/tinyapp-1.0-py3-none-any.whl.metadata")
        assert b"Requires-Dist: tinydep>=1" in meta
        with pytest.raises(urllib.error.HTTPError) as e:
            _get(idx.url + "nosuch/")
        assert e.value.code == 404
        # wheels added while running show up
        make_wheel(wheelhouse, "late", "1.0")
        _get(idx.url + "late/")
        assert "/simple/tinydep/" in idx.requests and "/files/tinyapp-1.0-py3-none-any.whl" in idx.requests
        assert idx.served_files() == ["tinyapp-1.0-py3-none-any.whl"]
    # stopped: nothing listens any more
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", idx.port), timeout=1).close()


def test_index_auth_and_failures(wheelhouse):
    with serve_index(wheelhouse, auth=("user", "s3cret")) as idx:
        with pytest.raises(urllib.error.HTTPError) as e:
            _get(idx.url)
        assert e.value.code == 401 and "Basic" in e.value.headers["WWW-Authenticate"]
        with pytest.raises(urllib.error.HTTPError):
            _get(idx.url, auth=("user", "wrong"))
        assert _get(idx.url + "tinyapp/", auth=("user", "s3cret"))[0] == 200
        assert idx.auth_url == f"http://user:s3cret@127.0.0.1:{idx.port}/simple/"
    with serve_index(wheelhouse, fail_files=True) as idx:
        assert _get(idx.url + "tinyapp/")[0] == 200
        with pytest.raises(urllib.error.HTTPError) as e:
            _get(idx.base_url + "files/tinyapp-1.0-py3-none-any.whl")
        assert e.value.code == 503
        idx.fail_files = False
        assert _get(idx.base_url + "files/tinyapp-1.0-py3-none-any.whl")[0] == 200
    idx.stop()  # idempotent


def test_pip_installs_from_local_index(local_index, bare_venv):
    proc = _pip_install(bare_venv, "--index-url", local_index.url, "tinyapp")
    assert proc.returncode == 0, proc.stdout
    assert "/files/tinydep-1.1-py3-none-any.whl" in local_index.requests


needs_uv = pytest.mark.skipif(uv_binary() is None, reason="needs the uv binary")


def _uv_compile(tmp_path: Path, index_url: str, *reqs: str) -> dict:
    req = tmp_path / "requirements.in"
    req.write_text("".join(r + "\n" for r in reqs))
    out = tmp_path / "pylock.toml"
    proc = subprocess.run(
        [uv_binary(), "pip", "compile", str(req), "--index-url", index_url, "--format", "pylock.toml",
         "-o", str(out), "--python", sys.executable, "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout
    return tomllib.loads(out.read_text())


@needs_uv
def test_uv_resolves_against_local_index(tmp_path, local_index, wheelhouse):
    lock = _uv_compile(tmp_path, local_index.url, "tinyapp", "tinycli")
    got = {p["name"]: p for p in lock["packages"]}
    assert sorted(got) == ["tinyapp", "tinycli", "tinydep"] and got["tinydep"]["version"] == "1.1"
    for pkg in got.values():
        (wheel,) = pkg["wheels"]
        fn = wheel["url"].rsplit("/", 1)[1]
        assert wheel["url"] == local_index.file_url(fn)
        assert wheel["hashes"]["sha256"] == sha256_file(wheelhouse / fn)
    assert os.environ["UV_CACHE_DIR"] and "PIP_FIND_LINKS" not in os.environ


@needs_uv
def test_uv_resolves_with_basic_auth(tmp_path, wheelhouse):
    with serve_index(wheelhouse, auth=("user", "pa:ss")) as idx:
        lock = _uv_compile(tmp_path, f"http://user:pa%3Ass@127.0.0.1:{idx.port}/simple/", "tinyapp==1.0")
        assert {p["name"] for p in lock["packages"]} == {"tinyapp", "tinydep"}
        assert ("GET", "/simple/tinyapp/", 200) in idx.log
        assert "pa:ss" not in json.dumps(lock) and "pa%3Ass" not in json.dumps(lock)


def test_isolated_env_strips_machine_settings():
    # Only the seeding switch (tiny test indexes serve no pip/setuptools/wheel).
    assert {k: v for k, v in os.environ.items() if k.startswith("VPYTHON_")} == {"VPYTHON_SEEDS": "0"}
    assert os.environ["PIP_CONFIG_FILE"] == os.devnull and os.environ["UV_NO_CONFIG"] == "1"
    assert {k for k in os.environ if k.startswith("UV_")} == {"UV_CACHE_DIR", "UV_NO_CONFIG", "UV_PYTHON_DOWNLOADS"}


def test_vpython_root_fixture(vpython_root):
    assert os.environ["VPYTHON_VIRTUALENV_ROOT"] == str(vpython_root) and vpython_root.is_dir()
