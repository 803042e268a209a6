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

For multi-platform output (lockfiles), :func:`tag_to_marker` and :func:`entry_marker`
translate match tags to PEP 508 markers, ABI field included (luci's 2026
``translation.go`` drops it and miscompiles chromium's ``pathos`` entry).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from vpython import log
from vpython.errors import SpecError, UserError
from vpython.spec import cipd
from vpython.spec.match import (
    expand_template,
    host_fields,
    package_matches,
    select_tag,
    tag_fields,
    template_vars,
)
from vpython.spec.model import (
    KIND_EMPTY,
    KIND_PEP723,
    KIND_TEXTPROTO,
    KIND_TOML,
    PEP425Tag,
    Requirements,
    Spec,
    WheelEntry,
)

__all__ = [
    "FALSE_MARKER",
    "entry_marker",
    "normalize_spec",
    "normalize_textproto",
    "requires_python_for",
    "tag_to_marker",
]


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
    raise UserError(f"unknown spec kind {spec.kind!r}")


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
            raise SpecError(f"invalid dependency {text!r}: {e}", path=spec.path) from None
        extras = ",".join(sorted(canonicalize_name(x) for x in req.extras))
        key = canonicalize_name(req.name)
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
            raise SpecError(f"invalid requires-python {requires_python!r}", path=spec.path) from None
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


_warned: set = set()


def _warn_once(path: str | None, line: int | None, msg: str) -> None:
    """Normalisation runs once per lock target; say each thing about a file once."""
    key = (path, line, msg)
    if key not in _warned:
        _warned.add(key)
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        log.warning(where + msg)


def normalize_textproto(spec: Spec, host_tags: Sequence[Any]) -> Requirements:
    """A text-proto spec as exact PyPI pins for the interpreter whose tags are given.

    ``host_tags`` is the target interpreter's full compatible-tag list, most preferred
    first (``packaging.tags.Tag`` objects; ``PEP425Tag``s and tag strings work too, e.g.
    one ``verify_pep425_tag`` as the whole list).
    """
    path = spec.path
    host_list = list(host_tags)
    hosts = host_fields(host_list)

    # 1+2. Filter by match semantics, then merge by the *unexpanded* name.
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
                    path=path,
                    line=entry.line,
                    hint="keep one version, or restrict the entries with match_tag / not_match_tag",
                )
            continue
        kept[entry.name] = entry
    entries = sorted(kept.values(), key=lambda e: (e.name, e.version))

    # 3. Expand templates from the one selected tag (computed only if some name needs it).
    variables: dict[str, str] | None = None
    expanded_from: dict[str, WheelEntry] = {}
    expanded: list[tuple[WheelEntry, str]] = []
    for entry in entries:
        name = entry.name
        if "$" in name:
            if "${" in name and variables is None:
                try:
                    variables = template_vars(select_tag(host_list))
                except UserError as e:
                    raise SpecError(
                        f"cannot expand {name!r}: {e.message}", path=path, line=entry.line, hint=e.hint
                    ) from None
            try:
                result = expand_template(name, variables or {})
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

    # 4. Map to PyPI and merge CIPD spellings of the same project.
    target_py3 = _target_is_py3(hosts)
    pins: dict[str, tuple[str, WheelEntry]] = {}
    for entry, name in expanded:
        project = _project_name(entry, name, path)
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
        elif reason:
            raise SpecError(
                f"wheel {entry.name!r} ({project}) is {reason}",
                path=path,
                line=entry.line,
                hint="remove it from the spec",
            )
        specifier = cipd.pypi_specifier(entry.version, entry=entry, path=path)
        prev_pin = pins.get(project)
        if prev_pin is not None:
            if prev_pin[0] != specifier:
                other = prev_pin[1]
                raise SpecError(
                    f"multiple versions for PyPI package {_q(project)}: {entry.name!r} {entry.version!r} "
                    f"({project}{specifier}) and {other.name!r} {other.version!r} at {_at(other)} "
                    f"({project}{prev_pin[0]}) are the same project",
                    path=path,
                    line=entry.line,
                    hint="pin one version, or restrict the entries with match_tag / not_match_tag",
                )
            continue
        pins[project] = (specifier, entry)

    return Requirements(
        requirements=tuple(f"{n}{pins[n][0]}" for n in sorted(pins)),
        closed=True,
        requires_python=requires_python_for(spec.python_version, path=path),
    )


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


# =========================================================================== markers
#
# A tiny boolean algebra over PEP 508 comparisons, so that not_match_tag can be negated
# with De Morgan (PEP 508 has no "not") and constant parts fold away.

FALSE_MARKER = "python_version < '0'"  # PEP 508 has no literal false; this never holds


class _Const:
    def __init__(self, value: bool) -> None:
        self.value = value


_TRUE = _Const(True)
_FALSE = _Const(False)
_NEGATED_OP = {"==": "!=", "!=": "==", ">=": "<", "<": ">=", ">": "<=", "<=": ">"}


class _Cmp:
    def __init__(self, var: str, op: str, value: str) -> None:
        self.var, self.op, self.value = var, op, value


class _Junction:
    def __init__(self, kind: str, items: list) -> None:
        self.kind, self.items = kind, items  # kind: "and" | "or"


def _junction(kind: str, items: tuple) -> Any:
    unit, absorbing = (_TRUE, _FALSE) if kind == "and" else (_FALSE, _TRUE)
    out: list = []
    seen: set = set()
    for it in items:
        if it is unit:
            continue
        if it is absorbing:
            return absorbing
        for x in it.items if isinstance(it, _Junction) and it.kind == kind else [it]:
            key = _render(x)
            if key not in seen:  # drop repeated terms (x and x == x)
                seen.add(key)
                out.append(x)
    if not out:
        return unit
    return out[0] if len(out) == 1 else _Junction(kind, out)


def _and(*items: Any) -> Any:
    return _junction("and", items)


def _or(*items: Any) -> Any:
    return _junction("or", items)


def _not(expr: Any) -> Any:
    if expr is _TRUE:
        return _FALSE
    if expr is _FALSE:
        return _TRUE
    if isinstance(expr, _Cmp):
        return _Cmp(expr.var, _NEGATED_OP[expr.op], expr.value)
    negated = [_not(x) for x in expr.items]
    return _or(*negated) if expr.kind == "and" else _and(*negated)


def _render(expr: Any) -> str:
    if expr is _TRUE:
        return ""
    if expr is _FALSE:
        return FALSE_MARKER
    if isinstance(expr, _Cmp):
        return f"{expr.var} {expr.op} '{expr.value}'"
    parts = [f"({_render(x)})" if isinstance(x, _Junction) else _render(x) for x in expr.items]
    return f" {expr.kind} ".join(parts)


def _eq(var: str, value: str) -> _Cmp:
    return _Cmp(var, "==", value)


def _any_of(var: str, *values: str) -> Any:
    return _or(*(_eq(var, v) for v in values))


# ----------------------------------------------------------------- python / abi fields
#
# What a host tag list contains (packaging.tags, which mirrors pip): CPython 3.Z lists
# cp3Z-{cp3Z,abi3,none}-<plat>, cp3W-abi3-<plat> for 2 <= W < Z, py3Z/py3/py3W-none-<plat>
# for W < Z, and cp3Z-none-any, py3Z/py3/py3W-none-any. CPython 2.7 has no abi3. PyPy
# lists pp3Z-{pypy3Z_ppNN,none}-<plat>. A tag matches when ONE host tag agrees with all
# its fields, so python/abi/"any" are translated jointly; the platform is independent
# (every python/abi pair is listed for every platform of the host).

_PY_RE = re.compile(r"^([a-z]+?)(\d)(\d*)$")
_CP_ABI_RE = re.compile(r"^cp(\d)(\d+)[a-z]*$")  # cp311, cp27mu, cp37m, cp313t (flags ignored)
_PYPY_ABI_RE = re.compile(r"^pypy(\d)(\d+)_pp\d+$")


def _version_eq(major: str, minor: str) -> _Cmp:
    return _eq("python_version", f"{major}.{minor}")


def _version_from(major: str, minor: str) -> Any:
    """major.minor <= python_version < major+1."""
    low = f"{major}.{minor}" if minor else major
    return _and(_Cmp("python_version", ">=", low), _Cmp("python_version", "<", str(int(major) + 1)))


def _cpython(major: str, cond: Any) -> Any:
    # implementation_name is "" on Python 2 (PEP 508), so it is only added for 3+.
    if major == "2":
        return cond
    return _and(cond, _eq("implementation_name", "cpython"))


def _abi_kind(abi: str) -> tuple[str, str, str]:
    if abi == "":
        return ("any", "", "")
    if abi == "none":
        return ("none", "", "")
    if abi == "abi3":
        return ("abi3", "", "")
    m = _CP_ABI_RE.match(abi)
    if m:
        return ("cp", m.group(1), m.group(2))
    m = _PYPY_ABI_RE.match(abi)
    if m:
        return ("pypy", m.group(1), m.group(2))
    return ("unknown", "", "")


def _python_abi_condition(python: str, abi: str, any_platform: bool) -> Any:
    akind, amaj, amin = _abi_kind(abi)
    if akind == "unknown":
        return _FALSE  # no real interpreter lists it
    if not python:
        if akind in ("any", "none"):
            return _TRUE
        if any_platform:
            return _FALSE  # only "none" is paired with "any"
        if akind == "abi3":
            return _cpython("3", _version_from("3", "2"))
        if akind == "cp":
            return _cpython(amaj, _version_eq(amaj, amin))
        return _and(_eq("implementation_name", "pypy"), _version_eq(amaj, amin))
    m = _PY_RE.match(python)
    if not m:
        return _FALSE
    impl, major, minor = m.groups()
    if impl == "py":  # generic: pyXY-none-* is listed by every interpreter X.Z with Z >= Y
        return _version_from(major, minor) if akind in ("any", "none") else _FALSE
    if impl == "cp":
        if not minor:  # "cp3": old pip's cp3-none-any
            return _cpython(major, _version_from(major, "")) if akind in ("any", "none") else _FALSE
        exact = _cpython(major, _version_eq(major, minor))
        stable = (
            _cpython(major, _version_from(major, minor)) if major == "3" and int(minor) >= 2 else _FALSE
        )  # cp3Y-abi3-<plat> is listed by every CPython 3.Z with Z >= Y
        if akind == "none":
            return exact
        if akind == "cp":
            return exact if (amaj, amin) == (major, minor) and not any_platform else _FALSE
        if akind == "abi3":
            return _FALSE if any_platform else stable
        if akind == "any":  # cp3Y-abi3 tags are listed wherever cp3Y-cp3Y ones are
            return exact if any_platform or stable is _FALSE else stable
        return _FALSE
    if impl == "pp" and minor:
        exact = _and(_eq("implementation_name", "pypy"), _version_eq(major, minor))
        if akind in ("any", "none"):
            return exact
        if akind == "pypy" and not any_platform and (amaj, amin) == (major, minor):
            return exact
        return _FALSE
    return _FALSE  # ip/jy/unknown implementations: not a target vpython runs


# ----------------------------------------------------------------- platform field

_LINUX_RE = re.compile(
    r"^(?:linux|manylinux1|manylinux2010|manylinux2014|manylinux_\d+_\d+|musllinux_\d+_\d+)_(.+)$"
)


def _linux_machine(cpu: str) -> Any:
    if cpu in ("i686", "i386"):
        return _any_of("platform_machine", "i686", "i386")
    if cpu in ("aarch64", "arm64"):
        return _any_of("platform_machine", "aarch64", "arm64")
    return _eq("platform_machine", cpu)


def _mac_machine(arch: str) -> Any:
    if arch == "arm64":
        return _eq("platform_machine", "arm64")
    if arch in ("x86_64", "fat64"):
        return _eq("platform_machine", "x86_64")
    if arch in ("intel", "fat32", "fat3", "universal"):
        return _any_of("platform_machine", "x86_64", "i386")
    if arch == "universal2":
        return _any_of("platform_machine", "arm64", "x86_64")
    return _eq("platform_machine", arch)


_WINDOWS_MACHINES = {"amd64": "AMD64", "arm64": "ARM64"}
_INFERABLE_SYS_PLATFORM = {"cygwin": "cygwin", "ios": "ios", "android": "android"}


def _platform_condition(platform: str) -> Any:
    """``sys_platform`` + ``platform_machine`` for a platform tag.

    The glibc/musl version of ``manylinux_X_Y``/``musllinux_X_Y`` and the macOS version
    of ``macosx_X_Y`` cannot be expressed in PEP 508 and are not: they become plain
    "linux"/"darwin" + machine. Windows markers cannot tell 32-bit Python on 64-bit
    Windows apart (``platform_machine`` is the OS's), so ``win32`` is "x86" machines.
    Unknown platforms: conservatively ``platform_machine == '<last _ token>'``, plus
    ``sys_platform`` when the prefix names one (cygwin, ios, android).
    """
    if platform in ("", "any"):
        return _TRUE
    m = _LINUX_RE.match(platform)
    if m:
        return _and(_eq("sys_platform", "linux"), _linux_machine(m.group(1)))
    if platform.startswith("macosx_"):
        parts = platform.split("_", 3)  # macosx_<major>_<minor>_<arch>; the arch may hold "_"
        return _and(_eq("sys_platform", "darwin"), _mac_machine(parts[3] if len(parts) == 4 else parts[-1]))
    if platform == "win32":
        return _and(_eq("sys_platform", "win32"), _eq("platform_machine", "x86"))
    if platform.startswith("win_"):
        arch = platform[len("win_") :]
        return _and(_eq("sys_platform", "win32"), _eq("platform_machine", _WINDOWS_MACHINES.get(arch, arch)))
    prefix, _, _ = platform.partition("_")
    machine = _eq("platform_machine", platform.rsplit("_", 1)[-1])
    if prefix in _INFERABLE_SYS_PLATFORM:
        return _and(_eq("sys_platform", _INFERABLE_SYS_PLATFORM[prefix]), machine)
    return machine


def _tag_expr(tag: Any) -> Any:
    python, abi, platform = tag_fields(tag)
    if not (python or abi or platform):
        return _FALSE  # a zero tag matches nothing
    return _and(_python_abi_condition(python, abi, platform == "any"), _platform_condition(platform))


def tag_to_marker(tag: PEP425Tag) -> str:
    """A PEP 508 marker that holds where ``tag`` (as a ``match_tag``) matches the
    interpreter's tag list.

    Examples: ``{abi:"cp27mu"}`` → ``python_version == '2.7'``; ``{python:"cp311"
    abi:"cp311"}`` → ``python_version == '3.11' and implementation_name == 'cpython'``;
    ``{abi:"abi3"}`` → CPython >= 3.2; ``{python:"cp38"}`` → CPython >= 3.8 (via the
    ``cp38-abi3`` tags newer interpreters list); ``manylinux1_x86_64`` → Linux x86_64;
    ``macosx_11_0_arm64`` → macOS arm64; ``win_amd64`` → Windows AMD64;
    ``linux_arm64`` → Linux aarch64/arm64 (the spec author's intent: on a real host pip
    spells it ``linux_aarch64``, so vpython itself only matches it under ``verify``).

    Returns ``""`` when the tag matches every interpreter (e.g. ``{abi:"none"}``) and
    :data:`FALSE_MARKER` when it matches none (the zero tag ``{}``).
    """
    return _render(_tag_expr(tag))


_CIPD_PLATFORM_SEGMENT = re.compile(r"^(linux|mac|windows)-([a-z0-9]+)(?:_([a-z0-9]+)_([a-z0-9]+))?$")


def _literal_platform_expr(name: str) -> Any:
    """A hard-coded ``<os>-<arch>[_<python>_<abi>]`` segment (``numpy/mac-arm64_cp38_cp38``)
    as a condition (§12.3 step 3)."""
    for segment in name.split("/")[1:]:
        m = _CIPD_PLATFORM_SEGMENT.match(segment)
        if not m:
            continue
        os_name, arch, python, abi = m.groups()
        if os_name == "linux":
            machine = {
                "amd64": _eq("platform_machine", "x86_64"),
                "386": _any_of("platform_machine", "i686", "i386"),
                "arm64": _any_of("platform_machine", "aarch64", "arm64"),
                "armv6l": _any_of("platform_machine", "armv6l", "armv7l"),
                "mips32": _any_of("platform_machine", "mips", "mipsel"),
                "loong64": _eq("platform_machine", "loongarch64"),
            }.get(arch, _eq("platform_machine", arch))
            plat = _and(_eq("sys_platform", "linux"), machine)
        elif os_name == "mac":
            machine = {"amd64": "x86_64", "arm64": "arm64", "386": "i386"}.get(arch, arch)
            plat = _and(_eq("sys_platform", "darwin"), _eq("platform_machine", machine))
        else:
            machine = {"amd64": "AMD64", "arm64": "ARM64", "386": "x86"}.get(arch, arch)
            plat = _and(_eq("sys_platform", "win32"), _eq("platform_machine", machine))
        interp = _python_abi_condition(python, abi, False) if python else _TRUE
        return _and(plat, interp)
    return _TRUE


def entry_marker(entry: WheelEntry) -> str | None:
    """A PEP 508 marker equivalent to an entry's ``match_tag``/``not_match_tag`` (for
    multi-platform lockfiles; a single-host run evaluates the tags directly instead).

    (any match_tag) AND NOT (any not_match_tag), the negation by De Morgan, AND the
    platform of a hard-coded ``<os>-<arch>_<py>_<abi>`` name segment if there is one.
    ``None`` when the entry applies everywhere; :data:`FALSE_MARKER` when nowhere
    (``match_tag {}``).

    Chromium's ``pathos`` entry (``not_match_tag {abi:"cp27mu" platform:"linux_mips64"}``)
    becomes ``python_version != '2.7' or sys_platform != 'linux' or platform_machine !=
    'mips64'``, which keeps it on every Python 3.
    """
    match = _or(*(_tag_expr(t) for t in entry.match_tag)) if entry.match_tag else _TRUE
    excluded = _or(*(_tag_expr(t) for t in entry.not_match_tag))
    expr = _and(match, _not(excluded), _literal_platform_expr(entry.name))
    text = _render(expr)
    return text or None
