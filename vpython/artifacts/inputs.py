"""What a build is made of: a lock, one target, and the verified wheel files.

* **Lock.** ``--lock FILE`` as given; else the spec's lockfile when it exists and its
  recorded spec hash matches; else a resolution made now and kept in the cache
  (``<root>/v1/locks/build-<digest>.pylock.toml``), never written beside the spec, for
  ``--platform``, else the spec's declared platforms, else this machine's own tag. A
  build never resolves when it has a lock.
* **Target.** ``--platform`` / ``--python`` name it; the lock's ``[tool.vpython]
  targets`` must contain it (else exit 2 naming it and listing what the lock has).
  Without ``--platform``: the lock's target for this machine's OS and CPU. The wheels
  are chosen by ``packaging.pylock`` with that target's marker environment and tag list
  (``vpython.lock.targets``): no target interpreter is run.
* **Wheels.** Looked up by file name in ``--find-links`` directories and verified there
  against the lock's sha256 (no copy, no network, no cache writes: what a Bazel action
  needs); else the lock's local ``path``; else the wheel store, which downloads from the
  lock's URL unless ``--offline``.
"""

from __future__ import annotations

import hashlib
import os
import platform as _platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from vpython import log
from vpython.errors import IntegrityError, UserError
from vpython.lock import targets as tg

if TYPE_CHECKING:
    from packaging.pylock import Pylock

    from vpython.artifacts.model import BuildFlags, Wheels
    from vpython.lock.pylock import Artifact
    from vpython.settings.sources import Sources
    from vpython.spec.discover import DiscoveredSpec
    from vpython.store.root import Layout


@dataclass
class LockChoice:
    lock: Pylock | None  # None for an empty spec
    raw: dict[str, Any]
    path: str | None  # the lockfile read (None: nothing to install)
    recorded_targets: list[tg.Target]
    sha256: str | None = None


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read(path: str) -> LockChoice:
    from vpython.lock.pylock import read_lock, recorded

    lock, raw = read_lock(path)
    return LockChoice(lock, raw, path, tg.parse_recorded(recorded(raw).get("targets")), _sha256_file(path))


# ------------------------------------------------------------------------ target


def host_platform() -> str:
    """This machine's most specific platform tag (manylinux_2_36_x86_64, macosx_14_0_arm64 ...)."""
    from packaging.tags import platform_tags

    found = []
    for tag in platform_tags():
        try:
            found.append(tg.parse_platform(tag))
        except UserError:
            continue
    # Recent packaging lists the bare `linux_<arch>` first; a PEP 600 tag says more (glibc).
    for tag in found:
        if not tag.startswith("linux_"):
            return tag
    if found:
        return found[0]
    raise UserError("cannot tell this machine's platform tag", hint="pass --platform TAG")


def _os_arch(t: tg.Target) -> tuple[str, str]:
    env = t.environment()
    machine = {"aarch64": "arm64", "amd64": "x86_64", "AMD64": "x86_64", "ARM64": "arm64"}.get(
        env["platform_machine"], env["platform_machine"]
    )
    return env["sys_platform"], machine


def _host_os_arch() -> tuple[str, str]:
    machine = _platform.machine()
    machine = {"aarch64": "arm64", "amd64": "x86_64", "AMD64": "x86_64", "ARM64": "arm64"}.get(
        machine, machine
    )
    return sys.platform, machine


def choose_target(
    choice: LockChoice,
    platform: str | None,
    python: str | None,
    fallback_python: Callable[[], tuple[int, ...]],
) -> tg.Target:
    """The one target this build is for, checked against what the lock covers."""
    want_version = tg.parse_python_version(python) if python else None
    if platform is not None:
        return _target_for_platform(choice, platform, python, want_version, fallback_python)
    return _target_for_this_machine(choice, python, want_version, fallback_python)


def _target_for_platform(
    choice: LockChoice,
    platform: str,
    python: str | None,
    want_version: tuple[int, ...] | None,
    fallback_python: Callable[[], tuple[int, ...]],
) -> tg.Target:
    """``--platform`` (and maybe ``--python``): that target, which the lock must have."""
    recorded = choice.recorded_targets
    full = len(platform.strip().split("-")) == 3
    wanted: tg.Target = tg.parse_target(platform, [want_version or (0, 0)], "--platform")[0]
    if full and want_version and tuple(wanted.python[:2]) != tuple(want_version[:2]):
        raise UserError(
            f"--platform {platform} names Python {wanted.python_version} but --python is {python}",
            hint="drop --python, or give --platform without its cpXY-cpXY- prefix",
        )
    if not recorded:
        if wanted.python == (0, 0):
            wanted = replace(wanted, python=tuple(fallback_python()[:2]))
        return wanted
    same_platform = [
        t for t in recorded if t.platform == wanted.platform and (not wanted.abi or t.abi == wanted.abi)
    ]
    if wanted.python != (0, 0):
        same_platform = [t for t in same_platform if tuple(t.python[:2]) == tuple(wanted.python[:2])]
    if len(same_platform) > 1:
        raise UserError(
            f"--platform {platform}: the lock {choice.path} has it for Python "
            f"{', '.join(t.python_version for t in same_platform)}",
            hint="pass --python X.Y",
        )
    if not same_platform:
        shown = wanted.key if wanted.python != (0, 0) else wanted.platform
        raise UserError(
            f"the lock {choice.path} has no target {shown}; it covers: {', '.join(t.key for t in recorded)}",
            hint=(
                f"lock for it first: vpython lock --platform {wanted.platform}"
                + (f" --python {wanted.python_version}" if wanted.python != (0, 0) else "")
                + " (plus the platforms you already lock for), or build one of the listed targets"
            ),
        )
    return same_platform[0]


def _target_for_this_machine(
    choice: LockChoice,
    python: str | None,
    want_version: tuple[int, ...] | None,
    fallback_python: Callable[[], tuple[int, ...]],
) -> tg.Target:
    """No ``--platform``: the lock's target for this machine's OS and CPU."""
    recorded = choice.recorded_targets
    host = _host_os_arch()
    if not recorded:
        version = want_version or tuple(fallback_python()[:2])
        return tg.Target(tuple(version[:2]), host_platform())
    mine = [t for t in recorded if _os_arch(t) == host]
    if want_version:
        mine = [t for t in mine if tuple(t.python[:2]) == tuple(want_version[:2])]
    if not mine:
        what = f"{host[0]} {host[1]}" + (f" with Python {python}" if python else "")
        raise UserError(
            f"the lock {choice.path} has no target for this machine ({what}); it covers: "
            f"{', '.join(t.key for t in recorded)}",
            hint="pass --platform TAG (and --python X.Y) to build one of those",
        )
    # Prefer what this machine can run, most specific first in its own tag order (so the
    # highest glibc / macOS floor it supports, manylinux before musllinux on glibc);
    # a target it cannot run (a newer floor) still builds, for deploying elsewhere.
    rank = {p: i for i, p in enumerate(_host_platform_tags())}
    mine.sort(key=lambda t: (rank.get(t.platform, len(rank)), t.python, t.platform))
    return mine[0]


def _host_platform_tags() -> list[str]:
    from packaging.tags import platform_tags

    return list(platform_tags())


# ------------------------------------------------------------------------ lock


def obtain(
    discovered: DiscoveredSpec,
    *,
    lock_flag: str | None,
    flags: BuildFlags,
    layout_factory: Callable[[], Layout],
    platform: str | None,
    python: str | None,
) -> LockChoice:
    """The lock this build installs (see the module docstring)."""
    if lock_flag:
        if not os.path.isfile(lock_flag):
            raise UserError(f"--lock {lock_flag}: no such file", hint="pass the pylock.toml to build from")
        return _read(lock_flag)
    if discovered.kind == "empty":
        return LockChoice(None, {}, None, [])
    from vpython.lock.pylock import recorded as recorded_table
    from vpython.spec.load import spec_hash

    lock_path = discovered.lock_path
    if lock_path and os.path.isfile(lock_path):
        choice = _read(lock_path)
        stamp = recorded_table(choice.raw).get("spec-hash")
        if stamp is None or stamp == spec_hash(discovered):
            log.info(f"building from lockfile {lock_path}")
            return choice
        log.warning(
            f"{lock_path} is stale: {discovered.path} changed since it was locked; "
            f"locking into the cache for this build (run `vpython lock {discovered.path}` to update it)"
        )
    return _lock_into_cache(discovered, flags, layout_factory(), platform, python)


def _lock_into_cache(
    discovered: DiscoveredSpec, flags: BuildFlags, layout: Layout, platform: str | None, python: str | None
) -> LockChoice:
    from vpython.lock.plan import make_plan
    from vpython.lock.pylock import parse_lock_text
    from vpython.lock.pylock_write import write_lock
    from vpython.lock.resolve import lock

    pythons = [python] if python else []
    # --platform, else the spec's declared platforms (the same on every builder), else
    # this machine's own most specific tag: that one depends on the builder (its glibc
    # or macOS version), which docs/artifacts.md and `vpython build --help` say.
    plan = make_plan(
        discovered,
        flags=flags,
        platforms=[platform] if platform else [],
        pythons=pythons,
        cache_dir=layout.interpreters,
        tool_cache=layout.tool_cache,
    )
    if not platform and plan.target_origin == "default platforms":
        plan = make_plan(
            discovered,
            flags=flags,
            platforms=[host_platform()],
            pythons=pythons,
            cache_dir=layout.interpreters,
            tool_cache=layout.tool_cache,
        )
    key = hashlib.sha256(
        "\n".join([plan.spec_hash, *[t.key for t in plan.targets], repr(plan.sources), plan.engine]).encode()
    ).hexdigest()[:32]
    cached = os.path.join(layout.locks, f"build-{key}.pylock.toml")
    if os.path.isfile(cached):
        log.info(f"building from the cached resolution {cached}")
        return _read(cached)
    os.makedirs(layout.locks, exist_ok=True)
    # Relative wheel paths in the lock are written relative to where the lock will live.
    plan = replace(plan, lock_path=cached)
    log.progress(
        f"no lockfile for {discovered.path}: locking {', '.join(t.key for t in plan.targets)} into the cache"
    )
    _, text = lock(plan)
    parse_lock_text(text, cached)
    write_lock(cached, text)
    return _read(cached)


# ------------------------------------------------------------------------ wheels


def select(choice: LockChoice, target: tg.Target) -> list[Artifact]:
    from vpython.lock.pylock import select_artifacts

    if choice.lock is None:
        return []
    return select_artifacts(
        choice.lock,
        source=choice.path or "",  # a lock read from a file always has one
        environment=target.environment(),
        tags=target.tags(),
        platform_label=target.key,
    )


def built_for_target(
    artifacts: Sequence[Artifact],
    target: tg.Target,
    sources: Sources,
    layout_factory: Callable[[], Layout],
) -> list[Artifact]:
    """``artifacts`` with each sdist replaced by the wheel built from it, the way a run
    builds it (vpython.env.built). Only for a target this machine runs itself (its OS,
    CPU, and a local CPython of the target's version whose tags include the target's
    platform): a wheel compiled here cannot be made for another platform, so a foreign
    target's sdist is refused by name (exit 2) with the ways out."""
    sdists = [a for a in artifacts if a.kind == "sdist"]
    if not sdists:
        return list(artifacts)
    listed = ", ".join(f"{a.name} {a.version}" for a in sdists)
    first = sdists[0]
    interp = _host_interpreter_for(target, layout_factory)
    if interp is None:
        raise UserError(
            f"cannot build {target.key}: {listed} {'has' if len(sdists) == 1 else 'have'} no wheel for it, "
            "only an sdist, and vpython builds wheels from sdists only for the machine it runs on "
            f"(this one is {host_platform()})",
            hint=(
                f"build the artifact on a {target.key} machine, supply a wheel of {first.name} {first.version} "
                f"for {target.platform} with --find-links, or pick a version of {first.name} that publishes one"
            ),
        )
    from vpython.env.built import realize

    log.info(f"building {listed} from source for {target.key} with {interp.path}")
    return realize(artifacts, interp, sources, layout_factory(), wheel_dirs=tuple(local_wheel_dirs(sources)))


def _host_interpreter_for(target: tg.Target, layout_factory: Callable[[], Layout]) -> Any:
    """A local CPython that can build for ``target`` (see ``built_for_target``), or None."""
    from vpython.errors import VPythonError

    if _os_arch(target) != _host_os_arch():
        return None
    from vpython.interpreters.select import select_interpreter
    from vpython.interpreters.tags import target_tags

    try:
        interp = select_interpreter(version=target.python_version, cache_dir=layout_factory().interpreters)
    except VPythonError:
        return None
    if tuple(interp.version[:2]) != tuple(target.python[:2]):
        return None
    wanted = {str(t) for t in target.tags()[:1]}
    return interp if wanted & {str(t) for t in target_tags(interp)} else None


def local_wheel_dirs(sources: Sources) -> list[str]:
    out = []
    for fl in sources.find_links:
        if fl.startswith("file:"):
            from urllib.parse import urlsplit
            from urllib.request import url2pathname

            fl = url2pathname(urlsplit(fl).path)
        if "://" in fl:
            continue
        out.append(fl)
    return out


def _verified_in_place(artifact: Artifact, path: str) -> str:
    actual = _sha256_file(path)
    if actual != artifact.sha256:
        raise IntegrityError(
            f"hash mismatch for {artifact.filename}: the lock expects sha256 {artifact.sha256} "
            f"but the file has sha256 {actual}",
            path=path,
            hint="the file is not the one that was locked; replace it or re-lock",
        )
    return path


def wheel_files(
    artifacts: Sequence[Artifact], sources: Sources, layout_factory: Callable[[], Layout]
) -> Wheels:
    """[(Artifact, verified local path)] in the artifacts' order."""
    dirs = local_wheel_dirs(sources)
    found: dict[str, str] = {}
    todo: list[Artifact] = []
    for a in artifacts:
        for d in dirs:
            candidate = os.path.join(d, a.filename)
            if os.path.isfile(candidate):
                found[a.sha256] = _verified_in_place(a, candidate)
                break
        else:
            if a.path and os.path.isfile(a.path):
                found[a.sha256] = _verified_in_place(a, a.path)
            else:
                todo.append(a)
    if todo:
        from vpython.store import wheels

        layout = layout_factory()
        try:
            found.update(wheels.fetch_all(todo, layout, sources, wheel_dirs=dirs, progress=log.progress))
        except UserError as e:
            if sources.offline:
                raise UserError(
                    f"{e.message} (looked in --find-links: {', '.join(dirs) or 'none given'})",
                    hint="pass --find-links DIR with the locked wheel files",
                ) from None
            raise
        for a in todo:  # the store verified on the way in; check again before shipping
            _verified_in_place(a, found[a.sha256])
    return [(a, found[a.sha256]) for a in artifacts]
