"""The one TOML reader: ``tomllib`` (3.11+) or its backport ``tomli``.

Imported only where TOML is read (never on the warm path). Every TOML input goes through
``loads`` so that guards against hostile input live in one place.
"""

from __future__ import annotations

import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib as _toml
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as _toml

TOMLDecodeError = _toml.TOMLDecodeError


def loads(text: str) -> dict[str, Any]:
    """Parse TOML text; raises ``TOMLDecodeError`` (with ``lineno``/``colno`` on 3.14+)."""
    return _toml.loads(text)
