"""A local package index over a directory of wheels (PEP 503 HTML, PEP 691 JSON, PEP 658).

``serve_index(dir)`` starts a threaded ``http.server`` on 127.0.0.1 (a free port) that
serves::

    /simple/                 project list
    /simple/<normalized>/    one link per file: ../../files/<file>#sha256=...
                             (+ data-requires-python, data-core-metadata)
    /files/<file>            the file itself
    /files/<file>.metadata   its METADATA (PEP 658/714), for wheels

JSON (``application/vnd.pypi.simple.v1+json``, API 1.1) is returned when the client's
``Accept`` header prefers it (uv does) or with ``?format=``. With ``upload_times=`` the
JSON pages carry PEP 700 ``upload-time`` for the files named there (HTML has no such
field), so ``--exclude-newer`` cutoffs can be tested. The directory is re-read on
every request, so wheels added while the server runs appear at once. Responses carry
``Cache-Control: no-cache``: ports get reused across tests and a client cache must not
serve one test's files to another.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Mapping, Optional, Tuple
from urllib.parse import quote, unquote, urlsplit, parse_qs

from .wheels import normalize_name, sha256_file

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
_LATEST_JSON = "application/vnd.pypi.simple.latest+json"
_LATEST_HTML = "application/vnd.pypi.simple.latest+html"


class _Dist:
    __slots__ = ("filename", "path", "project", "version", "sha256", "size", "requires_python", "metadata")

    def __init__(self, path: Path, project: str, version: str) -> None:
        self.filename = path.name
        self.path = path
        self.project = project
        self.version = version
        self.sha256 = ""
        self.size = 0
        self.requires_python: Optional[str] = None
        self.metadata: Optional[bytes] = None


def _parse_filename(name: str):
    """(normalized project, version) of a wheel or sdist file name, or None."""
    from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

    try:
        if name.endswith(".whl"):
            project, version, _, _ = parse_wheel_filename(name)
        elif name.endswith((".tar.gz", ".zip")):
            project, version = parse_sdist_filename(name)
        else:
            return None
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return normalize_name(str(project)), str(version)


def _wheel_metadata(path: Path) -> Optional[bytes]:
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            if len(names) != 1:
                return None
            return zf.read(names[0])
    except (OSError, zipfile.BadZipFile, KeyError):
        return None


def _requires_python(metadata: Optional[bytes]) -> Optional[str]:
    if not metadata:
        return None
    head = metadata.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    for line in head.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "requires-python":
            return value.strip() or None
    return None


class _Catalog:
    """The directory's distributions, with hashes cached by (name, size, mtime)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._cache: dict = {}

    def dists(self) -> list:
        out = []
        try:
            entries = sorted(os.scandir(self.root), key=lambda e: e.name)
        except FileNotFoundError:
            return out
        for entry in entries:
            if not entry.is_file():
                continue
            parsed = _parse_filename(entry.name)
            if parsed is None:
                continue
            st = entry.stat()
            key = (entry.name, st.st_size, st.st_mtime_ns)
            with self._lock:
                dist = self._cache.get(key)
            if dist is None:
                dist = _Dist(Path(entry.path), *parsed)
                dist.sha256 = sha256_file(entry.path)
                dist.size = st.st_size
                if entry.name.endswith(".whl"):
                    dist.metadata = _wheel_metadata(dist.path)
                    dist.requires_python = _requires_python(dist.metadata)
                with self._lock:
                    self._cache[key] = dist
            out.append(dist)
        return out

    def projects(self) -> dict:
        by: dict = {}
        for d in self.dists():
            by.setdefault(d.project, []).append(d)
        return by


def _negotiate(accept: str, query: str) -> str:
    """'json' or 'html' per PEP 691 (highest q wins; ties go to the earlier entry)."""
    fmt = parse_qs(query).get("format", [""])[0]
    if fmt:
        return "json" if fmt in (JSON_TYPE, _LATEST_JSON) else "html"
    best, best_q = "html", -1.0
    for i, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        mtype, q = fields[0].lower(), 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        kind = {JSON_TYPE: "json", _LATEST_JSON: "json", HTML_TYPE: "html", _LATEST_HTML: "html",
                "text/html": "html", "*/*": "html"}.get(mtype)
        if kind and q > best_q:
            best, best_q = kind, q
    return best


class IndexServer:
    """A running index. Use as a context manager, or call ``stop()``.

    ``url``: ``http://127.0.0.1:PORT/simple/``; ``requests``: every request path (with
    query) in arrival order; ``log``: (method, path, status) triples. ``fail_files``,
    ``fail_status`` and ``upload_times`` may be changed while it runs.
    """

    def __init__(self, root: str | os.PathLike, *, auth: Optional[Tuple[str, str]] = None,
                 fail_files: bool = False, fail_status: int = 503, core_metadata: bool = True,
                 upload_times: Optional[Mapping[str, str]] = None) -> None:
        self.root = Path(root)
        # filename -> PEP 700 upload-time (RFC 3339, e.g. "2024-01-01T00:00:00Z"); files
        # not named here get none. May be changed while the server runs.
        self.upload_times = dict(upload_times or {})
        self.auth = auth
        self.fail_files = fail_files
        self.fail_status = fail_status
        self.core_metadata = core_metadata
        self.requests: list = []
        self.log: list = []
        self._catalog = _Catalog(self.root)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/"
        self.url = self.base_url + "simple/"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"test-index-{self.port}", daemon=True)
        self._thread.start()
        self._stopped = False

    # ---------------------------------------------------------------- helpers for tests
    @property
    def auth_url(self) -> str:
        """``url`` with the credentials embedded (``http://user:pass@127.0.0.1:PORT/simple/``)."""
        if not self.auth:
            return self.url
        user, password = (quote(x, safe="") for x in self.auth)
        return f"http://{user}:{password}@127.0.0.1:{self.port}/simple/"

    def file_url(self, filename: str) -> str:
        return f"{self.base_url}files/{quote(filename)}"

    def served_files(self) -> list:
        """Names of files (not metadata) that were downloaded successfully."""
        return [unquote(p.split("?")[0][len("/files/"):]) for (m, p, s) in self.log
                if p.startswith("/files/") and not p.split("?")[0].endswith(".metadata") and s == 200 and m == "GET"]

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "IndexServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<IndexServer {self.url} root={self.root}>"


def serve_index(root_dir: str | os.PathLike, *, auth: Optional[Tuple[str, str]] = None,
                fail_files: bool = False, fail_status: int = 503, core_metadata: bool = True,
                upload_times: Optional[Mapping[str, str]] = None) -> IndexServer:
    """Start an index over ``root_dir``; use ``with serve_index(d) as idx:`` (stops on exit).

    ``auth=("user", "pass")`` makes every path answer 401 without those basic-auth
    credentials. ``fail_files=True`` makes everything under ``/files/`` answer
    ``fail_status`` (503 by default; pass 404 to avoid a client's retry backoff).
    ``core_metadata=False`` stops advertising PEP 658 metadata files.
    ``upload_times={filename: "2024-01-01T00:00:00Z"}`` adds PEP 700 ``upload-time`` to
    those files' JSON entries.
    """
    return IndexServer(root_dir, auth=auth, fail_files=fail_files, fail_status=fail_status,
                       core_metadata=core_metadata, upload_times=upload_times)


def _make_handler(server: IndexServer):
    class Handler(BaseHTTPRequestHandler):
        server_version = "vpython-test-index/1.0"
        timeout = 30  # an idle client connection cannot pin a handler thread forever

        def log_message(self, format, *args):  # noqa: A002 - silence stderr logging
            pass

        def do_HEAD(self):
            self._handle(head=True)

        def do_GET(self):
            self._handle(head=False)

        # ---------------------------------------------------------------- plumbing
        def _send(self, status: int, body: bytes = b"", ctype: str = "text/plain; charset=utf-8",
                  headers: Optional[dict] = None, head: bool = False) -> None:
            server.log.append((self.command, self.path, status))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _authorized(self) -> bool:
            if not server.auth:
                return True
            header = self.headers.get("Authorization", "")
            if not header.lower().startswith("basic "):
                return False
            try:
                user, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return (user, password) == tuple(server.auth)

        def _handle(self, head: bool) -> None:
            server.requests.append(self.path)
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            if not self._authorized():
                self._send(401, b"authentication required\n",
                           headers={"WWW-Authenticate": 'Basic realm="vpython-test-index"'}, head=head)
                return
            if path in ("/", "/simple"):
                self._send(301, headers={"Location": "/simple/"}, head=head)
            elif path == "/simple/":
                self._project_list(parts.query, head)
            elif path.startswith("/simple/"):
                self._project(path[len("/simple/"):], parts.query, head)
            elif path.startswith("/files/"):
                self._file(path[len("/files/"):], head)
            else:
                self._send(404, b"not found\n", head=head)

        # ---------------------------------------------------------------- pages
        def _project_list(self, query: str, head: bool) -> None:
            names = sorted(server._catalog.projects())
            if _negotiate(self.headers.get("Accept", ""), query) == "json":
                body = {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]}
                self._send(200, json.dumps(body, indent=1).encode(), JSON_TYPE, head=head)
                return
            links = "".join(f'    <a href="{quote(n)}/">{html.escape(n)}</a>\n' for n in names)
            page = ("<!DOCTYPE html>\n<html>\n  <head><meta name=\"pypi:repository-version\" content=\"1.1\">"
                    "<title>Simple index</title></head>\n  <body>\n" + links + "  </body>\n</html>\n")
            self._send(200, page.encode(), "text/html; charset=utf-8", head=head)

        def _project(self, rest: str, query: str, head: bool) -> None:
            name = rest.rstrip("/")
            if "/" in name or not name:
                self._send(404, b"not found\n", head=head)
                return
            normalized = normalize_name(name)
            if name != normalized or not rest.endswith("/"):
                self._send(301, headers={"Location": f"/simple/{quote(normalized)}/"}, head=head)
                return
            dists = server._catalog.projects().get(normalized)
            if not dists:
                self._send(404, f"no project {normalized}\n".encode(), head=head)
                return
            if _negotiate(self.headers.get("Accept", ""), query) == "json":
                files = []
                for d in dists:
                    entry = {"filename": d.filename, "url": f"../../files/{quote(d.filename)}",
                             "hashes": {"sha256": d.sha256}, "size": d.size}
                    if d.requires_python:
                        entry["requires-python"] = d.requires_python
                    uploaded = server.upload_times.get(d.filename)
                    if uploaded:
                        entry["upload-time"] = uploaded
                    if server.core_metadata and d.metadata is not None:
                        meta_hash = {"sha256": hashlib.sha256(d.metadata).hexdigest()}
                        entry["core-metadata"] = meta_hash
                        entry["dist-info-metadata"] = meta_hash
                    files.append(entry)
                versions = sorted({d.version for d in dists})
                body = {"meta": {"api-version": "1.1"}, "name": normalized, "versions": versions, "files": files}
                self._send(200, json.dumps(body, indent=1).encode(), JSON_TYPE, head=head)
                return
            links = []
            for d in dists:
                attrs = f'href="../../files/{quote(d.filename)}#sha256={d.sha256}"'
                if d.requires_python:
                    attrs += f' data-requires-python="{html.escape(d.requires_python, quote=True)}"'
                if server.core_metadata and d.metadata is not None:
                    mh = hashlib.sha256(d.metadata).hexdigest()
                    attrs += f' data-core-metadata="sha256={mh}" data-dist-info-metadata="sha256={mh}"'
                links.append(f"    <a {attrs}>{html.escape(d.filename)}</a><br/>\n")
            page = (f"<!DOCTYPE html>\n<html>\n  <head><meta name=\"pypi:repository-version\" content=\"1.1\">"
                    f"<title>Links for {html.escape(normalized)}</title></head>\n  <body>\n"
                    f"    <h1>Links for {html.escape(normalized)}</h1>\n" + "".join(links) + "  </body>\n</html>\n")
            self._send(200, page.encode(), "text/html; charset=utf-8", head=head)

        def _file(self, name: str, head: bool) -> None:
            if server.fail_files:
                self._send(server.fail_status, b"files are unavailable (test)\n", head=head)
                return
            if "/" in name or name.startswith("."):
                self._send(404, b"not found\n", head=head)
                return
            want_metadata = name.endswith(".metadata")
            filename = name[: -len(".metadata")] if want_metadata else name
            dist = next((d for d in server._catalog.dists() if d.filename == filename), None)
            if dist is None:
                self._send(404, b"not found\n", head=head)
                return
            if want_metadata:
                if not server.core_metadata or dist.metadata is None:
                    self._send(404, b"no metadata\n", head=head)
                else:
                    self._send(200, dist.metadata, "application/octet-stream", head=head)
                return
            try:
                body = dist.path.read_bytes()
            except OSError:
                self._send(404, b"gone\n", head=head)
                return
            self._send(200, body, "application/octet-stream", head=head)

    return Handler
