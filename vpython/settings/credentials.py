"""Credentials in index URLs: used for requests to their host, redacted everywhere else.

Index and find-links URLs may carry ``user:token@``; ``~/.netrc`` is read as pip and uv
read it. What vpython prints or records (logs, errors, lockfiles, env metadata) passes
through ``redact`` or ``strip_credentials`` first (tests/reliability/test_secrets.py).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from vpython.settings.sources import Sources


def redact(text: str) -> str:
    """Replace the password (and user) of every URL in ``text`` with ``***``."""
    return re.sub(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@", r"\g<scheme>***@", text)


def strip_credentials_in_text(text: str) -> str:
    """Drop ``user:password@`` from every URL in ``text`` (a lock as a resolver wrote
    it, before vpython caches it: found by tests/reliability/test_secrets.py)."""
    return re.sub(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s\"']+@", r"\g<scheme>", text)


def strip_credentials(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def credentials_for(url: str, sources: Sources) -> tuple[str, str] | None:
    """(user, password) for a download URL: from an index, find-links or direct-reference
    URL on the same host, else from ``~/.netrc``, else None."""
    target = urlsplit(url)
    for candidate in (
        sources.index_urls() + list(sources.find_links) + list(getattr(sources, "credential_urls", ()))
    ):
        c = urlsplit(candidate)
        if (
            c.hostname
            and c.hostname == target.hostname
            and (c.port == target.port)
            and c.username is not None
        ):
            from urllib.parse import unquote

            return unquote(c.username), unquote(c.password or "")
    return _netrc_credentials(target.hostname)


def _netrc_credentials(host: str | None) -> tuple[str, str] | None:
    """(login, password) for ``host`` from ``$NETRC`` or ``~/.netrc`` (as pip and uv
    read it), else None. A malformed file counts as no entry: its parse errors can
    quote the file's tokens, so they are never shown."""
    if not host:
        return None
    import netrc

    path = os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    if not os.path.isfile(path):
        return None
    try:
        auth = netrc.netrc(path).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    if not auth:
        return None
    return auth[0] or "", auth[2] or ""
