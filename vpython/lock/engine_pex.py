"""Resolution through pex (``pex3 lock create``), the fallback engine.

Select it with ``vpython lock --engine pex`` or ``VPYTHON_LOCK_ENGINE=pex``. Each lock
target becomes a pex ``--complete-platform`` (its marker environment and ordered tag
list, from ``vpython.lock.targets``), so pex's pip resolves exactly for that target
(``--style strict``: one locked resolve per target). We read pex's own JSON lock rather
than ``pex3 lock export --format pep-751``: the export flattens the per-target resolves
into one wheel list without saying which target installs what, which is exactly what
the lock writer needs to derive markers. The result goes through the same selection and
writer as uv's, so both engines write the same bytes for the same resolution.

pex hashes every artifact by downloading it (about 10 s for a five-package lock where uv
takes 0.4 s, reference/bench-anchors.md §5), which is why uv is the default.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import tempfile
from urllib.parse import unquote, urlsplit

from vpython.errors import ResolutionError, UserError
from vpython.settings import Sources, redact


def pex_root() -> str:
    return os.environ.get("PEX_ROOT") or os.path.join(os.path.expanduser("~"), ".cache", "pex")


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PEX_"))}
    env["PEX_ROOT"] = pex_root()
    return env


def source_args(sources: Sources) -> list:
    args = ["--no-pypi"]
    if sources.index_url:
        args += ["--index", sources.index_url]
    for url in sources.extra_index_urls:
        args += ["--index", url]
    for fl in sources.find_links:
        args += ["--find-links", fl]
    if sources.exclude_newer:
        args += ["--uploaded-prior-to", sources.exclude_newer]
    return args


def _cached_size(sha256: str, filename: str) -> int | None:
    """pex downloaded (and hashed) every artifact; its cache knows the size."""
    for path in glob.glob(os.path.join(glob.escape(pex_root()), "downloads", "*", sha256, filename)):
        try:
            return os.path.getsize(path)
        except OSError:
            continue
    return None


def _raw_wheel(artifact: dict):
    from vpython.lock.model import RawWheel

    if artifact.get("algorithm") != "sha256" or not artifact.get("hash"):
        return None
    url = artifact.get("url") or ""
    parts = urlsplit(url)
    filename = unquote(os.path.basename(parts.path))
    if not filename.endswith(".whl"):
        return None
    if parts.scheme == "file":
        from vpython.lock.engine_uv import file_url_path

        return RawWheel(filename, artifact["hash"], path=file_url_path(url))
    return RawWheel(filename, artifact["hash"], url=url, size=_cached_size(artifact["hash"], filename))


def candidates_from_lock(data: dict, targets) -> list:
    from packaging.utils import canonicalize_name

    from vpython.lock.model import Candidate

    by_first_tag = {}
    for t in targets:
        by_first_tag.setdefault(str(t.tags()[0]), []).append(t)
    merged = {}  # (name, version) -> (wheels by filename, target keys)
    resolves = data.get("locked_resolves") or []
    for i, resolve in enumerate(resolves):
        tag = "-".join(resolve.get("platform_tag") or ())
        owners = by_first_tag.get(tag)
        if owners is None or len(owners) > 1:
            owners = [targets[i]] if len(resolves) == len(targets) else owners or []
        keys = {t.key for t in owners}
        for req in resolve.get("locked_requirements") or ():
            name = str(canonicalize_name(req["project_name"]))
            entry = merged.setdefault((name, str(req["version"])), ({}, set()))
            for artifact in req.get("artifacts") or ():
                raw = _raw_wheel(artifact)
                if raw is not None:
                    entry[0].setdefault(raw.filename, raw)
            entry[1].update(keys)
    return [
        Candidate(name=name, version=version, wheels=tuple(w for _, w in sorted(wheels.items())),
                  installed_on=frozenset(keys))
        for (name, version), (wheels, keys) in sorted(merged.items())
    ]


def resolve(requirements: list, sources: Sources, targets: list, *, context: str = "") -> list:
    if sources.offline:
        raise UserError("the pex lock engine cannot work offline",
                        hint="use the default engine (uv) with --offline, or go online")
    try:
        return _resolve(requirements, sources, targets, context)
    except ResolutionError as whole:
        if len(targets) < 2:
            raise
        # pex fails the whole lock when one target cannot be satisfied: find which.
        failed = []
        for t in targets:
            try:
                _resolve(requirements, sources, [t], context)
            except ResolutionError as e:
                failed.append((t, e))
        if not failed:
            raise whole from None
        text = "\n".join(f"for {t.key}: {e.message}" for t, e in failed)
        raise ResolutionError(text, hint=f"drop {failed[0][0].key} from the targets, or change the "
                              "requirements so that every target has wheels") from None


def _resolve(requirements: list, sources: Sources, targets: list, context: str) -> list:
    with tempfile.TemporaryDirectory(prefix="vpython-pex-lock-") as tmp:
        cmd = [sys.executable, "-m", "pex.cli", "lock", "create", "--style", "strict",
               "--resolver-version", "pip-2020-resolver", "--no-build", "--wheel",
               "--pex-root", pex_root(), "-o", os.path.join(tmp, "lock.json")]
        for i, t in enumerate(targets):
            path = os.path.join(tmp, f"platform-{i}.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(t.complete_platform(), f)
            cmd += ["--complete-platform", path]
        cmd += source_args(sources)
        req_file = os.path.join(tmp, "requirements.txt")
        with open(req_file, "w", encoding="utf-8") as f:
            f.write("".join(r + "\n" for r in requirements))
        cmd += ["-r", req_file]
        proc = subprocess.run(cmd, env=_env(), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            detail = redact((proc.stderr or proc.stdout).strip())
            errors = [line.strip() for line in detail.splitlines() if "ERROR" in line]
            if errors:  # pip's own complaint, without pex's command-line dump
                detail = "\n".join(errors)
            where = f" for {context}" if context else ""
            raise ResolutionError(f"pex cannot resolve the requirements{where}:\n{detail}")
        with open(os.path.join(tmp, "lock.json"), encoding="utf-8") as f:
            data = json.load(f)
    return candidates_from_lock(data, targets)
