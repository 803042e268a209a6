"""Package sources: where wheels come from.

Precedence, highest first: command-line flags > environment variables > the spec's
``[tool.vpython]`` table > the user config file > defaults. The config file is
``$VPYTHON_CONFIG`` or ``<user config dir>/vpython/config.toml``:

    index-url = "https://pypi.example.com/simple"
    extra-index-urls = ["https://mirror.example.com/simple"]
    find-links = ["/srv/wheelhouse"]
    offline = false
    exclude-newer = "2026-01-01T00:00:00Z"
    only-binary = false        # true: never build a wheel from an sdist (also VPYTHON_ONLY_BINARY)

    [build-constraints]        # extra build requirements' constraints, per sdist (see store.sdist_constraints)
    "pyyaml>=5.4,<6" = ["cython<3"]

Credentials go in index URLs (``https://user:token@host/simple``) or ``~/.netrc``; they
are used for requests to that host and redacted everywhere they could be printed or
recorded (logs, errors, lockfiles, env metadata).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from vpython.errors import ConfigError
from vpython.settings import config_path

DEFAULT_INDEX = "https://pypi.org/simple"
CONFIG_KEYS = ("index-url", "extra-index-urls", "find-links", "offline", "exclude-newer", "shared-root")
# Keys of the config file only: a spec's [tool.vpython] cannot set them (a checked-out
# repository must not open the user's cache root to other users).
_USER_ONLY_KEYS = ("shared-root",)
# Keys about building wheels from sdists (vpython.store.sdists); merged like the others.
BUILD_KEYS = ("only-binary", "build-constraints")
# Keys that are not about sources, validated and read by vpython.settings.compat (seeds,
# the CIPD name map, strict closure); kept apart so each list can grow on its own.
COMPAT_KEYS = ("seeds", "cipd", "strict-closure")
KNOWN_KEYS = CONFIG_KEYS + BUILD_KEYS + COMPAT_KEYS


class SourceFlags(Protocol):
    """The command-line flags that choose package sources (vpython.cli.flags.VPythonFlags
    has them; ``exclude_newer`` is read when a flags object has it)."""

    @property
    def index_url(self) -> str | None: ...
    @property
    def find_links(self) -> Sequence[str] | None: ...
    @property
    def offline(self) -> bool: ...


@dataclass(frozen=True)
class Sources:
    """Where packages come from, merged from every layer (module docstring)."""

    index_url: str = DEFAULT_INDEX  # "" = no index (find-links only)
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    offline: bool = False
    exclude_newer: str | None = None
    # Never build a wheel from an sdist (--only-binary, VPYTHON_ONLY_BINARY, only-binary).
    only_binary: bool = False
    # [build-constraints]: ((requirement selecting sdists, (constraint, ...)), ...), in
    # the order written; they override vpython's defaults (vpython.store.sdist_constraints).
    build_constraints: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # key -> where it came from
    origin: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    # URLs that only lend credentials to downloads from their host (the spec's direct
    # references ``name @ https://user:token@host/...``): locks record no credentials.
    credential_urls: tuple[str, ...] = field(default=(), compare=False)

    def index_urls(self) -> list[str]:
        return ([self.index_url] if self.index_url else []) + list(self.extra_index_urls)


def _load_config(path: str) -> dict[str, Any]:
    if not os.path.isfile(path):
        if os.environ.get("VPYTHON_CONFIG"):
            raise ConfigError(
                "no such file",
                path=path,
                key="VPYTHON_CONFIG",
                hint="point VPYTHON_CONFIG at a TOML file, or unset it",
            )
        return {}
    from vpython import toml

    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ConfigError(
            f"cannot read the config file: {e.strerror}",
            path=path,
            hint="make it readable, or point VPYTHON_CONFIG at another file",
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigError(
            "the config file is not UTF-8 text",
            path=path,
            line=line,
            hint="save it as UTF-8 (TOML requires it)",
        ) from None
    try:
        data = toml.loads(text)
    except toml.TOMLDecodeError as e:
        # lineno/colno: on vpython.toml's own error, and tomllib's from 3.14
        raise ConfigError(
            f"invalid TOML: {e.msg}",
            path=path,
            line=getattr(e, "lineno", None),
            column=getattr(e, "colno", None),
            hint="fix the TOML syntax at that place",
        ) from None
    unknown = sorted(set(data) - set(KNOWN_KEYS))
    if unknown:
        raise ConfigError(
            "not a config key", path=path, key=unknown[0], hint=f"known keys: {', '.join(KNOWN_KEYS)}"
        )
    return _validated(data, path)


_KIND_HINTS = {
    "string": 'a quoted string, e.g. index-url = "https://pypi.org/simple"',
    "list": 'a list of strings, e.g. find-links = ["/srv/wheels"]',
    "bool": "true or false",
}


def _validated(data: dict[str, Any], where: str) -> dict[str, Any]:
    """``data`` with each known key's value checked (lists become tuples); ``where``
    names the layer in errors (the config file's path, or the spec's table)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        wanted = None
        if key in ("index-url", "exclude-newer"):
            if not isinstance(value, str):
                wanted = "string"
        elif key in ("extra-index-urls", "find-links"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                wanted = "list"
            else:
                value = tuple(value)
        elif key in ("offline", "only-binary", "shared-root") and not isinstance(value, bool):
            wanted = "bool"
        elif key == "build-constraints":
            value = _build_constraints(value, where)
        if wanted is not None:
            what = {"string": "a string", "list": "a list of strings", "bool": "true or false"}[wanted]
            raise ConfigError(f"must be {what}", path=where, key=key, hint=f"write {_KIND_HINTS[wanted]}")
        out[key] = value
    return out


def _build_constraints(value: object, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``[build-constraints]``: {"name<specifier>": ["constraint", ...]} (checked here, so a
    typo is the config's error, not a build failure later)."""
    from packaging.requirements import InvalidRequirement, Requirement

    example = 'write [build-constraints] "pyyaml>=5.4,<6" = ["cython<3"]'
    if not isinstance(value, dict):
        raise ConfigError("must be a table", path=where, key="build-constraints", hint=example)
    out = []
    for selector, constraints in value.items():
        key = f"build-constraints.{selector}"
        if not isinstance(constraints, list) or not all(isinstance(c, str) for c in constraints):
            raise ConfigError("must be a list of strings", path=where, key=key, hint=example)
        for text in [selector, *constraints]:
            try:
                req = Requirement(text)
            except InvalidRequirement as e:
                raise ConfigError(f"not a requirement: {e}", path=where, key=key, hint=example) from None
            if req.url or req.marker or req.extras:
                raise ConfigError(
                    f"{text!r}: only a name and a version range are allowed",
                    path=where,
                    key=key,
                    hint=example,
                )
        out.append((selector, tuple(constraints)))
    return tuple(out)


def config_shared_root() -> bool:
    """``shared-root = true`` in the user's config file: the cache root may be shared with
    other users on purpose (vpython.store.trust). A broken config file is its ConfigError."""
    return bool(_load_config(config_path()).get("shared-root", False))


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in re.split(r"[\s,]+", value) if v)


def load_sources(
    *, flags: SourceFlags | None = None, spec_tool: dict[str, Any] | None = None, base_dir: str | None = None
) -> Sources:
    """Merge all layers into one Sources (relative find-links are relative to ``base_dir``)."""
    layers: list[tuple[str, dict[str, Any]]] = []
    layers.append(("config " + config_path(), _load_config(config_path())))
    if spec_tool:
        tool = {k: v for k, v in spec_tool.items() if k in KNOWN_KEYS and k not in _USER_ONLY_KEYS}
        layers.append(("spec [tool.vpython]", _validated(tool, "spec [tool.vpython]")))
    env: dict[str, Any] = {}
    if os.environ.get("VPYTHON_INDEX_URL") is not None:
        env["index-url"] = os.environ["VPYTHON_INDEX_URL"]
    if os.environ.get("VPYTHON_EXTRA_INDEX_URL"):
        env["extra-index-urls"] = _split(os.environ["VPYTHON_EXTRA_INDEX_URL"])
    if os.environ.get("VPYTHON_FIND_LINKS"):
        env["find-links"] = _split(os.environ["VPYTHON_FIND_LINKS"])
    if os.environ.get("VPYTHON_OFFLINE"):
        env["offline"] = _env_bool("VPYTHON_OFFLINE")
    if os.environ.get("VPYTHON_EXCLUDE_NEWER"):
        env["exclude-newer"] = os.environ["VPYTHON_EXCLUDE_NEWER"]
    if os.environ.get("VPYTHON_ONLY_BINARY"):
        env["only-binary"] = _env_bool("VPYTHON_ONLY_BINARY")
    layers.append(("environment", env))
    if flags is not None:
        layers.append(("command line", _flag_layer(flags)))
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
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
        only_binary=bool(merged.get("only-binary", False)),
        build_constraints=tuple(merged.get("build-constraints", ())),
        origin=origin,
    )


def _env_bool(name: str) -> bool:
    return os.environ[name].lower() not in ("0", "false", "no", "")


def _flag_layer(flags: SourceFlags) -> dict[str, Any]:
    f: dict[str, Any] = {}
    if flags.index_url is not None:
        f["index-url"] = flags.index_url
    if flags.find_links:
        f["find-links"] = tuple(flags.find_links)
    if flags.offline:
        f["offline"] = True
    exclude_newer = getattr(flags, "exclude_newer", None)  # only the lock/build subcommands have it
    if exclude_newer:
        f["exclude-newer"] = exclude_newer
    if getattr(flags, "only_binary", False):  # -vpython-only-binary / --only-binary
        f["only-binary"] = True
    return f
