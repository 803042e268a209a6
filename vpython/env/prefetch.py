"""Start on the exactly pinned packages while the resolver runs.

A first run spends ~0.5 s in the resolver (uv, a subprocess) before it knows what to
fetch, and most of a large spec's bytes are usually its own pins (W2: ``numpy==2.4.6``
and ``pandas==3.1.1`` are 29 of its 35 MB). A spec's ``name==version`` requirement
already says which release is wanted, so while uv resolves, ``Prefetch`` asks the index
for that release's files (PEP 691 JSON), takes the wheel the target interpreter prefers
(best-ranked tag; ties, yanked files and anything unusual: skipped), and fetches and
unpacks it into the store like any other (vpython.store.packages): verified against
the index's sha256, published by rename.

The store is content-addressed, so this is only ever a head start: when the lock picks
the same file (same sha256) the build finds its entry ready; when it picks another (the
resolver ranked wheels differently) the prefetched one is merely unused until gc takes
it. It runs only for a plain single index (no extra indexes, find-links, offline mode or
``exclude-newer``, under which the resolver might choose elsewhere) and never reports an
error (the build does, if it matters). Nothing is fetched or unpacked twice: a build that
needs a wheel the prefetch is still fetching or unpacking waits on that wheel's fetch
lock or that entry's build lock (vpython.store.wheels, vpython.store.packages) while it
gets on with the others. ``join`` before the run ends.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from vpython import log

if TYPE_CHECKING:
    from collections.abc import Sequence

    from packaging.tags import Tag

    from vpython.interpreters.model import Interpreter
    from vpython.settings.sources import Sources
    from vpython.spec.model import Spec
    from vpython.store.protocols import LockedArtifact
    from vpython.store.root import Layout

_JSON = "application/vnd.pypi.simple.v1+json"


class _Wheel:
    """A prefetched wheel: the attributes the store reads of a locked artifact."""

    __slots__ = ("direct_url", "filename", "name", "path", "sha256", "size", "url", "version")

    def __init__(
        self, name: str, version: str, filename: str, sha256: str, url: str, size: int | None
    ) -> None:
        self.name, self.version, self.filename, self.sha256 = name, version, filename, sha256
        self.url, self.size = url, size
        self.path: str | None = None
        self.direct_url: str | None = None


class Prefetch:
    """Called by the slow path (vpython.env.resolve) once it knows the interpreter and the
    sources, just before it resolves; ``join`` before the run ends."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._threads: list[threading.Thread] = []

    def __call__(self, spec: Spec, interp: Interpreter, tags: Sequence[Tag], sources: Sources) -> None:
        if sources.offline or sources.extra_index_urls or sources.find_links or sources.exclude_newer:
            return
        if not sources.index_url:
            return
        for name, version in _pins(spec, interp, tags):
            t = threading.Thread(
                target=self._one,
                args=(name, version, interp, tags, sources),
                name="vpython-prefetch",
                daemon=True,
            )
            t.start()
            self._threads.append(t)

    def join(self) -> None:
        for t in self._threads:
            t.join()
        self._threads = []

    def _one(
        self, name: str, version: str, interp: Interpreter, tags: Sequence[Tag], sources: Sources
    ) -> None:
        try:
            wheel = _choose(name, version, tags, sources)
            if wheel is not None:
                self._store(wheel, interp, sources)
        except Exception as e:  # noqa: BLE001 - a head start only: the build reports what matters
            log.debug(f"prefetch of {name}=={version} skipped: {e}")

    def _store(self, wheel: _Wheel, interp: Interpreter, sources: Sources) -> None:
        from vpython.store import packages, wheels
        from vpython.store.locks import flocked, store_lock_path

        log.debug(f"prefetching {wheel.filename} while resolving")

        def fetch_many(arts: Sequence[LockedArtifact], on_ready: packages.OnReady | None) -> dict[str, str]:
            return wheels.fetch_all(arts, self.layout, sources, on_ready=on_ready)

        # Shared store lock, as every build: gc does not sweep what is being built.
        with flocked(store_lock_path(self.layout), exclusive=False):
            packages.ensure_entries([wheel], self.layout, interp, fetch_many)


def _pins(spec: Spec, interp: Interpreter, tags: Sequence[Tag]) -> list[tuple[str, str]]:
    """(name, version) of each ``name==version`` requirement that applies to ``interp``."""
    from packaging.requirements import InvalidRequirement, Requirement

    from vpython.interpreters.tags import marker_environment
    from vpython.spec.normalize import normalize_spec

    environment = marker_environment(interp)
    out = []
    for text in normalize_spec(spec, tags).requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.url or (req.marker is not None and not req.marker.evaluate(environment)):
            continue
        specs = list(req.specifier)
        if len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version:
            out.append((req.name, specs[0].version))
    return out


def _choose(name: str, version: str, tags: Sequence[Tag], sources: Sources) -> _Wheel | None:
    """The wheel of ``name`` ``version`` that ``tags`` rank best, from the index's
    PEP 691 JSON page; None unless exactly one file ranks best."""
    import json
    from urllib.parse import urljoin

    from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
    from packaging.version import Version

    from vpython.store import http, wheels

    page = sources.index_url.rstrip("/") + "/" + canonicalize_name(name) + "/"
    timeout = float(os.environ.get("VPYTHON_HTTP_TIMEOUT", "60"))
    headers = wheels.request_headers(page, sources)
    with http.get(page, lambda url: {**headers(url), "Accept": _JSON}, timeout) as resp:
        body = resp.read()
    data = json.loads(body)
    rank = {tag: i for i, tag in enumerate(tags)}
    want = Version(version)
    best: list[tuple[int, dict[str, object]]] = []
    for f in data.get("files", []):
        filename = str(f.get("filename", ""))
        if not filename.endswith(".whl") or f.get("yanked"):
            continue
        try:
            _, v, _, file_tags = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            continue
        score = min((rank[t] for t in file_tags if t in rank), default=None)
        if v != want or score is None:
            continue
        best.append((score, f))
    best.sort(key=lambda x: x[0])
    if not best or (len(best) > 1 and best[0][0] == best[1][0]):
        return None
    f = best[0][1]
    sha = (f.get("hashes") or {}).get("sha256")  # type: ignore[attr-defined]
    if not sha:
        return None
    size = f.get("size")
    return _Wheel(
        name,
        version,
        str(f["filename"]),
        str(sha),
        urljoin(page, str(f["url"])),
        size if isinstance(size, int) else None,
    )
