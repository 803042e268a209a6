"""Checks a freshly built wheel must pass before it is published into the store.

A backend can exit 0 and still leave something no env should use: a truncated or
corrupt zip, no ``.dist-info/WHEEL``, another project's or version's wheel (a setup.py
that reads its version from git or the environment), or tags this interpreter cannot
install (a cross-compiling toolchain variable leaking in). Each yields one sentence
naming what is wrong; the caller turns it into a BuildError.
"""

from __future__ import annotations

import os
import zipfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.tags import Tag


def _header_fields(text: str) -> dict[str, str]:
    """The RFC 822 style header of METADATA / WHEEL (first value of each key, lowercased)."""
    out: dict[str, str] = {}
    for line in text.split("\n\n", 1)[0].splitlines():
        key, sep, value = line.partition(":")
        if sep and not line[:1].isspace():
            out.setdefault(key.strip().lower(), value.strip())
    return out


def _dist_info_problem(zf: zipfile.ZipFile, name: str, version: str) -> str | None:
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    tops = {n.split("/", 1)[0] for n in zf.namelist() if "/" in n}
    dist_infos = sorted(t for t in tops if t.endswith(".dist-info"))
    if len(dist_infos) != 1:
        return f"it has {len(dist_infos)} .dist-info directories (expected one)"
    dist_info = dist_infos[0]
    try:
        wheel_meta = _header_fields(zf.read(f"{dist_info}/WHEEL").decode("utf-8", "replace"))
        metadata = _header_fields(zf.read(f"{dist_info}/METADATA").decode("utf-8", "replace"))
    except KeyError as e:
        return f"it has no {e.args[0].split('/')[-1] if e.args else 'WHEEL'} in {dist_info}"
    if not wheel_meta.get("wheel-version", "").startswith("1."):
        return f"{dist_info}/WHEEL has no Wheel-Version 1.x"
    meta_name, meta_version = metadata.get("name", ""), metadata.get("version", "")
    try:
        same_version = Version(meta_version) == Version(version)
    except InvalidVersion:
        same_version = False
    if canonicalize_name(meta_name) != canonicalize_name(name) or not same_version:
        return f"its METADATA says {meta_name or '?'} {meta_version or '?'}"
    return None


def wheel_problem(path: str, name: str, version: str, interpreter_tags: list[Tag]) -> str | None:
    """None if the wheel at ``path`` is a sound wheel of ``name`` ``version`` that an
    interpreter with ``interpreter_tags`` (packaging Tags) can install, else why not."""
    from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
    from packaging.version import Version

    filename = os.path.basename(path)
    try:
        wheel_name, wheel_version, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as e:
        return f"{filename} is not a valid wheel file name ({e})"
    if canonicalize_name(wheel_name) != canonicalize_name(name) or wheel_version != Version(version):
        return f"{filename} is a wheel of {wheel_name} {wheel_version}, not of {name} {version}"
    if not set(tags) & set(interpreter_tags):
        return (
            f"{filename} has tags {', '.join(sorted(map(str, tags)))}, none of which this interpreter accepts"
        )
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()  # reads every member: CRCs and truncation
            if bad is not None:
                return f"{filename} is corrupt (member {bad} fails its CRC)"
            problem = _dist_info_problem(zf, name, version)
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        return f"{filename} is not a readable zip ({e})"
    return f"{filename}: {problem}" if problem else None
