"""Assemble, publish and key envs.

An env is a PEP 405 venv made by ``virtualenv`` (no seed packages: nothing is
installed that the spec did not ask for) plus the spec's packages hardlinked from the
package store. It is assembled in a work dir beside its final place and published by
one ``rename``: a crash at any point leaves either nothing or a complete env.
Concurrent builders of the same env serialise on a ``filelock``; the loser finds the
env published and uses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile

from vpython import FORMAT_VERSION, __version__
from vpython.env import fastpath
from vpython.errors import VPythonError
from vpython.faults import checkpoint
from vpython.store import packages as pkgstore

META = ".vpython-env.json"
SKELETON_META = ".vpython-skeleton.json"  # in each skeleton template, for gc; not copied


def env_key(interp, artifacts) -> str:
    h = hashlib.sha256()
    h.update(f"vpython-env/{FORMAT_VERSION}\n".encode())
    h.update(f"{os.path.realpath(interp.path)}\n{fastpath.interpreter_id(interp.path)}\n".encode())
    for a in sorted(artifacts, key=lambda a: (a.name, a.sha256)):
        h.update(f"{a.name} {a.version} {a.sha256}\n".encode())
        if getattr(a, "direct_url", None):  # direct_url.json differs, so the env does
            h.update(f"direct {a.direct_url}\n".encode())
    return h.hexdigest()[:32]


def _skeleton(work: str, interp, layout) -> str:
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
                shutil.copy2(src, os.path.join(target, name))
    return os.path.basename(template)  # recorded in the env's metadata, read by gc


def _skeleton_template(interp, layout) -> str:
    """``<root>/v1/skeletons/<key>``: virtualenv's empty venv for ``interp``, made once
    and published by rename (concurrent makers: the first rename wins)."""
    ident = f"{os.path.realpath(interp.path)}\n{fastpath.interpreter_id(interp.path)}\n{__version__}\n"
    key = hashlib.sha256(ident.encode()).hexdigest()[:32]
    base = os.path.join(layout.base, "skeletons")
    final = os.path.join(base, key)
    if os.path.isfile(os.path.join(final, "pyvenv.cfg")):
        return final
    os.makedirs(base, exist_ok=True)
    work = tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=base)
    try:
        _virtualenv(work, interp, layout)
        with open(os.path.join(work, SKELETON_META), "w", encoding="utf-8") as f:  # gc drops templates of gone interpreters
            json.dump({"interpreter": os.path.realpath(interp.path), "interpreter_id": fastpath.interpreter_id(interp.path),
                       "vpython": __version__}, f, sort_keys=True)
        try:
            os.rename(work, final)
            work = None
        except OSError:
            if not os.path.isfile(os.path.join(final, "pyvenv.cfg")):
                raise
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    return final


def _virtualenv(work: str, interp, layout) -> None:
    """virtualenv, in-process (no extra interpreter start; it caches its probe)."""
    from virtualenv import cli_run

    app_data = os.path.join(layout.base, "virtualenv-app-data")
    try:
        cli_run(
            [work, "--no-seed", "--no-periodic-update", "--activators", "",
             "--app-data", app_data, "-p", interp.path, "-q"],
            setup_logging=False,
        )
    except SystemExit as e:  # virtualenv reports its own errors by exiting
        raise VPythonError(f"virtualenv could not create an env for {interp.path} (exit {e.code})") from None
    except Exception as e:  # noqa: BLE001 - any virtualenv failure is a build failure, not a traceback
        raise VPythonError(f"virtualenv could not create an env for {interp.path}: {e}") from None


def assemble(layout, key: str, interp, entries: list, metadata: dict, direct_urls=None) -> str:
    """Build env ``key`` from store entries unless it exists; return its directory.

    ``direct_urls`` maps a store entry to ``(url, sha256)`` for packages the spec named
    by a direct reference: those get a PEP 610 ``direct_url.json``."""
    from filelock import FileLock

    final = layout.env_dir(key)
    os.makedirs(layout.envs, exist_ok=True)
    with FileLock(os.path.join(layout.envs, f".{key}.build.lock")):
        if os.path.exists(os.path.join(final, "pyvenv.cfg")):
            return final
        if os.path.lexists(final):  # a dir without pyvenv.cfg cannot be ours: discard it
            pkgstore._discard(final, layout)
        work = tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=layout.envs)
        try:
            skeleton = _skeleton(work, interp, layout)
            all_scripts, rewrites = [], []
            for entry in entries:
                scripts, rewrite = pkgstore.link_entry(entry, work)
                all_scripts += scripts
                rewrites += [(src, os.path.join(work, os.path.relpath(dst, work))) for src, dst in rewrite]
                if direct_urls and entry in direct_urls:
                    _write_direct_url(entry, work, *direct_urls[entry])
            # Scripts embed the env's *final* path: the work dir is renamed, not copied.
            _write_scripts_for(final, work, all_scripts, rewrites)
            meta = dict(metadata, vpython=__version__, format=FORMAT_VERSION, key=key, skeleton=skeleton)
            with open(os.path.join(work, META), "w", encoding="utf-8") as f:
                json.dump(meta, f, indent=1, sort_keys=True)
            checkpoint("linked")
            os.rename(work, final)
            work = None
            checkpoint("published")
        finally:
            if work is not None:
                shutil.rmtree(work, ignore_errors=True)
    return final


def _write_direct_url(entry: str, work: str, url: str, sha256: str) -> None:
    """PEP 610 ``direct_url.json`` in the package's ``.dist-info``, listed in RECORD.

    Written per env, never into the store: RECORD is replaced by a private copy
    (unlink the hardlink first), so the shared, read-only store file is untouched."""
    import base64
    import csv
    import io

    for dirpath, dirnames, _ in os.walk(entry):
        infos = [d for d in dirnames if d.endswith(".dist-info")]
        if not infos:
            continue
        rel = os.path.relpath(os.path.join(dirpath, infos[0]), entry)
        dist_info = os.path.join(work, rel)
        data = json.dumps({"url": url, "archive_info": {"hashes": {"sha256": sha256}}},
                          sort_keys=True).encode()
        with open(os.path.join(dist_info, "direct_url.json"), "wb") as f:
            f.write(data)
        record = os.path.join(dist_info, "RECORD")
        with open(record, encoding="utf-8", newline="") as f:
            rows = [r for r in csv.reader(f) if r and not r[0].endswith("/direct_url.json")]
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.insert(len(rows) - 1 if rows and rows[-1][0].endswith("/RECORD") else len(rows),
                    [f"{infos[0]}/direct_url.json", f"sha256={digest}", str(len(data))])
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        os.unlink(record)
        with open(record, "w", encoding="utf-8", newline="") as f:
            f.write(out.getvalue())
        return


def _write_scripts_for(final: str, work: str, scripts: list, rewrites: list) -> None:
    from installer.scripts import Script

    python = fastpath.env_python(final)
    bindir = fastpath.env_bin(work)
    for spec in scripts:
        name, data = Script(spec["name"], spec["module"], spec["attr"], spec["section"]).generate(python, "posix")
        path = os.path.join(bindir, name)
        if os.path.lexists(path):
            os.unlink(path)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o755)
    for src, dst in rewrites:
        with open(src, "rb") as f:
            content = f.read()
        content = b"#!" + python.encode() + content[len(pkgstore.PLACEHOLDER_PYTHON) + 2:]
        if os.path.lexists(dst):
            os.unlink(dst)
        with open(dst, "wb") as f:
            f.write(content)
        os.chmod(dst, 0o755)


def write_pointer(layout, digest: str, pointer) -> None:
    os.makedirs(layout.specs, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ptr-", dir=layout.specs)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(pointer.dump())
    os.replace(tmp, layout.spec_pointer(digest))

