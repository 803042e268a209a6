"""Lock targets: the (interpreter, platform) pairs one lockfile must serve.

A target is written as a PEP 425 tag ``cp311-cp311-manylinux_2_28_x86_64`` (or just its
platform part, with the Python version given separately). From it we derive what an
installer on that machine would see, without being on that machine:

* the PEP 508 marker environment (``sys_platform``, ``platform_machine``,
  ``python_version`` ...), used to evaluate package markers, and
* the ordered list of compatible wheel tags, built with ``packaging.tags`` exactly the
  way ``packaging.tags.sys_tags()`` builds it on the real machine (manylinux glibc
  floors expand downwards, macOS versions expand down to 10.0, ...).

Platform spellings accepted (the ones PyPI wheels and Chromium specs use):

* ``manylinux_X_Y_<arch>``, legacy ``manylinux1/2010/2014_<arch>``: Linux with glibc >= X.Y
* ``musllinux_X_Y_<arch>``: Linux with musl >= X.Y
* ``linux_<arch>`` (Chromium's spelling, ``arm64`` = ``aarch64``): Linux with the default
  glibc floor (``DEFAULT_GLIBC``), also accepting wheels tagged ``linux_<arch>``
* ``macosx_X_Y_<arch>`` with arch ``x86_64``, ``arm64``, ``intel``, ``universal2`` ...
* ``win_amd64``, ``win32``, ``win_arm64``
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vpython.errors import UserError

if TYPE_CHECKING:
    from packaging.tags import Tag

    from vpython.spec.model import PEP425Tag

DEFAULT_GLIBC = (2, 28)
# The documented default target set (docs/lock.md): what most projects deploy to.
DEFAULT_PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_28_aarch64",
    "macosx_11_0_x86_64",
    "macosx_11_0_arm64",
    "win_amd64",
)

_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_LEGACY_ALIAS = {(2, 5): "manylinux1", (2, 12): "manylinux2010", (2, 17): "manylinux2014"}
_LINUX_ARCH = {"arm64": "aarch64", "amd64": "x86_64", "x64": "x86_64"}
_MAC_MACHINE = {
    "arm64": "arm64",
    "x86_64": "x86_64",
    "intel": "x86_64",
    "fat64": "x86_64",
    "fat3": "x86_64",
    "universal": "x86_64",
    "universal2": "arm64",
    "i386": "i386",
    "fat32": "i386",
    "fat": "i386",
    "ppc": "ppc",
    "ppc64": "ppc64",
}
_WINDOWS = {"win_amd64": "AMD64", "win32": "x86", "win_arm64": "ARM64"}
_PY_TAG = re.compile(r"^(?:cp|py)(\d)(\d+)?$")
_VERSION = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?$")

_TAGS: dict[Target, list[Tag]] = {}  # a Target's tag list (building one costs ~2 ms)


def parse_python_version(text: str, what: str = "--python") -> tuple[int, ...]:
    """``"3.11"`` / ``"3.11.4"`` / ``"cp311"`` / ``"311"`` -> (3, 11) or (3, 11, 4)."""
    t = text.strip()
    m = _PY_TAG.match(t)
    if m and m.group(2):
        return (int(m.group(1)), int(m.group(2)))
    if re.fullmatch(r"3\d\d?", t):
        return (3, int(t[1:]))
    m = _VERSION.match(t)
    if not m or m.group(2) is None:
        raise UserError(
            f"{what} {text!r}: not a Python version",
            hint="write MAJOR.MINOR (e.g. 3.11), MAJOR.MINOR.PATCH, or a cpXY tag",
        )
    version = tuple(int(g) for g in m.groups() if g is not None)
    if version[0] != 3:
        raise UserError(f"{what} {text!r}: only Python 3 can be locked", hint="name a 3.X version")
    return version


@dataclass(frozen=True)
class Target:
    """One interpreter on one platform."""

    python: tuple[int, ...]  # (3, 11) or (3, 11, 4)
    platform: str  # canonical PEP 425 platform tag, e.g. "manylinux_2_28_x86_64"
    abi: str = ""  # "" = the CPython default ABI (cpXY)

    # ---- naming -----------------------------------------------------------------
    @property
    def py_tag(self) -> str:
        return f"cp{self.python[0]}{self.python[1]}"

    @property
    def abi_tag(self) -> str:
        return self.abi or self.py_tag

    @property
    def key(self) -> str:
        """The spelling recorded in lockfiles and printed in messages."""
        return f"{self.py_tag}-{self.abi_tag}-{self.platform}"

    def __str__(self) -> str:
        return self.key

    @property
    def python_version(self) -> str:
        return f"{self.python[0]}.{self.python[1]}"

    @property
    def python_full_version(self) -> str:
        return ".".join(map(str, self.python)) if len(self.python) == 3 else f"{self.python_version}.0"

    # ---- what an installer on the target sees -----------------------------------
    def _system(self) -> tuple[str, str, str, str]:
        """(sys_platform, platform_system, os_name, platform_machine)."""
        p = self.platform
        if p in _WINDOWS:
            return "win32", "Windows", "nt", _WINDOWS[p]
        if p.startswith("macosx_"):
            arch = p.split("_", 3)[3]
            return "darwin", "Darwin", "posix", _MAC_MACHINE.get(arch, arch)
        arch = _linux_arch(p)
        return "linux", "Linux", "posix", arch

    def environment(self) -> dict[str, str]:
        sys_platform, system, os_name, machine = self._system()
        return {
            "implementation_name": "cpython",
            "implementation_version": self.python_full_version,
            "os_name": os_name,
            "platform_machine": machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": system,
            "platform_version": "",
            "python_full_version": self.python_full_version,
            "python_version": self.python_version,
            "sys_platform": sys_platform,
        }

    def platforms(self) -> list[str]:
        """Compatible platform tags, best first (what sys_tags() would list there)."""
        p = self.platform
        if p in _WINDOWS:
            return [p]
        if p.startswith("macosx_"):
            from packaging.tags import mac_platforms

            _, major, minor, arch = p.split("_", 3)
            machine = _MAC_MACHINE.get(arch, arch)
            if arch == "universal2":
                # A universal2 target: any macOS machine; only fat wheels serve both.
                return list(mac_platforms((int(major), int(minor)), "universal2"))
            return list(mac_platforms((int(major), int(minor)), machine))
        m = re.match(r"^(manylinux|musllinux)_(\d+)_(\d+)_(.+)$", p)
        if m:
            floor = (int(m.group(2)), int(m.group(3)))
            return _linux_platforms(m.group(1), floor, m.group(4))
        if p.startswith("linux_"):
            arch = _linux_arch(p)
            return _linux_platforms("manylinux", DEFAULT_GLIBC, arch) + [f"linux_{arch}"]
        raise AssertionError(p)  # parse_platform rejects everything else

    def tags(self) -> list[Tag]:
        """Ordered packaging.tags.Tag list of the target interpreter (computed once)."""
        cached = _TAGS.get(self)
        if cached is None:
            from packaging.tags import compatible_tags, cpython_tags

            plats = self.platforms()
            py = (self.python[0], self.python[1])
            abis = [self.abi_tag]
            cached = list(cpython_tags(py, abis=abis, platforms=plats)) + list(
                compatible_tags(py, self.py_tag, plats)
            )
            _TAGS[self] = cached
        return list(cached)

    def tag_strings(self) -> list[str]:
        return [str(t) for t in (_TAGS.get(self) or self.tags())]

    def complete_platform(self) -> dict[str, Any]:
        """pex's ``--complete-platform`` JSON for this target."""
        return {"marker_environment": self.environment(), "compatible_tags": [str(t) for t in self.tags()]}


def _linux_arch(platform: str) -> str:
    m = re.match(r"^(?:manylinux|musllinux)_\d+_\d+_(.+)$", platform)
    if m:
        return m.group(1)
    for legacy in _LEGACY_MANYLINUX:
        if platform.startswith(legacy + "_"):
            return platform[len(legacy) + 1 :]
    arch = platform[len("linux_") :]
    return _LINUX_ARCH.get(arch, arch)


def _linux_platforms(kind: str, floor: tuple[int, int], arch: str) -> list[str]:
    out = []
    major, minor = floor
    for m in range(minor, -1, -1):
        out.append(f"{kind}_{major}_{m}_{arch}")
        if kind == "manylinux" and (major, m) in _LEGACY_ALIAS:
            out.append(f"{_LEGACY_ALIAS[(major, m)]}_{arch}")
    return out


def parse_platform(text: str, what: str = "--platform") -> str:
    """Validate and canonicalize a platform tag (legacy manylinux names -> PEP 600)."""
    p = text.strip()
    if p in _WINDOWS:
        return p
    for legacy, floor in _LEGACY_MANYLINUX.items():
        if p.startswith(legacy + "_") and len(p) > len(legacy) + 1:
            return f"manylinux_{floor[0]}_{floor[1]}_{p[len(legacy) + 1 :]}"
    if re.fullmatch(r"(manylinux|musllinux)_\d+_\d+_[a-z0-9_]+", p):
        return p
    if re.fullmatch(r"macosx_\d+_\d+_[a-z0-9_]+", p):
        return p
    if re.fullmatch(r"linux_[a-z0-9_]+", p):
        return f"linux_{_LINUX_ARCH.get(p[6:], p[6:])}"
    raise UserError(
        f"{what} {text!r}: not a platform tag this lock can target",
        hint=(
            "use a PEP 425 platform tag such as manylinux_2_28_x86_64, musllinux_1_2_aarch64, "
            "macosx_11_0_arm64, win_amd64 (or a full tag cp311-cp311-<platform>)"
        ),
    )


def parse_target(text: str, pythons: Iterable[tuple[int, ...]], what: str = "--platform") -> list[Target]:
    """``PLATFORM`` (crossed with ``pythons``) or ``PY-ABI-PLATFORM`` -> [Target]."""
    t = text.strip()
    parts = t.split("-")
    if len(parts) == 3:
        py, abi, plat = parts
        version = parse_python_version(py, what) if py not in ("", "*", "py3") else None
        platform = parse_platform(plat, what)
        abi = (
            ""
            if abi in ("", "*", "none", "abi3") or (version and abi == f"cp{version[0]}{version[1]}")
            else abi
        )
        if version is None:
            return [Target(v, platform, abi) for v in pythons]
        return [Target(version, platform, abi)]
    if len(parts) != 1:
        raise UserError(
            f"{what} {text!r}: expected PLATFORM or PYTHON-ABI-PLATFORM",
            hint="e.g. manylinux_2_28_x86_64, or cp311-cp311-manylinux_2_28_x86_64",
        )
    platform = parse_platform(t, what)
    return [Target(v, platform) for v in pythons]


def from_pep425(tag: PEP425Tag, pythons: Iterable[tuple[int, ...]], where: str) -> list[Target]:
    """Targets for one spec ``verify_pep425_tag`` (empty fields = the spec's python)."""
    if not tag.platform:
        raise UserError(f"{where}: verify_pep425_tag {tag} has no platform", hint='set platform: "..."')
    return parse_target(f"{tag.python or '*'}-{tag.abi or '*'}-{tag.platform}", pythons, where)


def dedupe(targets: Iterable[Target]) -> list[Target]:
    """Unique targets in a stable (sorted) order."""
    return sorted(set(targets), key=lambda t: (t.python, t.platform, t.abi))


def parse_recorded(keys: Iterable[object] | None) -> list[Target]:
    """Targets recorded in a lockfile's ``[tool.vpython] targets``."""
    out: list[Target] = []
    for k in keys or ():
        try:
            out += parse_target(str(k), [], "recorded target")
        except UserError:
            continue
    return out
