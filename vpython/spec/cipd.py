"""CIPD wheel package names and versions → PyPI project names and version pins.

Chromium's text-proto specs name CIPD packages (``infra/python/wheels/six-py2_py3``,
``version:1.16.0``). vpython installs from PyPI instead, so each entry is mapped by a
deterministic rule (docs reference §12.3; it extends luci-go's 2026
``standard/legacy/pipname``):

* name: drop ``infra/python/wheels/`` and keep the first path segment (for other
  prefixes, the last segment that is neither a ``${...}`` template nor a literal CIPD
  platform such as ``linux-amd64`` or ``mac-arm64_cp38_cp38``); strip ONE suffix of
  ``-py2_py3 _py2_py3 -py3 _py3 -py2 _py2``; PEP 503-normalise.
* version: drop ``version:2@``/``version:``; drop a trailing ``.chromium.N`` /
  ``+google.N`` / ``.compatible.N`` rebuild label (PyPI cannot have local labels); the
  numpy placeholder ``1.2x.supported.N`` becomes a range; everything else must be PEP 440
  and is canonicalised (``2024.07.31`` → ``2024.7.31``). Instance IDs, refs
  (``latest``), ``git_revision:`` and other tags cannot be mapped and are errors that
  name the entry and its line.

A small list names Chromium-internal packages and Python 2 backports (§12.3 step 4);
the caller applies it only to entries that would actually be installed. Internal names
are not refused here: a wheelhouse (``VPYTHON_FIND_LINKS``) or a private index may
supply them; when no source has them the resolver's failure becomes the private-package
error (``vpython.spec.private``), which says how to supply them.

The user config's ``[cipd]`` table (``vpython.settings.compat``) maps CIPD packages that
PyPI lacks to other projects or versions, or leaves them out: ``mapped``.
"""

from __future__ import annotations

import re

from vpython.errors import SpecError
from vpython.spec.model import WheelEntry

__all__ = [
    "CHROMIUM_INTERNAL",
    "CIPD_WHEEL_PREFIX",
    "PY2_ONLY_BACKPORTS",
    "denylist_reason",
    "is_version_range",
    "mapped",
    "pypi_name",
    "pypi_specifier",
    "pypi_version",
]

CIPD_WHEEL_PREFIX = "infra/python/wheels/"
_NAME_SUFFIXES = ("-py2_py3", "_py2_py3", "-py3", "_py3", "-py2", "_py2")
_PEP503_RUN = re.compile(r"[-_.]+")
_VALID_NAME = re.compile(r"^([a-z0-9]|[a-z0-9][a-z0-9._-]*[a-z0-9])$")
# A literal CIPD platform segment: "linux-amd64", "mac-arm64_cp38_cp38", "windows-386".
_CIPD_PLATFORM_SEGMENT = re.compile(
    r"^(linux|mac|windows|freebsd|netbsd|openbsd|aix|android|ios|solaris|illumos)-[a-z0-9]+(_[a-z0-9]+_[a-z0-9]+)?$"
)
_LOCAL_LABEL = re.compile(r"[.+](?:chromium|google|compatible)\.\d+$")
_PLACEHOLDER = re.compile(r"^(?P<major>\d+)\.(?P<minor>\d+)x\.supported\.\d+$")
# Known placeholders and the real versions they stood for (chromium's numpy used
# "1.2x.supported.N" for 1.20.3 on most platforms and 1.21.1 on mac-arm64).
_KNOWN_PLACEHOLDERS = {("1", "2"): ">=1.20,<1.22"}
_HINT_PIN = 'pin a released version with a "version:X.Y.Z" tag, e.g. version: "version:1.16.0"'

# §12.3 step 4: names that PyPI does not have (Chromium-internal) or that only make
# sense on Python 2. Keys are PEP 503 names.
CHROMIUM_INTERNAL = {
    "infra-libs": "a Chromium-internal package (infra_libs) that is not published on PyPI",
    "expect-tests": "a Chromium-internal test runner that is not published on PyPI",
}
PY2_ONLY_BACKPORTS = {
    "futures": "the Python 2 backport of concurrent.futures",
    "backports-functools-lru-cache": "the Python 2 backport of functools.lru_cache",
    "backports-ssl-match-hostname": "the Python 2 backport of ssl.match_hostname",
    "configparser": "the Python 2 backport of configparser (it shadows the standard library)",
    "contextlib2": "the Python 2 backport of contextlib",
    "funcsigs": "the Python 2 backport of inspect.signature",
}


def _where(entry: WheelEntry | None) -> str:
    if entry is None:
        return ""
    return f"wheel {entry.name!r} version {entry.version!r}: "


def _error(message: str, entry: WheelEntry | None, path: str | None, hint: str) -> SpecError:
    return SpecError(_where(entry) + message, path=path, line=entry.line if entry else None, hint=hint)


def pep503(name: str) -> str:
    """PEP 503 normalisation: lowercase, runs of ``-_.`` become ``-``."""
    return _PEP503_RUN.sub("-", name).lower()


def _pick_segment(cipd_name: str) -> str | None:
    if cipd_name.startswith(CIPD_WHEEL_PREFIX):
        return cipd_name[len(CIPD_WHEEL_PREFIX) :].split("/")[0]
    # Other prefixes: the last segment that is not a template. EXTENSION over luci's
    # pipname: literal CIPD platform segments are skipped too, so
    # "custom/third_party/numpy/linux-amd64" maps to "numpy", not "linux-amd64".
    for part in reversed(cipd_name.split("/")):
        if part and "$" not in part and not _CIPD_PLATFORM_SEGMENT.match(part):
            return part
    return None


def pypi_name(cipd_name: str, *, entry: WheelEntry | None = None, path: str | None = None) -> str:
    """The PEP 503-normalised PyPI project name for a CIPD wheel package name.

    ``infra/python/wheels/six-py2_py3`` → ``six``; ``.../charset_normalizer-py3`` →
    ``charset-normalizer``; ``.../numpy/${vpython_platform}`` → ``numpy``;
    ``.../markdown-it-py-py3`` → ``markdown-it-py`` (only ONE suffix is stripped).
    Raises ``SpecError`` (located at ``entry.line`` in ``path``) when no project name
    can be derived.
    """
    segment = _pick_segment(cipd_name.strip())
    if segment:
        for suffix in _NAME_SUFFIXES:
            if segment.endswith(suffix) and len(segment) > len(suffix):
                segment = segment[: -len(suffix)]
                break
        name = pep503(segment)
        if _VALID_NAME.match(name):
            return name
    raise _error(
        f"cannot derive a PyPI project name from CIPD package {cipd_name!r}",
        entry,
        path,
        hint=f'name wheels "{CIPD_WHEEL_PREFIX}<project>[-py3]" or "{CIPD_WHEEL_PREFIX}<project>/${{vpython_platform}}"',
    )


def _unmappable(cipd_version: str, entry: WheelEntry | None, path: str | None) -> SpecError:
    v = cipd_version
    if v.startswith("git_revision:"):
        why = "is a git_revision: tag, which names a source commit, not a PyPI release"
    elif ":" in v:
        why = f"is a {v.split(':', 1)[0]}: tag; only version: tags map to PyPI releases"
    elif re.fullmatch(r"[0-9a-f]{40}", v) or re.fullmatch(r"[A-Za-z0-9_-]{43}C", v):
        why = "is a CIPD instance ID, which has no PyPI equivalent"
    elif v == "":
        why = "is empty"
    else:
        why = "is a CIPD ref (such as 'latest'), which moves and has no PyPI equivalent"
    return _error(f"CIPD version {cipd_version!r} {why}", entry, path, hint=_HINT_PIN)


def _strip_tag(cipd_version: str, entry: WheelEntry | None, path: str | None) -> str:
    v = cipd_version.strip()
    if v.startswith("version:2@"):
        return v[len("version:2@") :]
    if v.startswith("version:"):
        return v[len("version:") :]
    raise _unmappable(v, entry, path)


def pypi_version(cipd_version: str, *, entry: WheelEntry | None = None, path: str | None = None) -> str:
    """The canonical PEP 440 version a CIPD version tag stands for.

    ``version:1.16.0`` → ``1.16.0``; ``version:5.8.0.chromium.3`` → ``5.8.0``;
    ``version:2024.07.31`` → ``2024.7.31``; ``version:2@1.2.3`` → ``1.2.3``.
    The numpy placeholder ``version:1.2x.supported.N`` has no single version and returns
    a specifier, ``>=1.20,<1.22`` (use :func:`pypi_specifier` to always get one).
    Anything else raises ``SpecError`` naming the entry, the file and the line.
    """
    from packaging.version import InvalidVersion, Version

    raw = _strip_tag(cipd_version, entry, path)
    m = _PLACEHOLDER.match(raw)
    if m:
        major, minor = m.group("major"), m.group("minor")
        known = _KNOWN_PLACEHOLDERS.get((major, minor))
        if known:
            return known
        # "X.Yx" = any X.Y0 .. X.Y9 release.
        return f">={major}.{minor}0,<{major}.{int(minor) + 1}0"
    stripped = _LOCAL_LABEL.sub("", raw)
    try:
        version = Version(stripped)
    except InvalidVersion:
        raise _error(
            f"CIPD version {cipd_version!r} is not a PEP 440 version ({stripped!r})",
            entry,
            path,
            hint=_HINT_PIN,
        ) from None
    if version.local is not None:
        raise _error(
            f"CIPD version {cipd_version!r} has a local version label ('+{version.local}'), "
            "which releases on PyPI never have",
            entry,
            path,
            hint=f'use the public version, e.g. "version:{version.public}"',
        )
    return str(version)


def is_version_range(pypi_version_text: str) -> bool:
    """True when :func:`pypi_version` returned a specifier rather than a version."""
    return pypi_version_text[:1] in "<>=!~"


def pypi_specifier(cipd_version: str, *, entry: WheelEntry | None = None, path: str | None = None) -> str:
    """The PEP 440 specifier for a CIPD version: ``==1.16.0``, or ``>=1.20,<1.22`` for
    the numpy placeholder."""
    v = pypi_version(cipd_version, entry=entry, path=path)
    return v if is_version_range(v) else f"=={v}"


CipdMap = dict[str, "tuple[str, str] | None"]


def mapped(
    entry: WheelEntry, project: str, specifier: str, table: CipdMap | None = None
) -> tuple[str, str] | None:
    """``(project, specifier)`` for ``entry`` after the user's ``[cipd]`` map (``table``;
    default: the config file's), or None when the map leaves the entry out. The most
    specific key wins: the CIPD name as written, then ``project==version``, then
    ``project``."""
    if table is None:
        from vpython.settings.compat import cipd_map

        table = cipd_map()
    if not table:
        return project, specifier
    version = specifier[2:] if specifier.startswith("==") else ""
    for key in (entry.name.strip(), f"{project}=={version}" if version else None, project):
        if key is not None and key in table:
            target = table[key]
            if target is None:
                return None
            name, new_version = target
            return (name or project), (f"=={new_version}" if new_version else specifier)
    return project, specifier


def denylist_reason(name: str, *, target_is_py3: bool = True, cipd_name: str = "") -> str | None:
    """Why a (PEP 503) PyPI name must not be installed, or None.

    Chromium-internal names are always refused. Python 2 backports are flagged on a
    Python 3 target (a warning; they are still installed, as the original does) unless
    the CIPD package is explicitly a ``-py3`` build.
    """
    if name in CHROMIUM_INTERNAL:
        return CHROMIUM_INTERNAL[name]
    if name in PY2_ONLY_BACKPORTS and target_is_py3:
        segment = _pick_segment(cipd_name) or ""
        if segment.endswith(("-py3", "_py3")) and not segment.endswith("py2_py3"):
            return None
        return PY2_ONLY_BACKPORTS[name] + ", which is not needed (and may break things) on Python 3"
    return None
