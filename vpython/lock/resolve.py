"""From a plan to a lockfile's text: one resolution (uv or pex) -> per-target wheel
selection (``lock.select``) -> the checks a lock must pass -> the one writer
(``lock.pylock_write.render_lock``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from vpython import log
from vpython.errors import ResolutionError
from vpython.lock.model import Candidate, LockResult

if TYPE_CHECKING:
    from vpython.lock.early import Early
    from vpython.lock.engine_uv import UvJob
    from vpython.lock.plan import Plan
    from vpython.lock.targets import Target


def _requires_python(targets: list[Target]) -> str:
    lowest = min(t.python[:2] for t in targets)
    return f">={lowest[0]}.{lowest[1]}"


def _prepare(targets: list[Target]) -> None:
    """Work that does not need the resolution: imports and per-target tag tables."""
    import packaging.pylock  # noqa: F401 - validation of the written lock
    import tomli_w  # noqa: F401

    from vpython.lock.select import selector_for

    for t in targets:
        selector_for(t)


def _resolve_uv(
    plan: Plan,
    context: str,
    *,
    upgrade: bool,
    upgrade_packages: tuple[str, ...],
    previous_text: str | None,
    python: str | None,
    job: UvJob | None,
) -> list[Candidate]:
    """uv's candidates (from ``job`` when ``lock.early`` started it); uv runs while
    ``_prepare`` does its part. A current lockfile uv cannot use as preferences is
    dropped rather than blocking the re-lock."""
    from vpython.lock import engine_uv

    if job is None:
        job = engine_uv.start(
            plan.requirements,
            plan.sources,
            plan.targets,
            python=python,
            previous_lock=previous_text,
            upgrade=upgrade,
            upgrade_packages=upgrade_packages,
            context=context,
            cache_dir=plan.tool_cache,
        )
    try:
        _prepare(plan.targets)  # while uv resolves
    finally:
        try:
            candidates = job.result()
        except ResolutionError:
            if not previous_text or upgrade:
                raise
            log.info("resolving again without the current lockfile's preferences")
            candidates = engine_uv.start(
                plan.requirements,
                plan.sources,
                plan.targets,
                python=python,
                upgrade_packages=upgrade_packages,
                context=context,
                cache_dir=plan.tool_cache,
            ).result()
    return candidates


def resolve(
    plan: Plan,
    *,
    upgrade: bool = False,
    upgrade_packages: Iterable[str] = (),
    previous_text: str | None = None,
    python: str | None = None,
    early: Early | None = None,
) -> LockResult:
    """Run the engine and select wheels; return a LockResult (gaps not raised)."""
    from vpython.lock.early import inputs_of

    context = plan.discovered.path or "the spec"
    upgrade_packages = tuple(upgrade_packages)
    job = early.take(plan, inputs_of(upgrade, upgrade_packages, previous_text, python)) if early else None
    if not plan.requirements:
        return LockResult([], plan.targets, plan.engine, _requires_python(plan.targets))
    log.progress(
        f"resolving {len(plan.requirements)} requirement(s) for {len(plan.targets)} target(s) "
        f"with {plan.engine}"
    )
    if plan.engine == "pex":
        from vpython.lock import engine_pex

        candidates = engine_pex.resolve(
            plan.requirements,
            plan.sources,
            plan.targets,
            context=context,
            previous_lock=previous_text,
            upgrade=upgrade,
            upgrade_packages=upgrade_packages,
            cache_dir=plan.tool_cache,
        )
        _prepare(plan.targets)
    else:
        candidates = _resolve_uv(
            plan,
            context,
            upgrade=upgrade,
            upgrade_packages=upgrade_packages,
            previous_text=previous_text,
            python=python,
            job=job,
        )
    from vpython.lock.sdist_lookup import find_sdists
    from vpython.lock.select import select_with_builds

    lowest = _requires_python(plan.targets)[2:]
    packages, gaps, builds = select_with_builds(
        candidates,
        plan.targets,
        lock_dir=os.path.dirname(os.path.abspath(plan.lock_path)),
        sources=plan.sources,
        find_sdists=lambda pins: find_sdists(pins, plan.sources, lowest, cache_dir=plan.tool_cache),
    )
    return LockResult(packages, plan.targets, plan.engine, _requires_python(plan.targets), gaps, builds)


def missing_from_closed(plan: Plan, result: LockResult) -> list[tuple[str, str, list[str]]]:
    """(name, version, [target keys]) the resolution installs but the closed spec omits."""
    if not plan.closed:
        return []
    missing: dict[tuple[str, str], list[str]] = {}
    for p in result.packages:
        for key in p.targets:
            pins = plan.expected.get(key, {})
            if p.name not in pins:
                missing.setdefault((p.name, p.version), []).append(key)
    return sorted((n, v, sorted(ks)) for (n, v), ks in missing.items())


def raise_for_missing(plan: Plan, missing: list[tuple[str, str, list[str]]], *, strict: bool = True) -> None:
    """Say which packages a closed spec lacks that its listed packages depend on: an error
    when ``strict``, else a warning (the lock then holds exactly the listed packages and
    the seeds, as Chromium's vpython installed them: ``without_unlisted``)."""
    if not missing:
        return
    all_keys = {t.key for t in plan.targets}
    lines = []
    for name, version, keys in missing:
        where = "" if set(keys) == all_keys else f" (on {', '.join(keys)})"
        lines.append(f"  - {name}=={version}{where}")
    name, version, _ = missing[0]
    add = f'wheel: < name: "infra/python/wheels/{name}-py3" version: "version:{version}" >'
    if not strict:
        log.warning(
            f"{plan.discovered.path}: the spec is not closed: the listed packages depend on packages it does "
            "not list; locking exactly the listed packages, as Chromium's vpython installs them (add a wheel "
            f"entry for each, e.g.  {add}):\n" + "\n".join(lines)
        )
        return
    raise ResolutionError(
        "the spec is not closed: the listed packages depend on packages it "
        "does not list; the resolver would pick:\n" + "\n".join(lines),
        path=plan.discovered.path,
        hint=f"add a wheel entry for each, e.g.  {add}",
    )


def without_unlisted(result: LockResult, missing: list[tuple[str, str, list[str]]]) -> LockResult:
    """``result`` without the packages a closed spec does not list on any target that
    installs them (a package listed for some targets only keeps its marker)."""
    import dataclasses

    unlisted = {(n, v): set(keys) for n, v, keys in missing}
    kept = [
        p
        for p in result.packages
        if (p.name, p.version) not in unlisted or not set(p.targets) <= unlisted[(p.name, p.version)]
    ]
    return dataclasses.replace(result, packages=kept)


def _raise_if_private(plan: Plan) -> None:
    """A closed spec that pins what no source publishes gets the private-package error
    (``spec.private``: the file and line, and how to supply it) instead of uv's."""
    if not plan.closed:
        return
    from vpython.lock.closed import without_marker
    from vpython.spec.private import missing_packages

    pins = sorted({str(without_marker(r)) for r in plan.requirements})
    private = missing_packages(plan.spec, pins, plan.sources)
    if private is not None:
        raise private from None


def lock(
    plan: Plan,
    *,
    upgrade: bool = False,
    upgrade_packages: Iterable[str] = (),
    previous_text: str | None = None,
    python: str | None = None,
    early: Early | None = None,
) -> tuple[LockResult, str]:
    """Resolve and render; raise on gaps or an open closed spec. Returns (result, text)."""
    try:
        result = resolve(
            plan,
            upgrade=upgrade,
            upgrade_packages=upgrade_packages,
            previous_text=previous_text,
            python=python,
            early=early,
        )
    except ResolutionError:
        _raise_if_private(plan)
        raise
    from vpython.lock.pylock_write import render_lock
    from vpython.lock.select import raise_for_gaps
    from vpython.settings.compat import strict_closure

    missing = missing_from_closed(plan, result)
    raise_for_missing(plan, missing, strict=strict_closure())
    result = without_unlisted(result, missing)
    raise_for_gaps(result.gaps, f"cannot lock {plan.discovered.path}", plan.sources.only_binary)
    for b in result.builds:
        log.info(f"{b.describe_build()}")
    text = render_lock(
        result,
        spec_hash=plan.spec_hash,
        exclude_newer=plan.sources.exclude_newer,
        spec_path=plan.spec_path or None,
    )
    log.info(f"resolved by {plan.engine}")  # not in the file: both engines write the same bytes
    return result, text
