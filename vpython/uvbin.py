"""Where the uv binary is: ``VPYTHON_UV_BIN``, else the ``uv`` package's own binary.

Below ``lock`` and ``store`` (in the layer of ``interpreters`` and ``settings``: it needs
``errors``) because both run uv: ``lock`` to resolve (``vpython.lock.engine_uv``) and
``store`` to build wheels from sdists (``vpython.store.sdists``), and those siblings may
not import each other.
"""

from __future__ import annotations

import os

from vpython.errors import UserError


def uv_binary() -> str:
    """The uv executable to run. Raises UserError when there is none."""
    override = os.environ.get("VPYTHON_UV_BIN")
    if override:
        return override
    try:
        from uv import find_uv_bin
    except ImportError:
        raise UserError(
            "the `uv` package is not installed", hint="pip install uv (it is a dependency of vpython)"
        ) from None
    return find_uv_bin()
