"""GET over kept-alive connections: the downloads of one cold run share their sockets.

``urllib.request`` opens a new connection, and so a new TCP and TLS handshake, for every
request, and loads the CA store again for each (``ssl.create_default_context``). A cold
run fetching 19 wheels from one host paid that 19 times. Here each download thread keeps
one ``http.client`` connection per (scheme, host, port) and reuses it for its next file;
the TLS context (CA store loaded once) and the host's addresses (one DNS lookup per host
and process: parallel lookups here sometimes stall for the resolver's 5 s retry, where
one at a time do not) are shared. A kept-alive connection the server
closed meanwhile is detected on the next request and that request is retried once on a
fresh connection. Redirects are followed (at most ``MAX_REDIRECTS``), asking
``headers_for(url)`` again for each hop, so credentials go only to the host they belong to.

Proxies are urllib's business: with any ``*_proxy`` variable set, or on macOS and
Windows (system proxy settings), ``get`` goes through ``urllib.request`` as before.

Stdlib only; ``http.client`` and ``ssl`` load only when something is downloaded.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from http.client import HTTPConnection, HTTPResponse
    from ssl import SSLContext

MAX_REDIRECTS = 10
_REDIRECTS = frozenset((301, 302, 303, 307, 308))
_local = threading.local()
_ssl_lock = threading.Lock()
_ssl_context: list[SSLContext] = []
_dns_lock = threading.Lock()
_dns: dict[tuple[str, int], list[tuple[Any, ...]]] = {}


class HTTPStatusError(Exception):
    """The server answered with an error status (4xx, 5xx)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"HTTP {code} {reason}")
        self.code, self.reason = code, reason


def _use_urllib() -> bool:
    """Proxies, and system proxy settings that only urllib reads."""
    if sys.platform in ("darwin", "win32"):
        return True
    return any(k.lower() in ("http_proxy", "https_proxy", "all_proxy") and v for k, v in os.environ.items())


def _context() -> SSLContext:
    with _ssl_lock:
        if not _ssl_context:
            import ssl

            # What urllib uses for https (certificate and host name checked; SSL_CERT_FILE
            # and SSL_CERT_DIR honoured), built once instead of once per connection.
            _ssl_context.append(ssl.create_default_context())
        return _ssl_context[0]


def _addresses(host: str, port: int) -> list[tuple[Any, ...]]:
    """getaddrinfo(host, port), once per process (under a lock, so once at a time)."""
    import socket

    with _dns_lock:
        found = _dns.get((host, port))
        if found is None:
            found = _dns[(host, port)] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return found


def _create_connection(address: tuple[str, int], timeout: Any = None, source_address: Any = None) -> Any:
    """``socket.create_connection`` with the host's addresses looked up once."""
    import socket

    host, port = address
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in _addresses(host, port):
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as e:
            sock.close()
            error = e
    raise error or OSError(f"getaddrinfo returned nothing for {host}")


def _connection(scheme: str, host: str, port: int | None, timeout: float) -> tuple[HTTPConnection, bool]:
    """This thread's connection to (scheme, host, port); True if it is new."""
    import http.client

    conns: dict[tuple[str, str, int | None], HTTPConnection] = _local.__dict__.setdefault("conns", {})
    key = (scheme, host, port)
    conn = conns.get(key)
    if conn is not None:
        return conn, False
    if scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    if hasattr(conn, "_create_connection"):  # how http.client opens its socket (3.x)
        conn._create_connection = _create_connection
    conns[key] = conn
    return conn, True


def _drop(scheme: str, host: str, port: int | None) -> None:
    conn = _local.__dict__.get("conns", {}).pop((scheme, host, port), None)
    if conn is not None:
        conn.close()


def close_all() -> None:
    """Close this thread's kept-alive connections."""
    for conn in _local.__dict__.pop("conns", {}).values():
        conn.close()


class Response:
    """A response body to ``read()``; ``close()`` (or the ``with`` block's end) closes the
    connection too unless the body was read to its end, which leaves it reusable."""

    def __init__(self, resp: HTTPResponse, on_abandon: Callable[[], None] | None) -> None:
        self._resp, self._on_abandon = resp, on_abandon

    def read(self, n: int = -1) -> bytes:
        # http.client reads read(-1) as "until the socket closes", which on a kept-alive
        # connection is never: the whole body is read(None).
        return self._resp.read(n if n >= 0 else None)

    def close(self) -> None:
        if not self._resp.isclosed():
            self._resp.close()
            if self._on_abandon is not None:
                self._on_abandon()  # a half-read response: the connection cannot be reused

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def get(url: str, headers_for: Callable[[str], Mapping[str, str]], timeout: float) -> Response:
    """GET ``url``; the response for ``read``-ing. Raises HTTPStatusError for an error
    status, OSError (and ``http.client.HTTPException``) when the server cannot be reached
    or the connection breaks."""
    if _use_urllib():
        return _get_urllib(url, headers_for, timeout)
    import http.client
    from urllib.parse import urljoin, urlsplit

    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        scheme, host, port = parts.scheme, parts.hostname or "", parts.port
        if scheme not in ("http", "https"):
            raise OSError(f"unsupported URL scheme {scheme!r}")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers_for(url))
        headers.setdefault("User-Agent", "vpython")
        for attempt in (1, 2):
            conn, fresh = _connection(scheme, host, port, timeout)
            try:
                conn.request("GET", target, headers=headers)
                resp = conn.getresponse()
                break
            except (http.client.HTTPException, OSError):
                _drop(scheme, host, port)
                if fresh or attempt == 2:
                    raise
                # The server closed the kept-alive connection while it was idle: retry once.
        location = resp.getheader("Location")
        if resp.status in _REDIRECTS and location:
            resp.read()
            url = urljoin(url, location)
            continue
        if resp.status >= 400:
            resp.read()
            raise HTTPStatusError(resp.status, resp.reason)
        return Response(resp, lambda s=scheme, h=host, p=port: _drop(s, h, p))  # type: ignore[misc]
    raise OSError(f"more than {MAX_REDIRECTS} redirects")


def _get_urllib(url: str, headers_for: Callable[[str], Mapping[str, str]], timeout: float) -> Response:
    """The urllib way (proxies, system settings): a new connection per request."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "vpython", **headers_for(url)})
    try:
        resp: HTTPResponse = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        raise HTTPStatusError(e.code, str(e.reason)) from None
    except urllib.error.URLError as e:
        reason = e.reason
        raise OSError(str(reason)) from None
    return Response(resp, None)
