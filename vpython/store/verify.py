"""``vpython cache verify [--repair]``: find store entries and envs that were edited.

Store files are read-only hardlinks shared by every env that uses them, but mode bits
do not stop root, or anyone who chmods the file first: writing to one env's file in
place changes the store entry and every other env linked to it. New envs are safe
(``entry_intact`` runs before every link and a damaged entry is rebuilt), existing
envs are not; this finds them:

* a store entry is damaged when ``entry_intact`` fails (its files' size, mtime or
  read-only mode differ from its manifest);
* an env shares the damage when one of its files is the same inode as a file of a
  damaged entry;
* an env also holds damage when one of its files has other links (so it is shared
  with the store or other envs) and was modified after the env was built (the env's
  metadata file is written last): that finds envs whose entry was already rebuilt by a
  later build, leaving the edited inode only in the envs. ``.pyc`` linked into a built
  env later, as its entries were compiled (vpython.store.pyc), are compared with the
  env's ``.vpython-pyc`` stamp instead, which is touched before each such link;
* an env holds a file that neither its skeleton template nor a manifest of its entries
  accounts for (an added ``sitecustomize.py`` or ``.pth`` runs at every start), or has no
  metadata at all (vpython did not build it);
* and anything under the root that someone other than the user could have written
  (``vpython.store.trust.audit``): reported, not repaired (the fix is a chmod, or
  deleting the root).

Repair deletes the damaged entries and the envs that use them, so the next run
rebuilds them from the verified wheels; an env held by a running script is skipped
(and its entries kept, so that a later verify still finds it).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vpython import fs
from vpython.store.envs import ENV_META, delete_env, list_envs
from vpython.store.root import list_names
from vpython.store.sizes import walk_stats

SKELETON_META = ".vpython-skeleton.json"  # vpython.env.build's record in a template; not copied

if TYPE_CHECKING:
    from vpython.store.root import Layout


@dataclass
class VerifyReport:
    """What ``scan`` found and what ``verify(repair=True)`` did about it."""

    entries_checked: int = 0
    envs_checked: int = 0
    damaged_entries: dict[str, str] = field(default_factory=dict)  # entry name -> distribution
    env_damage: dict[str, list[str]] = field(default_factory=dict)  # env key -> sorted reasons
    entry_users: dict[str, list[str]] = field(default_factory=dict)  # entry name -> env keys sharing it
    envs_deleted: list[str] = field(default_factory=list)
    envs_held: list[str] = field(default_factory=list)
    entries_deleted: list[str] = field(default_factory=list)
    entries_kept: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)  # "<path>: <why>" (vpython.store.trust.audit)

    @property
    def damaged(self) -> bool:
        return bool(self.damaged_entries or self.env_damage or self.unsafe)


def _dist_of(entry: str) -> str:
    """``name-version`` from the entry's .dist-info (for humans), or ``?``."""
    from vpython.store.manifest import read_manifest

    try:
        for rel, _, _ in read_manifest(entry):
            for p in rel.split(os.sep):
                if p.endswith(".dist-info"):
                    return p[: -len(".dist-info")]
    except (OSError, ValueError):
        pass
    return "?"


def _entry_inodes(entry: str) -> set[tuple[int, int]]:
    return {(st.st_dev, st.st_ino) for _, st in walk_stats(entry)}


def scan(layout: Layout) -> VerifyReport:
    """Check every store entry against its manifest, then every env for damage (module
    docstring). Deletes nothing."""
    from vpython.store.manifest import entry_intact
    from vpython.store.trust import audit

    report = VerifyReport(unsafe=audit(layout.root))
    damaged_inodes: dict[tuple[int, int], str] = {}  # (dev, ino) -> entry name
    for name in list_names(layout.packages):
        path = os.path.join(layout.packages, name)
        report.entries_checked += 1
        if entry_intact(path):
            continue
        report.damaged_entries[name] = _dist_of(path)
        report.entry_users[name] = []
        for ino in _entry_inodes(path):
            damaged_inodes[ino] = name
    for key in list_envs(layout):
        report.envs_checked += 1
        reasons = _env_damage(layout, key, damaged_inodes, report)
        if reasons:
            report.env_damage[key] = sorted(reasons)
    return report


def _env_damage(
    layout: Layout, key: str, damaged_inodes: dict[tuple[int, int], str], report: VerifyReport
) -> set[str]:
    """Why env ``key`` holds damage (empty: it does not); records it as a user of the
    damaged entries it shares files with."""
    from vpython.store.pyc import ENV_STAMP

    env_dir = layout.env_dir(key)
    try:
        built: int | None = os.lstat(os.path.join(env_dir, ENV_META)).st_mtime_ns
    except OSError:
        built = None  # not one of ours (or half deleted): nothing to compare with
    try:
        pyc_linked = max(os.lstat(os.path.join(env_dir, ENV_STAMP)).st_mtime_ns, built or 0)
    except OSError:
        pyc_linked = built or 0
    reasons = set(_unaccounted(layout, key))
    for path, st in walk_stats(env_dir):
        entry = damaged_inodes.get((st.st_dev, st.st_ino))
        if entry is not None:
            reasons.add(f"shares damaged store entry {entry} ({report.damaged_entries[entry]})")
            if key not in report.entry_users[entry]:
                report.entry_users[entry].append(key)
        elif (
            built is not None
            and st.st_nlink > 1
            and st.st_mtime_ns > (pyc_linked if path.endswith(".pyc") else built)
        ):
            rel = os.path.relpath(path, env_dir)
            reasons.add(
                f"{rel} (shared with {st.st_nlink - 1} other link(s)) changed after the env was built"
            )
    return reasons


def _unaccounted(layout: Layout, key: str) -> list[str]:
    """Why env ``key`` holds files nobody accounts for (``[]``: it does not). Accounted
    for: its skeleton template's files, its entries' manifests, the scripts it generated,
    its metadata and ``direct_url.json``; a ``__pycache__/<name>.*.pyc`` of an accounted
    ``<name>.py`` (Python writes those at run time)."""
    from vpython.store.envs import read_env_meta

    meta = read_env_meta(layout, key)
    if not meta:
        return [f"has no readable {ENV_META}: vpython did not build it, nothing accounts for its files"]
    expected = _expected_files(layout, meta)
    extra = []
    for rel in _env_files(layout.env_dir(key)):
        if rel in expected or _runtime_pyc(rel, expected):
            continue
        extra.append(rel)
    if not extra:
        return []
    shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
    return [f"holds {len(extra)} file(s) no manifest accounts for: {shown}"]


def _expected_files(layout: Layout, meta: dict[str, Any]) -> set[str]:
    from vpython.store.manifest import META_DIR, SCRIPTS, read_manifest
    from vpython.store.pyc import ENV_STAMP

    expected = {ENV_META, ENV_STAMP}  # the stamp: touched before .pyc are linked in (store.pyc)
    skeleton = os.path.join(layout.skeletons, str(meta.get("skeleton") or "-"))
    if os.path.isdir(skeleton):
        expected.update(r for r in _env_files(skeleton) if r != SKELETON_META)
    else:  # template collected or replaced: what virtualenv puts in every venv
        expected.update({"pyvenv.cfg", ".gitignore", "CACHEDIR.TAG", "lib64"})
        expected.update(os.path.join("bin", n) for n in ("python", "python3", f"python{_venv_version(meta)}"))
    for name in meta.get("entries") or ():
        entry = os.path.join(layout.packages, str(name))
        try:
            rels = [rel for rel, _, _ in read_manifest(entry)]
        except (OSError, ValueError):
            continue  # gone: nothing to compare with (a later build would rebuild it)
        expected.update(rels)
        expected.update(
            os.path.join(os.path.dirname(r), "direct_url.json")
            for r in rels
            if r.endswith(".dist-info/RECORD")
        )
        try:
            with open(os.path.join(entry, META_DIR, SCRIPTS), encoding="utf-8") as f:
                expected.update(os.path.join("bin", str(s["name"])) for s in json.load(f))
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return expected


def _venv_version(meta: dict[str, Any]) -> str:
    """``X.Y`` of the env's interpreter from its recorded path (``python3.11``), or ``3``."""
    base = os.path.basename(str(meta.get("interpreter", "")))
    return base[len("python") :] if base.startswith("python3.") else "3"


def _env_files(top: str) -> list[str]:
    """Every non-directory below ``top``, relative, sorted; a symlink to a directory counts
    as a file (it is not followed: what it points at is not the env's)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        rel_dir = os.path.relpath(dirpath, top)
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        for name in filenames + links:
            out.append(os.path.normpath(os.path.join(rel_dir, name)))
    return sorted(out)


def _runtime_pyc(rel: str, expected: set[str]) -> bool:
    parent, name = os.path.split(rel)
    if os.path.basename(parent) != "__pycache__" or not name.endswith(".pyc"):
        return False
    return os.path.join(os.path.dirname(parent), name.split(".", 1)[0] + ".py") in expected


def verify(layout: Layout, repair: bool = False) -> VerifyReport:
    """Scan (under the shared store lock: gc cannot delete meanwhile) or, with
    ``repair``, scan and delete under the exclusive one (no build is linking from an
    entry we delete, and none rebuilds one between the scan and the delete)."""
    from vpython.store.locks import flocked, store_lock_path

    if not os.path.isdir(layout.base):
        return VerifyReport()
    with flocked(store_lock_path(layout), exclusive=repair, read_only_ok=not repair):
        report = scan(layout)
        if not repair:
            return report
        for key in sorted(report.env_damage):
            (report.envs_deleted if delete_env(layout, key) else report.envs_held).append(key)
        held = set(report.envs_held)
        for name in sorted(report.damaged_entries):
            if held.intersection(report.entry_users.get(name, ())):
                report.entries_kept.append(name)  # still found by the next verify
                continue
            fs.discard_tree(os.path.join(layout.packages, name), layout.tmp)
            report.entries_deleted.append(name)
    return report
