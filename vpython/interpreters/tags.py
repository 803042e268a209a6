"""What the chosen interpreter accepts: its PEP 425 tags (for wheel selection) and its
PEP 508 marker values — of the target interpreter, not of the one running vpython."""

from __future__ import annotations

import os
import re
import sys
import sysconfig
from typing import TYPE_CHECKING

from vpython import log
from vpython.interpreters import probe as _probe
from vpython.interpreters.model import Interpreter

if TYPE_CHECKING:
    from packaging.tags import Tag


def marker_environment(interp: Interpreter) -> dict[str, str]:
    """PEP 508 marker values of ``interp`` itself (as packaging's default_environment())."""
    return dict(interp.probe.get("markers") or {})


def _host_libc() -> str | None:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        return None


def same_platform(interp: Interpreter) -> bool:
    """Whether ``interp`` runs on the platform this process's ``platform_tags()`` describe."""
    import platform

    return (
        interp.platform == sysconfig.get_platform()
        and interp.is_64bit == (sys.maxsize > 2**32)
        and interp.probe.get("libc") == _host_libc()
        and marker_environment(interp).get("platform_machine") == platform.machine()
    )


def cpython_abis(interp: Interpreter) -> list[str]:
    """``packaging.tags._cpython_abis`` evaluated with the target's config vars."""
    cfg = interp.probe.get("config") or {}
    v = tuple(interp.version[:2])
    nodot = f"{v[0]}{v[1]}"
    abis = []
    threading_ = debug = pymalloc = ucs4 = ""
    with_debug = cfg.get("Py_DEBUG")
    has_refcount = bool(interp.probe.get("has_refcount"))
    has_ext = "_d.pyd" in (interp.probe.get("ext_suffixes") or [])
    if with_debug or (with_debug is None and (has_refcount or has_ext)):
        debug = "d"
    if v >= (3, 13) and cfg.get("Py_GIL_DISABLED"):
        threading_ = "t"
    if v < (3, 8):
        with_pymalloc = cfg.get("WITH_PYMALLOC")
        if with_pymalloc or with_pymalloc is None:
            pymalloc = "m"
        if v < (3, 3):
            unicode_size = cfg.get("Py_UNICODE_SIZE")
            if unicode_size == 4 or (unicode_size is None and interp.probe.get("maxunicode") == 0x10FFFF):
                ucs4 = "u"
    elif debug:
        abis.append(f"cp{nodot}{threading_}")
    abis.insert(0, f"cp{nodot}{threading_}{debug}{pymalloc}{ucs4}")
    return abis


def _tags_here(interp: Interpreter) -> list[Tag]:
    from packaging import tags

    pyver = tuple(interp.version[:2])
    platforms = list(tags.platform_tags())
    nodot = (interp.probe.get("config") or {}).get("py_version_nodot") or f"{pyver[0]}{pyver[1]}"
    out = list(tags.cpython_tags(python_version=pyver, abis=cpython_abis(interp), platforms=platforms))
    out += list(tags.compatible_tags(python_version=pyver, interpreter=f"cp{nodot}", platforms=platforms))
    return out


def _tags_in_target(interp: Interpreter) -> list[Tag]:
    """``sys_tags()`` computed by the target itself, with our ``packaging`` on its path."""
    import packaging
    from packaging.tags import Tag

    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(packaging.__file__)))
    kind = f"tags-{packaging.__version__}"
    data = _probe.read_cache(interp.cache_dir, interp.identity, kind)
    if data is None:
        data = _probe.run_probe(interp.path, [pkg_parent])
        if "tags" in data:
            _probe.write_cache(interp.cache_dir, interp.identity, kind, {"tags": data["tags"]})
    if "tags" not in data:
        log.warning(
            f"cannot compute PEP 425 tags inside {interp.path} ({data.get('tags_error', 'unknown error')}); "
            f"assuming only {interp.platform}-specific and pure-Python wheels fit"
        )
        return _fallback_tags(interp)
    return [Tag(*t.split("-", 2)) for t in data["tags"]]


def _fallback_tags(interp: Interpreter) -> list[Tag]:
    """CPython tags for the target's version and ABIs on its own platform only."""
    from packaging import tags

    pyver = tuple(interp.version[:2])
    plats = [re.sub(r"[-. ]", "_", interp.platform)]
    return list(tags.cpython_tags(python_version=pyver, abis=cpython_abis(interp), platforms=plats)) + list(
        tags.compatible_tags(python_version=pyver, interpreter=f"cp{pyver[0]}{pyver[1]}", platforms=plats)
    )


def target_tags(interp: Interpreter) -> list[Tag]:
    """The target interpreter's own PEP 425 tags, most preferred first (== its ``sys_tags()``).

    On this process's platform they are computed here (no spawn): ``cpython_tags`` with the
    target's version and ABIs over this host's ``platform_tags()``, then
    ``compatible_tags``. Otherwise (another bitness, libc, architecture or a non-CPython)
    the target computes ``sys_tags()`` itself, cached by identity.
    """
    if interp.implementation == "cpython" and same_platform(interp):
        return _tags_here(interp)
    return _tags_in_target(interp)
