"""Tiny sdists and build backends for the sdist builder's tests, all offline.

* ``make_sdist``: a deterministic ``.tar.gz`` (PKG-INFO, pyproject.toml / setup.py, files).
* ``setuptools_wheels``: setuptools from virtualenv's embedded seed wheels, so a test's
  loopback index can serve the setuptools backend without PyPI.
* ``make_backend_wheels``: ``tinybackend``, an in-test PEP 517 backend (not setuptools),
  and ``tinyhelper``, which its ``get_requires_for_build_wheel`` asks for. What a build
  does is set by a ``tinybackend.json`` in the sdist: ``counter`` (append a line per
  build), ``requires`` (the built wheel's Requires-Dist), ``started``/``release`` (create one, then wait for the other: kill tests),
  ``fail`` (print numbered lines, then fail), ``import`` (a module that must be
  importable in the build env), ``touch_home`` (write to ``~``, ``$XDG_CACHE_HOME`` and the
  temp dir, which must all be inside the vpython root), ``wheel_version`` / ``tag``
  (produce a wrong wheel).
* ``BUILDER_SCRIPT`` / ``start_builder``: another process calling ``built_wheel``.
"""

from __future__ import annotations

import glob
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Union

from .wheels import make_wheel

Content = Union[str, bytes]

_BACKEND = r'''
"""tinybackend: a PEP 517 backend for tests (see tests/support/sdists.py)."""
import base64, hashlib, json, os, sys, tempfile, time, zipfile


def _cfg():
    try:
        with open("tinybackend.json") as f:
            return json.load(f)
    except OSError:
        return {}


def _pkg_info():
    fields = {}
    with open("PKG-INFO") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields.setdefault(k.strip().lower(), v.strip())
    return fields["name"], fields["version"]


def get_requires_for_build_wheel(config_settings=None):
    return list(_cfg().get("extra_requires", []))


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    # A resolver (uv) asks for the metadata without building: builds stay countable.
    name, version = _pkg_info()
    di = "%s-%s.dist-info" % (name.replace("-", "_").lower(), version)
    os.makedirs(os.path.join(metadata_directory, di))
    requires = "".join("Requires-Dist: %s\n" % r for r in _cfg().get("requires", []))
    with open(os.path.join(metadata_directory, di, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s\n" % (name, version, requires))
    return di


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    cfg = _cfg()
    if cfg.get("counter"):
        with open(cfg["counter"], "a") as f:
            f.write("%d\n" % os.getpid())
    if cfg.get("started"):
        open(cfg["started"], "w").close()
        while not os.path.exists(cfg["release"]):
            time.sleep(0.05)
    if cfg.get("import"):
        __import__(cfg["import"])
    if cfg.get("touch_home"):
        for d in (os.path.expanduser("~"), os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                  tempfile.gettempdir()):
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "tinybackend-was-here"), "w") as f:
                f.write("x")
    if cfg.get("fail"):
        for i in range(1, 41):
            print("build line %d" % i)
        sys.stdout.flush()
        sys.stderr.write("error: tinybackend was told to fail\n")
        raise SystemExit(1)
    name, version = _pkg_info()
    version = cfg.get("wheel_version", version)
    dist = name.replace("-", "_").lower()
    tag = cfg.get("tag", "py3-none-any")
    files = {}
    for root, _, names in os.walk("src"):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, "src").replace(os.sep, "/")] = f.read()
    di = "%s-%s.dist-info" % (dist, version)
    requires = "".join("Requires-Dist: %s\n" % r for r in cfg.get("requires", []))
    files[di + "/METADATA"] = ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s\n"
                               % (name, version, requires)).encode()
    files[di + "/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: tinybackend\nRoot-Is-Purelib: true\nTag: %s\n\n"
                            % tag).encode()
    record = []
    for n, data in sorted(files.items()):
        h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (n, h, len(data)))
    record.append(di + "/RECORD,,")
    files[di + "/RECORD"] = ("\n".join(record) + "\n").encode()
    filename = "%s-%s-%s.whl" % (dist, version, tag)
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for n, data in files.items():
            zf.writestr(n, data)
    return filename
'''

BACKEND_REQUIRES = ["tinybackend"]


def make_sdist(
    out_dir: str | Path,
    name: str,
    version: str,
    *,
    files: Mapping[str, Content] | None = None,
    pyproject: str | None = None,
    setup_py: str | None = None,
    config: Mapping[str, object] | None = None,
) -> Path:
    """Write ``<name>-<version>.tar.gz`` (PEP 625 name) and return its path. ``config``
    becomes ``tinybackend.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = f"{name.replace('-', '_')}-{version}"
    members: dict = {"PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"}
    if pyproject is not None:
        members["pyproject.toml"] = pyproject
    if setup_py is not None:
        members["setup.py"] = setup_py
    if config is not None:
        members["tinybackend.json"] = json.dumps(config)
    members.update(files or {})
    path = out / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tf:
        for rel in sorted(members):
            data = members[rel].encode() if isinstance(members[rel], str) else members[rel]
            info = tarfile.TarInfo(f"{base}/{rel}")
            info.size, info.mtime, info.mode = len(data), 315532800, 0o644
            tf.addfile(info, io.BytesIO(data))
    return path


def tinybackend_pyproject() -> str:
    return '[build-system]\nrequires = ["tinybackend"]\nbuild-backend = "tinybackend"\n'


def setuptools_pyproject() -> str:
    return '[build-system]\nrequires = ["setuptools>=40.8.0"]\nbuild-backend = "setuptools.build_meta"\n'


def make_backend_wheels(out_dir: str | Path) -> list:
    """tinybackend 1.0 (the backend) and tinyhelper 1.0 (a dynamic build requirement)."""
    return [
        make_wheel(out_dir, "tinybackend", "1.0", files={"tinybackend/__init__.py": _BACKEND}),
        make_wheel(out_dir, "tinyhelper", "1.0"),
    ]


def _requires_python(wheel: str) -> str:
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        for line in zf.read(meta).decode().splitlines():
            if line.lower().startswith("requires-python:"):
                return line.split(":", 1)[1].strip()
    return ""


def setuptools_wheels(out_dir: str | Path) -> list:
    """Copy virtualenv's embedded setuptools wheel(s) usable on this Python into ``out_dir``
    ([] when virtualenv ships none)."""
    import shutil

    try:
        import virtualenv
    except ImportError:
        return []
    from packaging.specifiers import SpecifierSet

    here = ".".join(map(str, sys.version_info[:3]))
    embed = os.path.join(os.path.dirname(virtualenv.__file__), "seed", "wheels", "embed")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    copied = []
    for whl in sorted(glob.glob(os.path.join(embed, "setuptools-*.whl"))):
        if SpecifierSet(_requires_python(whl) or ">=0").contains(here):
            copied.append(Path(shutil.copy(whl, out)))
    return copied


# A process that builds one sdist: argv[1] is a JSON object (root, sdist fields, index url,
# find_links, offline, python). Prints the BuiltWheel as JSON, or the error and exits 3.
BUILDER_SCRIPT = r"""
import json, sys
from vpython import log
from vpython.errors import VPythonError
from vpython.interpreters.probe import probe
from vpython.settings.sources import Sources
from vpython.store.root import Layout
from vpython.store.sdists import SdistRef, built_wheel
a = json.loads(sys.argv[1])
log.set_level("info")
layout = Layout(a["root"])
interp = probe(a["python"], layout.interpreters)
sources = Sources(index_url=a.get("index_url", ""), find_links=tuple(a.get("find_links", ())),
                  offline=bool(a.get("offline")))
try:
    w = built_wheel(SdistRef(**a["sdist"]), interp, sources, layout)
except VPythonError as e:
    print(json.dumps({"error": str(e)}))
    sys.exit(3)
print(json.dumps({"sha256": w.sha256, "path": w.path, "built": w.built}))
"""


def start_builder(args: Mapping[str, object], stderr_path: str | Path, env: dict | None = None,
                  repo: str | None = None) -> subprocess.Popen:
    """Run ``BUILDER_SCRIPT`` in a new process (stdout piped, stderr to ``stderr_path``)."""
    repo = repo or str(Path(__file__).resolve().parents[2])
    child_env = dict(os.environ if env is None else env)
    child_env["PYTHONPATH"] = repo + os.pathsep + child_env.get("PYTHONPATH", "")
    with open(stderr_path, "wb") as err:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-c", BUILDER_SCRIPT, json.dumps(args)], env=child_env,
                                stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)
