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

Wheels are unpacked by ``wheel_install`` under the target's scheme without running the
target interpreter. Nothing here depends on the build machine: no absolute paths, sorted
RECORDs as the wheels ship them, fixed modes and mtimes (reproducible.normalize_tree),
and ``.pyc`` files only with ``compile_with`` (unchecked-hash pycs, one process,
PYTHONHASHSEED=0, ``ddir`` fixed so no build path is embedded).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import TYPE_CHECKING

from vpython.artifacts import launcher
from vpython.artifacts.wheel_install import check_clashes, install_wheel, is_windows, scheme_paths
from vpython.errors import UserError

if TYPE_CHECKING:
    from vpython.artifacts.model import Entry, Wheels
    from vpython.lock.targets import Target

META_NAME = "vpython-artifact.json"
SBOM_NAME = "vpython-artifact.cdx.json"
APP_DIR = "app"


def write(path: str, data: bytes, executable: bool = False) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755 if executable else 0o644)


def skeleton(root: str, target: Target) -> None:
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


def add_entry(root: str, target: Target, entry: Entry | None) -> str | None:
    """The launcher for --main / --entry-point; returns its path relative to the tree."""
    if entry is None:
        return None
    bindir = scheme_paths(target)["scripts"]
    name = entry.name
    windows = is_windows(target)
    if not entry.main:
        # A package's own console script for the same function (`--entry-point
        # tinycli:main` with tinycli shipping `tinycli = tinycli:main`) is that launcher.
        same = _existing_launcher(root, bindir, name, *entry.function(), windows)
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
            else f"--entry-point {':'.join(entry.function())}"
        )
        raise UserError(
            f"the entry launcher name {name!r} for {target_text} clashes with {what}",
            hint="pass --entry-name NAME to choose another",
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
    module, attr = entry.function()
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


def compile_tree(root: str, target: Target, python: str) -> None:
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
        raise UserError(
            f"--compile: {python} could not byte-compile the tree: {proc.stderr.strip()[-500:]}",
            hint="build without --compile, or fix the source file the message names",
        )


def build(
    root: str, target: Target, wheels: Wheels, entry: Entry | None = None, compile_with: str | None = None
) -> str | None:
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
