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

from vpython import log
from vpython.cli.commands import add_common, out, parser


def _lock_gaps(lock, targets):
    """{target key: [problem]} for a parsed Pylock."""
    from packaging.pylock import PackageWheel, PylockSelectError
    from packaging.tags import create_compatible_tags_selector
    from packaging.utils import parse_wheel_filename

    report = {}
    for t in targets:
        problems = []
        env = t.environment()
        tags = t.tags()
        selector = create_compatible_tags_selector(tags)
        lock_env = dict(env, extras=frozenset(), dependency_groups=frozenset())
        count = 0
        if lock.environments and not any(
            m.evaluate(lock_env, context="lock_file") for m in lock.environments
        ):
            shown = ", ".join(str(m) for m in lock.environments)
            report[t.key] = (
                [f"the lock's environments ({shown}) exclude {t.key}: re-lock with --platform {t.platform}"],
                0,
            )
            continue
        for package in lock.packages:
            if package.marker and not package.marker.evaluate(lock_env, context="lock_file"):
                continue
            count += 1
            wheels = package.wheels or []
            best = next(selector((w, parse_wheel_filename(w.filename)[-1]) for w in wheels), None)
            if best is None:
                have = ", ".join(sorted(w.filename for w in wheels)) or "none"
                problems.append(
                    f"{package.name} {package.version or ''}".rstrip()
                    + f" has no wheel for {t.key} (wheels: {have})"
                )
        if not problems:
            try:
                for _, dist in lock.select(environment=env, tags=tags):
                    if not isinstance(dist, PackageWheel):
                        problems.append(f"{dist} is not a wheel")
            except PylockSelectError as e:
                problems.append(str(e))
        report[t.key] = (problems, count)
    return report


def _verify_targets(spec, recorded_keys, flags, layout):
    from vpython.lock import targets as tg
    from vpython.lock.plan import choose_targets

    platforms = list(getattr(flags, "platforms", None) or ())
    pythons = list(getattr(flags, "pythons", None) or ())
    wanted, origin = choose_targets(
        spec,
        platforms=platforms,
        pythons=pythons,
        interpreter=getattr(flags, "interpreter", None),
        cache_dir=layout.interpreters,
    )
    if recorded_keys is None:
        return wanted
    recorded = tg.parse_recorded(recorded_keys)
    if origin == "default platforms" and recorded:
        wanted = []
    return tg.dedupe(list(recorded) + list(wanted))


def verify(discovered, flags, layout) -> int:
    """Report per platform; 0 when every target is installable, 1 otherwise."""
    from vpython.lock.plan import make_plan
    from vpython.lock.pylock import owner_conflict, read_lock, recorded
    from vpython.lock.resolve import missing_from_closed, resolve
    from vpython.spec.load import parse_discovered, spec_hash

    if discovered.kind == "empty":
        out(f"verify: {discovered.origin}; nothing to verify")
        return 0
    spec = parse_discovered(discovered)
    lock_path = discovered.lock_path
    report = {}
    if lock_path and os.path.isfile(lock_path):
        lock, raw = read_lock(lock_path)
        table = recorded(raw)
        other = owner_conflict(raw, lock_path, discovered.path)
        if other:
            log.warning(f"{lock_path} is the lock of another spec ({other}); verifying by resolving the spec")
            lock_path = None
        elif table.get("spec-hash") in (None, spec_hash(discovered)):
            targets = _verify_targets(spec, table.get("targets") or [], flags, layout)
            out(f"verify: {discovered.path} against {lock_path} ({len(targets)} target(s))")
            report = _lock_gaps(lock, targets)
        else:
            log.warning(f"{lock_path} is stale (the spec changed); verifying by resolving the spec")
            lock_path = None
    if not report:
        plan = make_plan(
            discovered,
            flags=flags,
            platforms=getattr(flags, "platforms", None) or (),
            pythons=getattr(flags, "pythons", None) or (),
            engine=getattr(flags, "engine", None),
            cache_dir=layout.interpreters,
        )
        out(
            f"verify: {discovered.path} by resolving for {len(plan.targets)} target(s) ({plan.target_origin})"
        )
        result = resolve(plan, python=getattr(flags, "interpreter", None))
        report = {t.key: ([], 0) for t in plan.targets}
        for p in result.packages:
            for key in p.targets:
                report[key] = (report[key][0], report[key][1] + 1)
        for g in result.gaps:
            report[g.target][0].append(g.describe())
        for name, version, keys in missing_from_closed(plan, result):
            for key in keys:
                report[key][0].append(
                    f"{name}=={version} is needed (a dependency) but the spec does not list it"
                )
    failed = 0
    for key in sorted(report):
        problems, count = report[key]
        if problems:
            failed += 1
            out(f"  FAIL  {key}")
            for p in problems:
                out(f"          {p}")
        else:
            out(f"  ok    {key} ({count} package(s))")
    if failed:
        out(f"verify: {failed} of {len(report)} target(s) cannot install the spec")
        return 1
    out(f"verify: all {len(report)} target(s) ok")
    return 0


def verify_discovered(discovered, flags, layout) -> int:
    """``-vpython-tool verify``: the original's spelling keeps the original's contract for
    text-proto specs, where no ``verify_pep425_tag`` means nothing to check (wheels/verify.go).
    ``vpython verify`` checks the default platforms instead."""
    import os

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


def main(args: list) -> int:
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

    flags = flags_from_namespace(ns)
    flags.platforms = ns.platforms
    flags.pythons = ns.pythons
    flags.engine = ns.engine
    layout = Layout(resolve_root(ns.root))
    return verify(discover_target(ns.target), flags, layout)
