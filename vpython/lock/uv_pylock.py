"""uv's universal pylock (``uv pip compile --universal --format pylock.toml``) read into
``Candidate`` records: each package is installed on the targets where uv's marker holds.

uv lists every wheel of every locked version (numpy alone has ~60); ``prune_wheel_lines``
drops those no target can install before the TOML is parsed.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vpython.lock.model import Candidate, RawWheel
    from vpython.lock.targets import Target


def file_url_path(url: str) -> str:
    """``file:`` URL -> local path (``urllib.request.url2pathname`` without importing
    urllib.request, which drags in http.client and email: 30 ms of a 300 ms lock)."""
    from urllib.parse import unquote, urlsplit

    path = unquote(urlsplit(url).path)
    if os.name == "nt":  # pragma: no cover - file:///C:/x -> C:\\x
        if len(path) >= 3 and path[0] == "/" and path[2] == ":":
            path = path[1:]
        path = path.replace("/", "\\")
    return path


def _basename(url_or_path: str) -> str:
    from urllib.parse import unquote

    tail = url_or_path.split("#", 1)[0].split("?", 1)[0].replace("\\", "/").rsplit("/", 1)[-1]
    return unquote(tail)


def raw_wheel(entry: dict[str, Any], base_dir: str) -> RawWheel | None:
    """A uv pylock wheel table -> RawWheel (file: URLs become absolute paths)."""
    from vpython.lock.model import RawWheel

    url = entry.get("url")
    path = entry.get("path")
    hashes = entry.get("hashes") or {}
    sha = hashes.get("sha256")
    if not sha:
        return None
    if url and url.startswith("file:"):
        path, url = file_url_path(url), None
    elif path and not os.path.isabs(path):
        path = os.path.normpath(os.path.join(base_dir, path))
    name = entry.get("name") or _basename(url or path or "")
    if not name.endswith(".whl"):
        return None
    return RawWheel(filename=name, sha256=sha, url=url, path=path, size=entry.get("size"))


def raw_sdist(entry: dict[str, Any], base_dir: str) -> RawWheel | None:
    """A uv pylock ``sdist`` table -> RawWheel (its filename is the sdist's)."""
    from packaging.utils import InvalidSdistFilename, parse_sdist_filename

    from vpython.lock.model import RawWheel

    url = entry.get("url")
    path = entry.get("path")
    sha = (entry.get("hashes") or {}).get("sha256")
    if not sha:
        return None
    if url and url.startswith("file:"):
        path, url = file_url_path(url), None
    elif path and not os.path.isabs(path):
        path = os.path.normpath(os.path.join(base_dir, path))
    name = entry.get("name") or _basename(url or path or "")
    try:
        parse_sdist_filename(name)
    except InvalidSdistFilename:
        return None
    return RawWheel(filename=name, sha256=sha, url=url, path=path, size=entry.get("size"))


def candidates_from_pylock(data: dict[str, Any], targets: list[Target], base_dir: str) -> list[Candidate]:
    """Candidates from uv's universal pylock: installed where uv's marker is true."""
    from packaging.utils import canonicalize_name

    from vpython.lock.markers import evaluator
    from vpython.lock.model import Candidate

    out = []
    for pkg in data.get("packages") or ():
        evaluate = evaluator(pkg.get("marker"))
        entries = list(pkg.get("wheels") or ())
        if not entries and isinstance(pkg.get("archive"), dict):
            # A direct reference to a wheel file (`name @ https://.../x.whl`): uv locks it
            # as an `archive`; it is one more wheel to select by tags.
            entries = [pkg["archive"]]
        wheels = tuple(w for w in (raw_wheel(e, base_dir) for e in entries) if w is not None)
        sdist = raw_sdist(pkg["sdist"], base_dir) if isinstance(pkg.get("sdist"), dict) else None
        out.append(
            Candidate(
                name=str(canonicalize_name(pkg["name"])),
                version=str(pkg.get("version") or ""),
                wheels=wheels,
                installed_on=frozenset(t.key for t in targets if evaluate(t)),
                has_sdist_only=not wheels and "sdist" in pkg,
                sdist=sdist,
            )
        )
    return out


_WHEEL_LINE = re.compile(r'^\s+\{ (?:url|path) = "([^"]+\.whl)".*\},?\s*$')


def _wheel_file_tags(filename: str) -> list[str] | None:
    parts = filename[:-4].split("-")
    if len(parts) not in (5, 6):
        return None
    py, abi, plat = parts[-3:]
    return [f"{p}-{a}-{pl}" for p in py.split(".") for a in abi.split(".") for pl in plat.split(".")]


def prune_wheel_lines(text: str, supported: set[str]) -> str:
    """Drop the wheel lines of uv's universal pylock that no target can install.

    uv lists every wheel of every locked version (numpy alone has ~60); parsing them
    all costs more than the rest of our work. Only whole one-line array elements
    (``    { url = "...whl", ... },``) whose every tag is outside ``supported`` are
    dropped, which leaves valid TOML; anything else is kept for the real parser.
    """
    out = []
    for line in text.splitlines(True):
        m = _WHEEL_LINE.match(line) if line.startswith("    {") else None
        if m:
            tags = _wheel_file_tags(_basename(m.group(1)))
            if tags is not None and not any(t in supported for t in tags):
                continue
        out.append(line)
    return "".join(out)
