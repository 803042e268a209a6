"""``vpython lock [SCRIPT | SPEC]``: resolve a spec into a PEP 751 lockfile beside it.

The lockfile is the one discovery looks for (``discover.lock_path_for``): runs of the
script install exactly its wheels. ``--check`` (for CI) exits 1 when it is missing or
stale and says which command fixes it. See docs/lock.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import TYPE_CHECKING, Any

from vpython import log
from vpython.cli.commands import ArgumentParser, add_common, out, parser
from vpython.errors import UsageError

if TYPE_CHECKING:
    from vpython.lock.early import Early
    from vpython.lock.plan import Plan
    from vpython.spec.discover import DiscoveredSpec

DESCRIPTION = (
    "Resolve a script's spec (text proto, vpython.toml or PEP 723) into a PEP 751 "
    "pylock.toml beside it, for every target platform at once."
)


def build_parser() -> ArgumentParser:
    p = parser("lock", DESCRIPTION)
    p.add_argument(
        "target", nargs="?", help="script, spec file, or directory (default: the working directory)"
    )
    p.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="TAG",
        help="target platform tag, e.g. manylinux_2_28_x86_64, macosx_11_0_arm64, win_amd64, or a "
        "full tag cp311-cp311-PLATFORM (repeatable; default: [tool.vpython] platforms, the "
        "spec's verify_pep425_tag list, or Linux/macOS/Windows x86_64+arm64)",
    )
    p.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="VERSION",
        help="target Python version X.Y (repeatable; default: the spec's)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="do not resolve: exit 1 if the lockfile is missing or stale, 0 if fresh",
    )
    p.add_argument(
        "--upgrade",
        action="append",
        nargs="?",
        const=":all:",
        default=[],
        metavar="PKG",
        help="ignore the current lockfile's pins (all, or just PKG; repeatable)",
    )
    p.add_argument("--upgrade-package", action="append", default=[], metavar="PKG", help=argparse.SUPPRESS)
    p.add_argument(
        "--exclude-newer",
        metavar="TIMESTAMP",
        help="ignore files uploaded after TIMESTAMP (RFC 3339 or a date; recorded in the lock "
        "and reused by later re-locks; 'none' drops a recorded cutoff)",
    )
    p.add_argument(
        "--engine", choices=["uv", "pex"], default=None, help="resolver (default: $VPYTHON_LOCK_ENGINE or uv)"
    )
    add_common(p)
    return p


def _split_upgrade(ns: argparse.Namespace) -> tuple[bool, list[str]]:
    """``--upgrade`` takes an optional package, so ``--upgrade script.py`` is ambiguous:
    an existing path there is the target, not a package name."""
    packages: list[str] = []
    upgrade_all = False
    for value in ns.upgrade:
        if value == ":all:":
            upgrade_all = True
        elif ns.target is None and os.path.exists(value):
            ns.target = value
            upgrade_all = True
        else:
            packages.append(value)
    packages += ns.upgrade_package
    return upgrade_all, packages


def fix_command(ns: argparse.Namespace) -> str:
    """The ``vpython lock`` command that refreshes the lock ``--check`` looked at: the
    same target, targets and sources (index, find-links, offline, engine, cutoff,
    interpreter) as the failing check, so CI's advice resolves what CI checks."""
    parts = ["vpython", "lock"]
    if ns.target:
        parts.append(ns.target)
    for p in ns.platform:
        parts += ["--platform", p]
    for v in ns.python:
        parts += ["--python", v]
    if ns.index_url:
        parts += ["--index-url", ns.index_url]
    for fl in ns.find_links:
        parts += ["--find-links", fl]
    if ns.offline:
        parts.append("--offline")
    if getattr(ns, "only_binary", False):
        parts.append("--only-binary")
    if ns.engine:
        parts += ["--engine", ns.engine]
    if ns.exclude_newer:
        parts += ["--exclude-newer", ns.exclude_newer]
    if ns.interpreter:
        parts += ["--interpreter", ns.interpreter]
    # Credentials never go to CI logs; runs get them back from the settings or ~/.netrc.
    from vpython.settings.credentials import strip_credentials_in_text

    return strip_credentials_in_text(" ".join(shlex.quote(p) for p in parts))


def _previous(lock_path: str) -> tuple[str | None, dict[str, Any] | None]:
    """(text, raw dict) of the current lockfile, or (None, None).

    Only TOML-parsed here (``packaging`` is imported later, while uv runs): its pins seed
    uv's preferences and its ``[tool.vpython]`` table a recorded exclude-newer cutoff. A
    file that is not a lockfile is ignored (and replaced).
    """
    from vpython import toml

    try:
        with open(lock_path, encoding="utf-8") as f:
            text = f.read()
        raw = toml.loads(text)
    except (OSError, UnicodeDecodeError, toml.TOMLDecodeError, ValueError) as e:
        log.warning(f"ignoring the current lockfile {lock_path}: {e}")
        return None, None
    if not isinstance(raw.get("packages"), list) or str(raw.get("lock-version", "")).split(".")[0] != "1":
        log.warning(f"ignoring the current lockfile {lock_path}: not a PEP 751 lock-version 1 file")
        return None, None
    return text, raw


def _refuse_foreign(lock_path: str, raw: dict[str, Any] | None, spec_path: str | None) -> None:
    """Another spec's lock is never overwritten: two specs whose names map to one
    lockfile (``a-b.py`` and ``a.b.py`` both lock to ``pylock.a-b.toml``) would
    otherwise replace each other's lock on every ``vpython lock``."""
    from vpython.errors import UserError
    from vpython.lock.pylock import owner_conflict

    other = owner_conflict(raw or {}, lock_path, spec_path)
    if other:
        raise UserError(
            f"this lockfile belongs to {os.path.join(os.path.dirname(lock_path), other)}, not to {spec_path}: "
            "both specs map to its name",
            path=lock_path,
            hint=(
                "rename one of them (a script locks to pylock.<name>.toml: its file name without .py, "
                "other dots turned into '-'), or delete the lockfile if that spec no longer exists"
            ),
        )


def main(args: list[str]) -> int:
    ns = build_parser().parse_args(args)
    log.set_level(ns.log_level)
    upgrade_all, upgrade_packages = _split_upgrade(ns)
    from vpython.cli.targets import discover_target, flags_from_namespace
    from vpython.lock.early import start_early
    from vpython.lock.resolve import lock

    cutoff = None if ns.exclude_newer == "none" else ns.exclude_newer  # "none" drops a recorded one
    flags = flags_from_namespace(ns, exclude_newer=cutoff)
    discovered = discover_target(ns.target)
    log.info(f"spec: {discovered.origin}")
    lock_path = discovered.lock_path
    if lock_path is None:  # discover_target always names one; the check keeps mypy and us honest
        raise UsageError(
            f"{discovered.origin}: no lockfile location for this spec",
            hint="pass the script or spec file to lock, e.g. `vpython lock tools/foo.py`",
        )
    previous_text, previous_raw = (None, None)
    if lock_path and not ns.check and os.path.isfile(lock_path):
        previous_text, previous_raw = _previous(lock_path)
        _refuse_foreign(lock_path, previous_raw, discovered.path)
    from vpython.store.root import Layout, resolve_root

    layout = Layout(resolve_root(ns.root))  # before uv starts: its cache lives in the root
    plan_kw: dict[str, Any] = {
        "cache_dir": layout.interpreters,
        "tool_cache": layout.tool_cache,
        "flags": flags,
        "platforms": ns.platform,
        "pythons": ns.python,
        "engine": ns.engine,
        "exclude_newer": ns.exclude_newer,
        "previous": previous_raw,
    }
    resolve_kw: dict[str, Any] = {
        "upgrade": upgrade_all,
        "upgrade_packages": upgrade_packages,
        "previous_text": previous_text,
        "python": ns.interpreter,
    }
    # uv starts on a provisional plan while the real one is made (probing interpreters).
    early = None if ns.check else start_early(discovered, **resolve_kw, **plan_kw)
    plan = _plan(discovered, plan_kw, early)
    shown = os.path.relpath(lock_path) if not os.path.relpath(lock_path).startswith("..") else lock_path
    if ns.check:
        return _check(ns, discovered, plan, shown)
    result, text = lock(plan, **resolve_kw, early=early)
    from vpython.lock.pylock_write import write_lock

    changed = write_lock(lock_path, text)
    verb = "wrote" if changed else "unchanged:"
    out(
        f"{verb} {shown} ({len(result.packages)} package(s), {len(plan.targets)} target(s): "
        f"{', '.join(t.key for t in plan.targets)})"
    )
    return 0


def _plan(discovered: DiscoveredSpec, plan_kw: dict[str, Any], early: Early | None) -> Plan:
    """The lock plan; a failure cancels the early uv start, whose process would outlive us."""
    from vpython.lock.plan import make_plan

    try:
        return make_plan(discovered, **plan_kw)
    except BaseException:
        if early is not None:
            early.cancel()
        raise


def _check(ns: argparse.Namespace, discovered: DiscoveredSpec, plan: Plan, shown: str) -> int:
    """``--check``: 0 when the lockfile is fresh, else 1 and the command that refreshes it."""
    from vpython.lock.freshness import staleness

    lock_path = discovered.lock_path
    assert lock_path is not None  # main() refused a spec without one
    reason = staleness(lock_path, plan.spec_hash, plan.targets, spec_path=discovered.path)
    if reason:
        sys.stderr.write(
            f"vpython: error: {shown} is stale: {reason}\n"
            f"  fix: run `{fix_command(ns)}` and commit {os.path.basename(lock_path)}\n"
        )
        return 1
    out(f"{shown} is up to date ({len(plan.targets)} target(s))")
    return 0
