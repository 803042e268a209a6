"""The per-digest plan: what the slow path chose for a spec, kept to skip it next time.

Each spec digest that was built once also gets a *plan* (``locks/<digest>.plan.json``):
the interpreter, the selected artifacts and the env key that the slow path computed.
A cold env whose plan is still valid (its env deleted, say by gc, while the store and
the resolution remain) skips spec parsing, interpreter probing, settings, the lock and
``packaging`` altogether and goes straight to linking. The plan is keyed by the same
spec digest as the warm-path pointer (spec text, lockfile bytes, settings, config
file, platform) and is used only while the interpreter's identity, the lock it was
selected from (size, mtime, inode), the spec and lock paths and the vpython version
are unchanged; any difference is a miss, and the slow path writes a new plan. Like the
pointer, a plan keeps its interpreter while that binary is unchanged: a newer matching
Python installed later is chosen when the spec, its lock or the settings change.

Loading a plan imports only ``json`` (no tomllib, packaging or dataclasses): the
records here are plain slotted classes.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from vpython import FORMAT_VERSION, __version__, fs, log
from vpython.interpreters.identity import interpreter_id

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vpython.spec.discover import DiscoveredSpec
    from vpython.store.protocols import LockedArtifact, TargetInterpreter
    from vpython.store.root import Layout

PLAN_FORMAT = f"vpython-plan/1/{FORMAT_VERSION}"


class PlanInterpreter:
    """What building needs of an Interpreter (see vpython.interpreters), from a plan."""

    __slots__ = ("cache_tag", "path", "version")

    def __init__(self, path: str, version: tuple[int, ...], cache_tag: str | None) -> None:
        self.path = path
        self.version = version
        self.cache_tag = cache_tag


class PlanArtifact:
    """An Artifact (vpython.lock.pylock) read back from a plan, with the same attributes,
    without importing the lock machinery (tomllib, packaging, dataclasses). Every field
    the plan holds becomes an attribute, whatever Artifact grows."""

    REQUIRED = ("name", "version", "filename", "sha256")

    name: str
    version: str
    filename: str
    sha256: str
    url: str | None
    path: str | None
    size: int | None
    direct_url: str | None
    kind: str
    built_from: str | None

    def __init__(self, fields: dict[str, Any]) -> None:
        for f in self.REQUIRED:
            if not isinstance(fields[f], str):
                raise TypeError(f)
        self.url = self.path = self.size = self.direct_url = self.built_from = None
        self.kind = "wheel"
        self.__dict__.update(fields)


class Plan:
    """A valid plan: build env ``key`` on ``interp`` from ``artifacts``; show ``warnings``."""

    __slots__ = ("artifacts", "interp", "key", "warnings")

    def __init__(
        self, interp: PlanInterpreter, artifacts: list[PlanArtifact], key: str, warnings: list[str]
    ) -> None:
        self.interp = interp
        self.artifacts = artifacts
        self.key = key
        self.warnings = warnings


def plan_path(layout: Layout, digest: str) -> str:
    return os.path.join(layout.locks, digest + ".plan.json")


def lock_stamp(path: str | None) -> list[int] | None:
    """What changes when a lock file is rewritten, deleted or replaced (size, mtime,
    inode). Raises OSError when ``path`` is gone."""
    if path is None:
        return None
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def load_plan(layout: Layout, digest: str, discovered: DiscoveredSpec) -> Plan | None:
    """The plan for ``digest`` if it is still valid (module docstring), else None."""
    from vpython.env.build import env_key

    try:
        with open(plan_path(layout, digest), encoding="utf-8") as f:
            data = json.load(f)
        if (
            data["format"] != PLAN_FORMAT
            or data["vpython"] != __version__
            or data["digest"] != digest
            or data["spec_path"] != discovered.path
            or data["lock_path"] != discovered.lock_path
        ):
            return None
        i = data["interpreter"]
        if interpreter_id(i["path"]) != i["id"] or lock_stamp(data["lock_source"]) != data["lock_stamp"]:
            return None
        interp = PlanInterpreter(i["path"], tuple(i["version"]), i["cache_tag"])
        artifacts = [PlanArtifact(a) for a in data["artifacts"]]
        if any(a.kind != "wheel" or (a.built_from and not os.path.isfile(str(a.path))) for a in artifacts):
            # A wheel built from an sdist that gc has since collected: the slow path builds
            # it again (from the same lock: nothing is resolved again).
            return None
        key = env_key(interp, artifacts)
        if key != data["env_key"]:
            return None
        return Plan(interp, artifacts, key, [str(w) for w in data["warnings"]])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, unreadable or stale: the slow path writes a new one


def save_plan(
    layout: Layout,
    digest: str,
    discovered: DiscoveredSpec,
    interp: TargetInterpreter,
    artifacts: Sequence[LockedArtifact],
    key: str,
    lock_source: str | None,
    warnings: list[str],
) -> None:
    """Record what the slow path chose for ``digest``. Never an error: a plan that
    cannot be written only costs speed next time."""
    from vpython.settings.credentials import strip_credentials

    if any(a.url and strip_credentials(a.url) != a.url for a in artifacts):
        # A hand-written lock whose URLs carry credentials: the cache root holds none, so
        # such a spec gets no plan (it only runs the slow path again).
        log.debug(f"no plan for {digest}: a locked URL carries credentials")
        return
    data = {
        "format": PLAN_FORMAT,
        "vpython": __version__,
        "digest": digest,
        "spec_path": discovered.path,
        "lock_path": discovered.lock_path,
        "interpreter": {
            "path": interp.path,
            "id": interpreter_id(interp.path),
            "version": list(interp.version),
            "cache_tag": interp.cache_tag,
        },
        "lock_source": lock_source,
        "lock_stamp": lock_stamp(lock_source),
        "artifacts": [dict(vars(a)) for a in artifacts],  # every field, whatever Artifact grows
        "env_key": key,
        "warnings": warnings,
    }
    try:
        text = json.dumps(data, indent=1, sort_keys=True)
    except (TypeError, ValueError) as e:  # a field JSON cannot hold: no plan, only slower
        log.debug(f"cannot save the plan for {digest}: {e}")
        return
    try:
        os.makedirs(layout.locks, exist_ok=True)
        fs.write_atomic(plan_path(layout, digest), text, mode=None, prefix=".lock-")
    except OSError as e:  # a read-only cache only costs speed
        log.debug(f"cannot save the plan for {digest}: {e}")
