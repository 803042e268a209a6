"""Shared by subcommands: turn a SCRIPT_OR_SPEC argument into a discovered spec."""

from __future__ import annotations

import os

from vpython.errors import UserError
from vpython.spec.discover import DiscoveredSpec, discover, spec_file


class Flags:
    """The runner's flag object, filled from a subcommand's argparse namespace."""

    def __init__(self, **kw):
        self.root = kw.get("root")
        self.spec = None
        self.log_level = kw.get("log_level")
        self.tool = None
        self.interpreter = kw.get("interpreter")
        self.index_url = kw.get("index_url")
        self.find_links = list(kw.get("find_links") or [])
        self.offline = bool(kw.get("offline"))
        self.help = False
        self.exclude_newer = kw.get("exclude_newer")


def flags_from_namespace(ns) -> Flags:
    return Flags(**vars(ns))


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
        raise UserError(f"{target}: no such file or directory")
    if os.path.isfile(target) and is_spec_file(target):
        return spec_file(os.path.abspath(target), f"spec file {target}")
    if os.path.isdir(target) and not os.path.isfile(os.path.join(target, "__main__.py")):
        return discover(
            target_kind="none", target=None, cwd=os.path.abspath(target), default_spec=default_spec
        )
    return discover(target_kind="script", target=target, cwd=cwd, default_spec=default_spec)
