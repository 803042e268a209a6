"""Start uv before the spec is fully parsed.

uv needs only the requirement list, the targets and the sources. For PEP 723 and
vpython.toml specs those can be read from the TOML alone
(``spec.pyproject.read_provisional``), so uv is started before the real parser (and its
packaging imports, ~30 ms) runs; the real plan is then compared with the provisional one
and uv is restarted if they differ (they do not, unless the real parser rejects the
spec, which cancels the job).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Optional

from vpython import log
from vpython.errors import UserError
from vpython.lock.plan import Plan, engine_name, make_plan, spec_python

if TYPE_CHECKING:
    from vpython.lock.engine_uv import UvJob
    from vpython.spec.discover import DiscoveredSpec

# What else must be equal for an early job to serve the real run:
# (upgrade, upgrade_packages, previous lock text, --interpreter).
Inputs = tuple[bool, tuple[str, ...], Optional[str], Optional[str]]


def inputs_of(
    upgrade: bool, upgrade_packages: Iterable[str], previous_text: str | None, python: str | None
) -> Inputs:
    return (bool(upgrade), tuple(upgrade_packages), previous_text, python)


class Early:
    """A uv resolution started from a provisional plan."""

    def __init__(self, plan: Plan, job: UvJob | None, inputs: Inputs) -> None:
        self.plan, self.job, self.inputs = plan, job, inputs

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job = None

    def take(self, plan: Plan, inputs: Inputs) -> UvJob | None:
        """The job, if it was started with exactly what ``plan`` needs; else cancel it."""
        job, self.job = self.job, None
        if job is not None and same_resolution(self.plan, plan) and inputs == self.inputs:
            log.debug("using the resolution started early")
            return job
        if job is not None:
            log.debug("the spec's full parse differs from the early read: resolving again")
            job.cancel()
        return None


def same_resolution(a: Plan, b: Plan) -> bool:
    """Whether a resolution for ``a`` is one for ``b`` (what uv is given is the same)."""
    return (
        a.requirements == b.requirements
        and [t.key for t in a.targets] == [t.key for t in b.targets]
        and a.sources == b.sources
        and a.engine == b.engine
    )


def start_early(
    discovered: DiscoveredSpec,
    *,
    upgrade: bool = False,
    upgrade_packages: Iterable[str] = (),
    previous_text: str | None = None,
    python: str | None = None,
    **plan_kw: Any,
) -> Early | None:
    """Start uv from a provisional plan (None when that is not possible).

    ``plan_kw`` are ``make_plan``'s keywords, as the real run will pass them."""
    from vpython.spec.pyproject import read_provisional

    if discovered.kind not in ("pep723", "toml") or not discovered.lock_path:
        return None
    try:
        if engine_name(plan_kw.get("engine")) != "uv":
            return None
    except UserError:
        return None
    spec = read_provisional(discovered.kind, discovered.text, discovered.path)
    if spec is None:
        return None
    if spec.requires_python and not spec_python(spec) and not plan_kw.get("pythons"):
        return None  # the version comes from interpreter discovery: not worth racing
    with log.quiet():  # messages come from the real pass
        try:
            plan = make_plan(discovered, spec=spec, **plan_kw)
        except (UserError, ValueError):
            return None
    if not plan.requirements:
        return None
    from vpython.lock import engine_uv

    upgrade_packages = tuple(upgrade_packages)
    job = engine_uv.start(
        plan.requirements,
        plan.sources,
        plan.targets,
        python=python,
        previous_lock=previous_text,
        upgrade=upgrade,
        upgrade_packages=upgrade_packages,
        context=discovered.path or "the spec",
        cache_dir=plan.tool_cache,
    )
    return Early(plan, job, inputs_of(upgrade, upgrade_packages, previous_text, python))
