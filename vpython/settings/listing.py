"""What the configured sources list for a project: the files of the index's project page
(PEP 691 JSON, else PEP 503 HTML) and of the find-links locations.

Used where uv cannot answer for vpython: picking each pin of a closed spec for Python 2.7
(uv refuses 2.7), telling a package nobody publishes from one the resolver rejected for
another reason (the private-package error), and finding vpython's own pinned tools on a
mirror. Requests carry the credentials that belong to their host
(``settings.credentials``); nothing printed carries them.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit

from vpython.errors import VPythonError

if TYPE_CHECKING:
    from http.client import HTTPResponse

    from vpython.settings.sources import Sources

_JSON = "application/vnd.pypi.simple.v1+json"
_ACCEPT = f"{_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
_PEP503 = re.compile(r"[-_.]+")


@dataclass(frozen=True)
class File:
    """One distribution file a source offers."""

    filename: str
    url: str | None  # None for a file in a local directory (``path``)
    path: str | None
    sha256: str | None
    size: int | None = None
    requires_python: str | None = None
    yanked: bool = False
    has_metadata: bool = False  # PEP 658/714: ``<url>.metadata`` exists
    source: str = ""  # the index or find-links location (credentials redacted)


class ListingError(VPythonError):
    """A source could not be read (network, HTTP status other than 404)."""


def pep503(name: str) -> str:
    return _PEP503.sub("-", name).lower()


def _open(url: str, sources: Sources) -> HTTPResponse:
    import base64
    import urllib.request

    from vpython.settings.credentials import credentials_for, strip_credentials

    request = urllib.request.Request(
        strip_credentials(url), headers={"User-Agent": "vpython", "Accept": _ACCEPT}
    )
    parts = urlsplit(url)
    creds = (
        (unquote(parts.username), unquote(parts.password or ""))
        if parts.username is not None
        else credentials_for(url, sources)
    )
    if creds:
        token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    response: HTTPResponse = urllib.request.urlopen(
        request, timeout=float(os.environ.get("VPYTHON_HTTP_TIMEOUT", "60"))
    )
    return response


class _Links(HTMLParser):
    """The ``<a>`` elements of a PEP 503 page: (href, attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            d = dict(attrs)
            if d.get("href"):
                self.links.append((str(d["href"]), d))


def _from_json(data: dict[str, object], page: str, source: str) -> list[File]:
    out = []
    files = data.get("files")
    for f in files if isinstance(files, list) else []:
        if not isinstance(f, dict) or not isinstance(f.get("filename"), str) or not f.get("url"):
            continue
        hashes = f.get("hashes") if isinstance(f.get("hashes"), dict) else {}
        meta = f.get("core-metadata", f.get("dist-info-metadata"))
        size = f.get("size")
        out.append(
            File(
                filename=f["filename"],
                url=urljoin(page, str(f["url"])),
                path=None,
                sha256=(hashes or {}).get("sha256"),
                size=size if isinstance(size, int) else None,
                requires_python=f.get("requires-python") or None,
                yanked=bool(f.get("yanked")),
                has_metadata=bool(meta),
                source=source,
            )
        )
    return out


def _from_html(text: str, page: str, source: str) -> list[File]:
    parser = _Links()
    parser.feed(text)
    out = []
    for href, attrs in parser.links:
        url = urljoin(page, href)
        base, _, fragment = url.partition("#")
        filename = unquote(urlsplit(base).path.rsplit("/", 1)[-1])
        sha = fragment[len("sha256=") :] if fragment.startswith("sha256=") else None
        meta = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        out.append(
            File(
                filename=filename,
                url=base,
                path=None,
                sha256=sha,
                requires_python=attrs.get("data-requires-python") or None,
                yanked="data-yanked" in attrs,
                has_metadata=meta is not None and meta != "false",
                source=source,
            )
        )
    return out


def _read_page(url: str, sources: Sources, source: str) -> list[File] | None:
    """The files of one page; None when it does not exist (404/410)."""
    import urllib.error

    from vpython.settings.credentials import redact

    try:
        with _open(url, sources) as resp:
            body = resp.read()
            ctype = resp.headers.get("Content-Type", "")
            page = resp.geturl()
    except urllib.error.HTTPError as e:
        if e.code in (404, 410):
            return None
        raise ListingError(
            f"cannot read {redact(url)}: HTTP {e.code} {e.reason}",
            hint="check the index URL and, for a private index, its credentials",
        ) from None
    except (urllib.error.URLError, OSError) as e:
        raise ListingError(
            f"cannot read {redact(url)}: {getattr(e, 'reason', e)}",
            hint="check the network and the index URL; -vpython-offline uses only what is cached",
        ) from None
    text = body.decode("utf-8", "replace")
    if ctype.split(";")[0].strip() == _JSON:
        try:
            return _from_json(json.loads(text), page, source)
        except ValueError:
            return []
    return _from_html(text, page, source)


def _local_files(directory: str, project: str) -> list[File]:
    from vpython.settings.credentials import redact

    out: list[File] = []
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return out
    for name in names:
        if project_of(name) == project:
            path = os.path.join(directory, name)
            out.append(
                File(
                    filename=name, url=None, path=os.path.abspath(path), sha256=None, source=redact(directory)
                )
            )
    return out


def project_of(filename: str) -> str | None:
    """The PEP 503 project of a wheel or sdist file name, or None."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            return pep503(str(parse_wheel_filename(filename)[0]))
        if filename.endswith((".tar.gz", ".zip")):
            return pep503(str(parse_sdist_filename(filename)[0]))
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def project_files(project: str, sources: Sources) -> list[File] | None:
    """Every file the sources offer for ``project``: the find-links locations', then the
    first index (in order: index-url, extra-index-urls) that has the project, as uv's
    default "first index" strategy does. None when no source has the project.
    Offline, only local find-links directories are read."""
    from vpython.settings.credentials import redact

    name = pep503(project)
    found: list[File] = []
    seen_project = False
    for link in sources.find_links:
        if "://" not in link or link.startswith("file:"):
            directory = unquote(urlsplit(link).path) if link.startswith("file:") else link
            files = _local_files(directory, name)
        elif sources.offline:
            continue
        else:
            files = [
                f for f in _read_page(link, sources, redact(link)) or [] if project_of(f.filename) == name
            ]
        seen_project = seen_project or bool(files)
        found += files
    if not sources.offline:
        for index in sources.index_urls():
            listed = _read_page(index.rstrip("/") + f"/{name}/", sources, redact(index))
            if listed is not None:
                return found + listed
    return found if seen_project else None
