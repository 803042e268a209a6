"""Shared by subcommands: their common options as the runner's flags record, and a
SCRIPT_OR_SPEC argument turned into a discovered spec."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from vpython.cli.flags import VPythonFlags
from vpython.errors import UserError
from vpython.spec.discover import DiscoveredSpec, discover, spec_file

if TYPE_CHECKING:
    import argparse


def flags_from_namespace(ns: argparse.Namespace, *, exclude_newer: str | None = None) -> VPythonFlags:
    """The runner's flags record from the options ``commands.add_common`` registered, so
    a subcommand hands the lower layers what a run would (``exclude_newer``: only
    ``vpython lock`` has it)."""
    return VPythonFlags(
        root=ns.root,
        log_level=ns.log_level,
        interpreter=ns.interpreter,
        index_url=ns.index_url,
        find_links=ns.find_links,
        offline=bool(ns.offline),
        exclude_newer=exclude_newer,
        only_binary=bool(getattr(ns, "only_binary", False)),
    )


def is_spec_file(path: str) -> bool:
    name = os.path.basename(path)
    return name.endswith((".vpython3", ".vpython")) or name == "vpython.toml"


def discover_target(target: str | None) -> DiscoveredSpec:
    """A spec file is used as is; a script goes through discovery; a directory is a
    runnable package when it has ``__main__.py`` and otherwise the place discovery starts
    from (its ``vpython.toml`` / ``.vpython3``, or the nearest one above), as without a
    target in that directory."""
    cwd = os.getcwd()
    default_spec = os.environ.get("VPYTHON_DEFAULT_SPEC") or None
    if not target:
        return discover(target_kind="none", target=None, cwd=cwd, default_spec=default_spec)
    if not os.path.exists(target):
        raise UserError(
            "no such file or directory", path=target, hint="pass an existing script, spec file or directory"
        )
    if os.path.isfile(target) and is_spec_file(target):
        return spec_file(os.path.abspath(target), f"spec file {target}")
    if os.path.isdir(target) and not os.path.isfile(os.path.join(target, "__main__.py")):
        return discover(
            target_kind="none", target=None, cwd=os.path.abspath(target), default_spec=default_spec
        )
    return discover(target_kind="script", target=target, cwd=cwd, default_spec=default_spec)
