"""``vpython build SCRIPT_OR_SPEC --format venv|pex -o OUT``: a shippable artifact.

Builds a relocatable venv tree or a ``.pex`` from a lock (never resolving when it has
one), for the host or another platform, reproducibly, with a CycloneDX SBOM. See
docs/artifacts.md; the implementation lives in ``vpython.artifacts``.
"""

from __future__ import annotations

import argparse
import os
import re
from typing import TYPE_CHECKING

from vpython import log
from vpython.artifacts.model import Entry
from vpython.cli.commands import ArgumentParser, add_common, out, parser
from vpython.errors import UserError, VPythonError

if TYPE_CHECKING:
    from vpython.spec.discover import DiscoveredSpec

DESCRIPTION = (
    "Build a relocatable, byte-reproducible venv tree or .pex for a script from its PEP 751 "
    "lock, for this or another platform, with a CycloneDX SBOM (see docs/artifacts.md)."
)
EPILOG = (
    "Same bytes: the same lock built by the same vpython and pex (pex format) versions gives "
    "identical artifacts on any machine. Without a lock (no --lock, no fresh lockfile beside "
    "the spec), vpython locks first, for --platform, else the spec's declared [tool.vpython] "
    "platforms, else this machine's most specific platform tag (e.g. manylinux_2_36_x86_64 "
    "from its glibc): then two builders with different glibc or macOS versions build for "
    "different targets and get different artifacts. Commit a lock (vpython lock) or pass "
    "--platform for artifacts that match across machines. -o OUT must not exist yet or be a "
    "previous vpython build output."
)
_ENTRY = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")


def build_parser() -> ArgumentParser:
    p = parser("build", DESCRIPTION)
    p.epilog = EPILOG
    p.add_argument("target", help="script (its spec is discovered as for runs) or spec file")
    p.add_argument("--format", choices=["venv", "pex"], default="venv", help="artifact kind (default: venv)")
    p.add_argument("-o", "--output", dest="output", required=True, metavar="OUT", help="output path")
    p.add_argument(
        "--lock",
        metavar="PYLOCK",
        help="build exactly this PEP 751 lock (default: the spec's "
        "lockfile if fresh, else lock first into the cache)",
    )
    p.add_argument(
        "--platform",
        metavar="TAG",
        help="target platform tag, e.g. manylinux_2_28_aarch64, "
        "macosx_11_0_arm64, win_amd64, or cp311-cp311-<platform> (default: the lock's target "
        "for this machine; without a lock: the spec's platforms, else this machine's own "
        "tag, which differs between machines)",
    )
    p.add_argument("--python", metavar="X.Y", help="target Python version (default: the lock's / the spec's)")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--main", metavar="FILE", help="entry point script (default: SCRIPT_OR_SPEC if it is a script)"
    )
    group.add_argument("--entry-point", metavar="MODULE:FUNC", help="entry point function")
    p.add_argument("--entry-name", metavar="NAME", help="name of the venv's bin/NAME launcher")
    p.add_argument("--compile", action="store_true", help="venv: include reproducible .pyc files")
    p.add_argument(
        "--pex-venv",
        action="store_true",
        help="pex: pex's --venv mode with --sh-boot (installs itself into a venv under PEX_ROOT on first run; later runs exec that venv's python from a /bin/sh preamble)",
    )
    add_common(p)
    return p


def _entry(ns: argparse.Namespace, discovered: DiscoveredSpec) -> Entry | None:
    from vpython.cli.targets import is_spec_file

    if ns.entry_point:
        if not _ENTRY.match(ns.entry_point):
            raise UserError(
                f"--entry-point {ns.entry_point!r}: expected MODULE:FUNC (e.g. mypkg.cli:main)",
                hint="name a function as dotted.module:function, or pass --main FILE for a script",
            )
        module, attr = ns.entry_point.split(":", 1)
        return Entry(ns.entry_name or module.split(".")[-1], module=module, attr=attr)
    main = ns.main
    if main is None and os.path.isfile(ns.target) and not is_spec_file(ns.target):
        main = ns.target
    if main is None:
        if ns.entry_name:
            raise UserError(
                "--entry-name needs an entry point", hint="pass --main FILE or --entry-point MODULE:FUNC"
            )
        return None
    if not os.path.isfile(main):
        raise UserError(f"--main {main}: no such file", hint="pass the path of the script the artifact runs")
    stem = os.path.basename(main)
    stem = stem[:-3] if stem.endswith(".py") else stem
    return Entry(ns.entry_name or stem, main=os.path.abspath(main))


def _check_name(entry: Entry | None) -> None:
    if entry is not None and not _NAME.match(entry.name):
        raise UserError(
            f"entry launcher name {entry.name!r} is not a plain file name",
            hint="pass --entry-name NAME (letters, digits, . _ + -)",
        )


def main(args: list[str]) -> int:
    ns = build_parser().parse_args(args)
    log.set_level(ns.log_level)
    if ns.compile and ns.format == "pex":
        raise UserError(
            "--compile applies to --format venv only",
            hint="a pex compiles on first boot into its PEX_ROOT; pex --compile is not reproducible",
        )
    if ns.pex_venv and ns.format != "pex":
        raise UserError(
            "--pex-venv applies to --format pex only", hint="add --format pex, or drop --pex-venv"
        )
    if ns.python:
        from vpython.lock.targets import parse_python_version

        parse_python_version(ns.python)
    if ns.platform:
        from vpython.lock.targets import parse_target

        parse_target(ns.platform, [(3, 0)], "--platform")  # syntax check before any work
    from vpython.artifacts import build as builder
    from vpython.cli.targets import discover_target, flags_from_namespace

    discovered = discover_target(ns.target)
    log.info(f"spec: {discovered.origin}")
    entry = _entry(ns, discovered)
    _check_name(entry)
    try:
        result = builder.build(
            discovered,
            flags=flags_from_namespace(ns),
            fmt=ns.format,
            output=ns.output,
            lock_flag=ns.lock,
            platform=ns.platform,
            python=ns.python,
            entry=entry,
            compile_pyc=ns.compile,
            pex_venv=ns.pex_venv,
            extra_inputs=[("the script or spec to build", ns.target)],
        )
    except OSError as e:  # reading inputs (an unreadable wheel, lock or cache dir)
        raise VPythonError(
            f"vpython build: {e.strerror or e}",
            path=os.fsdecode(e.filename) if e.filename else None,
            hint="check that the file exists and is readable, then build again",
        ) from None
    out(
        f"built {ns.format} {ns.output} for {result.target.key}: {len(result.artifacts)} package(s), "
        f"sha256 {result.sha256}"
    )
    out(f"  sbom: {result.sbom_path}")
    return 0
