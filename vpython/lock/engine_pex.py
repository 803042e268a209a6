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
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from vpython import log
from vpython.errors import ResolutionError, UserError
from vpython.settings.credentials import redact
from vpython.settings.sources import Sources

if TYPE_CHECKING:
    from vpython.lock.model import Candidate, RawWheel
    from vpython.lock.targets import Target

_CHECK_SOURCES = "check the requirements, and that the index (--index-url / --find-links) serves them"


def pex_root(cache_dir: str | None = None) -> str:
    """pex's cache: ``<cache_dir>/pex`` inside vpython's root (``<root>/v1/tool-cache``) when
    the caller has one, else ``$PEX_ROOT`` or ``~/.cache/pex``."""
    if cache_dir is not None:
        from vpython.lock.engine_uv import touched_cache

        return touched_cache(cache_dir, "pex")
    return os.environ.get("PEX_ROOT") or os.path.join(os.path.expanduser("~"), ".cache", "pex")


def _env(root: str, sources_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PEX_"))}
    env["PEX_ROOT"] = root
    env.update(sources_env)
    return env


def source_args(sources: Sources, private_dir: str) -> tuple[list[str], dict[str, str]]:
    """(argv, environment) for the sources. pex hands every URL to pip on its command
    line, readable by any local user: URLs go without credentials, which reach pip
    through a ``0600`` netrc file in ``private_dir`` instead (``netrc_for``)."""
    from vpython.settings.credentials import netrc_for

    urls = ([sources.index_url] if sources.index_url else []) + list(sources.extra_index_urls)
    links = list(sources.find_links)
    clean, env = netrc_for(urls + links, private_dir)
    args = ["--no-pypi"]
    for url in clean[: len(urls)]:
        args += ["--index", url]
    for fl in clean[len(urls) :]:
        args += ["--find-links", fl]
    if sources.exclude_newer:
        args += ["--uploaded-prior-to", sources.exclude_newer]
    return args, env


def _cached_size(sha256: str, filename: str, root: str) -> int | None:
    """pex downloaded (and hashed) every artifact; its cache knows the size."""
    for path in glob.glob(os.path.join(glob.escape(root), "downloads", "*", sha256, filename)):
        try:
            return os.path.getsize(path)
        except OSError:
            continue
    return None


def _raw_wheel(artifact: dict[str, Any], root: str | None = None) -> RawWheel | None:
    from vpython.lock.model import RawWheel

    if artifact.get("algorithm") != "sha256" or not artifact.get("hash"):
        return None
    url = artifact.get("url") or ""
    parts = urlsplit(url)
    filename = unquote(os.path.basename(parts.path))
    if not filename.endswith(".whl"):
        return None
    if parts.scheme == "file":
        from vpython.lock.uv_pylock import file_url_path

        return RawWheel(filename, artifact["hash"], path=file_url_path(url))
    return RawWheel(
        filename, artifact["hash"], url=url, size=_cached_size(artifact["hash"], filename, root or pex_root())
    )


def candidates_from_lock(
    data: dict[str, Any], targets: list[Target], root: str | None = None
) -> list[Candidate]:
    from packaging.utils import canonicalize_name

    from vpython.lock.model import Candidate

    by_first_tag: dict[str, list[Target]] = {}
    for t in targets:
        by_first_tag.setdefault(str(t.tags()[0]), []).append(t)
    merged: dict[tuple[str, str], tuple[dict[str, RawWheel], set[str]]] = {}  # -> (wheels by name, keys)
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
                raw = _raw_wheel(artifact, root)
                if raw is not None:
                    entry[0].setdefault(raw.filename, raw)
            entry[1].update(keys)
    return [
        Candidate(
            name=name,
            version=version,
            wheels=tuple(w for _, w in sorted(wheels.items())),
            installed_on=frozenset(keys),
        )
        for (name, version), (wheels, keys) in sorted(merged.items())
    ]


def previous_pins(
    previous_lock: str | None, upgrade: bool = False, upgrade_packages: Iterable[str] = ()
) -> dict[str, str]:
    """{name: version} the current lockfile pins, minus what ``--upgrade`` frees.

    pex has no soft "preferences" like uv's, so these become a constraints file (see
    ``resolve``). A package the lock lists at several versions (a marker split) is left
    free: one ``name==version`` constraint cannot express it.
    """
    if not previous_lock or upgrade:
        return {}
    from packaging.utils import canonicalize_name

    from vpython import toml

    try:
        data = toml.loads(previous_lock)
    except (toml.TOMLDecodeError, ValueError):
        return {}
    versions: dict[str, set[str]] = {}
    for pkg in data.get("packages") or ():
        if isinstance(pkg, dict) and isinstance(pkg.get("name"), str) and isinstance(pkg.get("version"), str):
            versions.setdefault(str(canonicalize_name(pkg["name"])), set()).add(pkg["version"])
    freed = {str(canonicalize_name(n)) for n in upgrade_packages}
    return {n: next(iter(vs)) for n, vs in sorted(versions.items()) if len(vs) == 1 and n not in freed}


def _split_versions(candidates: Iterable[Candidate]) -> dict[str, list[str]]:
    """{name: [versions]} of packages resolved at more than one version across targets."""
    by_name: dict[str, set[str]] = {}
    for c in candidates:
        by_name.setdefault(c.name, set()).add(c.version)
    return {n: sorted(vs) for n, vs in by_name.items() if len(vs) > 1}


def _lowest(versions: Iterable[str]) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        return min(versions, key=Version)
    except InvalidVersion:
        return min(versions)


def resolve(
    requirements: list[str],
    sources: Sources,
    targets: list[Target],
    *,
    context: str = "",
    previous_lock: str | None = None,
    upgrade: bool = False,
    upgrade_packages: Iterable[str] = (),
    cache_dir: str | None = None,
) -> list[Candidate]:
    """One pex lock for all targets, as [Candidate] (``cache_dir``: see ``pex_root``).

    * Re-locking keeps the current lockfile's pins (``previous_pins``, as pex constraints)
      unless ``upgrade`` / ``upgrade_packages`` free them; when the pins no longer fit the
      spec, pex resolves again without them (uv's preferences behave the same way).
    * pex resolves each target on its own and may pick different versions of a package
      for different targets where uv's universal resolution picks one. When that
      happens, pex resolves again with the lowest of those versions as a constraint:
      each target's pick is the newest it accepts, so the lowest is the newest version
      every target can share, if any is. Only when that fails does the lock keep the
      per-target versions.
    """
    if sources.offline:
        raise UserError(
            "the pex lock engine cannot work offline",
            hint="use the default engine (uv) with --offline, or go online",
        )
    if sources.exclude_newer:  # plan.make_plan refuses this earlier, naming where the cutoff came from
        raise UserError(
            "the pex lock engine cannot apply an exclude-newer cutoff",
            hint="lock with --engine uv, or pass --exclude-newer none",
        )
    pins = previous_pins(previous_lock, upgrade, upgrade_packages)
    root = pex_root(cache_dir)
    candidates = None
    if pins:
        try:
            candidates = _resolve(requirements, sources, targets, context, pins, root=root)
        except ResolutionError:
            log.info("resolving again without the current lockfile's pins")
            pins = {}
    if candidates is None:
        candidates = _diagnosed(requirements, sources, targets, context, root, cache_dir)
    return _shared_versions(candidates, requirements, sources, targets, context, pins, root)


def _shared_versions(
    candidates: list[Candidate],
    requirements: list[str],
    sources: Sources,
    targets: list[Target],
    context: str,
    pins: dict[str, str],
    root: str,
) -> list[Candidate]:
    """pex's candidates, resolved again with one version each where pex split them."""
    split = _split_versions(candidates)
    if split:
        common = dict(pins)
        common.update({name: _lowest(versions) for name, versions in split.items()})
        log.info(
            "pex picked different versions per target for "
            + ", ".join(sorted(split))
            + "; resolving again with one version each"
        )
        try:
            shared = _resolve(requirements, sources, targets, context, common, root=root)
        except ResolutionError as e:
            log.info(f"no single version fits every target; keeping pex's per-target versions ({e.message})")
        else:
            if not _split_versions(shared):
                candidates = shared
    return candidates


def _diagnosed(
    requirements: list[str],
    sources: Sources,
    targets: list[Target],
    context: str,
    root: str,
    cache_dir: str | None,
) -> list[Candidate]:
    """``_resolve``; on failure, find which targets cannot be satisfied."""
    try:
        return _resolve_around_sdists(requirements, sources, targets, context, root, cache_dir)
    except ResolutionError as whole:
        if len(targets) < 2:
            raise _hinted(whole) from None
        # pex fails the whole lock when one target cannot be satisfied: find which.
        failed = []
        for t in targets:
            try:
                _resolve(requirements, sources, [t], context, root=root)
            except ResolutionError as e:
                failed.append((t, e))
        if not failed or len(failed) == len(targets):
            # No single target is to blame (every one fails alone, or only the
            # combination does): the requirements are, so no platform hint.
            raise _hinted(whole) from None
        text = "\n".join(f"for {t.key}: {e.message}" for t, e in failed)
        raise ResolutionError(
            text,
            hint=f"drop {failed[0][0].key} from the targets, or change the "
            "requirements so that every target has wheels",
        ) from None


def _resolve_around_sdists(
    requirements: list[str],
    sources: Sources,
    targets: list[Target],
    context: str,
    root: str,
    cache_dir: str | None,
) -> list[Candidate]:
    """``_resolve``, with exact pins that publish only an sdist taken out of pex's hands.

    pex resolves for foreign platforms with pip's ``--only-binary :all:``, so a pin with
    no wheel fails it as "No matching distribution". When that pin is ``name==version``
    and the sources have its sdist (``lock.sdist_lookup``: the same lookup the uv engine's
    locks go through), it becomes a candidate of its own, installed where its marker
    holds, and pex resolves the rest. Its dependencies are not pex's to see: a closed
    (text-proto) spec lists them, and ``vpython lock`` checks that it does.
    """
    from vpython.lock.pex_sdists import split_sdist_pins

    taken: list[Candidate] = []
    remaining = list(requirements)
    while True:
        try:
            return taken + (_resolve(remaining, sources, targets, context, root=root) if remaining else [])
        except ResolutionError as e:
            split = (
                None if sources.only_binary else split_sdist_pins(remaining, e, sources, targets, cache_dir)
            )
            if split is None:
                raise
            remaining, more = split
            taken += more


def _hinted(error: ResolutionError) -> ResolutionError:
    if error.hint:
        return error
    if "No matching distribution found" not in error.message:
        return ResolutionError(error.message, hint=_CHECK_SOURCES)
    # pex runs pip with --only-binary: a package that publishes only an sdist shows up
    # as "no matching distribution", like a name that does not exist.
    return ResolutionError(
        error.message,
        hint=(
            "check the name and version; if the package publishes only an sdist: vpython locks wheels only, "
            "so build a wheel (pip wheel --no-deps NAME -w DIR) into a --find-links directory"
        ),
    )


def _resolve(
    requirements: list[str],
    sources: Sources,
    targets: list[Target],
    context: str,
    pins: dict[str, str] | None = None,
    *,
    root: str | None = None,
) -> list[Candidate]:
    root = root or pex_root()
    with tempfile.TemporaryDirectory(prefix="vpython-pex-lock-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pex.cli",
            "lock",
            "create",
            "--style",
            "strict",
            "--resolver-version",
            "pip-2020-resolver",
            "--no-build",
            "--wheel",
            "--pex-root",
            root,
            "-o",
            os.path.join(tmp, "lock.json"),
        ]
        for i, t in enumerate(targets):
            path = os.path.join(tmp, f"platform-{i}.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(t.complete_platform(), f)
            cmd += ["--complete-platform", path]
        source_argv, source_env = source_args(sources, tmp)
        cmd += source_argv
        req_file = os.path.join(tmp, "requirements.txt")
        with open(req_file, "w", encoding="utf-8") as f:
            f.write("".join(r + "\n" for r in requirements))
        cmd += ["-r", req_file]
        if pins:
            constraints = os.path.join(tmp, "constraints.txt")
            with open(constraints, "w", encoding="utf-8") as f:
                f.write("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())))
            cmd += ["--constraints", constraints]
        proc = subprocess.run(
            cmd,
            env=_env(root, source_env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if proc.returncode != 0:
            detail = redact((proc.stderr or proc.stdout).strip())
            errors = [line.strip() for line in detail.splitlines() if "ERROR" in line]
            if errors:  # pip's own complaint, without pex's command-line dump
                detail = "\n".join(errors)
            where = f" for {context}" if context else ""
            raise ResolutionError(f"pex cannot resolve the requirements{where}:\n{detail}")
        with open(os.path.join(tmp, "lock.json"), encoding="utf-8") as f:
            data = json.load(f)
    return candidates_from_lock(data, targets, root)
