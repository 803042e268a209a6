"""What ``-o OUT`` may replace, checked before any work is done.

Publishing renames an existing ``OUT`` aside and deletes it (``reproducible.publish_all``),
so ``OUT`` must be nothing, or a previous output of ``vpython build``:

* an empty directory (nothing to lose; Bazel creates a tree artifact's directory
  before the action runs), or
* a directory holding ``vpython-artifact.json`` (a venv tree), or
* a file that is a zip with a ``PEX-INFO`` member (a pex);
* for a pex, ``OUT.cdx.json`` beside it must be nothing or a CycloneDX JSON document.

Either kind may replace the other (a pex's stale ``OUT.cdx.json`` goes with it). ``OUT``
must also not be, nor contain, one of the build's inputs (the spec, the lock, the main
script, a ``--find-links`` directory) or the working directory: ``-o .`` once deleted
the working directory's contents, ``-o s.py --format pex`` the script itself.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from collections.abc import Iterable

from vpython.errors import UserError

META_NAME = "vpython-artifact.json"  # = venv_tree.META_NAME (not imported: keep this module light)


def sbom_path(out: str) -> str:
    return out + ".cdx.json"


def is_pex(path: str) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            zf.getinfo("PEX-INFO")
        return True
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return False


def is_sbom(path: str) -> bool:
    """A regular file holding a CycloneDX JSON document (what we write beside a pex)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode) or os.path.getsize(path) > 64 << 20:
            return False
        with open(path, "rb") as f:
            doc = json.loads(f.read())
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX"


def is_venv_artifact(path: str) -> bool:
    return os.path.isdir(path) and not os.path.islink(path) and os.path.isfile(os.path.join(path, META_NAME))


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def check(output: str, fmt: str, inputs: Iterable[tuple[str, str | None]]) -> None:
    """Raise UserError (exit 2) unless building ``fmt`` into ``output`` is safe.

    ``inputs``: [(what, path)], e.g. ("the lock", "app/pylock.toml"), ("the working
    directory", os.getcwd())."""
    out = os.path.abspath(output)
    real = os.path.realpath(out)
    targets = [out] + ([sbom_path(out)] if fmt == "pex" else [])
    named = [(what, path, os.path.realpath(os.path.abspath(path))) for what, path in inputs if path]
    # Equality first: `-o .` is the working directory, even though it also holds the spec.
    for exact in (True, False):
        for what, path, p in named:
            for t in targets:
                t_real = os.path.realpath(t)
                if (p == t_real) if exact else _inside(p, t_real):
                    subject = f"-o {output}" if t == out else f"-o {output}: {t}"
                    shown = "" if os.path.abspath(path) == out else f" ({path})"
                    raise UserError(
                        f"{subject} {'is' if exact else 'contains'} {what}{shown}, which the build "
                        "would delete",
                        hint=f"pass an -o path outside the inputs and the working directory (e.g. -o out/app.{fmt})",
                    )
    if real == os.sep:
        raise UserError(f"-o {output}: is the root directory", hint="pass a path that does not exist yet")
    try:
        st = os.lstat(out)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise UserError(f"-o {output}: {e.strerror}", hint="pass another output path") from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise UserError(
                f"-o {output}: is a symlink; vpython build replaces only its own previous output",
                hint="remove the link or pass a path that does not exist yet",
            )
        if stat.S_ISDIR(st.st_mode):
            # An empty directory loses nothing: Bazel creates a tree artifact's (-o) directory before the action runs.
            if not is_venv_artifact(out) and os.listdir(out):
                raise UserError(
                    f"-o {output}: is a directory that is not a vpython build output (it has no "
                    f"{META_NAME}) and building would delete its contents",
                    hint=f"pass a path that does not exist yet (e.g. -o {os.path.join(output, 'app.' + fmt)})",
                )
        elif not (stat.S_ISREG(st.st_mode) and is_pex(out)):
            raise UserError(
                f"-o {output}: is an existing file that is not a pex built before, and building "
                "would replace it",
                hint="pass a path that does not exist yet (or delete the file)",
            )
    if fmt == "pex":
        sbom = sbom_path(out)
        if os.path.lexists(sbom) and not is_sbom(sbom):
            raise UserError(
                f"-o {output}: {sbom} exists and is not a CycloneDX SBOM, and a pex build writes "
                "its SBOM there",
                hint="move it away or pass another -o path",
            )


def stale_sbom(output: str, fmt: str) -> str | None:
    """A venv replacing a pex: the pex's ``OUT.cdx.json`` would describe nothing."""
    out = os.path.abspath(output)
    if fmt == "venv" and os.path.isfile(out) and is_sbom(sbom_path(out)):
        return sbom_path(out)
    return None
