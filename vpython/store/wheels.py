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

from vpython.errors import IntegrityError, UserError, VPythonError
from vpython.faults import checkpoint

_CHUNK = 1 << 20


def stored_path(layout, artifact, store_dir: str | None = None) -> str:
    """``<store_dir>/<sha256>/<filename>``; ``store_dir`` defaults to the wheel store (sdists
    are kept the same way in their own directory: ``vpython.store.sdists``)."""
    return os.path.join(store_dir or layout.wheels, artifact.sha256, artifact.filename)


def _copy_verified(src_stream, artifact, layout, origin: str, store_dir: str | None = None) -> str:
    import hashlib
    import tempfile

    from vpython.settings import redact
    from vpython.store.root import cache_write_error

    final = stored_path(layout, artifact, store_dir)
    # A local write failure (disk full, read-only root) is not a download failure:
    # reported as such it would send the user to check the network.
    tmp = None
    try:
        os.makedirs(layout.tmp, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="wheel-", suffix=".part", dir=layout.tmp)
    except OSError as e:
        raise cache_write_error(e, layout.root) from None
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = src_stream.read(_CHUNK)
                if not chunk:
                    break
                h.update(chunk)
                try:
                    out.write(chunk)
                except OSError as e:
                    raise cache_write_error(e, layout.root) from None
            try:
                out.flush()  # so close() has nothing left to fail on
            except OSError as e:
                raise cache_write_error(e, layout.root) from None
        actual = h.hexdigest()
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
        try:
            checkpoint("fetched")
            os.chmod(tmp, 0o444)
            os.makedirs(os.path.dirname(final), exist_ok=True)
            os.replace(tmp, final)
        except OSError as e:
            raise cache_write_error(e, layout.root) from None
        tmp = None
        return final
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _open_url(url: str, sources):
    import base64
    import urllib.request
    from urllib.parse import unquote, urlsplit

    from vpython.settings import credentials_for

    request = urllib.request.Request(url, headers={"User-Agent": "vpython"})
    creds = credentials_for(url, sources)
    parts = urlsplit(url)
    if parts.username is not None:
        creds = (unquote(parts.username), unquote(parts.password or ""))
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        request = urllib.request.Request(
            parts._replace(netloc=host).geturl(), headers={"User-Agent": "vpython"}
        )
    if creds:
        token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    return urllib.request.urlopen(request, timeout=float(os.environ.get("VPYTHON_HTTP_TIMEOUT", "60")))


def fetch_lock_path(layout, sha256: str) -> str:
    return os.path.join(os.path.dirname(layout.wheels), "fetching", sha256 + ".lock")


@contextlib.contextmanager
def _fetch_lock(layout, sha256: str):
    """Hold the per-wheel download lock (exclusive ``flock``, blocking).

    The holder unlinks the lock file before it lets go, so lock files do not pile up,
    one per wheel ever fetched. A waiter that opened the file before that unlink then
    holds a lock on a name nobody uses any more: it sees the path no longer names its
    inode and starts over on the current file (the same check as the env use lock)."""
    from vpython.env.fastpath import same_file
    from vpython.store.root import cache_write_error

    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: concurrent runs may download twice
        yield
        return
    path = fetch_lock_path(layout, sha256)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
            if same_file(fd, path):
                break
            os.close(fd)
    except OSError as e:
        raise cache_write_error(e, layout.root) from None
    try:
        yield
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
        os.close(fd)


_HEX = frozenset("0123456789abcdef")


def _check_sha256(artifact) -> None:
    if len(artifact.sha256) != 64 or not _HEX.issuperset(artifact.sha256):
        # It names files (the fetch lock, the store dir): never let it be a path.
        raise IntegrityError(
            f"{artifact.filename}: the lock's sha256 {artifact.sha256!r} is not a sha256 hex digest",
            hint="re-create the lock with `vpython lock`",
        )


def fetch_one(artifact, layout, sources, wheel_dirs=(), store_dir: str | None = None) -> str:
    """The verified stored copy of ``artifact`` (anything with filename, sha256, url, path
    and size: a wheel, or an sdist with ``store_dir``), fetched once."""
    final = stored_path(layout, artifact, store_dir)
    if os.path.isfile(final):
        return final
    _check_sha256(artifact)
    with _fetch_lock(layout, artifact.sha256):
        if os.path.isfile(final):  # fetched by another process while we waited
            return final
        return _fetch_locked(artifact, layout, sources, wheel_dirs, store_dir)


def _fetch_locked(artifact, layout, sources, wheel_dirs, store_dir: str | None = None) -> str:
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    from vpython.settings import redact

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
            raise UserError(f"{artifact.filename}: the locked file {local} does not exist") from None
    if not artifact.url:
        raise UserError(f"{artifact.filename}: the lock gives neither a url nor a path")
    if sources.offline:
        raise UserError(
            f"{artifact.filename} is not in the cache and offline mode is on",
            hint="run once online, or provide it with -vpython-find-links / --wheel-dir",
        )
    try:
        with _open_url(artifact.url, sources) as resp:
            return _copy_verified(resp, artifact, layout, artifact.url, store_dir)
    except urllib.error.HTTPError as e:
        raise VPythonError(
            f"cannot download {artifact.filename} from {redact(artifact.url)}: HTTP {e.code} {e.reason}"
        ) from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise VPythonError(
            f"cannot download {artifact.filename} from {redact(artifact.url)}: {reason}"
        ) from None


def discard_stored(layout, artifact, ident: tuple) -> None:
    """Remove the stored copy of ``artifact`` if it is still the file ``ident``
    ((st_dev, st_ino)) names: under the fetch lock, so a good copy that another
    process stored in the meantime is kept."""
    from vpython.store.packages import _discard

    _check_sha256(artifact)
    path = stored_path(layout, artifact)
    with _fetch_lock(layout, artifact.sha256):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return
        if (st.st_dev, st.st_ino) == tuple(ident):
            _discard(os.path.dirname(path), layout)


def fetch_all(artifacts, layout, sources, wheel_dirs=(), progress=None) -> dict:
    """Fetch every artifact (in parallel); return {sha256: stored path}."""
    todo = [a for a in artifacts if not os.path.isfile(stored_path(layout, a))]
    result = {a.sha256: stored_path(layout, a) for a in artifacts}
    if not todo:
        return result
    if progress:
        progress(f"fetching {len(todo)} wheel(s)")
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(8, len(todo))) as pool:
        futures = [pool.submit(fetch_one, a, layout, sources, wheel_dirs) for a in todo]
        errors = []
        for f in futures:
            try:
                f.result()
            except VPythonError as e:
                errors.append(e)
        if errors:
            raise errors[0]
    return result


def sha256_file(path: str) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
