"""``vpython install [SCRIPT_OR_SPEC]``: build the env without running anything
(the original's ``-vpython-tool install``, e.g. for ``gclient runhooks``)."""

from __future__ import annotations

import os

from vpython import log
from vpython.cli.commands import add_common, out, parser


def main(args: list[str]) -> int:
    p = parser("install", "Build (or reuse) the env for a script or spec without running it.")
    p.add_argument(
        "target", nargs="?", help="script, spec file, or directory (default: the working directory)"
    )
    add_common(p)
    ns = p.parse_args(args)
    log.set_level(ns.log_level)
    from vpython.cli.targets import discover_target, flags_from_namespace
    from vpython.env import fastpath
    from vpython.env.provision import provision
    from vpython.settings import config_path
    from vpython.store.root import Layout, resolve_root

    flags = flags_from_namespace(ns)
    layout = Layout(resolve_root(ns.root))
    discovered = discover_target(ns.target)
    from vpython.cli.run import settings_tuple  # the digest a run computes: later runs are warm

    digest = fastpath.spec_digest(
        discovered.kind, discovered.text, discovered.lock_path, settings_tuple(flags), config_path()
    )
    pointer = provision(discovered, layout=layout, flags=flags, digest=digest, install_only=True)
    out(os.path.join(layout.env_dir(pointer.env_key)))
    return 0
