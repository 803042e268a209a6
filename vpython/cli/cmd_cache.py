"""``vpython cache info|dir|verify [--repair]``: what the cache holds, and whether
anything in it was edited in place (see vpython.store.verify)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from vpython.cli.commands import out, parser

if TYPE_CHECKING:
    from vpython.store.root import Layout

Row = tuple[str, str, str, str]  # name, count, size, note


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m ago"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f}h ago"
    return f"{seconds / 86400:.0f}d ago"


def _count_size(paths: list[str]) -> tuple[str, str]:
    """(how many, their size on disk) of ``paths``, formatted for the table."""
    from vpython.cli.cmd_gc import human_bytes
    from vpython.store.sizes import unique_size as _unique_size

    return str(len(paths)), human_bytes(_unique_size(paths))


def _files(base: str, pred: Callable[[str], bool]) -> list[str]:
    try:
        return [os.path.join(base, n) for n in sorted(os.listdir(base)) if pred(n)]
    except OSError:
        return []


def main(args: list[str]) -> int:
    p = parser("cache", "Inspect the cache.")
    p.add_argument(
        "action",
        choices=["info", "dir", "verify"],
        help="info: a table of envs and store sizes; dir: print the root; verify: check every "
        "store entry and env for files edited in place (exit 1 if any)",
    )
    p.add_argument(
        "--repair",
        action="store_true",
        help="verify: delete the damaged entries and the envs that use them (the next run rebuilds them)",
    )
    p.add_argument("--root", help="cache root")
    ns = p.parse_args(args)
    from vpython.store.root import Layout, resolve_root

    # Not refused here: `dir` only names the root and `verify` reports what is unsafe.
    layout = Layout(resolve_root(ns.root, check=False))
    if ns.repair and ns.action != "verify":
        from vpython.errors import UsageError

        raise UsageError(
            "vpython cache: --repair goes with verify", key="--repair", hint="vpython cache verify --repair"
        )
    if ns.action == "dir":
        out(layout.root)
        return 0
    if ns.action == "verify":
        return _verify(layout, ns.repair)
    return _info(layout)


def _verify(layout: Layout, repair: bool) -> int:
    from vpython.store.root import cache_write_error, is_disk_error
    from vpython.store.verify import verify

    try:
        report = verify(layout, repair=repair)
    except OSError as e:  # --repair on a read-only root: one line, never a traceback
        if is_disk_error(e):
            raise cache_write_error(e, layout.root) from None
        raise
    for name, dist in sorted(report.damaged_entries.items()):
        users = report.entry_users.get(name, [])
        out(
            f"damaged store entry {name} ({dist}): files differ from its manifest; "
            f"linked into {len(users)} env(s){': ' + ', '.join(k[:16] for k in users) if users else ''}"
        )
    for key, reasons in sorted(report.env_damage.items()):
        for reason in reasons:
            out(f"damaged env {key[:16]}: {reason}")
    for line in report.unsafe:
        out(f"unsafe: {line}: another user could have changed what vpython runs")
    if report.unsafe:
        out(
            "fix: chmod go-w the paths writable by others; delete the root if any belongs to another user "
            "(only if it is shared on purpose: VPYTHON_SHARED_ROOT=1)"
        )
    if not report.damaged:
        out(
            f"ok: {report.entries_checked} store entr(ies) and {report.envs_checked} env(s) match their manifests"
        )
        return 0
    if not repair:
        out(
            f"{len(report.damaged_entries)} damaged store entr(ies), {len(report.env_damage)} damaged env(s), "
            f"{len(report.unsafe)} unsafe path(s); run `vpython cache verify --repair` to delete the damaged "
            "entries and envs (the next run rebuilds them)"
        )
        return 1
    for key in report.envs_deleted:
        out(f"deleted env {key[:16]}")
    for name in report.entries_deleted:
        out(f"deleted store entry {name}")
    for key in report.envs_held:
        out(
            f"skipped env {key[:16]}: in use by a running script; run `vpython cache verify --repair` "
            "again after it exits"
        )
    for name in report.entries_kept:
        out(f"kept store entry {name} for now: a skipped env uses it")
    return 1 if report.envs_held or report.unsafe else 0


def _info(layout: Layout) -> int:
    from vpython.cli.cmd_gc import human_bytes
    from vpython.store.envs import list_envs
    from vpython.store.sizes import unique_size as _unique_size

    envs = list_envs(layout)
    rows, own_total = _env_rows(layout, envs)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out(f"root: {layout.root}")
    for r in rows:
        out("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    table = [
        ("envs (own files)", str(len(envs)), human_bytes(own_total), "the rest are links into the store"),
        *_store_rows(layout, set(envs)),
    ]
    out("")
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    for name, count, size, note in table:
        out(f"{name:<{widths[0]}}  {count:>{widths[1]}}  {size:>{widths[2]}}  {note}".rstrip())
    out(
        f"{'total':<{widths[0]}}  {'':>{widths[1]}}  {human_bytes(_unique_size([layout.root])):>{widths[2]}}  "
        "on disk, each file counted once"
    )
    return 0


def _env_rows(layout: Layout, envs: list[str]) -> tuple[list[tuple[str, ...]], int]:
    """The per-env table (header first) and the bytes the envs own (not shared with the store)."""
    from vpython.cli.cmd_gc import human_bytes
    from vpython.store.envs import env_last_use, read_env_meta
    from vpython.store.sizes import walk_stats

    now = time.time()
    rows: list[tuple[str, ...]] = [("ENV", "PACKAGES", "OWN SIZE", "LAST USE", "SPEC")]
    own_total = 0
    for key in envs:
        env_dir = layout.env_dir(key)
        meta = read_env_meta(layout, key)
        # Files with one link are the env's own; the rest are shared with the store.
        own = sum(st.st_size for _, st in walk_stats(env_dir) if st.st_nlink == 1)
        own_total += own
        rows.append(
            (
                key[:16],
                str(len(meta.get("packages", []))),
                human_bytes(own),
                _age(now - env_last_use(layout, key)),
                str(meta.get("spec", "?"))[:60],
            )
        )
    return rows, own_total


def _sdist_rows(layout: Layout) -> list[Row]:
    """Wheels built from sdists (one per sdist, ABI and platform) and the sdists kept for them."""
    from vpython.store.root import list_names
    from vpython.store.sdists import built_dir, built_entries, sdists_dir

    base = built_dir(layout)
    built = [
        os.path.join(base, sha, key)
        for sha in list_names(base)
        for key, _ in built_entries(os.path.join(base, sha))
    ]
    sdists = [os.path.join(sdists_dir(layout), n) for n in list_names(sdists_dir(layout))]
    return [
        ("built wheels", *_count_size(built), "built from sdists, per ABI and platform"),
        ("sdists", *_count_size(sdists), "kept to build for another interpreter"),
    ]


def _store_rows(layout: Layout, env_set: set[str]) -> list[Row]:
    """One row per cache area below the envs: how many entries, their size, a note."""
    from vpython.cli.cmd_gc import human_bytes
    from vpython.store.root import list_names as _entries_in
    from vpython.store.sizes import unique_size as _unique_size

    def listed(base: str) -> list[str]:
        return [os.path.join(base, n) for n in _entries_in(base)]

    build_locks = _files(layout.envs, lambda n: n.startswith(".") and n.endswith(".build.lock"))
    orphan_locks = [b for b in build_locks if os.path.basename(b)[1 : -len(".build.lock")] not in env_set]
    pex_note = "vpython build --format pex"
    if os.path.isdir(layout.pex_root):
        pex_note += f"; last used {_age(time.time() - os.stat(layout.pex_root).st_mtime)}"
    return [
        ("package entries", *_count_size(listed(layout.packages)), ""),
        ("wheels", *_count_size(listed(layout.wheels)), ""),
        *_sdist_rows(layout),
        ("skeletons", *_count_size(listed(layout.skeletons)), "venv templates, one per interpreter"),
        (
            "cached locks",
            *_count_size(_files(layout.locks, lambda n: n.endswith(".pylock.toml"))),
            "resolutions of unlocked specs",
        ),
        (
            "build plans",
            *_count_size(_files(layout.locks, lambda n: n.endswith(".plan.json"))),
            "what the last build of a spec chose",
        ),
        ("spec pointers", *_count_size(listed(layout.specs)), ""),
        ("build locks", *_count_size(build_locks), f"{len(orphan_locks)} for deleted envs"),
        ("interpreters", *_count_size(listed(layout.interpreters)), "probe cache"),
        ("virtualenv data", "", human_bytes(_unique_size([layout.app_data])), ""),
        ("pex build cache", "", human_bytes(_unique_size([layout.pex_root])), pex_note),
        ("resolver caches", *_count_size(listed(layout.tool_cache)), "uv's and pex's, for resolutions"),
        ("tmp", *_count_size(listed(layout.tmp)), "work dirs and trash; gc removes them"),
    ]
