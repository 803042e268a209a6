"""``vpython cache info|dir``: what the cache holds."""

from __future__ import annotations

import json
import os
import time

from vpython.cli.commands import out, parser


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m ago"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f}h ago"
    return f"{seconds / 86400:.0f}d ago"


def main(args: list) -> int:
    p = parser("cache", "Inspect the cache.")
    p.add_argument("action", choices=["info", "dir"], help="info: a table of envs and store sizes; dir: print the root")
    p.add_argument("--root", help="cache root")
    ns = p.parse_args(args)
    from vpython.cli.cmd_gc import human_bytes
    from vpython.store.gc import _entries_in, _unique_size, env_last_use, list_envs
    from vpython.store.root import Layout, resolve_root

    layout = Layout(resolve_root(ns.root))
    if ns.action == "dir":
        out(layout.root)
        return 0
    now = time.time()
    rows = [("ENV", "PACKAGES", "OWN SIZE", "LAST USE", "SPEC")]
    for key in list_envs(layout):
        env_dir = layout.env_dir(key)
        try:
            with open(os.path.join(env_dir, ".vpython-env.json"), encoding="utf-8") as f:
                meta = json.load(f)
        except (OSError, ValueError):
            meta = {}
        own = 0
        for dirpath, _, files in os.walk(env_dir):
            for name in files:
                try:
                    st = os.lstat(os.path.join(dirpath, name))
                except OSError:
                    continue
                if st.st_nlink == 1:  # shared with the store otherwise
                    own += st.st_size
        rows.append((key[:16], str(len(meta.get("packages", []))), human_bytes(own),
                     _age(now - env_last_use(layout, key)), str(meta.get("spec", "?"))[:60]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out(f"root: {layout.root}")
    for r in rows:
        out("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    pk = [os.path.join(layout.packages, n) for n in _entries_in(layout.packages)]
    wh = [os.path.join(layout.wheels, n) for n in _entries_in(layout.wheels)]
    out("")
    out(f"{'envs':<18}{len(rows) - 1:>6}")
    out(f"{'package entries':<18}{len(pk):>6}  {human_bytes(_unique_size(pk))}")
    out(f"{'wheels':<18}{len(wh):>6}  {human_bytes(_unique_size(wh))}")
    return 0
