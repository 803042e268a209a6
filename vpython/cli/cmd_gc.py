"""``vpython gc [--older-than DURATION] [--dry-run]``."""

from __future__ import annotations

import re

from vpython import log
from vpython.cli.commands import out, parser
from vpython.errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """``30d``, ``12h``, ``90m``, ``1w2d``, ``0`` → seconds."""
    if text.strip() == "0":
        return 0.0
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhdw])", text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise UsageError(f"--older-than {text!r}: not a duration", hint="use e.g. 7d, 12h, 30m, 1w2d or 0")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def main(args: list[str]) -> int:
    p = parser(
        "gc",
        "Delete envs not used recently (never one in use), then every store "
        "entry, wheel, skeleton template, spec pointer and cached resolution that no "
        "remaining env needs.",
    )
    p.add_argument(
        "--older-than", default="7d", help="age of last use above which an env is deleted (default 7d)"
    )
    p.add_argument("--dry-run", action="store_true", help="report what would be deleted; delete nothing")
    p.add_argument("--root", help="cache root")
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    ns = p.parse_args(args)
    log.set_level(ns.log_level)
    from vpython.store.gc import collect
    from vpython.store.root import Layout, cache_write_error, is_disk_error, resolve_root

    age = parse_duration(ns.older_than)
    layout = Layout(resolve_root(ns.root))
    try:
        report = collect(layout, age, dry_run=ns.dry_run)
    except OSError as e:  # a read-only or full root: one line, never a traceback
        if is_disk_error(e):
            raise cache_write_error(e, layout.root) from None
        raise
    verb = "would delete" if ns.dry_run else "deleted"
    out(
        f"{verb}: {len(report.envs_deleted)} env(s), {len(report.packages_deleted)} package entr(ies), "
        f"{len(report.wheels_deleted)} wheel(s), {len(report.built_deleted)} built wheel(s), "
        f"{len(report.sdists_deleted)} sdist(s), {len(report.pointers_deleted)} spec pointer(s), "
        f"{len(report.skeletons_deleted)} skeleton template(s), {len(report.cached_locks_deleted)} cached "
        f"resolution/plan file(s), {len(report.build_locks_deleted)} build-lock file(s), "
        f"{len(report.tmp_deleted)} leftover work file(s)"
        + (", the pex build cache" if report.pex_cache_deleted else "")
        + (
            f", the resolver cache(s) of {', '.join(report.tool_caches_deleted)}"
            if report.tool_caches_deleted
            else ""
        )
    )
    out(f"{'would free' if ns.dry_run else 'freed'}: {human_bytes(report.bytes_freed)}")
    if report.envs_held:
        out(
            f"{'would keep' if ns.dry_run else 'kept'} {len(report.envs_held)} env(s) in use: "
            f"{', '.join(k[:12] for k in report.envs_held)}"
        )
    if report.store_busy:
        out("store sweep skipped: a build is running; run gc again later")
    return 0
