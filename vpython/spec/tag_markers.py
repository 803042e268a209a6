"""PEP 425 match tags as PEP 508 markers, for multi-platform lockfiles.

A single-host run evaluates a spec's ``match_tag`` / ``not_match_tag`` against the host's
tag list directly (``spec.match``). A lockfile serves many hosts, so ``lock.closed``
needs the same decision as a marker: ``tag_to_marker`` and ``entry_marker`` translate
tags (ABI field included: luci's 2026 ``translation.go`` drops it and miscompiles
chromium's ``pathos`` entry) with the algebra of ``spec.marker_algebra``.
"""

from __future__ import annotations

import re
from typing import Any

from vpython.spec.marker_algebra import (
    FALSE,
    FALSE_MARKER,
    TRUE,
    Cmp,
    Expr,
    all_of,
    any_value,
    eq,
    negate,
    one_of,
    render,
)
from vpython.spec.match import tag_fields
from vpython.spec.model import PEP425Tag, WheelEntry

__all__ = ["FALSE_MARKER", "entry_marker", "tag_to_marker"]

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


def _version_eq(major: str, minor: str) -> Cmp:
    return eq("python_version", f"{major}.{minor}")


def _version_from(major: str, minor: str) -> Expr:
    """major.minor <= python_version < major+1."""
    low = f"{major}.{minor}" if minor else major
    return all_of(Cmp("python_version", ">=", low), Cmp("python_version", "<", str(int(major) + 1)))


def _cpython(major: str, cond: Expr) -> Expr:
    # implementation_name is "" on Python 2 (PEP 508), so it is only added for 3+.
    if major == "2":
        return cond
    return all_of(cond, eq("implementation_name", "cpython"))


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


def _python_abi_condition(python: str, abi: str, any_platform: bool) -> Expr:
    akind, amaj, amin = _abi_kind(abi)
    if akind == "unknown":
        return FALSE  # no real interpreter lists it
    if not python:
        if akind in ("any", "none"):
            return TRUE
        if any_platform:
            return FALSE  # only "none" is paired with "any"
        if akind == "abi3":
            return _cpython("3", _version_from("3", "2"))
        if akind == "cp":
            return _cpython(amaj, _version_eq(amaj, amin))
        return all_of(eq("implementation_name", "pypy"), _version_eq(amaj, amin))
    m = _PY_RE.match(python)
    if not m:
        return FALSE
    impl, major, minor = m.groups()
    if impl == "py":  # generic: pyXY-none-* is listed by every interpreter X.Z with Z >= Y
        return _version_from(major, minor) if akind in ("any", "none") else FALSE
    if impl == "cp":
        if not minor:  # "cp3": old pip's cp3-none-any
            return _cpython(major, _version_from(major, "")) if akind in ("any", "none") else FALSE
        exact = _cpython(major, _version_eq(major, minor))
        stable = (
            _cpython(major, _version_from(major, minor)) if major == "3" and int(minor) >= 2 else FALSE
        )  # cp3Y-abi3-<plat> is listed by every CPython 3.Z with Z >= Y
        if akind == "none":
            return exact
        if akind == "cp":
            return exact if (amaj, amin) == (major, minor) and not any_platform else FALSE
        if akind == "abi3":
            return FALSE if any_platform else stable
        if akind == "any":  # cp3Y-abi3 tags are listed wherever cp3Y-cp3Y ones are
            return exact if any_platform or stable is FALSE else stable
        return FALSE
    if impl == "pp" and minor:
        exact = all_of(eq("implementation_name", "pypy"), _version_eq(major, minor))
        if akind in ("any", "none"):
            return exact
        if akind == "pypy" and not any_platform and (amaj, amin) == (major, minor):
            return exact
        return FALSE
    return FALSE  # ip/jy/unknown implementations: not a target vpython runs


# ----------------------------------------------------------------- platform field

_LINUX_RE = re.compile(
    r"^(?:linux|manylinux1|manylinux2010|manylinux2014|manylinux_\d+_\d+|musllinux_\d+_\d+)_(.+)$"
)


def _linux_machine(cpu: str) -> Expr:
    if cpu in ("i686", "i386"):
        return any_value("platform_machine", "i686", "i386")
    if cpu in ("aarch64", "arm64"):
        return any_value("platform_machine", "aarch64", "arm64")
    return eq("platform_machine", cpu)


def _mac_machine(arch: str) -> Expr:
    if arch == "arm64":
        return eq("platform_machine", "arm64")
    if arch in ("x86_64", "fat64"):
        return eq("platform_machine", "x86_64")
    if arch in ("intel", "fat32", "fat3", "universal"):
        return any_value("platform_machine", "x86_64", "i386")
    if arch == "universal2":
        return any_value("platform_machine", "arm64", "x86_64")
    return eq("platform_machine", arch)


_WINDOWS_MACHINES = {"amd64": "AMD64", "arm64": "ARM64"}
_INFERABLE_SYS_PLATFORM = {"cygwin": "cygwin", "ios": "ios", "android": "android"}


def _platform_condition(platform: str) -> Expr:
    """``sys_platform`` + ``platform_machine`` for a platform tag.

    The glibc/musl version of ``manylinux_X_Y``/``musllinux_X_Y`` and the macOS version
    of ``macosx_X_Y`` cannot be expressed in PEP 508 and are not: they become plain
    "linux"/"darwin" + machine. Windows markers cannot tell 32-bit Python on 64-bit
    Windows apart (``platform_machine`` is the OS's), so ``win32`` is "x86" machines.
    Unknown platforms: conservatively ``platform_machine == '<last _ token>'``, plus
    ``sys_platform`` when the prefix names one (cygwin, ios, android).
    """
    if platform in ("", "any"):
        return TRUE
    m = _LINUX_RE.match(platform)
    if m:
        return all_of(eq("sys_platform", "linux"), _linux_machine(m.group(1)))
    if platform.startswith("macosx_"):
        parts = platform.split("_", 3)  # macosx_<major>_<minor>_<arch>; the arch may hold "_"
        return all_of(eq("sys_platform", "darwin"), _mac_machine(parts[3] if len(parts) == 4 else parts[-1]))
    if platform == "win32":
        return all_of(eq("sys_platform", "win32"), eq("platform_machine", "x86"))
    if platform.startswith("win_"):
        arch = platform[len("win_") :]
        return all_of(eq("sys_platform", "win32"), eq("platform_machine", _WINDOWS_MACHINES.get(arch, arch)))
    prefix, _, _ = platform.partition("_")
    machine = eq("platform_machine", platform.rsplit("_", 1)[-1])
    if prefix in _INFERABLE_SYS_PLATFORM:
        return all_of(eq("sys_platform", _INFERABLE_SYS_PLATFORM[prefix]), machine)
    return machine


def _tag_expr(tag: Any) -> Expr:
    python, abi, platform = tag_fields(tag)
    if not (python or abi or platform):
        return FALSE  # a zero tag matches nothing
    return all_of(_python_abi_condition(python, abi, platform == "any"), _platform_condition(platform))


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
    return render(_tag_expr(tag))


_CIPD_PLATFORM_SEGMENT = re.compile(r"^(linux|mac|windows)-([a-z0-9]+)(?:_([a-z0-9]+)_([a-z0-9]+))?$")


def _literal_platform_expr(name: str) -> Expr:
    """A hard-coded ``<os>-<arch>[_<python>_<abi>]`` segment (``numpy/mac-arm64_cp38_cp38``)
    as a condition (§12.3 step 3)."""
    for segment in name.split("/")[1:]:
        m = _CIPD_PLATFORM_SEGMENT.match(segment)
        if not m:
            continue
        os_name, arch, python, abi = m.groups()
        if os_name == "linux":
            linux_machine: Expr = {
                "amd64": eq("platform_machine", "x86_64"),
                "386": any_value("platform_machine", "i686", "i386"),
                "arm64": any_value("platform_machine", "aarch64", "arm64"),
                "armv6l": any_value("platform_machine", "armv6l", "armv7l"),
                "mips32": any_value("platform_machine", "mips", "mipsel"),
                "loong64": eq("platform_machine", "loongarch64"),
            }.get(arch, eq("platform_machine", arch))
            plat = all_of(eq("sys_platform", "linux"), linux_machine)
        elif os_name == "mac":
            machine = {"amd64": "x86_64", "arm64": "arm64", "386": "i386"}.get(arch, arch)
            plat = all_of(eq("sys_platform", "darwin"), eq("platform_machine", machine))
        else:
            machine = {"amd64": "AMD64", "arm64": "ARM64", "386": "x86"}.get(arch, arch)
            plat = all_of(eq("sys_platform", "win32"), eq("platform_machine", machine))
        interp = _python_abi_condition(python, abi, False) if python else TRUE
        return all_of(plat, interp)
    return TRUE


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
    match = one_of(*(_tag_expr(t) for t in entry.match_tag)) if entry.match_tag else TRUE
    excluded = one_of(*(_tag_expr(t) for t in entry.not_match_tag))
    expr = all_of(match, negate(excluded), _literal_platform_expr(entry.name))
    text = render(expr)
    return text or None
