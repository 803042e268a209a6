"""Config keys for Chromium-spec compatibility: seeds, the CIPD name map, strict closure.

In the user config file (``settings.sources`` reads it and checks its own keys;
``load_config`` here returns it with these keys validated too)::

    seeds = false                       # see vpython.settings.seeds
    strict-closure = true               # a text-proto spec that is not closed is an error

    [cipd]                              # CIPD packages PyPI lacks -> what to install instead
    infra-libs = "infra-libs-internal"                 # another project, same version
    "opencv-python==2.4.13.2" = "opencv-python==4.1.2.30"  # that version -> another
    "infra/python/wheels/expect_tests-py2" = "expect-tests==0.4.0"
    some-tool = false                                  # leave it out of envs

A ``[cipd]`` key is the PyPI project vpython derives from the CIPD name (what its errors
print), optionally with ``==version`` (the spec's version, after the ``version:`` tag and
any ``.chromium.N`` label are dropped), or a CIPD package name as the spec writes it (it
contains a ``/``). A value is ``"name"``, ``"name==version"``, ``"==version"`` or
``false``. ``vpython.spec.cipd.mapped`` applies the map.
"""

from __future__ import annotations

import re
from typing import Any

from vpython.errors import ConfigError

CIPD_KEY = "cipd"
STRICT_KEY = "strict-closure"
_NAME = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$")
_CIPD_HINT = (
    'write [cipd] entries such as infra-libs = "my-infra-libs", "opencv-python==2.4.13.2" = '
    '"opencv-python==4.1.2.30", or some-tool = false'
)


def validate_compat(data: dict[str, Any], where: str) -> dict[str, Any]:
    """``data`` with the keys this module owns checked and normalised."""
    from vpython.settings import seeds

    out = dict(data)
    if seeds.CONFIG_KEY in out:
        out[seeds.CONFIG_KEY] = seeds.validate(out[seeds.CONFIG_KEY], where)
    if STRICT_KEY in out and not isinstance(out[STRICT_KEY], bool):
        raise ConfigError(
            "must be true or false", path=where, key=STRICT_KEY, hint="write strict-closure = true"
        )
    if CIPD_KEY in out:
        out[CIPD_KEY] = _validate_cipd(out[CIPD_KEY], where)
    return out


def _pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split_pin(text: str, where: str, key: str) -> tuple[str, str]:
    """("name" or "", "version" or "") of ``name``, ``name==version`` or ``==version``."""
    from packaging.version import InvalidVersion, Version

    name, sep, version = text.strip().partition("==")
    name, version = name.strip(), version.strip()
    if (name and not _NAME.match(name)) or (sep and not version) or not (name or version):
        raise ConfigError(
            f"{text!r} is not a project name, name==version or ==version",
            path=where,
            key=key,
            hint=_CIPD_HINT,
        )
    if version:
        try:
            version = str(Version(version))
        except InvalidVersion:
            raise ConfigError(
                f"{version!r} is not a PEP 440 version", path=where, key=key, hint=_CIPD_HINT
            ) from None
    return (_pep503(name) if name else ""), version


def _validate_cipd(value: Any, where: str) -> dict[str, tuple[str, str] | None]:
    """{normalised key: (name or "", version or "") or None (leave it out)}."""
    if not isinstance(value, dict):
        raise ConfigError("must be a table", path=where, key=CIPD_KEY, hint=_CIPD_HINT)
    out: dict[str, tuple[str, str] | None] = {}
    for raw_key, target in value.items():
        key = f"{CIPD_KEY}.{raw_key}"
        if "/" in raw_key:
            norm = raw_key.strip()
        else:
            name, version = _split_pin(raw_key, where, key)
            if not name:
                raise ConfigError(f"{raw_key!r} names no package", path=where, key=key, hint=_CIPD_HINT)
            norm = f"{name}=={version}" if version else name
        if target is False:
            out[norm] = None
        elif isinstance(target, str):
            out[norm] = _split_pin(target, where, key)
        else:
            raise ConfigError(
                "must be a string (name, name==version or ==version) or false",
                path=where,
                key=key,
                hint=_CIPD_HINT,
            )
    return out


def load_config() -> dict[str, Any]:
    """The user config file's settings, every key validated (the sources keys by
    ``settings.sources``, the others here)."""
    from vpython.settings import config_path
    from vpython.settings.sources import _load_config

    path = config_path()
    return validate_compat(_load_config(path), path)


def seeds_for(python: tuple[int, ...]) -> dict[str, str]:
    """The seeds a text-proto env on Python ``python`` gets (``settings.seeds.seed_pins``
    with the config file's ``seeds`` and ``VPYTHON_SEEDS``)."""
    from vpython.settings.seeds import seed_pins

    return seed_pins(python, load_config().get("seeds"))


def cipd_map() -> dict[str, tuple[str, str] | None]:
    """The user config's ``[cipd]`` map (normalised; see the module docstring)."""
    value = load_config().get(CIPD_KEY)
    return dict(value) if isinstance(value, dict) else {}


def strict_closure() -> bool:
    """``strict-closure = true`` in the user config: unclosed text-proto specs are errors."""
    return load_config().get(STRICT_KEY) is True
