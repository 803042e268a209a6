"""Read PEP 751 lockfiles and select the artifacts one environment installs.

Parsing, validation and selection are ``packaging.pylock``'s (markers, tags and
requires-python per the spec); this module adds file:key error messages and the
``Artifact`` record the store consumes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence

from vpython.errors import LockError, ResolutionError

if True:  # tomllib is stdlib from 3.11
    try:
        import tomllib as _toml
    except ImportError:  # pragma: no cover - 3.9/3.10
        import tomli as _toml  # type: ignore[no-redef]


@dataclass(frozen=True)
class Artifact:
    """One file to install: a wheel (sdists are refused: envs are wheel-only)."""

    name: str
    version: str
    filename: str
    sha256: str
    url: str | None = None
    path: str | None = None  # absolute local path (PEP 751 `path`, resolved against the lock dir)
    size: int | None = None


def parse_lock_text(text: str, source: str):
    """Parse and validate lockfile text; errors name the file and the key path."""
    from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError

    try:
        data = _toml.loads(text)
    except _toml.TOMLDecodeError as e:
        raise LockError(f"{source}: not valid TOML: {e}") from None
    try:
        return Pylock.from_dict(data), data
    except PylockUnsupportedVersionError as e:
        raise LockError(f"{source}: {e}", hint="upgrade vpython or re-lock with `vpython lock`") from None
    except PylockValidationError as e:
        where = f" (key {e.context})" if e.context else ""
        raise LockError(f"{source}: invalid PEP 751 lockfile{where}: {e.message}",
                        hint="re-create it with `vpython lock`") from None


def read_lock(path: str):
    """Return (Pylock, raw dict) for the lockfile at ``path``."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise LockError(f"cannot read lockfile {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise LockError(f"{path}: lockfile is not valid UTF-8") from None
    return parse_lock_text(text, path)


def select_artifacts(
    lock,
    *,
    source: str,
    environment: Mapping[str, str] | None,
    tags: Sequence,
    platform_label: str = "this interpreter",
) -> list[Artifact]:
    """The wheels ``lock`` installs into the given environment, sorted by name."""
    from packaging.pylock import PackageWheel, PylockSelectError

    base = os.path.dirname(os.path.abspath(source)) if source and not source.startswith("<") else os.getcwd()
    try:
        selected = list(lock.select(environment=dict(environment) if environment else None, tags=tags))
    except PylockSelectError as e:
        raise ResolutionError(f"{source}: cannot install on {platform_label}: {e}",
                              hint="re-lock for this platform with `vpython lock --platform ...`") from None
    out = []
    for package, dist in selected:
        if not isinstance(dist, PackageWheel):
            raise ResolutionError(
                f"{source}: package {package.name} {package.version or ''} has no wheel for "
                f"{platform_label} (only a {type(dist).__name__.replace('Package', '').lower()}); "
                "vpython installs wheels only",
                hint="pick a version that publishes a wheel for this platform",
            )
        sha = dist.hashes.get("sha256")
        if not sha:
            raise LockError(f"{source}: package {package.name}: wheel {dist.filename} has no sha256 hash")
        path = None
        if dist.path:
            path = dist.path if os.path.isabs(dist.path) else os.path.normpath(os.path.join(base, dist.path))
        out.append(Artifact(
            name=str(package.name), version=str(package.version or ""), filename=dist.filename,
            sha256=sha.lower(), url=dist.url, path=path, size=dist.size,
        ))
    out.sort(key=lambda a: (a.name, a.filename))
    return out
