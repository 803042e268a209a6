"""PEP 425 tag logic of text-proto specs: ``match_tag`` / ``not_match_tag``, the
original's "best tag" selector and the CIPD platform a tag implies (the ``${var}``
templates expanded from that tag are ``spec.templates``).

Host tags are the *target* interpreter's complete compatible-tag list, most preferred
first, exactly as ``packaging.tags.sys_tags()`` run inside that interpreter returns it
(the original used pip's ``get_supported()``, which is the same list). Every function
here also accepts ``PEP425Tag`` objects and ``"py-abi-plat"`` strings as host tags, so a
``verify_pep425_tag`` can be used as a one-tag host list, as the original's ``verify`` does.

Sources: luci-go ``vpython/spec/match.go``, ``vpython/wheels/pep425.go``,
``cipd/client/cipd/template/template.go`` (see docs reference §7).

Stdlib only (``packaging`` is not needed to *evaluate* tags).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from vpython.errors import UserError
from vpython.spec.model import PEP425Tag, WheelEntry

__all__ = [
    "cipd_platform_for_tag",
    "host_fields",
    "package_matches",
    "select_tag",
    "tag_fields",
    "tag_matches",
    "tag_string",
]


# --------------------------------------------------------------------------- fields


def tag_fields(tag: Any) -> tuple[str, str, str]:
    """``(python, abi, platform)`` of a ``packaging.tags.Tag``, a ``PEP425Tag`` or a
    ``"python-abi-platform"`` string."""
    if isinstance(tag, PEP425Tag):
        return tag.python, tag.abi, tag.platform
    if isinstance(tag, str):
        parts = tag.split("-")
        if len(parts) != 3:
            raise UserError(
                f"not a PEP 425 tag: {tag!r} (expected python-abi-platform)",
                hint="write e.g. cp311-cp311-win_amd64",
            )
        return parts[0], parts[1], parts[2]
    interpreter = getattr(tag, "interpreter", None)
    if interpreter is not None:  # packaging.tags.Tag
        return str(interpreter), str(tag.abi), str(tag.platform)
    if isinstance(tag, (tuple, list)) and len(tag) == 3:
        return str(tag[0]), str(tag[1]), str(tag[2])
    raise TypeError(f"not a PEP 425 tag: {tag!r}")


def tag_string(tag: Any) -> str:
    """``python-abi-platform`` (Go ``TagString``: empty fields stay empty)."""
    return "-".join(tag_fields(tag))


class HostFields(list[tuple[str, str, str]]):
    """Host tags already converted to field tuples (so nested calls do not redo it)."""


def host_fields(host_tags: Iterable[Any]) -> HostFields:
    """Convert a host tag list once; pass the result to the functions here when the
    same list is tested many times."""
    if isinstance(host_tags, HostFields):
        return host_tags
    return HostFields(tag_fields(t) for t in host_tags)


def _matches(python: str, abi: str, platform: str, hosts: HostFields) -> bool:
    if not (python or abi or platform):
        return False
    for h_python, h_abi, h_platform in hosts:
        if (
            (not python or h_python == python)
            and (not abi or h_abi == abi)
            and (not platform or h_platform == platform)
        ):
            return True
    return False


# --------------------------------------------------------------------------- matching


def tag_matches(tag: PEP425Tag, host_tags: Iterable[Any]) -> bool:
    """True if any host tag agrees with every non-empty field of ``tag``
    (luci-go ``PEP425Matches``). A zero tag (``{}``) matches nothing."""
    return _matches(*tag_fields(tag), host_fields(host_tags))


def package_matches(entry: WheelEntry, host_tags: Iterable[Any]) -> bool:
    """Whether a wheel entry applies to the host (luci-go ``PackageMatches``).

    Any matching ``not_match_tag`` excludes the entry; otherwise an entry without
    ``match_tag`` is included, and one with match tags is included when any of them
    matches. So ``match_tag {}`` alone excludes the wheel.
    """
    hosts = host_fields(host_tags)
    if any(tag_matches(t, hosts) for t in entry.not_match_tag):
        return False
    if not entry.match_tag:
        return True
    return any(tag_matches(t, hosts) for t in entry.match_tag)


# --------------------------------------------------------------------------- platforms

# Linux platform families. The original (PlatformForPEP425Tag / isLinuxPlatform) only
# knows "linux_<cpu>" and "manylinux1_<cpu>". EXTENSION: PEP 599/600/656 tags
# (manylinux2010_, manylinux2014_, manylinux_X_Y_, musllinux_X_Y_) are recognised too,
# so a tag list or verify tag that only carries those still yields a CIPD platform
# (musl and glibc both map to CIPD's "linux"; CIPD has no musl platform).
_LINUX_RE = re.compile(
    r"^(?:(?P<linux>linux)|(?P<many1>manylinux1)|manylinux2010|manylinux2014"
    r"|manylinux_\d+_\d+|musllinux_\d+_\d+)_(?P<cpu>.+)$"
)


def _linux_rank(platform: str) -> int | None:
    """Preference among Linux platform tags, smaller is better; None = not Linux.

    0 manylinux1_, 1 linux_ (the original's two Linux families, in its order);
    2 the modern families, which the original does not treat as Linux at all, so they
    rank below both and the original's choice is unchanged whenever it had one.
    """
    m = _LINUX_RE.match(platform)
    if not m:
        return None
    if m.group("many1"):
        return 0
    if m.group("linux"):
        return 1
    return 2


def _linux_cpu(cpu: str) -> str | None:
    if cpu in ("i686", "i386"):  # i386: extension
        return "386"
    if cpu == "x86_64":
        return "amd64"
    if cpu in ("arm64", "aarch64"):
        return "arm64"
    if cpu in ("mipsel", "mips"):
        return "mips32"
    if cpu in ("mips64", "mips64el"):  # mips64el: extension
        return "mips64"
    if cpu == "riscv64":
        return "riscv64"
    # EXTENSION: CIPD platforms the original's tag inference never produced.
    if cpu in ("ppc64le", "ppc64", "s390x"):
        return cpu
    if cpu == "loongarch64":
        return "loong64"
    if cpu.startswith("arm"):  # armv7l, armv6l, ...: CIPD's armv6l builds run on all of them
        return "armv6l"
    return None


def _parse_mac(platform: str) -> tuple[int, int, str] | None:
    """``macosx_<maj>_<min>_<arch>`` → (maj, min, arch) (Go ``parsePEP425MacPlatform``)."""
    parts = platform.split("_", 3)
    if len(parts) != 4 or parts[0] != "macosx":
        return None
    try:
        return int(parts[1]), int(parts[2]), parts[3]
    except ValueError:
        return None


def cipd_platform_for_tag(tag: Any) -> tuple[str, str]:
    """The CIPD ``(os, arch)`` a PEP 425 tag implies (luci-go ``PlatformForPEP425Tag``).

    Raises ``UserError("failed to infer CIPD platform for tag [...]")`` when the platform
    is not recognised. Extensions over the original (which only knows ``linux_``,
    ``manylinux1_``, ``macosx_``, ``win32`` and ``win_amd64``, so it fails on modern
    aarch64/musl/Windows-on-ARM hosts): ``manylinux2010_``/``manylinux2014_``/
    ``manylinux_X_Y_``/``musllinux_X_Y_`` are Linux; ``win_arm64`` is windows-arm64;
    ``ppc64le``/``ppc64``/``s390x``/``loongarch64``/``i386``/``mips64el`` CPUs are mapped;
    ``macosx_*_x86_64`` works (the original's last-token split made it unreachable).
    """
    _, _, platform = tag_fields(tag)
    m = _LINUX_RE.match(platform)
    if m:
        arch = _linux_cpu(m.group("cpu"))
        if arch:
            return "linux", arch
    elif platform.startswith("macosx_"):
        # Go takes the last "_" token, so its "x86_64" case can never fire
        # ("macosx_10_9_x86_64" ends in "64") and such a tag fails to infer. FIX: the
        # arch is everything after "macosx_<major>_<minor>_", as parsePEP425MacPlatform
        # (the selector's parser) already does.
        mac = _parse_mac(platform)
        arch = mac[2] if mac else platform.split("_")[-1]
        if arch in ("intel", "x86_64", "fat64", "universal"):
            return "mac", "amd64"
        if arch == "arm64":
            return "mac", "arm64"
        if arch in ("i386", "fat32"):
            return "mac", "386"
    elif platform == "win32":
        return "windows", "386"
    elif platform == "win_amd64":
        return "windows", "amd64"
    elif platform == "win_arm64":  # EXTENSION: Windows on ARM
        return "windows", "arm64"
    raise UserError(
        f"failed to infer CIPD platform for tag [{tag_string(tag)}]",
        hint="${vpython_platform} exists for Linux, macOS and Windows tags; restrict the entry with match_tag",
    )


# --------------------------------------------------------------------------- selector


def _has_abi(f: tuple[str, str, str]) -> bool:  # Go HasABI: an *empty* abi counts
    return f[1] != "none"


def _any_platform(f: tuple[str, str, str]) -> bool:
    return f[2] == "any"


def _count(f: tuple[str, str, str]) -> int:
    # Go Count(): counts HasABI and AnyPlatform (not "populated fields", despite its
    # comment). Reproduced as is: the selector's outcomes depend on it.
    return int(_has_abi(f)) + int(_any_platform(f))


def _is_newer_py3_abi(cur: str, candidate: str) -> bool:
    return cur in ("abi3", "none") and candidate.startswith("cp3")


def _is_specific_impl(python: str) -> bool:
    return not python.startswith("py")


def _better_linux(cur: str, candidate: str) -> bool:
    cur_rank = _linux_rank(cur)
    cand_rank = _linux_rank(candidate)
    if cur_rank is None:
        return cand_rank is not None
    if cand_rank is None:
        return False
    return cand_rank < cur_rank


def _better_mac(cur: str, candidate: str) -> bool:
    cur_p = _parse_mac(cur)
    cand_p = _parse_mac(candidate)

    def arch_score(p: tuple[int, int, str]) -> int:
        return {"arm64": 0, "intel": 1}.get(p[2], 2)

    if cur_p is None:
        return cand_p is not None
    if cand_p is None:
        return False
    if arch_score(cand_p) != arch_score(cur_p):
        return arch_score(cand_p) < arch_score(cur_p)
    # Older macOS wins (Go "less" compares major, then minor).
    return (cand_p[0], cand_p[1]) < (cur_p[0], cur_p[1])


def _no_preference(cur: str, candidate: str) -> bool:
    return False


def _preferred_platform_func(hosts: Sequence[tuple[str, str, str]]) -> Callable[[str, str], bool]:
    # The OS is detected from the first tag that looks like Linux or Mac.
    for _, _, platform in hosts:
        if _linux_rank(platform) is not None:
            return _better_linux
        if _parse_mac(platform) is not None:
            return _better_mac
    return _no_preference


def select_tag(host_tags: Sequence[Any]) -> Any:
    """The single "best" host tag the templates are expanded from: the original's
    ``pep425TagSelector`` (luci-go ``wheels/pep425.go``), rule for rule.

    Walks the list in order and replaces ``best`` with tag ``t`` on the first rule that
    applies: no best yet; higher Go ``Count()``; best is ``any`` and t is not; best's abi
    is ``none`` and t's is not; best's abi is ``abi3``/``none`` and t's starts with
    ``cp3``; t's platform is OS-preferred and t's python is specific (or best's is not);
    t's python is specific and best's is not.

    EXTENSION: ``manylinux_X_Y_``/``manylinux2010_``/``manylinux2014_``/``musllinux_``
    count as Linux, ranked after ``manylinux1_`` and ``linux_`` (the original's only two
    Linux families), so the choice is the original's on every list where the original
    had a Linux tag to prefer, and still a Linux tag on lists that carry only modern ones.

    Returns the chosen element of ``host_tags`` itself. Raises ``UserError("no PEP425
    tag")`` for an empty list.
    """
    items = list(host_tags)
    hosts = host_fields(items)
    better_platform = _preferred_platform_func(hosts)
    best_i: int | None = None
    for i, t in enumerate(hosts):
        if best_i is None:
            best_i = i
            continue
        b = hosts[best_i]
        if (
            _count(t) > _count(b)
            or (_any_platform(b) and not _any_platform(t))
            or (not _has_abi(b) and _has_abi(t))
            or _is_newer_py3_abi(b[1], t[1])
            or (better_platform(b[2], t[2]) and (_is_specific_impl(t[0]) or not _is_specific_impl(b[0])))
            or (_is_specific_impl(t[0]) and not _is_specific_impl(b[0]))
        ):
            best_i = i
    if best_i is None:
        raise UserError(
            "no PEP425 tag: the target interpreter reported no compatible tags",
            hint="check the interpreter (or the verify_pep425_tag) the spec is evaluated for",
        )
    return items[best_i]
