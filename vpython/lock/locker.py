"""``vpython lock`` and ``vpython verify`` without the command line: spec -> targets ->
requirements -> one resolution (uv or pex) -> per-target wheel selection -> lockfile.

Freshness (``--check`` and the runner's stale-lock warning) compares the spec hash
recorded in ``[tool.vpython] spec-hash`` (``spec.load.spec_hash``) and the recorded
target list with what the spec asks for now.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, replace

from vpython import log
from vpython.errors import LockError, ResolutionError, UserError
from vpython.lock import targets as tg

ENGINES = ("uv", "pex")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?$")


@dataclass
class Plan:
    """Everything a lock run needs, decided before any resolver runs."""

    discovered: object
    spec: object
    lock_path: str
    targets: list
    requirements: list  # PEP 508 strings handed to the resolver (markers included)
    closed: bool
    sources: object
    engine: str
    spec_hash: str
    expected: dict = field(default_factory=dict)  # closed specs: target key -> {name: Requirement}
    target_origin: str = ""
    spec_path: str = ""  # the spec relative to the lockfile ([tool.vpython] spec)


# ------------------------------------------------------------------------ decisions


def engine_name(flag: str | None) -> str:
    name = flag or os.environ.get("VPYTHON_LOCK_ENGINE") or "uv"
    if name not in ENGINES:
        where = "--engine" if flag else "VPYTHON_LOCK_ENGINE"
        raise UserError(f"{where}={name}: unknown lock engine", hint="choose uv (default) or pex")
    return name


def validate_exclude_newer(value: str | None, where: str = "--exclude-newer") -> str | None:
    if value is None:
        return None
    if not _TIMESTAMP.match(value.strip()):
        raise UserError(
            f"{where} {value!r}: not a timestamp",
            hint="use RFC 3339, e.g. 2026-01-31T00:00:00Z, or a date 2026-01-31",
        )
    return value.strip()


def _spec_python(spec) -> str:
    return spec.python_version or (spec.tool or {}).get("python-version", "") or ""


def default_python(spec, explicit_interpreter: str | None = None, cache_dir: str | None = None) -> tuple:
    """The Python version a lock targets when nothing names one.

    The spec's own version (text proto ``python_version``, ``[tool.vpython]
    python-version``); else the lowest minor that satisfies ``requires-python`` and
    that some installed interpreter has; else the interpreter given with
    ``--interpreter``; else the running interpreter's.
    """
    where = spec.path or "spec"
    text = _spec_python(spec)
    if text:
        if len(text.split(".")) >= 2:
            return tg.parse_python_version(text, f"{where}: python version")
        # "3": whichever 3.x interpreter the runner would pick.
        from vpython.interpreters import select

        return tuple(select.select_interpreter(version=text, cache_dir=cache_dir).version[:2])
    if spec.requires_python:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        from vpython.interpreters import discover, select

        try:
            wanted = SpecifierSet(spec.requires_python)
        except InvalidSpecifier:
            raise UserError(
                f"{where}: requires-python {spec.requires_python!r} is not a PEP 440 specifier"
            ) from None
        versions = sorted(
            {
                tuple(i.version[:2])
                for i in discover.find_interpreters(cache_dir)
                if i.supported and wanted.contains(i.version_string, prereleases=True)
            }
        )
        if not versions:
            raise UserError(
                f"{where}: no installed interpreter satisfies requires-python {spec.requires_python!r}",
                hint="pass --python X.Y to lock for a version anyway",
            )
        chosen = versions[0]
        try:
            runs_on = select.select_interpreter(requires_python=spec.requires_python, cache_dir=cache_dir)
            runner = tuple(runs_on.version[:2])
        except UserError:
            runner = chosen
        if runner != chosen:
            log.warning(
                f"{where}: locking for Python {chosen[0]}.{chosen[1]} (the lowest installed version that "
                f"satisfies requires-python {spec.requires_python!r}), but runs here use "
                f"{runner[0]}.{runner[1]}; set [tool.vpython] python-version, or pass "
                f"--python {chosen[0]}.{chosen[1]} --python {runner[0]}.{runner[1]}"
            )
        return chosen
    if explicit_interpreter:
        from vpython.interpreters import select

        return tuple(
            select.select_interpreter(explicit=explicit_interpreter, cache_dir=cache_dir).version[:2]
        )
    return tuple(sys.version_info[:2])


def choose_targets(
    spec, *, platforms=(), pythons=(), interpreter: str | None = None, cache_dir: str | None = None
):
    """(targets, where they came from).

    ``--platform`` > ``[tool.vpython] platforms`` > the text proto's
    ``verify_pep425_tag`` list > ``DEFAULT_PLATFORMS``; each for ``--python`` versions,
    else the spec's Python (see ``default_python``). A full tag (``cp311-cp311-X``)
    carries its own Python version.
    """
    versions = [tg.parse_python_version(p) for p in pythons]
    cache = {}

    def default():
        if versions:
            return versions
        if "v" not in cache:
            cache["v"] = [default_python(spec, interpreter, cache_dir)]
        return cache["v"]

    where = spec.path or "spec"
    out = []
    tool_platforms = (spec.tool or {}).get("platforms")
    if platforms:
        origin = "--platform"
        for p in platforms:
            out += tg.parse_target(p, default(), "--platform")
    elif tool_platforms:
        origin = "[tool.vpython] platforms"
        for p in tool_platforms:
            out += tg.parse_target(p, default(), f"{where}: [tool.vpython] platforms")
    elif spec.verify_pep425_tags:
        origin = "verify_pep425_tag"
        for tag in spec.verify_pep425_tags:
            found = tg.from_pep425(tag, default(), f"{where}: verify_pep425_tag")
            if versions:
                found = [replace(t, python=v, abi="") for t in found for v in versions]
            out += found
    else:
        origin = "default platforms"
        for p in tg.DEFAULT_PLATFORMS:
            out += tg.parse_target(p, default(), "default platform")
    return tg.dedupe(out), origin


def _normalize(spec, tags):
    from vpython.spec.normalize import normalize_spec

    return normalize_spec(spec, tags)


def _req_key(text: str):
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        raise UserError(f"invalid requirement {text!r}: {e}") from None
    return str(canonicalize_name(req.name)), req


def _entry_markers(spec) -> dict:
    """requirement text (no marker) -> the entries' own marker (``normalize.entry_marker``).

    ``""`` when some entry for that pin applies everywhere.
    """
    from vpython.spec import cipd
    from vpython.spec.normalize import entry_marker

    found = {}
    for entry in spec.wheels:
        try:
            project = cipd.pypi_name(entry.name, entry=entry, path=spec.path)
            plain = str(
                replace_marker(f"{project}{cipd.pypi_specifier(entry.version, entry=entry, path=spec.path)}")
            )
        except UserError:
            continue  # normalize_spec reports it (or the entry is a template it expands)
        found.setdefault(plain, []).append(entry_marker(entry) or "")
    out = {}
    for plain, marks in found.items():
        if "" in marks:
            out[plain] = ""
        else:
            unique = sorted(set(marks))
            out[plain] = unique[0] if len(unique) == 1 else " or ".join(f"({m})" for m in unique)
    return out


def closed_requirements(spec, targets):
    """Resolver input for a closed (text-proto) spec and each target's exact pin set.

    Each target's pins come from ``normalize_spec`` with that target's tag list, which
    evaluates match_tag/not_match_tag exactly; a pin that only some targets get carries
    a marker: the entry's own (``normalize.entry_marker``) when it selects exactly those
    targets, else the canonical target marker (``markers.synthesize``).
    """
    from vpython.lock import markers

    per_target = {}
    holders = {}  # requirement text -> [target key]
    for t in targets:
        reqs = _normalize(spec, t.tags())
        pins = {}
        for text in reqs.requirements:
            name, req = _req_key(text)
            if req.marker is not None and not req.marker.evaluate(t.environment()):
                continue
            plain = str(replace_marker(req))
            pins[name] = req
            holders.setdefault(plain, []).append(t.key)
        per_target[t.key] = pins
    entry_markers = _entry_markers(spec)
    requirements = []
    for plain in sorted(holders):
        keys = set(holders[plain])
        marker = None
        if len(keys) != len(targets):
            own = entry_markers.get(plain)
            if own:  # the entry's own marker generalises beyond the targets: prefer it
                ev = markers.evaluator(own)
                if {t.key for t in targets if ev(t)} == keys:
                    marker = own
            if marker is None:
                try:
                    marker = markers.synthesize(keys, targets)
                except ValueError as e:
                    raise ResolutionError(
                        f"{spec.path}: {plain} applies to some targets but not to others that markers "
                        f"cannot tell apart ({e})",
                        hint="lock these platforms separately (--platform)",
                    ) from None
        requirements.append(f"{plain} ; {marker}" if marker else plain)
    return requirements, per_target


def replace_marker(req):
    """A Requirement without its marker (accepts text too)."""
    from packaging.requirements import Requirement

    r = Requirement(str(req))
    r.marker = None
    return r


def make_plan(
    discovered,
    *,
    flags,
    platforms=(),
    pythons=(),
    engine=None,
    exclude_newer=None,
    previous=None,
    cache_dir: str | None = None,
    spec=None,
) -> Plan:
    from vpython.settings.sources import load_sources
    from vpython.spec.load import parse_discovered, spec_hash

    if discovered.kind == "empty" or not discovered.lock_path:
        raise UserError(
            f"nothing to lock: {discovered.origin}",
            hint="pass a script with a spec, or a .vpython3 / vpython.toml file",
        )
    provisional = spec is not None  # start_early's tomllib-only read: no hash needed yet
    if spec is None:
        spec = parse_discovered(discovered)
    chosen, origin = choose_targets(
        spec,
        platforms=platforms,
        pythons=pythons,
        interpreter=getattr(flags, "interpreter", None),
        cache_dir=cache_dir,
    )
    if not chosen:
        raise UserError("no lock targets", hint="pass --platform TAG")
    base_dir = os.path.dirname(discovered.path) if discovered.path else os.getcwd()
    sources = load_sources(flags=flags, spec_tool=spec.tool, base_dir=base_dir)
    cutoff = validate_exclude_newer(exclude_newer) if exclude_newer not in (None, "none") else None
    cutoff_origin = "--exclude-newer"
    if exclude_newer is None and sources.exclude_newer:
        cutoff_origin = f"exclude-newer ({sources.origin.get('exclude-newer')})"
        cutoff = validate_exclude_newer(sources.exclude_newer, cutoff_origin)
    if exclude_newer is None and cutoff is None and previous:
        from vpython.lock.pylock import recorded

        kept = recorded(previous).get("exclude-newer")
        if isinstance(kept, str) and kept:
            log.info(f"keeping the lock's exclude-newer cutoff {kept} (pass --exclude-newer none to drop it)")
            cutoff, cutoff_origin = kept, f"[tool.vpython] exclude-newer of {discovered.lock_path}"
    sources = replace(sources, exclude_newer=cutoff)
    engine = engine_name(engine)
    if engine == "pex" and cutoff:
        # pex passes the cutoff to pip as --uploaded-prior-to, which needs pip >= 26; pex's
        # own (vendored) pip is 20.3.4 and any other pip would first be downloaded from an
        # index: refuse now rather than fail (or go online) half-way.
        raise UserError(
            f"the pex engine cannot apply the exclude-newer cutoff {cutoff} (from {cutoff_origin}): pex "
            "resolves with its bundled pip 20.3.4, which cannot filter files by upload time",
            hint="lock with --engine uv (the default), or pass --exclude-newer none to lock without a cutoff",
        )
    if spec.closed:
        requirements, expected = closed_requirements(spec, chosen)
    else:
        requirements, expected = sorted(spec.dependencies), {}
    from vpython.lock.pylock import spec_path_in_lock

    return Plan(
        discovered=discovered,
        spec=spec,
        lock_path=discovered.lock_path,
        targets=chosen,
        requirements=requirements,
        closed=spec.closed,
        sources=sources,
        engine=engine,
        spec_hash="" if provisional else spec_hash(discovered),
        expected=expected,
        target_origin=origin,
        spec_path=spec_path_in_lock(discovered.lock_path, discovered.path) if discovered.path else "",
    )


# ------------------------------------------------------------------------ early start
#
# uv needs only the requirement list, the targets and the sources. For PEP 723 and
# vpython.toml specs those can be read with tomllib alone, so uv is started before the
# real parser (and its packaging imports, ~30 ms) runs; the real plan is then compared
# with the provisional one and uv is restarted if they differ (they do not, unless the
# real parser rejects the spec, which cancels the job).


def _quick_spec(discovered):
    """A provisional Spec from tomllib alone (PEP 723 / vpython.toml), or None."""
    if discovered.kind not in ("pep723", "toml"):
        return None
    try:
        import tomllib as toml
    except ImportError:  # pragma: no cover
        import tomli as toml
    from vpython.spec.model import Spec

    try:
        data = toml.loads(discovered.text)
    except (toml.TOMLDecodeError, ValueError):
        return None
    deps = data.get("dependencies", [])
    requires_python = data.get("requires-python", "")
    tool = data.get("tool", {})
    tool = tool.get("vpython", {}) if isinstance(tool, dict) else None
    if (
        not isinstance(deps, list)
        or not all(isinstance(d, str) for d in deps)
        or not isinstance(requires_python, str)
        or not isinstance(tool, dict)
    ):
        return None
    return Spec(
        kind=discovered.kind,
        path=discovered.path,
        dependencies=tuple(deps),
        requires_python=requires_python,
        tool=dict(tool),
    )


class Early:
    """A uv resolution started from a provisional plan."""

    def __init__(self, plan: Plan, job, inputs: tuple) -> None:
        self.plan, self.job, self.inputs = plan, job, inputs

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job = None

    def take(self, plan: Plan, inputs: tuple):
        """The job, if it was started with exactly what ``plan`` needs; else cancel it."""
        job, self.job = self.job, None
        if job is not None and _same(self.plan, plan) and inputs == self.inputs:
            log.debug("using the resolution started early")
            return job
        if job is not None:
            log.debug("the spec's full parse differs from the early read: resolving again")
            job.cancel()
        return None


def _same(a: Plan, b: Plan) -> bool:
    return (
        a.requirements == b.requirements
        and [t.key for t in a.targets] == [t.key for t in b.targets]
        and a.sources == b.sources
        and a.engine == b.engine
    )


def start_early(
    discovered, *, upgrade=False, upgrade_packages=(), previous_text=None, python=None, **plan_kw
):
    """Start uv from a provisional plan (None when that is not possible)."""
    if discovered.kind not in ("pep723", "toml") or not discovered.lock_path:
        return None
    try:
        if engine_name(plan_kw.get("engine")) != "uv":
            return None
    except UserError:
        return None
    spec = _quick_spec(discovered)
    if spec is None:
        return None
    if spec.requires_python and not _spec_python(spec) and not plan_kw.get("pythons"):
        return None  # the version comes from interpreter discovery: not worth racing
    saved = log._level[0]
    log._level[0] = 1000  # messages come from the real pass
    try:
        plan = make_plan(discovered, spec=spec, **plan_kw)
    except (UserError, ValueError):
        return None
    finally:
        log._level[0] = saved
    if not plan.requirements:
        return None
    from vpython.lock import engine_uv

    inputs = (bool(upgrade), tuple(upgrade_packages), previous_text, python)
    job = engine_uv.start(
        plan.requirements,
        plan.sources,
        plan.targets,
        python=python,
        previous_lock=previous_text,
        upgrade=upgrade,
        upgrade_packages=upgrade_packages,
        context=discovered.path or "the spec",
    )
    return Early(plan, job, inputs)


# ------------------------------------------------------------------------ resolution


def _requires_python(targets) -> str:
    lowest = min(t.python[:2] for t in targets)
    return f">={lowest[0]}.{lowest[1]}"


def _prepare(targets) -> None:
    """Work that does not need the resolution: imports and per-target tag tables."""
    import tempfile  # noqa: F401 - the lockfile is written through a temp file

    import packaging.pylock  # noqa: F401 - validation of the written lock
    import tomli_w  # noqa: F401

    from vpython.lock.select import selector_for

    for t in targets:
        selector_for(t)


def resolve(plan: Plan, *, upgrade=False, upgrade_packages=(), previous_text=None, python=None, early=None):
    """Run the engine and select wheels; return a LockResult (gaps not raised)."""
    context = plan.discovered.path or "the spec"
    job = early.take(plan, (bool(upgrade), tuple(upgrade_packages), previous_text, python)) if early else None
    if not plan.requirements:
        from vpython.lock.model import LockResult

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
        )
        _prepare(plan.targets)
    else:
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
            )
        try:
            _prepare(plan.targets)  # while uv resolves
        finally:
            try:
                candidates = job.result()
            except ResolutionError:
                if not previous_text or upgrade:
                    raise
                # uv reads preferences from the current lockfile; one it cannot use must
                # not block re-locking.
                log.info("resolving again without the current lockfile's preferences")
                candidates = engine_uv.start(
                    plan.requirements,
                    plan.sources,
                    plan.targets,
                    python=python,
                    upgrade_packages=upgrade_packages,
                    context=context,
                ).result()
    from vpython.lock.model import LockResult
    from vpython.lock.select import select_packages

    packages, gaps = select_packages(
        candidates,
        plan.targets,
        lock_dir=os.path.dirname(os.path.abspath(plan.lock_path)),
        sources=plan.sources,
    )
    return LockResult(packages, plan.targets, plan.engine, _requires_python(plan.targets), gaps)


def missing_from_closed(plan: Plan, result) -> list:
    """(name, version, [target keys]) the resolution installs but the closed spec omits."""
    if not plan.closed:
        return []
    missing = {}
    for p in result.packages:
        for key in p.targets:
            pins = plan.expected.get(key, {})
            if p.name not in pins:
                missing.setdefault((p.name, p.version), []).append(key)
    return sorted((n, v, sorted(ks)) for (n, v), ks in missing.items())


def raise_for_missing(plan: Plan, missing) -> None:
    if not missing:
        return
    all_keys = {t.key for t in plan.targets}
    lines = []
    for name, version, keys in missing:
        where = "" if set(keys) == all_keys else f" (on {', '.join(keys)})"
        lines.append(f"  - {name}=={version}{where}")
    name, version, _ = missing[0]
    raise ResolutionError(
        f"{plan.discovered.path}: the spec is not closed: the listed packages depend on packages it "
        f"does not list; the resolver would pick:\n" + "\n".join(lines),
        hint=(
            f'add a wheel entry for each, e.g.  wheel: < name: "infra/python/wheels/{name}-py3" '
            f'version: "version:{version}" >'
        ),
    )


def lock(plan: Plan, *, upgrade=False, upgrade_packages=(), previous_text=None, python=None, early=None):
    """Resolve and render; raise on gaps or an open closed spec. Returns (result, text)."""
    result = resolve(
        plan,
        upgrade=upgrade,
        upgrade_packages=upgrade_packages,
        previous_text=previous_text,
        python=python,
        early=early,
    )
    from vpython.lock.pylock import render_lock
    from vpython.lock.select import raise_for_gaps

    raise_for_missing(plan, missing_from_closed(plan, result))
    raise_for_gaps(result.gaps, f"cannot lock {plan.discovered.path}")
    text = render_lock(
        result,
        spec_hash=plan.spec_hash,
        exclude_newer=plan.sources.exclude_newer,
        spec_path=plan.spec_path or None,
    )
    log.info(f"resolved by {plan.engine}")  # not in the file: both engines write the same bytes
    return result, text


# ------------------------------------------------------------------------ freshness


def staleness(lock_path: str, spec_hash: str, wanted_targets, spec_path: str | None = None) -> str | None:
    """Why ``lock_path`` does not serve the spec (None = fresh)."""
    from vpython.lock.pylock import owner_conflict, read_lock, recorded

    if not os.path.isfile(lock_path):
        return "it does not exist"
    try:
        _, raw = read_lock(lock_path)
    except LockError as e:
        return f"it cannot be read ({e.message})"
    other = owner_conflict(raw, lock_path, spec_path)
    if other:
        return f"it is the lock of another spec ({other})"
    table = recorded(raw)
    if table.get("spec-hash") != spec_hash:
        if table.get("spec-hash") is None:
            return "it records no spec hash (not written by vpython lock)"
        return "the spec changed since it was locked"
    have = {str(k) for k in table.get("targets") or ()}
    absent = sorted(t.key for t in wanted_targets if t.key not in have)
    if absent:
        return "it does not cover target(s) " + ", ".join(absent)
    return None
