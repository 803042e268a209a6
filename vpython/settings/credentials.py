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


def _has_credentials(url: str) -> bool:
    return "://" in url and urlsplit(url).username is not None


def uv_source_options(sources: Sources) -> tuple[list[str], dict[str, str]]:
    """(argv, environment) that give uv a run's index, find-links and offline settings.

    A URL list with credentials goes whole into its environment variable
    (``UV_INDEX_URL``, ``UV_EXTRA_INDEX_URL``, ``UV_FIND_LINKS``), never argv, which every
    local user can read in ``/proc/<pid>/cmdline`` while uv runs. argv and a variable do
    not merge in uv (a flag on argv hides the variable), hence whole lists; lists without
    credentials stay on argv, where a path holding a comma or space is safe."""
    argv: list[str] = []
    env: dict[str, str] = {}
    if not sources.index_url:
        argv.append("--no-index")
    elif _has_credentials(sources.index_url):
        env["UV_INDEX_URL"] = sources.index_url
    else:
        argv += ["--index-url", sources.index_url]
    extra = list(sources.extra_index_urls)
    if any(_has_credentials(u) for u in extra):
        env["UV_EXTRA_INDEX_URL"] = " ".join(extra)
    else:
        for url in extra:
            argv += ["--extra-index-url", url]
    links = list(sources.find_links)
    if any(_has_credentials(u) for u in links):
        env["UV_FIND_LINKS"] = ",".join(links)
    else:
        for link in links:
            argv += ["--find-links", link]
    if sources.offline:
        argv.append("--offline")
    if sources.exclude_newer:
        argv += ["--exclude-newer", sources.exclude_newer]
    return argv, env


def netrc_for(urls: list[str], private_dir: str) -> tuple[list[str], dict[str, str]]:
    """For tools that put every URL on a command line (pex hands them to pip's argv):
    ``urls`` without their ``user:password@``, and an environment whose ``NETRC`` names a
    ``0600`` file in ``private_dir`` (a fresh ``0700`` temp dir) holding those credentials
    per host, after the user's own ``$NETRC`` / ``~/.netrc`` entries (``urls`` as they are
    and ``{}`` when none has credentials). netrc cannot tell two sets of credentials for
    one host apart: that is a UserError."""
    from urllib.parse import unquote

    from vpython.errors import UserError

    hosts: dict[str, tuple[str, str]] = {}
    for url in urls:
        parts = urlsplit(url)
        if "://" not in url or parts.username is None or not parts.hostname:
            continue
        creds = (unquote(parts.username), unquote(parts.password or ""))
        if hosts.setdefault(parts.hostname, creds) != creds:
            raise UserError(
                f"two package sources on {parts.hostname} carry different credentials; "
                "the pex engine can give only one set per host",
                hint="use the default engine (uv), or one set of credentials for that host",
            )
    if not hosts:
        return list(urls), {}
    text = _user_netrc_text()
    for host, (user, password) in sorted(hosts.items()):
        text += f"machine {_netrc_token(host)} login {_netrc_token(user)} password {_netrc_token(password)}\n"
    path = os.path.join(private_dir, "netrc")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return [strip_credentials(u) for u in urls], {"NETRC": path}


def _netrc_token(value: str) -> str:
    """A netrc token: quoted (Python's netrc reader, which pip's requests uses, unquotes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _user_netrc_text() -> str:
    """The user's netrc, kept first so its other hosts still work; skipped when it does not
    parse (one bad line would make the whole file, ours included, unreadable)."""
    import netrc

    path = os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    try:
        netrc.netrc(path)
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError, netrc.NetrcParseError):
        return ""
    return text if text.endswith("\n") or not text else text + "\n"
