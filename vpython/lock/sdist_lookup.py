"""The sdists of exact versions, for targets that have no wheel of a locked package.

Both engines resolve wheels first; a package that some target installs but has no wheel
for is built there from its sdist (vpython.store.sdists), so the lock must record that
sdist (PEP 751 ``packages.sdist``: url or path, size, sha256). pex never reports sdists
and uv only when it had to resolve with sdists allowed, so the sdists of the pins that
need one are looked up here, in one ``uv pip compile --no-deps`` of those exact pins
(no resolution, no build: only the index's file list), from the same sources. Both
engines therefore record the same sdist, and write the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from vpython.settings.credentials import redact

if TYPE_CHECKING:
    from vpython.lock.model import RawWheel
    from vpython.settings.sources import Sources


def _version_key(name: str, version: str) -> tuple[str, str]:
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    try:
        return str(canonicalize_name(name)), str(Version(version))
    except InvalidVersion:
        return str(canonicalize_name(name)), version


def find_sdists(
    pins: Sequence[tuple[str, str]], sources: Sources, python_version: str, *, cache_dir: str | None = None
) -> dict[tuple[str, str], RawWheel]:
    """{(name, version) as asked: its sdist} for the ``pins`` the sources have an sdist
    of; the rest are left out (the caller reports them as having no wheel)."""
    return {
        k: sdist for k, (sdist, _) in find_files(pins, sources, python_version, cache_dir=cache_dir).items()
    }


def find_files(
    pins: Sequence[tuple[str, str]], sources: Sources, python_version: str, *, cache_dir: str | None = None
) -> dict[tuple[str, str], tuple[RawWheel, tuple[RawWheel, ...]]]:
    """{(name, version) as asked: (its sdist, its wheels)} for the ``pins`` the sources
    have an sdist of (the pex engine locks such a pin from these: see engine_pex)."""
    from vpython import log, toml
    from vpython.lock.engine_uv import run_uv, source_args, uv_binary, uv_env
    from vpython.lock.uv_pylock import raw_sdist, raw_wheel

    if not pins:
        return {}
    source_argv, source_env = source_args(sources)
    wanted = {_version_key(n, v): (n, v) for n, v in pins}
    cmd = [
        uv_binary(),
        "pip",
        "compile",
        "-",
        "--format",
        "pylock.toml",
        "--no-config",
        "--quiet",
        "--no-header",
        "--universal",
        "--no-deps",
        "--python-version",
        python_version,
        *source_argv,
    ]
    proc = run_uv(
        cmd, "".join(f"{n}=={v}\n" for n, v in sorted(set(pins))), env=uv_env(source_env, cache_dir)
    )
    if proc.returncode != 0:
        # Not fatal: the packages are then reported as having no wheel, with uv's reason here.
        log.info(
            f"cannot look up the sdists of {', '.join(f'{n}=={v}' for n, v in pins)}: "
            + redact((proc.stderr or "").strip())
        )
        return {}
    data = toml.loads(proc.stdout)
    out: dict[tuple[str, str], tuple[RawWheel, tuple[RawWheel, ...]]] = {}
    base = os.getcwd()  # uv writes paths relative to its working directory
    for pkg in data.get("packages") or ():
        sdist = pkg.get("sdist")
        asked = wanted.get(_version_key(str(pkg.get("name")), str(pkg.get("version"))))
        if asked is None or not isinstance(sdist, dict):
            continue
        raw = raw_sdist(sdist, base)
        if raw is not None:
            wheels = (raw_wheel(w, base) for w in pkg.get("wheels") or () if isinstance(w, dict))
            out[asked] = (raw, tuple(sorted((w for w in wheels if w is not None), key=lambda w: w.filename)))
    return out
