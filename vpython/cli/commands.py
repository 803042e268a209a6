"""Subcommand dispatch: ``vpython <name> ...`` runs ``vpython.cli.cmd_<name>.main``.

Each subcommand parses its own options with argparse (not the warm path, so the
convenience is affordable) and raises VPythonError subclasses for user mistakes.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from vpython.errors import UsageError


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises UsageError (exit 2, one line) instead of exiting itself."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"see `{self.prog} --help`")


def parser(name: str, description: str) -> ArgumentParser:
    return ArgumentParser(prog=f"vpython {name}", description=description)


def add_common(p: ArgumentParser) -> None:
    """Flags every subcommand shares with the runner (same meaning, long spelling)."""
    p.add_argument("--root", help="cache root (default: $VPYTHON_VIRTUALENV_ROOT or the user cache dir)")
    p.add_argument("--index-url", help="package index (PEP 503/691 simple API); 'none' for no index")
    p.add_argument("--find-links", action="append", default=[], help="local wheel dir or URL (repeatable)")
    p.add_argument("--offline", action="store_true", help="use only cached or local artifacts")
    p.add_argument(
        "--only-binary",
        action="store_true",
        help="never build a wheel from an sdist (also VPYTHON_ONLY_BINARY=1, config only-binary = true)",
    )
    p.add_argument("--interpreter", help="explicit target interpreter path")
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default=None)


def dispatch(name: str, args: list[str]) -> int:
    module = importlib.import_module(f"vpython.cli.cmd_{name}")
    code: int = module.main(args)
    return code


def out(text: str) -> None:
    sys.stdout.write(text + ("\n" if not text.endswith("\n") else ""))
