"""Read, select from and write PEP 751 lockfiles.

Parsing, validation and selection are ``packaging.pylock``'s (markers, tags and
requires-python per the spec); this module adds file:key error messages and the
``Artifact`` record the store consumes; the one writer every lock engine goes through is
``vpython.lock.pylock_write``.

Errors about a lockfile are ``LockError``s whose ``path`` is the lockfile and whose
``key`` is the PEP 751 key path (``packages[3].wheels[0].hashes``) or ``line``/``column``
the TOML syntax error.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vpython import toml
from vpython.errors import LockError, ResolutionError

if TYPE_CHECKING:
    from packaging.pylock import Package, PackageArchive, PackageSdist, PackageWheel, Pylock
    from packaging.tags import Tag


_RELOCK = "re-create it with `vpython lock`"


@dataclass(frozen=True)
class Artifact:
    """One file to install: a wheel, or (``kind == "sdist"``) an sdist that the env layer
    turns into the wheel built from it (vpython.env.built), whose Artifact then names
    the sdist's sha256 in ``built_from``."""

    name: str
    version: str
    filename: str
    sha256: str
    url: str | None = None
    path: str | None = None  # absolute local path (PEP 751 `path`, resolved against the lock dir)
    size: int | None = None
    # PEP 610: set only when the spec asked for this package by a direct reference
    # (``name @ url``); the env then records it in ``direct_url.json``.
    direct_url: str | None = None
    kind: str = "wheel"  # "sdist": build the wheel first
    built_from: str | None = None  # a wheel built from the sdist with this sha256


def parse_lock_text(text: str, source: str) -> tuple[Pylock, dict[str, Any]]:
    """Parse and validate lockfile text; errors name the file (``source``) and the key path."""
    from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError

    try:
        data = toml.loads(text)
    except toml.TOMLDecodeError as e:
        from vpython.spec.toml_positions import decode_error_position

        message, line, column = decode_error_position(e, text)
        raise LockError(
            f"not valid TOML: {message}",
            path=source,
            line=line,
            column=column,
            hint=f"fix the syntax, or {_RELOCK}",
        ) from None
    try:
        lock = Pylock.from_dict(data)
    except PylockUnsupportedVersionError as e:
        # Name the key, like every other lockfile error (found by the parser fuzzing in
        # tests/reliability/test_hostile_specs.py).
        raise LockError(
            str(e), path=source, key="lock-version", hint="upgrade vpython or re-lock with `vpython lock`"
        ) from None
    except PylockValidationError as e:
        raise LockError(
            f"invalid PEP 751 lockfile: {e.message}", path=source, key=e.context or None, hint=_RELOCK
        ) from None
    _check_sizes(data, source)
    return lock, data


def _check_sizes(data: dict[str, Any], source: str) -> None:
    """A size is a byte count: ``size = -5`` is invalid here, not a mismatch at download
    time (packaging accepts any integer)."""
    for i, pkg in enumerate(data.get("packages") or ()):
        if not isinstance(pkg, dict):
            continue
        artifacts = [(f"packages[{i}].wheels[{j}]", w) for j, w in enumerate(pkg.get("wheels") or ())]
        artifacts += [(f"packages[{i}].{k}", pkg[k]) for k in ("sdist", "archive") if k in pkg]
        for where, artifact in artifacts:
            size = artifact.get("size") if isinstance(artifact, dict) else None
            if isinstance(size, int) and not isinstance(size, bool) and size < 0:
                raise LockError(
                    f"invalid PEP 751 lockfile: size {size} is negative",
                    path=source,
                    key=f"{where}.size",
                    hint=_RELOCK,
                )


def read_lock(path: str) -> tuple[Pylock, dict[str, Any]]:
    """Return (Pylock, raw dict) for the lockfile at ``path``."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise LockError(
            f"cannot read the lockfile: {e.strerror}", path=path, hint="check that it exists and is readable"
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise LockError(
            "lockfile is not valid UTF-8", path=path, line=line, hint=f"save it as UTF-8, or {_RELOCK}"
        ) from None
    # As open(..., encoding="utf-8") reads it (universal newlines).
    return parse_lock_text(text.replace("\r\n", "\n").replace("\r", "\n"), path)


def select_artifacts(
    lock: Pylock,
    *,
    source: str,
    environment: Mapping[str, str] | None,
    tags: Sequence[Tag] | None,
    platform_label: str = "this interpreter",
) -> list[Artifact]:
    """The wheels ``lock`` installs into the given environment, sorted by name; a
    package with no wheel for it but an sdist gives an ``kind="sdist"`` Artifact."""
    from packaging.pylock import PackageArchive, PackageSdist, PackageWheel, PylockSelectError

    base = os.path.dirname(os.path.abspath(source)) if source and not source.startswith("<") else os.getcwd()
    env: Any = dict(environment) if environment else None  # packaging's Environment TypedDict
    try:
        selected = list(lock.select(environment=env, tags=tags))
    except PylockSelectError as e:
        raise ResolutionError(
            f"cannot install on {platform_label}: {e}",
            path=source,
            hint="re-lock for this platform with `vpython lock --platform ...`",
        ) from None
    out = []
    for package, dist in selected:
        key = _package_key(lock, package)
        if isinstance(dist, PackageArchive) and _archive_filename(dist).endswith(".whl"):
            # A direct reference to a wheel (`name @ https://.../x.whl`) is locked as an
            # `archive` (PEP 751); it installs like any wheel once its tags fit.
            dist = _archive_as_wheel(dist, package, source, key, tags, platform_label)
        elif isinstance(dist, PackageWheel):
            key += f".wheels[{_index(package.wheels or (), dist)}]"
        elif isinstance(dist, PackageSdist):
            out.append(_sdist_artifact(package, dist, base, source, f"{key}.sdist"))
            continue
        if not isinstance(dist, PackageWheel):
            raise ResolutionError(
                f"package {package.name} {package.version or ''} has no wheel for "
                f"{platform_label} (only a {type(dist).__name__.replace('Package', '').lower()}); "
                "vpython installs wheels only",
                path=source,
                key=key,
                hint="pick a version that publishes a wheel for this platform",
            )
        out.append(_artifact(package, dist, base, source, key))
    out.sort(key=lambda a: (a.name, a.filename))
    return out


def _artifact(package: Package, wheel: PackageWheel, base: str, source: str, key: str) -> Artifact:
    """The Artifact for a selected wheel; a relative ``path`` is resolved against ``base``."""
    sha = wheel.hashes.get("sha256")
    if not sha:
        raise LockError(
            f"package {package.name}: wheel {wheel.filename} has no sha256 hash",
            path=source,
            key=f"{key}.hashes",
            hint=f"vpython installs only wheels it can verify: {_RELOCK}",
        )
    path = None
    if wheel.path:
        path = wheel.path if os.path.isabs(wheel.path) else os.path.normpath(os.path.join(base, wheel.path))
    return Artifact(
        name=str(package.name),
        version=str(package.version or ""),
        filename=wheel.filename,
        sha256=sha.lower(),
        url=wheel.url,
        path=path,
        size=wheel.size,
    )


def _sdist_artifact(package: Package, sdist: PackageSdist, base: str, source: str, key: str) -> Artifact:
    """The Artifact of a selected sdist (built into a wheel before it is installed)."""
    sha = sdist.hashes.get("sha256")
    if not sha:
        raise LockError(
            f"package {package.name}: its sdist has no sha256 hash",
            path=source,
            key=f"{key}.hashes",
            hint=f"vpython builds only sdists it can verify: {_RELOCK}",
        )
    filename = sdist.filename
    path = None
    if sdist.path:
        path = sdist.path if os.path.isabs(sdist.path) else os.path.normpath(os.path.join(base, sdist.path))
    return Artifact(
        name=str(package.name),
        version=str(package.version or ""),
        filename=filename,
        sha256=sha.lower(),
        url=sdist.url,
        path=path,
        size=sdist.size,
        kind="sdist",
    )


def _index(items: Iterable[object], item: object) -> int:
    """Position of ``item`` (by identity: packaging's records compare by value)."""
    return next((i for i, x in enumerate(items) if x is item), -1)


def _package_key(lock: Pylock, package: Package) -> str:
    return f"packages[{_index(lock.packages, package)}]"


def _archive_filename(archive: PackageArchive) -> str:
    from urllib.parse import unquote, urlsplit

    where = archive.url or archive.path or ""
    return unquote(os.path.basename(urlsplit(where).path if archive.url else where))


def _archive_as_wheel(
    archive: PackageArchive,
    package: Package,
    source: str,
    key: str,
    tags: Sequence[Tag] | None,
    platform_label: str,
) -> PackageWheel:
    from packaging.pylock import PackageWheel
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    filename = _archive_filename(archive)
    try:
        _, _, _, wheel_tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as e:
        raise LockError(
            f"package {package.name}: {e}",
            path=source,
            key=f"{key}.archive",
            hint="reference a wheel file (name-version-python-abi-platform.whl)",
        ) from None
    if tags is not None and not set(wheel_tags) & set(tags):
        raise ResolutionError(
            f"package {package.name}: {filename} does not fit {platform_label}",
            path=source,
            key=f"{key}.archive",
            hint="reference a wheel built for this platform",
        )
    return PackageWheel(
        name=filename,
        url=archive.url,
        path=archive.path,
        size=archive.size,
        hashes=archive.hashes,
        upload_time=None,
    )


def spec_path_in_lock(lock_path: str, spec_path: str) -> str:
    """The spec's path as ``[tool.vpython] spec`` records it: relative to the lockfile's
    directory, '/'-separated (no absolute paths in the file)."""
    rel = os.path.relpath(os.path.abspath(spec_path), os.path.dirname(os.path.abspath(lock_path)))
    return rel.replace(os.sep, "/")


def owner_conflict(raw: Mapping[str, Any], lock_path: str, spec_path: str | None) -> str | None:
    """The other spec a lockfile belongs to, or None when it is ours (or records none:
    locks written before ``spec`` was recorded are accepted as before)."""
    if not spec_path:
        return None
    other = recorded(raw).get("spec")
    if not isinstance(other, str) or not other:
        return None
    if _owner(other) == _owner(spec_path_in_lock(lock_path, spec_path)):
        return None
    return other


def _owner(rel: str) -> tuple[str, str]:
    """Who a lock serves: a script's partner file and its inline block are one owner
    (``tool.py.vpython3`` = ``tool.py``), and so are a directory's ``.vpython3`` and
    ``vpython.toml``: switching between them is an edit of the spec, not a collision."""
    head, _, base = rel.rpartition("/")
    if base in (".vpython3", "vpython.toml"):
        return head, "<directory spec>"
    if base.endswith(".vpython3") and len(base) > len(".vpython3"):
        base = base[: -len(".vpython3")]
    return head, base


def recorded(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The lockfile's ``[tool.vpython]`` table ({} when absent or malformed)."""
    tool = raw.get("tool")
    if not isinstance(tool, dict):
        return {}
    table = tool.get("vpython")
    return table if isinstance(table, dict) else {}
