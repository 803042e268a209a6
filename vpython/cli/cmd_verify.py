"""``vpython verify [SCRIPT | SPEC]`` and ``vpython -vpython-tool verify ...``: can the
spec be installed on every platform it targets?

With a fresh lockfile: every target recorded in it (plus, for a text-proto spec, every
``verify_pep425_tag``; plus ``[tool.vpython] platforms``) must find a wheel for every
package its markers select. Without one (or with a stale one): the spec is resolved for
those targets (nothing is written). One line per target; exit 1 when any target has a
gap, naming the package and the platform.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from vpython import log
from vpython.cli.commands import add_common, out, parser

if TYPE_CHECKING:
    from packaging.markers import Environment
    from packaging.pylock import Pylock

    from vpython.cli.flags import VPythonFlags
    from vpython.lock.targets import Target
    from vpython.spec.discover import DiscoveredSpec
    from vpython.spec.model import Spec
    from vpython.store.root import Layout

# target key -> (problems, number of packages checked, packages built there from an sdist)
Report = dict[str, tuple[list[str], int, list[str]]]


def _lock_gaps(lock: Pylock, targets: Sequence[Target]) -> Report:
    """{target key: [problem]} for a parsed Pylock."""
    from packaging.pylock import PackageSdist, PackageWheel, PylockSelectError
    from packaging.tags import create_compatible_tags_selector
    from packaging.utils import parse_wheel_filename

    report: Report = {}
    for t in targets:
        problems: list[str] = []
        env = t.environment()
        tags = t.tags()
        selector = create_compatible_tags_selector(tags)
        lock_env: dict[str, str | frozenset[str]] = {
            **env,
            "extras": frozenset(),
            "dependency_groups": frozenset(),
        }
        count = 0
        if lock.environments and not any(
            m.evaluate(lock_env, context="lock_file") for m in lock.environments
        ):
            shown = ", ".join(str(m) for m in lock.environments)
            report[t.key] = (
                [f"the lock's environments ({shown}) exclude {t.key}: re-lock with --platform {t.platform}"],
                0,
                [],
            )
            continue
        builds: list[str] = []
        for package in lock.packages:
            if package.marker and not package.marker.evaluate(lock_env, context="lock_file"):
                continue
            count += 1
            wheels = package.wheels or []
            best = next(selector((w, parse_wheel_filename(w.filename)[-1]) for w in wheels), None)
            if best is None and package.sdist is not None:
                builds.append(f"{package.name} {package.version or ''}".rstrip())
            elif best is None:
                have = ", ".join(sorted(w.filename for w in wheels)) or "none"
                problems.append(
                    f"{package.name} {package.version or ''}".rstrip()
                    + f" has no wheel for {t.key} (wheels: {have})"
                )
        if not problems:
            try:
                for _, dist in lock.select(environment=cast("Environment", env), tags=tags):
                    if not isinstance(dist, (PackageWheel, PackageSdist)):
                        problems.append(f"{dist} is not a wheel")
            except PylockSelectError as e:
                problems.append(str(e))
        report[t.key] = (problems, count, builds)
    return report


def _verify_targets(
    spec: Spec,
    recorded_keys: list[str] | None,
    flags: VPythonFlags,
    layout: Layout,
    platforms: Sequence[str],
    pythons: Sequence[str],
) -> list[Target]:
    from vpython.lock import targets as tg
    from vpython.lock.plan import choose_targets

    wanted, origin = choose_targets(
        spec,
        platforms=list(platforms),
        pythons=list(pythons),
        interpreter=flags.interpreter,
        cache_dir=layout.interpreters,
    )
    if recorded_keys is None:
        return list(wanted)
    recorded = tg.parse_recorded(recorded_keys)
    if origin == "default platforms" and recorded:
        wanted = []
    return list(tg.dedupe(list(recorded) + list(wanted)))


def _report_from_lock(
    discovered: DiscoveredSpec,
    spec: Spec,
    flags: VPythonFlags,
    layout: Layout,
    platforms: Sequence[str],
    pythons: Sequence[str],
) -> Report:
    """Check the lockfile's wheels for every target; {} when there is no usable lock
    (none, another spec's, or stale), which the caller answers by resolving."""
    from vpython.lock.pylock import owner_conflict, read_lock, recorded
    from vpython.spec.load import spec_hash

    lock_path = discovered.lock_path
    if not (lock_path and os.path.isfile(lock_path)):
        return {}
    lock, raw = read_lock(lock_path)
    table = recorded(raw)
    other = owner_conflict(raw, lock_path, discovered.path)
    if other:
        log.warning(f"{lock_path} is the lock of another spec ({other}); verifying by resolving the spec")
        return {}
    if table.get("spec-hash") not in (None, spec_hash(discovered)):
        log.warning(f"{lock_path} is stale (the spec changed); verifying by resolving the spec")
        return {}
    targets = _verify_targets(spec, table.get("targets") or [], flags, layout, platforms, pythons)
    out(f"verify: {discovered.path} against {lock_path} ({len(targets)} target(s))")
    return _lock_gaps(lock, targets)


def _report_from_resolving(
    discovered: DiscoveredSpec,
    flags: VPythonFlags,
    layout: Layout,
    platforms: Sequence[str],
    pythons: Sequence[str],
    engine: str | None,
) -> Report:
    """Resolve the spec for its targets (nothing written) and report each target's gaps."""
    from vpython.lock.plan import make_plan
    from vpython.lock.resolve import missing_from_closed, resolve

    plan = make_plan(
        discovered,
        flags=flags,
        platforms=platforms,
        pythons=pythons,
        engine=engine,
        cache_dir=layout.interpreters,
        tool_cache=layout.tool_cache,
    )
    out(f"verify: {discovered.path} by resolving for {len(plan.targets)} target(s) ({plan.target_origin})")
    result = resolve(plan, python=flags.interpreter)
    report: Report = {t.key: ([], 0, []) for t in plan.targets}
    for p in result.packages:
        for key in p.targets:
            report[key] = (report[key][0], report[key][1] + 1, report[key][2])
    for g in result.gaps:
        report[g.target][0].append(g.describe())
    for b in result.builds:
        report[b.target][2].append(f"{b.name} {b.version}")
    for name, version, keys in missing_from_closed(plan, result):
        for key in keys:
            report[key][0].append(f"{name}=={version} is needed (a dependency) but the spec does not list it")
    return report


def _print_report(report: Report) -> int:
    failed = building = 0
    for key in sorted(report):
        problems, count, builds = report[key]
        if problems:
            failed += 1
            out(f"  FAIL  {key}")
            for p in problems:
                out(f"          {p}")
        else:
            out(f"  ok    {key} ({count} package(s))")
        if builds:
            # Installable, but only by building: a compiler there, and never under --only-binary.
            building += 1
            out(f"          needs a build from sdist on {key}: {', '.join(sorted(builds))}")
    if building:
        out(f"verify: {building} of {len(report)} target(s) must build wheels from sdists")
    if failed:
        out(f"verify: {failed} of {len(report)} target(s) cannot install the spec")
        return 1
    out(f"verify: all {len(report)} target(s) ok")
    return 0


def verify(
    discovered: DiscoveredSpec,
    flags: VPythonFlags,
    layout: Layout,
    *,
    platforms: Sequence[str] = (),
    pythons: Sequence[str] = (),
    engine: str | None = None,
) -> int:
    """Report per platform; 0 when every target is installable, 1 otherwise.

    ``platforms`` / ``pythons`` / ``engine`` are ``vpython verify``'s own options (the
    runner's ``-vpython-tool verify`` has none of them)."""
    from vpython.spec.load import parse_discovered

    if discovered.kind == "empty":
        out(f"verify: {discovered.origin}; nothing to verify")
        return 0
    spec = parse_discovered(discovered)
    report = _report_from_lock(discovered, spec, flags, layout, platforms, pythons)
    if not report:
        report = _report_from_resolving(discovered, flags, layout, platforms, pythons, engine)
    from vpython.settings.sources import load_sources

    if load_sources(flags=flags, spec_tool=spec.tool).only_binary:
        report = _strict(report)
    return _print_report(report)


def _strict(report: Report) -> Report:
    """Under --only-binary a target that would build is a target that cannot install."""
    return {
        key: (
            problems
            + [
                f"{b} has no wheel for {key}, only an sdist, and building is turned off (--only-binary)"
                for b in builds
            ],
            count,
            [],
        )
        for key, (problems, count, builds) in report.items()
    }


def verify_discovered(discovered: DiscoveredSpec, flags: VPythonFlags, layout: Layout) -> int:
    """``-vpython-tool verify``: the original's spelling keeps the original's contract for
    text-proto specs, where no ``verify_pep425_tag`` means nothing to check (wheels/verify.go).
    ``vpython verify`` checks the default platforms instead."""
    from vpython.spec.model import KIND_TEXTPROTO

    if discovered.kind == KIND_TEXTPROTO and not (
        discovered.lock_path and os.path.isfile(discovered.lock_path)
    ):
        from vpython.spec.load import parse_discovered

        if not parse_discovered(discovered).verify_pep425_tags:
            out(
                f"verify: {discovered.origin} has no verify_pep425_tag; nothing to verify "
                "(as Chromium's vpython; `vpython verify` checks the default platforms)"
            )
            return 0
    return verify(discovered, flags, layout)


def main(args: list[str]) -> int:
    p = parser("verify", "Check that a spec (and its lockfile) can be installed on every target platform.")
    p.add_argument(
        "target", nargs="?", help="script, spec file, or directory (default: the working directory)"
    )
    p.add_argument(
        "--platform",
        dest="platforms",
        action="append",
        default=[],
        metavar="TAG",
        help="verify this platform too (repeatable; see `vpython lock --help`)",
    )
    p.add_argument(
        "--python",
        dest="pythons",
        action="append",
        default=[],
        metavar="VERSION",
        help="target Python version X.Y (repeatable)",
    )
    p.add_argument("--engine", choices=["uv", "pex"], default=None, help="resolver when there is no lockfile")
    add_common(p)
    ns = p.parse_args(args)
    log.set_level(ns.log_level)
    from vpython.cli.targets import discover_target, flags_from_namespace
    from vpython.store.root import Layout, resolve_root

    layout = Layout(resolve_root(ns.root))
    return verify(
        discover_target(ns.target),
        flags_from_namespace(ns),
        layout,
        platforms=ns.platforms,
        pythons=ns.pythons,
        engine=ns.engine,
    )
