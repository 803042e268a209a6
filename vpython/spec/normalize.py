"""Spec + target interpreter → ``Requirements`` (what the resolver is handed).

Text-proto specs (``.vpython3``, ``[VPYTHON:BEGIN]`` blocks) follow the original's
``NormalizeSpec`` + ``ensureFileFromVPythonSpec`` (luci-go ``spec/spec.go``,
``wheels/wheels.go``; docs reference §7 and §11 items 10-16), then map every CIPD entry to
an exact PyPI pin (``vpython.spec.cipd``):

1. drop entries whose ``match_tag``/``not_match_tag`` do not match the *target*
   interpreter's tag list;
2. merge entries with the same *unexpanded* name: equal versions merge, different ones
   are an error (only among matching entries, so per-platform entries may differ);
3. sort by (name, version), expand ``${...}`` templates from the one selected tag
   (``${x=a,b}`` may skip an entry), two entries expanding to one name are a
   ``duplicated package`` error;
4. map names/versions to PyPI and merge entries that are the same project under
   different CIPD spellings (``six-py2_py3`` and ``six``): same pin merges, different
   pins are an error naming both lines.

The result is *closed*: exactly these pins, no silent additions.

PEP 723 / ``vpython.toml`` specs pass their ``dependencies`` through (validated, sorted,
de-duplicated) for resolution.

For multi-platform output (lockfiles), ``spec.tag_markers`` translates match tags to PEP
508 markers instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from vpython import log
from vpython.errors import SpecError, UserError
from vpython.spec import cipd
from vpython.spec.match import HostFields, host_fields, package_matches, select_tag
from vpython.spec.model import (
    KIND_EMPTY,
    KIND_PEP723,
    KIND_TEXTPROTO,
    KIND_TOML,
    Requirements,
    Spec,
    WheelEntry,
)
from vpython.spec.templates import expand_template, template_vars

__all__ = ["normalize_spec", "normalize_textproto", "requires_python_for"]


def _at(entry: WheelEntry) -> str:
    return f"line {entry.line}" if entry.line is not None else "an earlier entry"


# =========================================================================== dispatch


def normalize_spec(spec: Spec, host_tags: Sequence[Any]) -> Requirements:
    """Normalise any spec for one target interpreter (its ``packaging.tags.sys_tags()``
    list, most preferred first)."""
    if spec.kind == KIND_TEXTPROTO:
        return normalize_textproto(spec, host_tags)
    if spec.kind in (KIND_PEP723, KIND_TOML):
        return _normalize_dependencies(spec)
    if spec.kind == KIND_EMPTY:
        return Requirements(requirements=(), closed=False, requires_python="")
    raise UserError(
        f"unknown spec kind {spec.kind!r}",
        path=spec.path,
        hint="use a .vpython3, vpython.toml or PEP 723 spec",
    )


def _normalize_dependencies(spec: Spec) -> Requirements:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.utils import canonicalize_name

    seen: dict[str, str] = {}
    for text in spec.dependencies:
        text = text.strip()
        try:
            req = Requirement(text)
        except InvalidRequirement as e:
            raise SpecError(
                f"invalid dependency {text!r}: {e}",
                path=spec.path,
                hint='write a PEP 508 requirement, e.g. "requests>=2.31"',
            ) from None
        extras = ",".join(sorted(canonicalize_name(x) for x in req.extras))
        key: str = canonicalize_name(req.name)
        if extras:
            key += f"[{extras}]"
        key += f" @ {req.url}" if req.url else str(req.specifier)
        if req.marker is not None:
            key += f"; {req.marker}"
        seen.setdefault(key, text)
    requires_python = spec.requires_python.strip()
    if requires_python:
        try:
            SpecifierSet(requires_python)
        except InvalidSpecifier:
            raise SpecError(
                f"invalid requires-python {requires_python!r}",
                path=spec.path,
                hint='write a PEP 440 specifier, e.g. ">=3.10"',
            ) from None
    return Requirements(
        requirements=tuple(seen[k] for k in sorted(seen)),
        closed=False,
        requires_python=requires_python,
    )


# =========================================================================== text proto


def requires_python_for(python_version: str, *, path: str | None = None) -> str:
    """``python_version`` of a text-proto spec as a PEP 440 specifier.

    ``"3"`` → ``>=3,<4``; ``"3.11"`` → ``==3.11.*``; ``"3.11.4"`` → ``==3.11.4``;
    ``""`` → ``""`` (the tool's default interpreter).
    """
    v = python_version.strip()
    if not v:
        return ""
    if not re.fullmatch(r"\d+(\.\d+){0,2}", v):
        raise SpecError(
            f'python_version {python_version!r} is not "X", "X.Y" or "X.Y.Z"',
            path=path,
            hint='e.g. python_version: "3.11"',
        )
    parts = v.split(".")
    if len(parts) == 1:
        return f">={parts[0]},<{int(parts[0]) + 1}"
    if len(parts) == 2:
        return f"=={v}.*"
    return f"=={v}"


def _target_is_py3(hosts: Sequence[tuple[str, str, str]]) -> bool:
    pythons = {h[0] for h in hosts}
    if "py3" in pythons:
        return True
    return "py2" not in pythons


_warned: set[tuple[str | None, int | None, str]] = set()


def _warn_once(path: str | None, line: int | None, msg: str) -> None:
    """Normalisation runs once per lock target; say each thing about a file once."""
    key = (path, line, msg)
    if key not in _warned:
        _warned.add(key)
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        log.warning(where + msg)


def normalize_textproto(spec: Spec, host_tags: Sequence[Any]) -> Requirements:
    """A text-proto spec as exact PyPI pins for the interpreter whose tags are given
    (steps 1-4 of the module docstring, one function each).

    ``host_tags`` is the target interpreter's full compatible-tag list, most preferred
    first (``packaging.tags.Tag`` objects; ``PEP425Tag``s and tag strings work too, e.g.
    one ``verify_pep425_tag`` as the whole list).
    """
    host_list = list(host_tags)
    hosts = host_fields(host_list)
    entries = _matching_entries(spec, hosts)
    named = _expand_names(entries, host_list, spec.path)
    pins = _pypi_pins(named, _target_is_py3(hosts), spec.path)
    return Requirements(
        requirements=tuple(f"{n}{pins[n][0]}" for n in sorted(pins)),
        closed=True,
        requires_python=requires_python_for(spec.python_version, path=spec.path),
    )


def _matching_entries(spec: Spec, hosts: HostFields) -> list[WheelEntry]:
    """Steps 1+2: the entries whose tags match, merged by their *unexpanded* name, sorted."""
    kept: dict[str, WheelEntry] = {}
    for entry in spec.wheels:
        if not package_matches(entry, hosts):
            continue
        prev = kept.get(entry.name)
        if prev is not None:
            if prev.version != entry.version:
                raise SpecError(
                    f"multiple versions for package {_q(entry.name)}: {_q(entry.version)} != {_q(prev.version)} "
                    f"(this entry and the one at {_at(prev)} both apply to this interpreter)",
                    path=spec.path,
                    line=entry.line,
                    hint="keep one version, or restrict the entries with match_tag / not_match_tag",
                )
            continue
        kept[entry.name] = entry
    return sorted(kept.values(), key=lambda e: (e.name, e.version))


def _expand_names(
    entries: list[WheelEntry], host_list: list[Any], path: str | None
) -> list[tuple[WheelEntry, str]]:
    """Step 3: (entry, its expanded name); ``${var=a,b}`` may skip an entry. The template
    variables come from the one selected tag, computed only if some name needs them."""
    variables: dict[str, str] | None = None
    expanded_from: dict[str, WheelEntry] = {}
    expanded: list[tuple[WheelEntry, str]] = []
    for entry in entries:
        name = entry.name
        if "$" in entry.name:
            if "${" in entry.name and variables is None:
                try:
                    variables = template_vars(select_tag(host_list))
                except UserError as e:
                    raise SpecError(
                        f"cannot expand {entry.name!r}: {e.message}", path=path, line=entry.line, hint=e.hint
                    ) from None
            try:
                result = expand_template(entry.name, variables or {})
            except SpecError as e:
                raise SpecError(e.message, path=path, line=entry.line, hint=e.hint) from None
            if result is None:
                continue  # ${var=a,b} did not apply: skipped silently, as the original does
            name = result
        prev = expanded_from.get(name)
        if prev is not None:
            raise SpecError(
                f"duplicated package {_q(name)}: {entry.name!r} and {prev.name!r} (at {_at(prev)}) "
                "both expand to it on this interpreter",
                path=path,
                line=entry.line,
                hint="restrict one of them with match_tag / not_match_tag",
            )
        expanded_from[name] = entry
        expanded.append((entry, name))
    return expanded


def _pypi_pins(
    named: list[tuple[WheelEntry, str]], target_py3: bool, path: str | None
) -> dict[str, tuple[str, WheelEntry]]:
    """Step 4: {PyPI project: (specifier, the entry)}, CIPD spellings of one project merged."""
    from vpython.settings.compat import cipd_map

    table = cipd_map()
    pins: dict[str, tuple[str, WheelEntry]] = {}
    for entry, name in named:
        project = _project_name(entry, name, path)
        specifier = cipd.pypi_specifier(entry.version, entry=entry, path=path)
        chosen = cipd.mapped(entry, project, specifier, table)
        if chosen is None:
            log.debug(f"{path}:{entry.line}: {project}{specifier} left out by the config's [cipd] map")
            continue
        project, specifier = chosen
        reason = cipd.denylist_reason(project, target_is_py3=target_py3, cipd_name=entry.name)
        if reason and project in cipd.PY2_ONLY_BACKPORTS:
            # Flag, don't refuse: Chromium's own top-level .vpython3 (and catapult's, cobalt's)
            # lists funcsigs unrestricted and the original installs it. If PyPI has no Python 3
            # wheel for the pin, the resolver's error names it; this warning says why.
            _warn_once(
                path,
                entry.line,
                f"wheel {entry.name!r} ({project}) is {reason}; installing it as "
                'Chromium\'s vpython does (restrict it with match_tag { python: "cp27" } to skip it)',
            )
        # A Chromium-internal name (infra_libs) is not refused: a wheelhouse or a private
        # index may have it; if none does, vpython.spec.private explains the failure.
        prev = pins.get(project)
        if prev is not None:
            if prev[0] != specifier:
                other = prev[1]
                raise SpecError(
                    f"multiple versions for PyPI package {_q(project)}: {entry.name!r} {entry.version!r} "
                    f"({project}{specifier}) and {other.name!r} {other.version!r} at {_at(other)} "
                    f"({project}{prev[0]}) are the same project",
                    path=path,
                    line=entry.line,
                    hint="pin one version, or restrict the entries with match_tag / not_match_tag",
                )
            continue
        pins[project] = (specifier, entry)
    return pins


def _q(s: str) -> str:
    """Go's %q for the plain strings specs contain."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _project_name(entry: WheelEntry, expanded: str, path: str | None) -> str:
    # The unexpanded name is the better source (a template segment is a platform, not a
    # project); fall back to the expanded one if the project segment itself is templated.
    try:
        return cipd.pypi_name(entry.name, entry=entry, path=path)
    except SpecError:
        if expanded != entry.name:
            try:
                return cipd.pypi_name(expanded, entry=entry, path=path)
            except SpecError:
                pass
        raise
