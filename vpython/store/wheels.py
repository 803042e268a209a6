"""The wheel store: every artifact kept once, by sha256, verified before it is kept.

Layout: ``<root>/v1/store/wheels/<sha256>/<filename>``. A file is written to a temp
name in the store's tmp dir, hashed while it streams, and renamed into place only when
its sha256 matches the lock. A mismatch names the file and both hashes and stores
nothing.

Concurrent fetchers of one wheel (many cold runs of one spec) serialise on a per-wheel
``flock`` (``<root>/v1/store/fetching/<sha256>.lock``): one downloads, the others wait
and then use its verified file. The lock dies with its holder, so a crashed download
only hands the job to the next waiter.

Imports here are only what a warm store needs (``stored_path``); ``urllib.request``
(~15 ms), ``concurrent.futures`` and ``tempfile`` load only when something is fetched.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from vpython import fs, log
from vpython.errors import IntegrityError, UserError, VPythonError
from vpython.faults import checkpoint
from vpython.store.locks import path_lock

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import BinaryIO, Union

    from vpython.settings.sources import Sources
    from vpython.store.http import Response
    from vpython.store.protocols import LockedArtifact
    from vpython.store.root import Layout

    Readable = Union[BinaryIO, Response]
    # on_ready(artifact, stored path, fresh): called as each artifact is in the store;
    # fresh: stored (so verified) by this call, not found stored from before
    OnReady = Callable[[LockedArtifact, str, bool], None]

_CHUNK = 1 << 20


def stored_path(layout: Layout, artifact: LockedArtifact, store_dir: str | None = None) -> str:
    """``<store_dir>/<sha256>/<filename>``: where the verified copy of ``artifact`` lives;
    ``store_dir`` defaults to the wheel store (sdists are kept the same way in their own
    directory: ``vpython.store.sdists``)."""
    return os.path.join(store_dir or layout.wheels, artifact.sha256, artifact.filename)


def _copy_verified(
    src_stream: Readable, artifact: LockedArtifact, layout: Layout, origin: str, store_dir: str | None = None
) -> str:
    """Store the bytes of ``src_stream`` as ``artifact`` if they have its locked sha256
    (and size): written to a temp file, hashed as they stream, renamed into place.
    Returns the stored path; on any failure nothing is stored."""
    from vpython.store.root import cache_write_error

    final = stored_path(layout, artifact, store_dir)
    # A local write failure (disk full, read-only root) is not a download failure:
    # reported as such it would send the user to check the network.
    fd, tmp = _new_part_file(layout)
    published = False
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _stream_hashed(src_stream, out, layout)
        _check_received(tmp, actual, artifact, origin)
        try:
            checkpoint("fetched")
            os.chmod(tmp, 0o444)
            _publish(tmp, final, layout)
        except OSError as e:
            raise cache_write_error(e, layout.root) from None
        published = True
        return final
    finally:
        if not published:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _publish(tmp: str, final: str, layout: Layout) -> None:
    """Move the verified file ``tmp`` to ``final`` (``<sha256>/<filename>``) with its
    directory in one rename, so a kill never leaves an empty ``<sha256>/`` (a reader would
    see a wheel dir without its wheel). An empty one left by an older vpython is replaced
    by the rename; a full one (stored meanwhile, outside the fetch lock) gets the file."""
    import tempfile

    d = tempfile.mkdtemp(prefix="wheel-", dir=layout.tmp)
    try:
        os.chmod(d, fs.dir_mode())  # mkdtemp's 0700, as makedirs would have made it
        os.rename(tmp, os.path.join(d, os.path.basename(final)))
        os.makedirs(os.path.dirname(os.path.dirname(final)), exist_ok=True)
        try:
            os.rename(d, os.path.dirname(final))
        except OSError:
            if not os.path.isdir(os.path.dirname(final)):
                raise
            os.replace(os.path.join(d, os.path.basename(final)), final)
    finally:
        if os.path.lexists(d):
            fs.remove_tree(d)


def _new_part_file(layout: Layout) -> tuple[int, str]:
    """A new ``tmp/wheel-*.part`` (fd, path); a write failure is the cache's error."""
    import tempfile

    from vpython.store.root import cache_write_error

    try:
        os.makedirs(layout.tmp, exist_ok=True)
        return tempfile.mkstemp(prefix="wheel-", suffix=".part", dir=layout.tmp)
    except OSError as e:
        raise cache_write_error(e, layout.root) from None


def _stream_hashed(src_stream: Readable, out: BinaryIO, layout: Layout) -> str:
    """Copy ``src_stream`` into ``out``; its sha256 (hex). Errors writing ``out`` are the
    cache's (``cache_write_error``), errors reading the source propagate."""
    import hashlib

    from vpython.store.root import cache_write_error

    h = hashlib.sha256()
    while True:
        chunk = src_stream.read(_CHUNK)
        if not chunk:
            break
        h.update(chunk)
        try:
            out.write(chunk)
        except OSError as e:
            raise cache_write_error(e, layout.root) from None
        log.status.advance(nbytes=len(chunk))
    try:
        out.flush()  # so close() has nothing left to fail on
    except OSError as e:
        raise cache_write_error(e, layout.root) from None
    return h.hexdigest()


def _check_received(tmp: str, actual: str, artifact: LockedArtifact, origin: str) -> None:
    """The bytes received (in ``tmp``, hashed to ``actual``) are what the lock promised."""
    from vpython.settings.credentials import redact

    if actual != artifact.sha256:
        raise IntegrityError(
            f"hash mismatch for {artifact.filename} (from {redact(origin)}): "
            f"the lock expects sha256 {artifact.sha256} but the file has sha256 {actual}",
            hint="the file changed upstream or was tampered with; nothing was installed",
        )
    size = getattr(artifact, "size", None)  # PEP 751: installers validate the size too
    if size is not None and os.path.getsize(tmp) != size:
        raise IntegrityError(
            f"size mismatch for {artifact.filename} (from {redact(origin)}): "
            f"the lock expects {size} bytes but the file has {os.path.getsize(tmp)} bytes",
            hint="the lockfile's size is wrong: re-create it with `vpython lock`; nothing was installed",
        )


def request_headers(original: str, sources: Sources) -> Callable[[str], dict[str, str]]:
    """Request headers for each URL a download visits (the locked URL, then redirects):
    the credentials that belong to that host (vpython.settings.credentials), and those
    written into the locked URL itself for its own host only."""
    import base64
    from urllib.parse import unquote, urlsplit

    from vpython.settings.credentials import credentials_for

    first = urlsplit(original)

    def headers(url: str) -> dict[str, str]:
        parts = urlsplit(url)
        creds = credentials_for(url, sources)
        if first.username is not None and (parts.hostname, parts.port) == (first.hostname, first.port):
            creds = (unquote(first.username), unquote(first.password or ""))
        if not creds:
            return {}
        token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    return headers


def _without_userinfo(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.username is None:
        return url
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=host).geturl()


def fetch_lock_path(layout: Layout, sha256: str) -> str:
    return os.path.join(os.path.dirname(layout.wheels), "fetching", sha256 + ".lock")


def _fetch_lock(layout: Layout, sha256: str) -> contextlib.AbstractContextManager[bool]:
    """Hold the per-wheel download lock (exclusive ``flock``, blocking)."""
    return path_lock(layout, fetch_lock_path(layout, sha256))


_HEX = frozenset("0123456789abcdef")
_RELOCK = "re-create the lock with `vpython lock`"


def _check_sha256(artifact: LockedArtifact) -> None:
    if len(artifact.sha256) != 64 or not _HEX.issuperset(artifact.sha256):
        # It names files (the fetch lock, the store dir): never let it be a path.
        raise IntegrityError(
            f"{artifact.filename}: the lock's sha256 {artifact.sha256!r} is not a sha256 hex digest",
            hint=_RELOCK,
        )


def fetch_one(
    artifact: LockedArtifact,
    layout: Layout,
    sources: Sources,
    wheel_dirs: Sequence[str] = (),
    store_dir: str | None = None,
) -> str:
    """The stored path of ``artifact`` (a wheel, or an sdist with ``store_dir``), fetched
    (and verified) first if it is not stored."""
    final = stored_path(layout, artifact, store_dir)
    if os.path.isfile(final):
        return final
    _check_sha256(artifact)
    with _fetch_lock(layout, artifact.sha256):
        if os.path.isfile(final):  # fetched by another process while we waited
            return final
        return _fetch_locked(artifact, layout, sources, wheel_dirs, store_dir)


def _fetch_locked(
    artifact: LockedArtifact,
    layout: Layout,
    sources: Sources,
    wheel_dirs: Sequence[str],
    store_dir: str | None = None,
) -> str:
    """Fetch ``artifact`` (under its fetch lock): from a wheel dir, the lock's local path
    or ``file:`` URL, else its URL (never in offline mode)."""
    import urllib.request
    from urllib.parse import urlsplit

    for d in wheel_dirs:
        candidate = os.path.join(d, artifact.filename)
        if os.path.isfile(candidate):
            with open(candidate, "rb") as f:
                return _copy_verified(f, artifact, layout, candidate, store_dir)
    local = artifact.path
    if local is None and artifact.url and artifact.url.startswith("file:"):
        local = urllib.request.url2pathname(urlsplit(artifact.url).path)
    if local is not None:
        try:
            with open(local, "rb") as f:
                return _copy_verified(f, artifact, layout, local, store_dir)
        except FileNotFoundError:
            raise UserError(
                f"{artifact.filename}: the locked file {local} does not exist",
                path=local,
                hint=f"put the file back, or {_RELOCK}",
            ) from None
    if not artifact.url:
        raise UserError(f"{artifact.filename}: the lock gives neither a url nor a path", hint=_RELOCK)
    if sources.offline:
        raise UserError(
            f"{artifact.filename} is not in the cache and offline mode is on",
            hint="run once online, or provide it with -vpython-find-links / --wheel-dir",
        )
    return _download(artifact, artifact.url, layout, sources, store_dir)


def _download(
    artifact: LockedArtifact, url: str, layout: Layout, sources: Sources, store_dir: str | None = None
) -> str:
    """Fetch ``artifact`` from ``url`` (its locked URL) over this thread's kept-alive
    connection (vpython.store.http)."""
    import http.client

    from vpython.settings.credentials import redact
    from vpython.store import http as pool

    timeout = float(os.environ.get("VPYTHON_HTTP_TIMEOUT", "60"))
    try:
        with pool.get(_without_userinfo(url), request_headers(url, sources), timeout) as resp:
            return _copy_verified(resp, artifact, layout, url, store_dir)
    except pool.HTTPStatusError as e:
        raise VPythonError(
            f"cannot download {artifact.filename} from {redact(url)}: HTTP {e.code} {e.reason}",
            hint="check that the index still serves this file (re-lock with `vpython lock` if it moved) "
            "and, for a private index, its credentials (user:token@ in the index URL, or ~/.netrc)",
        ) from None
    except (OSError, http.client.HTTPException) as e:
        raise VPythonError(
            f"cannot download {artifact.filename} from {redact(url)}: {e or type(e).__name__}",
            hint="check the network and the index URL (VPYTHON_HTTP_TIMEOUT sets the timeout); "
            "-vpython-offline uses only what is cached",
        ) from None


def discard_stored(layout: Layout, artifact: LockedArtifact, ident: tuple[int, int]) -> None:
    """Remove the stored copy of ``artifact`` if it is still the file ``ident``
    ((st_dev, st_ino)) names: under the fetch lock, so a good copy that another
    process stored in the meantime is kept."""

    _check_sha256(artifact)
    path = stored_path(layout, artifact)
    with _fetch_lock(layout, artifact.sha256):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return
        if (st.st_dev, st.st_ino) == tuple(ident):
            fs.discard_tree(os.path.dirname(path), layout.tmp)


def fetch_all(
    artifacts: Sequence[LockedArtifact],
    layout: Layout,
    sources: Sources,
    wheel_dirs: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
    on_ready: OnReady | None = None,
) -> dict[str, str]:
    """Fetch every artifact (8 at a time, largest first, so the longest download starts
    at once); return {sha256: stored path}.

    ``on_ready(artifact, path, fresh)`` is called in this thread as each one is stored
    (at once, with ``fresh`` False, for those stored before), so the caller can unpack it
    while the others download.
    The first failure stops the rest: queued downloads are cancelled, running ones end,
    and that error is raised."""
    result = {a.sha256: stored_path(layout, a) for a in artifacts}
    todo = []
    for a in artifacts:
        if os.path.isfile(result[a.sha256]):
            if on_ready is not None:
                on_ready(a, result[a.sha256], False)
        else:
            todo.append(a)
    if not todo:
        return result
    total = sum(getattr(a, "size", None) or 0 for a in todo)
    if progress:
        progress(f"fetching {len(todo)} wheel(s)" + (f" ({total / 1e6:.1f} MB)" if total else ""))
    log.status.expect(fetch=len(todo), nbytes=total)
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    todo.sort(key=lambda a: getattr(a, "size", None) or 0, reverse=True)
    pool = ThreadPoolExecutor(max_workers=min(8, len(todo)))
    try:
        pending = {pool.submit(fetch_one, a, layout, sources, wheel_dirs): a for a in todo}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                artifact = pending.pop(f)
                path = f.result()  # the first error ends the loop (finally: the rest stop)
                log.status.advance(fetched=1)
                if on_ready is not None:
                    on_ready(artifact, path, True)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return result


def sha256_file(path: str) -> str:
    """The sha256 (hex) of the file at ``path``."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
