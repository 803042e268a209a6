"""A relocatable, byte-reproducible PEP 405 venv tree for one target platform.

Layout (POSIX targets; Windows targets use ``Lib/site-packages`` and ``Scripts``)::

    pyvenv.cfg                         no ``home`` key: see below
    bin/python                         bash shim (launcher.PYTHON_SHIM)
    bin/python3, bin/pythonX.Y         relative symlinks to python
    bin/<console scripts>              sh/Python polyglot launchers, no absolute shebang
    bin/<entry>                        launcher for --main / --entry-point
    app/<main script>                  the --main script, copied
    lib/pythonX.Y/site-packages/...    wheels installed by ``installer`` (RECORD, INSTALLER)
    vpython-artifact.json              platform, python, packages, content hash
    vpython-artifact.cdx.json          CycloneDX SBOM

``pyvenv.cfg`` has no ``home``: any value would be the builder's absolute path. CPython
then finds its standard library from its own build prefix (what it does outside venvs);
``sys.prefix`` still becomes the tree because the shim passes the tree's ``bin/python``
as ``argv[0]``. Checked with pyenv CPython 3.8-3.13 and Debian's /usr/bin/python3.11.

Wheels are unpacked with ``installer`` under the target's scheme without running the
target interpreter. Nothing here depends on the build machine: no absolute paths, sorted
RECORDs as the wheels ship them, fixed modes and mtimes (reproducible.normalize_tree),
and ``.pyc`` files only with ``compile_with`` (unchecked-hash pycs, one process,
PYTHONHASHSEED=0, ``ddir`` fixed so no build path is embedded).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile

from vpython.artifacts import launcher
from vpython.errors import IntegrityError, UserError

META_NAME = "vpython-artifact.json"
SBOM_NAME = "vpython-artifact.cdx.json"
APP_DIR = "app"


def is_windows(target) -> bool:
    return target.platform.startswith("win")


def scheme_paths(target) -> dict:
    """Relative install paths of the target's venv scheme (sysconfig 'venv' scheme)."""
    py = f"python{target.python[0]}.{target.python[1]}"
    if is_windows(target):
        return {
            "purelib": "Lib/site-packages",
            "platlib": "Lib/site-packages",
            "scripts": "Scripts",
            "headers": "Include/site",
            "data": ".",
        }
    return {
        "purelib": f"lib/{py}/site-packages",
        "platlib": f"lib/{py}/site-packages",
        "scripts": "bin",
        "headers": f"include/site/{py}",
        "data": ".",
    }


def _destination(root: str, target, dist_name: str, shipped=frozenset()):
    """``shipped``: the wheel's own ``.data/scripts`` file names (a Windows wrapper for a
    data script is not written over one the wheel ships itself)."""
    from installer.destinations import SchemeDictionaryDestination
    from installer.utils import Scheme

    rel = scheme_paths(target)
    scheme = {k: os.path.normpath(os.path.join(root, v)) for k, v in rel.items()}
    scheme["headers"] = os.path.join(scheme["headers"], dist_name)
    windows = is_windows(target)
    version = target.python

    class Destination(SchemeDictionaryDestination):
        def write_file(self, scheme, path, stream, is_executable):
            scheme_name = scheme
            # `.data/scripts` files with a `#!python` shebang: installer would write the
            # builder's interpreter path into them. POSIX trees give them the relocatable
            # launcher head; Windows trees keep `#!python` (a comment to Python) and get
            # a `<name>.cmd` wrapper that names the interpreter, as console scripts do.
            if scheme_name == "scripts":
                data = stream.read()
                path = os.fspath(path)
                if data.startswith(b"#!python") and not windows:
                    rest = data.split(b"\n", 1)[1] if b"\n" in data else b""
                    data = launcher.polyglot_head() + rest
                    is_executable = True
                elif data.startswith(b"#!python") and "/" not in path:
                    self._windows_wrapper(path)
                return self.write_to_fs(Scheme(scheme_name), path, io.BytesIO(data), is_executable)
            return super().write_file(scheme_name, path, stream, is_executable)

        def _windows_wrapper(self, script: str) -> None:
            cmd = (script[:-3] if script.lower().endswith(".py") else script) + ".cmd"
            if cmd in shipped or os.path.lexists(os.path.join(self.scheme_dict["scripts"], cmd)):
                return
            self.extra_records.append(
                self.write_to_fs(
                    Scheme("scripts"), cmd, io.BytesIO(launcher.windows_entry(version, script)), False
                )
            )

        def write_script(self, name, module, attr, section):
            if windows:
                script = f"{name}-script.py"
                body = launcher.ENTRY_BODY.format(module=module, head=attr.split(".")[0], call=attr).encode()
                self.extra_records.append(
                    self.write_to_fs(
                        Scheme("scripts"),
                        f"{name}.cmd",
                        io.BytesIO(launcher.windows_entry(version, script)),
                        False,
                    )
                )
                return self.write_to_fs(Scheme("scripts"), script, io.BytesIO(body), False)
            return self.write_to_fs(
                Scheme("scripts"), name, io.BytesIO(launcher.entry_launcher(module, attr)), True
            )

        def finalize_installation(self, scheme, record_file_path, records):
            records = list(records)
            records[-1:-1] = [(Scheme("scripts"), r) for r in self.extra_records]  # before RECORD's own entry
            return super().finalize_installation(scheme, record_file_path, records)

    # `interpreter` is only used for `#!python` rewriting, which write_file above replaces.
    destination = Destination(scheme, interpreter="python", script_kind="posix")
    destination.extra_records = []  # files written beside the wheel's own (.cmd wrappers): in RECORD too
    return destination


class _CheckedStream:
    """A wheel member's stream that checks its RECORD hash and size when fully read.

    Saves a second decompression of every member (``validate_record`` with
    ``validate_contents`` reads the whole wheel once more): the bytes are checked on
    their way into the tree, and a mismatch aborts the build (the work dir is deleted)."""

    def __init__(self, stream, record, display: str):
        import hashlib

        self._stream, self._display = stream, display
        self._path, algo_value, size = record
        self._algo, _, self._expected = (algo_value or "").partition("=")
        self._size = int(size) if size else None
        self._hash = hashlib.new(self._algo) if self._algo else None
        self._read = 0
        self._done = False

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        if self._hash is not None:
            self._hash.update(data)
        self._read += len(data)
        if not data or n is None or n < 0:
            self._check()
        return data

    def _check(self) -> None:
        import base64

        if self._done or self._hash is None:
            return
        self._done = True
        actual = base64.urlsafe_b64encode(self._hash.digest()).decode("ascii").rstrip("=")
        if actual != self._expected or (self._size is not None and self._size != self._read):
            raise IntegrityError(
                f"{self._display}: {self._path} does not match its RECORD hash/size; the wheel is corrupt"
            )


def _checked_wheel(wheel_path: str, display: str):
    from installer.sources import WheelFile

    class CheckedWheel(WheelFile):
        def get_contents(self):
            for record, stream, is_executable in super().get_contents():
                yield record, _CheckedStream(stream, record, display), is_executable

    return CheckedWheel.open(wheel_path)


def install_wheel(root: str, target, wheel_path: str, display: str) -> None:
    from installer import install
    from installer.exceptions import InstallerError
    from installer.utils import parse_wheel_filename

    from vpython.store.packages import check_archive

    check_archive(wheel_path, display)
    dist_name = parse_wheel_filename(os.path.basename(wheel_path)).distribution
    with zipfile.ZipFile(wheel_path) as zf:
        shipped = frozenset(
            n.split("/", 2)[2]
            for n in zf.namelist()
            if n.count("/") >= 2 and n.split("/", 2)[0].endswith(".data") and n.split("/", 2)[1] == "scripts"
        )
    try:
        with _checked_wheel(wheel_path, display) as source:
            try:
                # Names and the presence of hashes here; contents while they are written.
                source.validate_record(validate_contents=False)
            except Exception as e:  # installer raises a private _WheelFileValidationError  # noqa: BLE001
                raise IntegrityError(f"{display}: RECORD does not match the archive: {e}") from None
            install(
                source,
                _destination(root, target, dist_name, shipped),
                additional_metadata={"INSTALLER": b"vpython\n"},
            )
    except IntegrityError:
        raise
    except FileExistsError as e:
        raise UserError(
            f"{display}: installs a file another locked wheel already installed ({e})",
            hint="two packages in the lock ship the same file; drop one of them",
        ) from None
    except (InstallerError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise IntegrityError(f"{display}: cannot install wheel: {e}") from None


def _member_key(name: str) -> str:
    """Where a wheel member lands, as a comparable key (``.data/<scheme>/`` kept apart)."""
    first, _, rest = name.partition("/")
    if first.endswith(".data") and rest:
        scheme, _, path = rest.partition("/")
        return f"{'lib' if scheme in ('purelib', 'platlib') else scheme}:{path}"
    return f"lib:{name}"


def check_clashes(wheels) -> None:
    """Two locked wheels that install the same file: an error naming both, before any
    is unpacked (pip would let the last one win, silently and order-dependently)."""
    owner = {}
    for artifact, path in wheels:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.endswith("/") or ".dist-info/" in name:
                    continue
                key = _member_key(name)
                other = owner.setdefault(key, artifact.filename)
                if other != artifact.filename:
                    raise UserError(
                        f"{artifact.filename} and {other} both install {key.split(':', 1)[1]}",
                        hint="two packages in the lock ship the same file; drop one of them",
                    )


def write(path: str, data: bytes, executable: bool = False) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755 if executable else 0o644)


def skeleton(root: str, target) -> None:
    version = target.python
    ver = f"{version[0]}.{version[1]}"
    write(
        os.path.join(root, "pyvenv.cfg"), f"include-system-site-packages = false\nversion = {ver}\n".encode()
    )
    paths = scheme_paths(target)
    os.makedirs(os.path.join(root, paths["purelib"]), exist_ok=True)
    bindir = os.path.join(root, paths["scripts"])
    if is_windows(target):
        write(os.path.join(bindir, "python.cmd"), launcher.windows_python(version))
        write(
            os.path.join(root, launcher.WINDOWS_BOOT_DIR, "sitecustomize.py"),
            launcher.WINDOWS_SITECUSTOMIZE.encode(),
        )
        return
    write(os.path.join(bindir, "python"), launcher.python_shim(version), executable=True)
    for alias in (f"python{version[0]}", f"python{ver}"):
        os.symlink("python", os.path.join(bindir, alias))


def add_entry(root: str, target, entry) -> str | None:
    """The launcher for --main / --entry-point; returns its path relative to the tree."""
    if entry is None:
        return None
    bindir = scheme_paths(target)["scripts"]
    name = entry.name
    windows = is_windows(target)
    if not entry.main:
        # A package's own console script for the same function (`--entry-point
        # tinycli:main` with tinycli shipping `tinycli = tinycli:main`) is that launcher.
        same = _existing_launcher(root, bindir, name, entry.module, entry.attr, windows)
        if same:
            return same
    taken = [
        f"{bindir}/{n}"
        for n in ([f"{name}.cmd", f"{name}-script.py"] if windows else [name])
        if os.path.lexists(os.path.join(root, bindir, n))
    ]
    if taken or name in ("python", "python3", f"python{target.python[0]}.{target.python[1]}"):
        what = (
            f"{taken[0]}, a launcher an installed package ships"
            if taken
            else f"{bindir}/{name}, the venv's interpreter"
        )
        target_text = (
            f"--main {os.path.basename(entry.main)}"
            if entry.main
            else f"--entry-point {entry.module}:{entry.attr}"
        )
        raise UserError(
            f"the entry launcher name {name!r} for {target_text} clashes with {what}; "
            f"pass --entry-name NAME to choose another"
        )
    if entry.main:
        rel = f"{APP_DIR}/{os.path.basename(entry.main)}"
        dst = os.path.join(root, APP_DIR, os.path.basename(entry.main))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(entry.main, dst)
        os.chmod(dst, 0o644)
        if windows:
            write(
                os.path.join(root, bindir, f"{name}.cmd"),
                launcher.windows_entry(target.python, f"..\\{APP_DIR}\\{os.path.basename(entry.main)}"),
            )
            return f"{bindir}/{name}.cmd"
        write(os.path.join(root, bindir, name), launcher.main_launcher(rel), executable=True)
        return f"{bindir}/{name}"
    module, attr = entry.module, entry.attr
    if windows:
        body = launcher.ENTRY_BODY.format(module=module, head=attr.split(".")[0], call=attr).encode()
        write(os.path.join(root, bindir, f"{name}-script.py"), body)
        write(
            os.path.join(root, bindir, f"{name}.cmd"),
            launcher.windows_entry(target.python, f"{name}-script.py"),
        )
        return f"{bindir}/{name}.cmd"
    write(os.path.join(root, bindir, name), launcher.entry_launcher(module, attr), executable=True)
    return f"{bindir}/{name}"


def _existing_launcher(
    root: str, bindir: str, name: str, module: str, attr: str, windows: bool
) -> str | None:
    """``bindir/name`` when it already is exactly the launcher for ``module:attr``."""
    if windows:
        script = os.path.join(root, bindir, f"{name}-script.py")
        want = launcher.ENTRY_BODY.format(module=module, head=attr.split(".")[0], call=attr).encode()
        rel, path = f"{bindir}/{name}.cmd", os.path.join(root, bindir, f"{name}.cmd")
    else:
        script = path = os.path.join(root, bindir, name)
        want = launcher.entry_launcher(module, attr)
        rel = f"{bindir}/{name}"
    try:
        with open(script, "rb") as f:
            same = f.read() == want
    except OSError:
        return None
    return rel if same and os.path.isfile(path) and not os.path.islink(path) else None


def compile_tree(root: str, target, python: str) -> None:
    """Reproducible .pyc files for site-packages (and app/), by ``python`` (same X.Y)."""
    rel_dirs = [scheme_paths(target)["purelib"]]
    if os.path.isdir(os.path.join(root, APP_DIR)):
        rel_dirs.append(APP_DIR)
    code = (
        "import compileall, py_compile, sys, os\n"
        "root = sys.argv[1]\n"
        "for rel in sys.argv[2:]:\n"
        "    compileall.compile_dir(os.path.join(root, rel), ddir=rel, quiet=2, workers=1,\n"
        "        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "SOURCE_DATE_EPOCH")}
    env["PYTHONHASHSEED"] = "0"
    proc = subprocess.run(
        [python, "-I", "-c", code, root, *rel_dirs],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if proc.returncode != 0:
        raise UserError(f"--compile: {python} could not byte-compile the tree: {proc.stderr.strip()[-500:]}")


def build(root: str, target, wheels, entry=None, compile_with: str | None = None) -> str | None:
    """Write the tree into the (empty, existing) directory ``root``.

    ``wheels`` is [(Artifact, local verified wheel path)], sorted by name. Returns the
    entry launcher's relative path (or None)."""
    skeleton(root, target)
    check_clashes(wheels)
    for artifact, path in wheels:
        install_wheel(root, target, path, artifact.filename)
    entry_rel = add_entry(root, target, entry)
    if compile_with:
        compile_tree(root, target, compile_with)
    return entry_rel
