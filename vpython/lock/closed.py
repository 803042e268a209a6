"""Resolver input for a closed (text-proto) spec: one requirement list for every target.

A closed spec pins its whole package set, per interpreter (and gets the seeds:
``settings.seeds``): ``match_tag`` /
``not_match_tag`` decide which entries apply where. Each target's pins come from
``spec.normalize.normalize_spec`` with that target's tag list (which evaluates the tags
exactly); a pin that only some targets get carries a marker: the entry's own
(``spec.tag_markers.entry_marker``) when it selects exactly those targets, else the
canonical target marker (``lock.markers.synthesize``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vpython.errors import ResolutionError, SpecError, UserError

if TYPE_CHECKING:
    from packaging.requirements import Requirement

    from vpython.lock.targets import Target
    from vpython.spec.model import Spec


def without_marker(req: Requirement | str) -> Requirement:
    """A Requirement without its marker (accepts text too)."""
    from packaging.requirements import Requirement

    r = Requirement(str(req))
    r.marker = None
    return r


def _parse(text: str, path: str | None) -> tuple[str, Requirement]:
    """(canonical project name, Requirement) of a pin ``normalize_spec`` produced."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        raise SpecError(
            f"invalid requirement {text!r}: {e}", path=path, hint="fix the wheel entry that produces it"
        ) from None
    return str(canonicalize_name(req.name)), req


def entry_markers(spec: Spec) -> dict[str, str]:
    """requirement text (no marker) -> the entries' own marker (``tag_markers.entry_marker``).

    ``""`` when some entry for that pin applies everywhere.
    """
    from vpython.settings.compat import cipd_map
    from vpython.spec import cipd
    from vpython.spec.tag_markers import entry_marker

    table = cipd_map()

    found: dict[str, list[str]] = {}
    for entry in spec.wheels:
        try:
            project = cipd.pypi_name(entry.name, entry=entry, path=spec.path)
            specifier = cipd.pypi_specifier(entry.version, entry=entry, path=spec.path)
        except UserError:
            continue  # normalize_spec reports it (or the entry is a template it expands)
        chosen = cipd.mapped(entry, project, specifier, table)
        if chosen is None:
            continue
        project, specifier = chosen
        found.setdefault(str(without_marker(project + specifier)), []).append(entry_marker(entry) or "")
    out = {}
    for plain, marks in found.items():
        if "" in marks:
            out[plain] = ""
        else:
            unique = sorted(set(marks))
            out[plain] = unique[0] if len(unique) == 1 else " or ".join(f"({m})" for m in unique)
    return out


def _pins_per_target(
    spec: Spec, targets: list[Target]
) -> tuple[dict[str, dict[str, Requirement]], dict[str, list[str]]]:
    """({target key: {name: pin}}, {pin text without marker: [target keys that get it]}).

    Each target's pins include the seeds (pip, setuptools, wheel at the versions for its
    Python: ``settings.seeds``) the spec does not pin itself, as a run's env has them."""
    from vpython.settings.compat import seeds_for
    from vpython.spec.normalize import normalize_spec

    per_target: dict[str, dict[str, Requirement]] = {}
    holders: dict[str, list[str]] = {}
    for t in targets:
        pins = {}
        texts = list(normalize_spec(spec, t.tags()).requirements)
        listed = {_parse(text, spec.path)[0] for text in texts}
        texts += [f"{n}=={v}" for n, v in sorted(seeds_for(tuple(t.python)).items()) if n not in listed]
        for text in texts:
            name, req = _parse(text, spec.path)
            if req.marker is not None and not req.marker.evaluate(t.environment()):
                continue
            pins[name] = req
            holders.setdefault(str(without_marker(req)), []).append(t.key)
        per_target[t.key] = pins
    return per_target, holders


def closed_requirements(
    spec: Spec, targets: list[Target]
) -> tuple[list[str], dict[str, dict[str, Requirement]]]:
    """(resolver input, each target's exact pin set) for a closed spec (module docstring)."""
    from vpython.lock import markers

    per_target, holders = _pins_per_target(spec, targets)
    own_markers = entry_markers(spec)
    requirements = []
    for plain in sorted(holders):
        keys = set(holders[plain])
        marker = None
        if len(keys) != len(targets):
            own = own_markers.get(plain)
            if own:  # the entry's own marker generalises beyond the targets: prefer it
                ev = markers.evaluator(own)
                if {t.key for t in targets if ev(t)} == keys:
                    marker = own
            if marker is None:
                try:
                    marker = markers.synthesize(keys, targets)
                except ValueError as e:
                    raise ResolutionError(
                        f"{plain} applies to some targets but not to others that markers "
                        f"cannot tell apart ({e})",
                        path=spec.path,
                        hint="lock these platforms separately (--platform)",
                    ) from None
        requirements.append(f"{plain} ; {marker}" if marker else plain)
    return requirements, per_target
