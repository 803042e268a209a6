"""Run the real Bazel (Debian's 4.2.3, offline) on a copy of examples/bazel.

What a test gets (see conftest.py):

* a copy of the checkout's Bazel-relevant parts (rules/, toolchains/, tools/bazel/,
  vpython/, pyproject.toml, MODULE.bazel, examples/bazel/) in a temporary directory, so
  the example's `new_local_repository(path = "../..")` still points at "the checkout" and
  the whole tree can be copied again to a second path;
* the example's pylock.vpython.toml rewritten to point at tiny stand-in wheels (same
  file names, hence same platform tags; see `make_stand_in_wheels`) served from
  127.0.0.1 by tests.support.serve_index: nothing touches PyPI;
* the vpython tool's own lock (toolchains/tool/pylock.vpython.json) rewritten the same way:
  the wheels the test's Python selects on this platform are repacked from the installed
  distributions of the Python running the tests (the real protobuf, pex, uv, ...: what
  `pip install` of the project put there; see `make_tool_wheels`), every other platform's
  are stand-ins;
* the toolchain pointed at a `python -m venv --without-pip` interpreter (an empty
  site-packages), with the host Python's site-packages and ~/.cache blocked in the sandbox;
* .bazelrc.offline written by tools/bazel/write_offline_bazelrc.sh (the offline stand-in
  repositories, a shared repository cache and a disk cache);
* `Workspace.bazel(...)`: one Bazel server per output base, shut down at teardown.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = "examples/bazel"
LOCK_NAME = "pylock.vpython.toml"
COPY_ITEMS = ("rules", "toolchains", "tools/bazel", "vpython", "pyproject.toml", "MODULE.bazel", EXAMPLE)
# Test-only packages added to the copy of the example: {source in the checkout: package}.
EXTRA_PACKAGES = {"tests/bazel/example_attrs": "attrs"}
# Lockfiles of the copy whose wheel URLs (and hashes) the tests point at the stand-ins.
LOCKS = (LOCK_NAME, "attrs/pylock.six_only.toml")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "bazel-*", ".bazelrc.offline")

# Bazel 4.2.3 says "remote cache hit" for disk-cache hits too; newer Bazel "disk cache hit".
CACHE_HIT_RUNNERS = ("remote cache hit", "disk cache hit")


def bazel_binary() -> str | None:
    return shutil.which("bazel")


def copy_checkout(dest: Path) -> Path:
    """Copy the parts of the checkout a Bazel build of the example reads, plus the
    test-only packages (EXTRA_PACKAGES); returns the example dir."""
    for item in COPY_ITEMS:
        src = REPO / item
        dst = dest / item
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=IGNORE, symlinks=True)
        else:
            shutil.copy2(src, dst)
    for src, package in EXTRA_PACKAGES.items():
        shutil.copytree(REPO / src, dest / EXAMPLE / package, ignore=IGNORE, symlinks=True)
    return dest / EXAMPLE


def copy_tree(src_root: Path, dest_root: Path) -> Path:
    """Copy an already prepared checkout copy (with its rewritten lock) to another path."""
    shutil.copytree(src_root, dest_root, ignore=IGNORE, symlinks=True)
    return dest_root / EXAMPLE


# --------------------------------------------------------------------------- wheels + lock

def read_lock(path: Path) -> dict:
    try:
        import tomllib
    except ImportError:  # pragma: no cover - 3.9/3.10
        import tomli as tomllib
    with open(path, "rb") as f:
        return tomllib.load(f)


def _stand_in_files(name: str, version: str, tag: str) -> dict:
    if name == "markupsafe":
        return {"markupsafe/__init__.py": (
            '"""Stand-in for MarkupSafe in the Bazel tests (same wheel file names as the lock)."""\n'
            "import html\n\n"
            f"__platform_tag__ = {tag!r}\n\n\n"
            "def escape(s):\n    return html.escape(str(s), quote=True)\n"
        )}
    if name == "six":
        return {"six.py": f'"""Stand-in for six in the Bazel tests."""\n__version__ = {version!r}\n'}
    module = re.sub(r"[-_.]+", "_", name).lower()
    return {f"{module}/__init__.py": f"__version__ = {version!r}\n"}


def make_stand_in_wheels(lock: dict, out_dir: Path) -> dict:
    """One tiny wheel per wheel of the lock, with exactly the same file name.

    Returns {filename: path}.
    """
    sys.path.insert(0, str(REPO))
    try:
        from tests.support import make_wheel
    finally:
        sys.path.remove(str(REPO))
    made = {}
    for pkg in lock["packages"]:
        for wheel in pkg.get("wheels", []):
            filename = wheel["name"]
            stem = filename[: -len(".whl")].split("-")
            tag = "-".join(stem[-3:])
            path = make_wheel(out_dir, pkg["name"], pkg["version"], tag=tag,
                              files=_stand_in_files(pkg["name"], pkg["version"], stem[-1]))
            assert path.name == filename, (path.name, filename)
            made[filename] = path
    return made


def rewrite_lock(lock_path: Path, urls: dict, wheels: dict | None = None) -> None:
    """Point every wheel of the lockfile at urls[filename] (and, if given, the sha256 and
    size of wheels[filename]), editing lines in place so everything else (spec-hash,
    targets, formatting) stays byte-identical."""
    out, current = [], None
    for line in lock_path.read_text(encoding="utf-8").splitlines(keepends=True):
        m = re.match(r'name = "(.+\.whl)"\s*$', line)
        if m:
            current = m.group(1)
        elif current and line.startswith("url = "):
            line = f'url = "{urls[current]}"\n'
        elif current and wheels and line.startswith("size = "):
            line = f"size = {wheels[current].stat().st_size}\n"
        elif current and wheels and line.startswith("sha256 = "):
            line = f'sha256 = "{hashlib.sha256(wheels[current].read_bytes()).hexdigest()}"\n'
            current = None
        out.append(line)
    lock_path.write_text("".join(out), encoding="utf-8")


# --------------------------------------------------------------------------- Bazel

class BazelError(AssertionError):
    pass


class Workspace:
    """A workspace directory plus the output base its Bazel server uses."""

    def __init__(self, directory: Path, output_base: Path, env: dict):
        self.dir = directory
        self.output_base = output_base
        self.env = env
        self.log: list = []  # (command, seconds)

    def bazel(self, *args: str, check: bool = True, timeout: float = 900, env: dict | None = None) -> subprocess.CompletedProcess:
        cmd = [bazel_binary(), f"--output_base={self.output_base}", *args]
        start = time.monotonic()
        proc = subprocess.run(cmd, cwd=self.dir, env=env or self.env, capture_output=True, text=True, timeout=timeout)
        self.log.append((" ".join(args), round(time.monotonic() - start, 2)))
        if check and proc.returncode != 0:
            raise BazelError(
                f"bazel {' '.join(args)} exited {proc.returncode} in {self.dir}\n"
                f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-8000:]}"
            )
        return proc

    def bin(self) -> Path:
        return self.dir / "bazel-bin"

    def shutdown(self) -> None:
        if bazel_binary() and self.output_base.exists():
            subprocess.run([bazel_binary(), f"--output_base={self.output_base}", "shutdown"],
                           cwd=self.dir, env=self.env, capture_output=True, timeout=120)


def bazel_env(python: str) -> dict:
    """The client environment: no PIP_/UV_/VPYTHON_ settings from the machine, and the
    Python that runs the vpython tool named explicitly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VPYTHON_"))}
    env.pop("PYTHONPATH", None)
    env["VPYTHON_BAZEL_PYTHON"] = python
    return env


def write_bazelrc(ws_dir: Path, repository_cache: Path, disk_cache: Path | None, blocked: list = ()) -> None:
    cmd = [str(REPO / "tools" / "bazel" / "write_offline_bazelrc.sh"), str(ws_dir),
           "--repository-cache", str(repository_cache)]
    if disk_cache is not None:
        cmd += ["--disk-cache", str(disk_cache)]
    subprocess.run(cmd, check=True, capture_output=True)
    with open(ws_dir / ".bazelrc.offline", "a") as f:
        f.write("build --color=no --curses=no --noshow_progress\n")
        # 2 cores on CI: keep Bazel from oversubscribing them.
        f.write("build --jobs=4 --local_cpu_resources=2\n")
        for path in blocked:
            f.write(f"build --sandbox_block_path={path}\n")


def parse_execution_log(path: Path) -> list:
    """Bazel 4.2.3's --execution_log_json_file is a stream of JSON objects, not a list."""
    text = path.read_text()
    decoder, i, out = json.JSONDecoder(), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        obj, i = decoder.raw_decode(text, i)
        out.append(obj)


def spawns(log: list, mnemonic: str = "VpythonBuild") -> list:
    return [s for s in log if s.get("mnemonic") == mnemonic]


def tree_digest(paths) -> dict:
    """{relative path: sha256 or 'link:<target>'} of every file under the given paths."""
    out = {}
    for root in paths:
        root = Path(root)
        base = root.parent
        entries = [root] if not root.is_dir() else sorted(p for p in root.rglob("*"))
        for p in entries:
            rel = str(p.relative_to(base))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def python_for_tool() -> str:
    """The real interpreter binary of the Python running the tests (the base of the
    toolchain's `venv --without-pip` interpreter)."""
    return os.path.realpath(sys.executable)


def make_bare_interpreter(dest: Path) -> str:
    """`python -m venv --without-pip`: the test's Python with an empty site-packages."""
    subprocess.run([python_for_tool(), "-m", "venv", "--without-pip", str(dest)], check=True, capture_output=True)
    python = dest / "bin" / "python3"
    probe = subprocess.run([str(python), "-c", "import packaging"], capture_output=True, text=True)
    assert probe.returncode != 0, "the bare interpreter can import packaging"
    return str(python)


def host_site_dirs() -> list:
    """Where the test's Python (and its base, if it is a venv) finds installed packages:
    what the sandbox blocks, so that no action can use them."""
    import site
    import sysconfig

    found = []
    for prefix in dict.fromkeys([sys.prefix, sys.base_prefix]):
        paths = sysconfig.get_paths(vars={"base": prefix, "platbase": prefix})
        found += [paths["purelib"], paths["platlib"]]
    found.append(site.getusersitepackages())
    return [p for p in dict.fromkeys(found) if os.path.isdir(p)]


# --------------------------------------------------------------------------- the tool's lock

TOOL_LOCK_JSON = Path("toolchains") / "tool" / "pylock.vpython.json"


def host_tool_target(version: tuple = sys.version_info[:2]) -> str:
    """The tool lock's target for this machine and the test's Python."""
    import platform

    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())
    return f"cp{version[0]}{version[1]}-cp{version[0]}{version[1]}-manylinux_2_28_{arch}"


def _compressed_tags(wheel_text: str) -> str:
    tags = [line.split(":", 1)[1].strip() for line in wheel_text.splitlines() if line.startswith("Tag:")]
    parts = [list(dict.fromkeys(t.split("-")[i] for t in tags)) for i in range(3)]
    return "-".join(".".join(p) for p in parts)


def repack_installed(project: str, out_dir: Path) -> Path:
    """A wheel of an installed distribution of the Python running the tests: its RECORD's
    files (no bytecode), its binaries from bin/ (uv's) under `<name>-<version>.data/scripts`
    (pip's generated entry-point scripts are left out: a wheel has entry_points.txt
    instead), and its WHEEL tags in the file name."""
    import base64
    import importlib.metadata
    import zipfile

    dist = importlib.metadata.distribution(project)
    info_dir = next(str(f).split("/")[0] for f in dist.files if str(f).endswith(".dist-info/METADATA"))
    stem = info_dir[: -len(".dist-info")]  # <escaped name>-<version>
    filename = f"{stem}-{_compressed_tags(dist.read_text('WHEEL'))}.whl"
    entries = {}
    for f in dist.files:
        rel = str(f).replace(os.sep, "/")
        path = Path(dist.locate_file(f))
        if "__pycache__" in rel or rel.endswith((".pyc", ".dist-info/RECORD")) or not path.is_file():
            continue
        if rel.startswith("../"):
            with open(path, "rb") as fh:
                if fh.read(2) == b"#!" or "/bin/" not in rel:
                    continue
            rel = f"{stem}.data/scripts/{path.name}"
        entries[rel] = path
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / filename
    record = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zf:
        for rel in sorted(entries):
            data = entries[rel].read_bytes()
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = ((entries[rel].stat().st_mode & 0o777) | 0o100000) << 16
            zf.writestr(info, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{rel},sha256={digest},{len(data)}")
        record.append(f"{info_dir}/RECORD,,")
        zf.writestr(zipfile.ZipInfo(f"{info_dir}/RECORD", date_time=(1980, 1, 1, 0, 0, 0)), "\n".join(record) + "\n")
    return target


def _real_tomli() -> dict | None:
    """tomli's code for the stand-in tomli wheel, from pip's vendored copy (a Python older
    than 3.11 reads lockfiles with it, so it must work); None without pip."""
    try:
        import pip._vendor.tomli as vendored
    except ImportError:
        return None
    src = Path(vendored.__file__).parent
    return {f"tomli/{p.name}": p.read_text(encoding="utf-8") for p in sorted(src.glob("*.py"))}


def make_tool_wheels(doc: dict, out_dir: Path, url_for) -> tuple:
    """Wheels for a test copy of the tool lock, and the rewritten lock document.

    The wheels the test's Python selects on this machine (`host_tool_target()`) are the
    installed distributions repacked (real code: the tool must run), under their
    installed versions' file names; every other wheel is a tiny stand-in with the locked
    file name (fetched by the cross-platform tests, never run), except that tomli's holds
    pip's vendored tomli (read lockfiles with it on Python < 3.11). `url_for(filename)` gives
    the local index URL. Returns (new document, {filename: path}).
    """
    sys.path.insert(0, str(REPO))
    try:
        from tests.support import make_wheel
    finally:
        sys.path.remove(str(REPO))
    doc = json.loads(json.dumps(doc))
    lock = doc["lock"]
    selected = set(doc["targets"][host_tool_target()])
    remap, made = {}, {}
    for pkg in lock["packages"]:
        for wheel in pkg["wheels"]:
            if wheel["name"] in selected:
                path = repack_installed(pkg["name"], out_dir)
            else:
                stem = wheel["name"][: -len(".whl")].split("-")
                path = make_wheel(out_dir, pkg["name"], pkg["version"], tag="-".join(stem[-3:]),
                                  files=_real_tomli() if pkg["name"] == "tomli" else None)
                assert path.name == wheel["name"], (path.name, wheel["name"])
            remap[wheel["name"]] = path.name
            made[path.name] = path
    for pkg in lock["packages"]:
        for wheel in pkg["wheels"]:
            path = made[remap[wheel["name"]]]
            wheel.update(name=path.name, url=url_for(path.name), size=path.stat().st_size,
                         hashes={"sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
    doc["targets"] = {t: sorted(remap[f] for f in files) for t, files in doc["targets"].items()}
    return doc, made


def rewrite_tool_lock(root: Path, urls: dict | None = None, doc: dict | None = None) -> dict:
    """Write (doc) or re-point (urls: {filename: url}) the tool lock of a checkout copy."""
    path = root / TOOL_LOCK_JSON
    doc = doc if doc is not None else json.loads(path.read_text())
    if urls is not None:
        doc = json.loads(json.dumps(doc))
        for pkg in doc["lock"]["packages"]:
            for wheel in pkg["wheels"]:
                wheel["url"] = urls[wheel["name"]]
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return doc


def find_buildifier() -> str | None:
    """buildifier from $BUILDIFIER, PATH, or a global npm install of @bazel/buildifier
    (the npm package ships the binaries, so no GitHub download is involved)."""
    explicit = os.environ.get("BUILDIFIER")
    if explicit:
        return explicit
    found = shutil.which("buildifier")
    if found:
        return found
    npm = shutil.which("npm")
    if not npm:
        return None
    try:
        root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    import platform

    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    system = {"linux": "linux", "darwin": "darwin"}.get(sys.platform if sys.platform != "linux2" else "linux")
    candidate = Path(root) / "@bazel" / "buildifier" / f"buildifier-{system}_{arch}"
    return str(candidate) if candidate.is_file() else None
