"""Package sources: where wheels come from.

Precedence, highest first: command-line flags > environment variables > the spec's
``[tool.vpython]`` table > the user config file > defaults. The config file is
``$VPYTHON_CONFIG`` or ``<user config dir>/vpython/config.toml``:

    index-url = "https://pypi.example.com/simple"
    extra-index-urls = ["https://mirror.example.com/simple"]
    find-links = ["/srv/wheelhouse"]
    offline = false
    exclude-newer = "2026-01-01T00:00:00Z"

Credentials go in index URLs (``https://user:token@host/simple``) or ``~/.netrc``; they
are used for requests to that host and redacted everywhere they could be printed or
recorded (logs, errors, lockfiles, env metadata).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from vpython.env.fastpath import config_path
from vpython.errors import UserError

DEFAULT_INDEX = "https://pypi.org/simple"
CONFIG_KEYS = ("index-url", "extra-index-urls", "find-links", "offline", "exclude-newer")


@dataclass(frozen=True)
class Sources:
    index_url: str = DEFAULT_INDEX  # "" = no index (find-links only)
    extra_index_urls: tuple = ()
    find_links: tuple = ()
    offline: bool = False
    exclude_newer: str | None = None
    origin: dict = field(default_factory=dict, compare=False, hash=False)  # key -> where it came from
    # URLs that only lend credentials to downloads from their host (the spec's direct
    # references ``name @ https://user:token@host/...``): locks record no credentials.
    credential_urls: tuple = field(default=(), compare=False)

    def index_urls(self) -> list:
        return ([self.index_url] if self.index_url else []) + list(self.extra_index_urls)


def _load_config(path: str) -> dict:
    if not os.path.isfile(path):
        if os.environ.get("VPYTHON_CONFIG"):
            raise UserError(f"VPYTHON_CONFIG={path}: no such file")
        return {}
    try:
        import tomllib as toml
    except ImportError:  # pragma: no cover
        import tomli as toml  # type: ignore[no-redef]
    try:
        with open(path, "rb") as f:
            data = toml.load(f)
    except toml.TOMLDecodeError as e:
        raise UserError(f"{path}: invalid TOML: {e}") from None
    except OSError as e:
        raise UserError(f"cannot read config file {path}: {e.strerror}") from None
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown:
        raise UserError(f"{path}: unknown key {unknown[0]!r}", hint=f"known keys: {', '.join(CONFIG_KEYS)}")
    return _validated(data, path)


def _validated(data: dict, where: str) -> dict:
    out = {}
    for key, value in data.items():
        if key in ("index-url", "exclude-newer"):
            if not isinstance(value, str):
                raise UserError(f"{where}: key {key!r} must be a string")
        elif key in ("extra-index-urls", "find-links"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UserError(f"{where}: key {key!r} must be a list of strings")
            value = tuple(value)
        elif key == "offline" and not isinstance(value, bool):
            raise UserError(f"{where}: key {key!r} must be true or false")
        out[key] = value
    return out


def _split(value: str) -> tuple:
    return tuple(v for v in re.split(r"[\s,]+", value) if v)


def load_sources(*, flags=None, spec_tool: dict | None = None, base_dir: str | None = None) -> Sources:
    """Merge all layers into one Sources."""
    layers = []
    layers.append(("config " + config_path(), _load_config(config_path())))
    if spec_tool:
        tool = {k: v for k, v in spec_tool.items() if k in CONFIG_KEYS}
        layers.append(("spec [tool.vpython]", _validated(tool, "spec [tool.vpython]")))
    env = {}
    if os.environ.get("VPYTHON_INDEX_URL") is not None:
        env["index-url"] = os.environ["VPYTHON_INDEX_URL"]
    if os.environ.get("VPYTHON_EXTRA_INDEX_URL"):
        env["extra-index-urls"] = _split(os.environ["VPYTHON_EXTRA_INDEX_URL"])
    if os.environ.get("VPYTHON_FIND_LINKS"):
        env["find-links"] = _split(os.environ["VPYTHON_FIND_LINKS"])
    if os.environ.get("VPYTHON_OFFLINE"):
        env["offline"] = os.environ["VPYTHON_OFFLINE"].lower() not in ("0", "false", "no", "")
    if os.environ.get("VPYTHON_EXCLUDE_NEWER"):
        env["exclude-newer"] = os.environ["VPYTHON_EXCLUDE_NEWER"]
    layers.append(("environment", env))
    if flags is not None:
        f = {}
        if getattr(flags, "index_url", None) is not None:
            f["index-url"] = flags.index_url
        if getattr(flags, "find_links", None):
            f["find-links"] = tuple(flags.find_links)
        if getattr(flags, "offline", False):
            f["offline"] = True
        if getattr(flags, "exclude_newer", None):
            f["exclude-newer"] = flags.exclude_newer
        layers.append(("command line", f))
    merged: dict = {}
    origin: dict = {}
    for name, layer in layers:
        for key, value in layer.items():
            merged[key] = value
            origin[key] = name
    find_links = tuple(
        fl if "://" in fl or os.path.isabs(fl) or base_dir is None else os.path.join(base_dir, fl)
        for fl in merged.get("find-links", ())
    )
    index = merged.get("index-url", DEFAULT_INDEX)
    if index in ("none", "NONE"):
        index = ""
    return Sources(
        index_url=index,
        extra_index_urls=tuple(merged.get("extra-index-urls", ())),
        find_links=find_links,
        offline=bool(merged.get("offline", False)),
        exclude_newer=merged.get("exclude-newer"),
        origin=origin,
    )


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


def credentials_for(url: str, sources: Sources):
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


def _netrc_credentials(host: str | None):
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
