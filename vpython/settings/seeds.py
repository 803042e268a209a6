"""Seed packages: the pip, setuptools and wheel that text-proto envs get, as the original's did.

Chromium's vpython made every env with virtualenv's default seeder, so pip, setuptools and
wheel were always there, and real specs lean on that (``import pkg_resources``,
``setup.py``-era packages, tools that shell out to pip). vpython seeds envs built from
text-proto specs (``.vpython3``, ``.vpython``, ``[VPYTHON:BEGIN]`` blocks) the same way;
PEP 723 and ``vpython.toml`` envs stay unseeded, as uv's are.

The seeds are ordinary pins: they are resolved, locked (sha256), fetched into the store
and part of the env key like any package the spec lists, never virtualenv's bundled
wheels (virtualenv 21.5+ ships none for 3.8 and refuses to seed below 3.9). The default
versions below are the last releases whose ``Requires-Python`` admits each interpreter
(checked on PyPI when they were written), with two exceptions that keep what real specs
rely on: setuptools stays at 81.0.0 from 3.9 up, the last release with ``pkg_resources``
(82.0 removed it; Chromium-era packages and specs still ``import pkg_resources``), and
wheel stays at 0.45.1 from 3.8 up (0.46 and later depend on ``packaging``, which would
make the seeds themselves an unclosed set).

Config (the user config file, see ``settings.sources``)::

    seeds = false              # no seeds at all

    [seeds]                    # or: other versions, or leave one out
    pip = "24.0"
    wheel = false

``VPYTHON_SEEDS=0`` turns seeding off for one run (``1`` turns it back on over the
config). A package the spec lists itself keeps the spec's pin. ``settings.compat.seeds_for``
is what callers use: ``seed_pins`` with the config file's value.
"""

from __future__ import annotations

import os
from typing import Any

from vpython.errors import ConfigError

SEED_NAMES = ("pip", "setuptools", "wheel")
CONFIG_KEY = "seeds"
ENV = "VPYTHON_SEEDS"

# (major, minor) of the oldest Python each row is for -> its seeds. A Python gets the
# row with the highest key not above its version (3.12 gets the (3, 10) row).
DEFAULT_SEEDS: dict[tuple[int, int], dict[str, str]] = {
    (2, 7): {"pip": "20.3.4", "setuptools": "44.1.1", "wheel": "0.37.1"},
    (3, 6): {"pip": "21.3.1", "setuptools": "59.6.0", "wheel": "0.37.1"},
    (3, 7): {"pip": "24.0", "setuptools": "68.0.0", "wheel": "0.42.0"},
    (3, 8): {"pip": "25.0.1", "setuptools": "75.3.4", "wheel": "0.45.1"},
    (3, 9): {"pip": "26.0.1", "setuptools": "81.0.0", "wheel": "0.45.1"},
    (3, 10): {"pip": "26.3", "setuptools": "81.0.0", "wheel": "0.45.1"},
}

_HINT = 'write seeds = false, or a [seeds] table such as pip = "24.0" / wheel = false'


def default_seeds(python: tuple[int, ...]) -> dict[str, str]:
    """The default seed versions for a Python ``(major, minor[, ...])``."""
    key = (python[0], python[1] if len(python) > 1 else 0)
    rows = [k for k in DEFAULT_SEEDS if k <= key]
    return dict(DEFAULT_SEEDS[max(rows)] if rows else DEFAULT_SEEDS[min(DEFAULT_SEEDS)])


def validate(value: Any, where: str) -> bool | dict[str, str | bool]:
    """The config file's ``seeds`` value, checked (``where`` names the file in errors)."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, dict):
        raise ConfigError("must be true, false or a table", path=where, key=CONFIG_KEY, hint=_HINT)
    out: dict[str, str | bool] = {}
    for name, version in value.items():
        if name not in SEED_NAMES:
            raise ConfigError(
                f"{name!r} is not a seed package (seeds are {', '.join(SEED_NAMES)})",
                path=where,
                key=f"{CONFIG_KEY}.{name}",
                hint=_HINT,
            )
        if version is not False and not (isinstance(version, str) and _is_version(version)):
            raise ConfigError(
                'must be a version (a quoted string such as "24.0") or false to leave it out',
                path=where,
                key=f"{CONFIG_KEY}.{name}",
                hint=_HINT,
            )
        out[name] = version
    return out


def _is_version(text: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def seed_pins(
    python: tuple[int, ...], configured: bool | dict[str, str | bool] | None = None
) -> dict[str, str]:
    """{name: version} of the seeds for an env on Python ``python``, after the config
    (``configured``: the validated ``seeds`` value, None when unset) and ``VPYTHON_SEEDS``."""
    switch = os.environ.get(ENV, "").strip().lower()
    if switch in ("0", "false", "no", "off"):
        return {}
    pins = default_seeds(python)
    if configured is False and switch not in ("1", "true", "yes", "on"):
        return {}
    if isinstance(configured, dict):
        for name, version in configured.items():
            if version is False:
                pins.pop(name, None)
            elif isinstance(version, str):
                pins[name] = version
    return pins
