"""Assemble, publish and key envs.

An env is a PEP 405 venv made by ``virtualenv`` (no seed packages: pip, setuptools and
wheel, when a text-proto env gets them, are pins like any other, from the store: see
``vpython.env.closure``) plus the spec's packages hardlinked from the package store.
Python 2.7 skeletons come from virtualenv 20.21.1 in vpython's tool dir
(``vpython.store.tools``). It is assembled in a work dir beside its final place and published by
one ``rename``: a crash at any point leaves either nothing or a complete env.
Concurrent builders of the same env serialise on an exclusive ``flock``
(``envs/.<key>.build.lock``, released if the builder dies); the loser finds the env
published and uses it.

Module-level imports are only what assembling from a warm store needs: ``hashlib``
(OpenSSL), ``tempfile``, ``shutil``, ``installer`` and ``virtualenv`` load only on the
paths that use them.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from vpython import FORMAT_VERSION, __version__, fs
from vpython.env import fastpath
from vpython.errors import VPythonError
from vpython.faults import checkpoint
from vpython.interpreters.identity import interpreter_id
from vpython.store.link import link_entry
from vpython.store.manifest import PLACEHOLDER_PYTHON

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from installer.scripts import ScriptSection

    from vpython.store.protocols import LockedArtifact, TargetInterpreter
    from vpython.store.root import Layout

META = ".vpython-env.json"
SKELETON_META = ".vpython-skeleton.json"  # in each skeleton template, for gc; not copied


def env_key(interp: TargetInterpreter, artifacts: Iterable[LockedArtifact]) -> str:
    """The env's key: the format version, the interpreter's identity and the exact artifact set."""
    h = fastpath._sha256()  # the builtin sha256: hashlib would load OpenSSL (~3 ms)
    h.update(f"vpython-env/{FORMAT_VERSION}\n".encode())
    h.update(f"{os.path.realpath(interp.path)}\n{interpreter_id(interp.path)}\n".encode())
    for a in sorted(artifacts, key=lambda a: (a.name, a.sha256)):
        h.update(f"{a.name} {a.version} {a.sha256}\n".encode())
        if getattr(a, "direct_url", None):  # direct_url.json differs, so the env does
            h.update(f"direct {a.direct_url}\n".encode())
    return h.hexdigest()[:32]


def _skeleton(work: str, interp: TargetInterpreter, layout: Layout) -> str:
    """An empty venv for ``interp`` at ``work``: a copy of this interpreter's skeleton
    template, which ``virtualenv`` made once (no seed packages).

    Calling virtualenv for every env cost ~0.15 s of a ~0.4 s cold env (its plugin
    discovery and imports); its output for one interpreter does not depend on the
    env's path (``bin/python*`` are absolute symlinks to the interpreter, the rest is
    ``pyvenv.cfg``, ``.gitignore``, ``CACHEDIR.TAG`` and empty dirs), so a copy is the
    same venv. Files are copied, not linked: a user editing one env's ``pyvenv.cfg``
    must not change the template."""
    template = _skeleton_template(interp, layout)
    for dirpath, dirnames, filenames in os.walk(template):
        rel = os.path.relpath(dirpath, template)
        target = work if rel == "." else os.path.join(work, rel)
        if rel != ".":
            os.mkdir(target)
        for name in list(dirnames):  # os.walk lists symlinks to dirs as dirs
            if os.path.islink(os.path.join(dirpath, name)):
                os.symlink(os.readlink(os.path.join(dirpath, name)), os.path.join(target, name))
                dirnames.remove(name)
        for name in filenames:
            if rel == "." and name == SKELETON_META:
                continue
            src = os.path.join(dirpath, name)
            if os.path.islink(src):
                os.symlink(os.readlink(src), os.path.join(target, name))
            else:
                _copy_file(src, os.path.join(target, name))
    return os.path.basename(template)  # recorded in the env's metadata, read by gc


def _copy_file(src: str, dst: str) -> None:
    """``shutil.copy2`` for the template's few small files, without importing shutil."""
    with open(src, "rb") as f:
        data = f.read()
    st = os.stat(src)
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, st.st_mode & 0o7777)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))


def _work_dir(parent: str, prefix: str) -> str:
    """A new, empty, private dir ``<parent>/<prefix><unique>`` (``tempfile.mkdtemp``
    without the import: its ~4 ms is a tenth of a warm-store env)."""
    for _ in range(100):
        path = os.path.join(parent, f"{prefix}{os.getpid()}-{os.urandom(4).hex()}")
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a work dir in {parent}")


def _skeleton_template(interp: TargetInterpreter, layout: Layout) -> str:
    """``<root>/v1/skeletons/<key>``: virtualenv's empty venv for ``interp``, made once
    and published by rename (concurrent makers: the first rename wins)."""
    ident = f"{os.path.realpath(interp.path)}\n{interpreter_id(interp.path)}\n{__version__}\n"
    h = fastpath._sha256()
    h.update(ident.encode())
    key = h.hexdigest()[:32]
    base = os.path.join(layout.base, "skeletons")
    final = os.path.join(base, key)
    if os.path.isfile(os.path.join(final, "pyvenv.cfg")):
        return final
    os.makedirs(base, exist_ok=True)
    work = _work_dir(base, f".tmp-{key}-")
    renamed = False
    try:
        _virtualenv(work, interp, layout)
        with open(
            os.path.join(work, SKELETON_META), "w", encoding="utf-8"
        ) as f:  # gc drops templates of gone interpreters
            json.dump(
                {
                    "interpreter": os.path.realpath(interp.path),
                    "interpreter_id": interpreter_id(interp.path),
                    "vpython": __version__,
                },
                f,
                sort_keys=True,
            )
        try:
            os.rename(work, final)
            renamed = True
        except OSError:
            if not os.path.isfile(os.path.join(final, "pyvenv.cfg")):
                raise
    finally:
        if not renamed:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    return final


def _virtualenv(work: str, interp: TargetInterpreter, layout: Layout) -> None:
    """virtualenv, in-process (no extra interpreter start; it caches its probe). Python 2
    envs are made by virtualenv 20.21.1 from vpython's tool dir instead
    (``_virtualenv_py27``): the installed virtualenv cannot create them."""
    if interp.version[0] < 3:
        _virtualenv_py27(work, interp, layout)
        return
    from virtualenv import cli_run

    app_data = os.path.join(layout.base, "virtualenv-app-data")
    try:
        cli_run(
            [
                work,
                "--no-seed",
                "--no-periodic-update",
                "--activators",
                "",
                "--app-data",
                app_data,
                "-p",
                interp.path,
                "-q",
            ],
            setup_logging=False,
        )
    except SystemExit as e:  # virtualenv reports its own errors by exiting
        raise VPythonError(
            f"virtualenv could not create an env for {interp.path} (exit {e.code})", hint=_VIRTUALENV_HINT
        ) from None
    except Exception as e:  # noqa: BLE001 - any virtualenv failure is a build failure, not a traceback
        raise VPythonError(
            f"virtualenv could not create an env for {interp.path}: {e}", hint=_VIRTUALENV_HINT
        ) from None


def _virtualenv_py27(work: str, interp: TargetInterpreter, layout: Layout) -> None:
    """The skeleton of a Python 2.7 env: virtualenv 20.21.1 (the last that creates them;
    ``vpython.store.tools``), run by the Python running vpython in a child process with
    only the tool dir added to its path (``-I``: no user site, no PYTHONPATH)."""
    import subprocess
    import sys

    from vpython.store.tools import ensure_tool, tool_path

    tool = tool_path(layout, "virtualenv-py27")
    if not os.path.isdir(tool):  # normally fetched by the slow path with the run's sources
        from vpython.settings.sources import load_sources

        tool = ensure_tool(layout, load_sources(), "virtualenv-py27")
    boot = "import sys; sys.path.insert(0, sys.argv.pop(1)); from virtualenv import cli_run; cli_run(sys.argv[1:])"
    app_data = os.path.join(layout.base, "virtualenv-app-data-py27")
    args = [work, "--no-seed", "--no-periodic-update", "--activators", "", "--app-data", app_data]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUALENV_", "PYTHON"))}
    proc = subprocess.run(
        [sys.executable, "-I", "-c", boot, tool, *args, "-p", interp.path, "-q"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise VPythonError(
            f"virtualenv 20.21.1 could not create a Python 2.7 env for {interp.path} (exit {proc.returncode})"
            + (f": {detail[-1]}" if detail else ""),
            hint=_VIRTUALENV_HINT,
        )


_VIRTUALENV_HINT = (
    "check that this interpreter starts and has its standard library (run it with -c pass), "
    "or choose another with -vpython-interpreter"
)


def assemble(
    layout: Layout,
    key: str,
    interp: TargetInterpreter,
    entries: list[str],
    metadata: Mapping[str, Any],
    direct_urls: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    """Build env ``key`` from store entries unless it exists; return its directory.

    ``direct_urls`` maps a store entry to ``(url, sha256)`` for packages the spec named
    by a direct reference: those get a PEP 610 ``direct_url.json``.

    Raises ``vpython.store.link.EntryChanged`` (nothing published, the work dir removed) if an
    entry's files do not match its manifest: the caller rebuilds it and calls again."""
    from vpython.store.locks import exclusive_build_lock

    final = layout.env_dir(key)
    os.makedirs(layout.envs, exist_ok=True)
    with exclusive_build_lock(layout.env_build_lock(key)):
        if os.path.exists(os.path.join(final, "pyvenv.cfg")):
            return final
        if os.path.lexists(final):  # a dir without pyvenv.cfg cannot be ours: discard it
            fs.discard_tree(final, layout.tmp)
        work = _work_dir(layout.envs, f".tmp-{key}-")
        published = False
        try:
            skeleton = _skeleton(work, interp, layout)
            all_scripts: list[dict[str, str]] = []
            rewrites: list[tuple[str, str]] = []
            made: set[str] = set()  # dirs made in the env so far: the entries share lib/..., bin
            owners: dict[str, tuple[str, str]] = {}  # which wheel put each file (store.link)
            for entry in entries:
                scripts, rewrite = link_entry(entry, work, made, owners)
                all_scripts += scripts
                rewrites += rewrite
                if direct_urls and entry in direct_urls:
                    _write_direct_url(entry, work, *direct_urls[entry])
            # Scripts embed the env's *final* path: the work dir is renamed, not copied.
            _write_scripts_for(final, work, all_scripts, rewrites)
            meta = dict(metadata, vpython=__version__, format=FORMAT_VERSION, key=key, skeleton=skeleton)
            with open(os.path.join(work, META), "w", encoding="utf-8") as f:
                json.dump(meta, f, indent=1, sort_keys=True)
            checkpoint("linked")
            os.rename(work, final)
            published = True
            checkpoint("published")
        finally:
            if not published:
                import shutil

                shutil.rmtree(work, ignore_errors=True)
    return final


def _write_direct_url(entry: str, work: str, url: str, sha256: str) -> None:
    """PEP 610 ``direct_url.json`` in the package's ``.dist-info``, listed in RECORD.

    Written per env, never into the store: RECORD is replaced by a private copy
    (unlink the hardlink first), so the shared, read-only store file is untouched."""
    import base64
    import csv
    import hashlib
    import io

    for dirpath, dirnames, _ in os.walk(entry):
        infos = [d for d in dirnames if d.endswith(".dist-info")]
        if not infos:
            continue
        rel = os.path.relpath(os.path.join(dirpath, infos[0]), entry)
        dist_info = os.path.join(work, rel)
        data = json.dumps(
            {"url": url, "archive_info": {"hashes": {"sha256": sha256}}}, sort_keys=True
        ).encode()
        with open(os.path.join(dist_info, "direct_url.json"), "wb") as f:
            f.write(data)
        record = os.path.join(dist_info, "RECORD")
        with open(record, encoding="utf-8", newline="") as f:
            rows = [r for r in csv.reader(f) if r and not r[0].endswith("/direct_url.json")]
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.insert(
            len(rows) - 1 if rows and rows[-1][0].endswith("/RECORD") else len(rows),
            [f"{infos[0]}/direct_url.json", f"sha256={digest}", str(len(data))],
        )
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        os.unlink(record)
        with open(record, "w", encoding="utf-8", newline="") as f:
            f.write(out.getvalue())
        return


def shebang_for(python: str) -> bytes:
    """The first line(s) ``installer`` writes for ``python``: ``#!<python>``, or, when
    the path has a space or the line would pass 127 bytes (what kernels read), its
    ``/bin/sh`` trampoline. installer is imported only in that second case."""
    exe = python.encode()
    if b" " not in exe and len(exe) + 3 <= 127:
        return b"#!" + exe
    from installer.scripts import Script

    # installer renders "<shebang>\n<code>"; take the shebang through its public API.
    script = Script("x", "x", "x", "console")
    code = script.generate(PLACEHOLDER_PYTHON, "posix")[1][len(PLACEHOLDER_PYTHON) + 3 :]
    data = script.generate(python, "posix")[1]
    return data[: len(data) - len(code) - 1]


def _write_scripts_for(
    final: str, work: str, scripts: list[dict[str, str]], rewrites: list[tuple[str, str]]
) -> None:
    """Scripts that name the env's python: ``rewrites`` (src, dst) are store files with
    the placeholder shebang (.data scripts and entry points, rendered when the entry was
    built); ``scripts`` are entry-point specs of entries built before that, generated
    here by installer."""
    python = fastpath.env_python(final)
    if scripts:
        from typing import cast

        from installer.scripts import Script

        bindir = fastpath.env_bin(work)
        for spec in scripts:
            # "console" or "gui", as the entry's builder wrote it from entry_points.txt
            section = cast("ScriptSection", spec["section"])
            name, data = Script(spec["name"], spec["module"], spec["attr"], section).generate(python, "posix")
            path = os.path.join(bindir, name)
            if os.path.lexists(path):
                os.unlink(path)
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, 0o755)
    if not rewrites:
        return
    shebang = shebang_for(python)
    skip = len(PLACEHOLDER_PYTHON) + 2
    for src, dst in rewrites:
        with open(src, "rb") as f:
            content = f.read()
        if os.path.lexists(dst):
            os.unlink(dst)
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755)
        with os.fdopen(fd, "wb") as f:
            f.write(shebang + content[skip:])
        os.chmod(dst, 0o755)  # whatever the umask


def write_pointer(layout: Layout, digest: str, pointer: fastpath.Pointer) -> None:
    """Publish ``specs/<digest>`` (one ``os.replace``): the warm path's way to the env."""
    os.makedirs(layout.specs, exist_ok=True)
    fs.write_atomic(layout.spec_pointer(digest), pointer.dump(), mode=None, prefix=".ptr-")
