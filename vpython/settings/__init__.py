"""Settings: where packages come from and which config file says so.

This module is on the warm path (the spec digest covers the config file's bytes and the
settings environment variables), so it holds only stdlib-cheap pieces: the config file's
path and the names of the environment variables that change how envs are built. The
merged ``Sources`` live in ``settings.sources``, credential handling in
``settings.credentials`` (both import dataclasses/urllib, ~15 ms, cold path only).
"""

from __future__ import annotations

import os
import sys

# Environment variables that change how envs are resolved or built (not secrets in clear:
# only their digest is stored).
SETTINGS_ENV = (
    "VPYTHON_INDEX_URL",
    "VPYTHON_EXTRA_INDEX_URL",
    "VPYTHON_FIND_LINKS",
    "VPYTHON_OFFLINE",
    "VPYTHON_EXCLUDE_NEWER",
    "VPYTHON_ONLY_BINARY",
    "VPYTHON_CONFIG",
    "VPYTHON_SEEDS",  # settings.seeds: pip/setuptools/wheel in text-proto envs
)


def config_path() -> str:
    """The user config file: ``$VPYTHON_CONFIG``, else ``<user config dir>/vpython/config.toml``."""
    explicit = os.environ.get("VPYTHON_CONFIG")
    if explicit:
        return explicit
    if sys.platform == "win32":
        base = os.environ.get("APPDATA", "")
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "vpython", "config.toml")
