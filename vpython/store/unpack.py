"""Unpacking one verified wheel into a store entry's work dir (PEP 427, by ``installer``).

``installer`` does the installation (RECORD, ``.data`` dirs, path containment, entry
points); this module adds what a shared, frozen store needs:

* the archive checks of vpython.store.archive before anything is written;
* every member checked against its RECORD hash and size *while it is written*: one
  read and one hash per member. (``validate_record(validate_contents=True)`` would
  decompress and hash every member a second time before installing: a third of the
  unpack time of a large wheel.) A mismatch is a warning naming the members, not a
  refusal: the wheel's bytes are already the locked sha256, so RECORD cannot hide a
  change, and real PyPI wheels ship RECORDs that pip and uv accept (selenium 4.1.0 lists
  no RECORD rows for some files, debugpy 1.5.1's hashes of its .dll/.exe are stale, wheels
  built by pip 20.3 for 2.7 spell the algorithm ``SHA256``). What a wheel could do to
  the disk (absolute paths, '..', symlinks, bombs: vpython.store.archive) stays refused;
* entry-point and ``.data`` scripts rendered with a placeholder shebang that each env's
  link rewrites (vpython.store.manifest.PLACEHOLDER_PYTHON);
* plain ``os.path`` string work per file instead of ``pathlib`` (installer's
  ``write_to_fs`` spends a fifth of its time building ``Path`` objects), with the same
  containment check.

Threads may unpack different wheels at once: zlib and file writes release the GIL.
"""

from __future__ import annotations

import base64
import os
from typing import TYPE_CHECKING, cast

from vpython.errors import IntegrityError
from vpython.store.archive import BAD_WHEEL_HINT, check_archive
from vpython.store.manifest import PLACEHOLDER_PYTHON

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any, BinaryIO

    from installer.destinations import SchemeDictionaryDestination
    from installer.records import RecordEntry
    from installer.scripts import ScriptSection
    from installer.sources import WheelContentElement
    from installer.utils import Scheme

_COPY = 1 << 20


class _CheckedStream:
    """A member's stream that hashes what is read and, once it is exhausted, checks the
    sha256 and size against RECORD. ``digest`` is then what the destination records, so
    each member is hashed once."""

    __slots__ = ("_h", "_issues", "_raw", "_size", "_want", "_want_size", "digest", "path")

    def __init__(self, raw: BinaryIO, path: str, want: str, want_size: int | None, issues: list[str]) -> None:
        import hashlib

        self._raw, self.path, self._want, self._want_size = raw, path, want, want_size
        self._issues = issues
        self._h = hashlib.sha256()
        self._size = 0
        self.digest = ""

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        if data:
            self._h.update(data)
            self._size += len(data)
        elif not self.digest:
            self.digest = base64.urlsafe_b64encode(self._h.digest()).decode("ascii").rstrip("=")
            if self.digest != self._want or (self._want_size is not None and self._size != self._want_size):
                self._issues.append(f"{self.path} (hash / size)")
        return data


def _expected(hash_text: str, size_text: str) -> tuple[str, str, int | None]:
    algorithm, _, value = hash_text.partition("=")
    try:
        size = int(size_text) if size_text else None
    except ValueError:
        size = None
    return algorithm, value, size


def normalized_record(record: tuple[str, str, str]) -> tuple[str, str, str]:
    """A RECORD row as installer parses it: the algorithm in lower case (pip 20.3's 2.7
    wheels write ``SHA256=``), an unreadable size dropped (the hash still checks it)."""
    path, hash_text, size_text = record
    algorithm, sep, value = hash_text.partition("=")
    if not sep:
        hash_text = ""  # not "<algorithm>=<digest>": installer would refuse it (validate_record reported it)
    elif algorithm != algorithm.lower():
        hash_text = f"{algorithm.lower()}={value}"
    if size_text and not size_text.isdigit():
        size_text = ""
    return path, hash_text, size_text


def _contents(
    source: object, inner: Iterator[WheelContentElement], issues: list[str]
) -> Iterator[WheelContentElement]:
    """installer's members, each with a stream that checks itself against RECORD.

    Members of ``.data/scripts`` (their shebang is rewritten, so what is written differs
    from what was read) and members hashed with another algorithm than sha256 are small
    or rare: they are read whole and checked before installer sees them."""
    import hashlib
    import io

    scripts = f"{getattr(source, 'data_dir', '')}/scripts/"
    for record, stream, is_executable in inner:
        path, hash_text, _ = record
        if not hash_text:  # RECORD itself, or a signature file (validate_record vetted both)
            yield record, stream, is_executable
            continue
        record = normalized_record(record)
        algorithm, want, size = _expected(record[1], record[2])
        if algorithm == "sha256" and not path.startswith(scripts):
            yield record, cast("BinaryIO", _CheckedStream(stream, path, want, size, issues)), is_executable
            continue
        data = stream.read()
        try:
            h = hashlib.new(algorithm, data)
        except ValueError:
            issues.append(f"{path} (unknown hash algorithm {algorithm!r})")
            record = (path, "", "")  # installer would refuse the row: written unhashed
        else:
            got = base64.urlsafe_b64encode(h.digest()).decode("ascii").rstrip("=")
            if got != want or (size is not None and len(data) != size):
                issues.append(f"{path} (hash / size)")
        yield record, cast("BinaryIO", io.BytesIO(data)), is_executable


def _destination(
    root: str, site_rel: str, dist_name: str, version: tuple[int, ...]
) -> SchemeDictionaryDestination:
    """An installer destination for a store entry: placeholder-shebang scripts, members
    written with one hash each (``_CheckedStream``), string paths."""
    from installer.destinations import SchemeDictionaryDestination
    from installer.records import Hash, RecordEntry

    py = f"python{version[0]}.{version[1]}"
    scheme: dict[str, str] = {
        "purelib": os.path.join(root, site_rel),
        "platlib": os.path.join(root, site_rel),
        "headers": os.path.join(root, "include", "site", py, dist_name),
        "scripts": os.path.join(root, "bin"),
        "data": root,
    }
    roots = {k: os.path.abspath(v) for k, v in scheme.items()}
    made: set[str] = set()
    entry_points: set[str] = set()
    skipped: set[int] = set()  # ids of the RecordEntry returned for skipped .data scripts

    class Destination(SchemeDictionaryDestination):
        def write_file(self, scheme: Scheme, path: Any, stream: BinaryIO, is_executable: bool) -> RecordEntry:
            # pylint 1.8.4 and 2.7.4 (corpus pins) ship bin/pylint and bin/epylint twice:
            # a .data script and a console-script entry point, which installer writes
            # first. pip keeps the entry point's wrapper and lists the file once; so does this.
            if scheme == "scripts" and str(path) in entry_points:
                marker = RecordEntry(str(path), None, None)
                skipped.add(id(marker))
                return marker
            return super().write_file(scheme, path, stream, is_executable)

        def finalize_installation(
            self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
        ) -> None:
            kept = [(s, r) for s, r in records if id(r) not in skipped]
            super().finalize_installation(scheme, record_file_path, kept)

        def write_to_fs(
            self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool
        ) -> RecordEntry:
            base = roots[scheme]
            target = os.path.normpath(os.path.join(base, path))
            if not target.startswith(base + os.sep):
                raise ValueError(f"Attempting to write {path} outside of the target directory")
            if os.path.lexists(target):
                raise FileExistsError(f"File already exists: {target}")
            parent = os.path.dirname(target)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            digest, size = _copy(stream, target)
            if is_executable:  # as installer.utils.make_file_executable does
                mode = os.stat(target).st_mode
                os.chmod(target, mode | ((mode & 0o444) >> 2))
            return RecordEntry(path, Hash("sha256", digest), size)

        def write_script(self, name: str, module: str, attr: str, section: ScriptSection) -> RecordEntry:
            name = versioned_script(dist_name, name, version)
            entry_points.add(name)
            rel = os.path.relpath(os.path.join(scheme["scripts"], name), scheme["purelib"])
            if not os.path.lexists(os.path.join(scheme["scripts"], name)):
                # A .data script of the same name keeps its place (as when envs
                # generated entry points first and .data scripts overwrote them).
                super().write_script(name, module, attr, section)
            # Listed in RECORD without a hash: the env's copy differs in its shebang.
            return RecordEntry(rel.replace(os.sep, "/"), None, None)

    return Destination(scheme, interpreter=PLACEHOLDER_PYTHON, script_kind="posix")


def versioned_script(dist_name: str, name: str, version: tuple[int, ...]) -> str:
    """pip's and setuptools' versioned script names for the target Python.

    Their wheels name scripts after the Python that built them (pip 20.3.4's wheel has
    ``pip3.8`` and ``easy_install-3.8``); pip renames them for the Python it installs into
    (``pip2``, ``pip2.7``), and so does vpython, whose seeds are these wheels."""
    import re

    dist = dist_name.lower().replace("-", "_")
    if dist == "pip":
        m = re.fullmatch(r"pip(\d)(\.\d+)?", name)
        if m:
            return f"pip{version[0]}" + (f".{version[1]}" if m.group(2) else "")
    elif dist == "setuptools" and re.fullmatch(r"easy_install-\d\.\d+", name):
        return f"easy_install-{version[0]}.{version[1]}"
    return name


def _copy(stream: BinaryIO, target: str) -> tuple[str, int]:
    """Write ``stream`` to a new file ``target``; (urlsafe-b64 sha256, size) of what was
    written, taken from the stream when it is a ``_CheckedStream`` (hashed once)."""
    import hashlib

    checked = isinstance(stream, _CheckedStream)
    h = None if checked else hashlib.sha256()
    size = 0
    with open(target, "xb") as f:
        while True:
            buf = stream.read(_COPY)
            if not buf:
                break
            if h is not None:
                h.update(buf)
            f.write(buf)
            size += len(buf)
    if h is None:
        return cast("_CheckedStream", stream).digest, size
    return base64.urlsafe_b64encode(h.digest()).decode("ascii").rstrip("="), size


def unpack(wheel_path: str, display: str, work: str, site_rel: str, version: tuple[int, ...]) -> list[str]:
    """Install the wheel at ``wheel_path`` into ``work`` (a store entry's work dir).
    Errors are IntegrityError naming the wheel as ``display``; ``work`` may then hold a
    part of the wheel, and the caller removes it. Returns what RECORD got wrong (see the
    module's docstring), for the caller to warn about."""
    import zipfile
    from pathlib import Path

    from installer import install
    from installer.exceptions import InstallerError
    from installer.sources import WheelFile
    from installer.utils import parse_wheel_filename

    check_archive(wheel_path, display)
    dist_name = parse_wheel_filename(os.path.basename(wheel_path)).distribution
    dest = _destination(work, site_rel, dist_name, version)
    issues: list[str] = []

    class CheckedWheel(WheelFile):
        def get_contents(self) -> Iterator[WheelContentElement]:
            return _contents(self, super().get_contents(), issues)

    try:
        with CheckedWheel.open(Path(wheel_path)) as source:
            try:
                source.read_dist_info("RECORD")
            except (KeyError, ValueError, zipfile.BadZipFile) as e:  # no RECORD: not a wheel
                raise IntegrityError(
                    f"the wheel has no readable RECORD: {e}", path=display, hint=BAD_WHEEL_HINT
                ) from None
            try:
                # Names only (every member listed, with a hash and a size); the hashes
                # are checked while each member is written.
                source.validate_record(validate_contents=False)
            except Exception as e:  # installer raises _WheelFileValidationError  # noqa: BLE001
                issues.extend(_names(getattr(e, "issues", None) or [str(e)], wheel_path))
            install(source, dest, additional_metadata={"INSTALLER": b"vpython\n"})
    except IntegrityError:
        raise
    except (InstallerError, ValueError, KeyError, zipfile.BadZipFile, FileExistsError) as e:
        raise IntegrityError(f"cannot install wheel: {e}", path=display, hint=BAD_WHEEL_HINT) from None
    return issues


def _names(issues: list[str], wheel_path: str) -> list[str]:
    """installer's validation issues without the wheel's path in front of each."""
    prefix = f"In {wheel_path}, "
    return [i[len(prefix) :] if i.startswith(prefix) else i for i in issues]


def record_warning(display: str, issues: list[str]) -> str:
    """The one warning for a wheel whose RECORD is wrong (unpack's return value)."""
    shown = "; ".join(issues[:3]) + (f"; and {len(issues) - 3} more" if len(issues) > 3 else "")
    return (
        f"{display}: its RECORD does not match the archive ({shown}); installed anyway, as pip "
        f"and uv do: the wheel's bytes are the locked sha256"
    )


def unpack_frozen(
    wheel_path: str, display: str, work: str, site_rel: str, version: tuple[int, ...]
) -> list[str]:
    """``unpack``, then the entry's scripts list and ``freeze``: ``work`` is then ready
    to be published by rename. Returns ``unpack``'s RECORD issues."""
    import json

    from vpython.store.manifest import META_DIR, SCRIPTS, freeze

    issues = unpack(wheel_path, display, work, site_rel, version)
    # Entry points are rendered into bin/ (above); an empty list keeps vpython versions
    # that generate them per env from doing it twice.
    with open(os.path.join(work, META_DIR, SCRIPTS), "w", encoding="utf-8") as f:
        json.dump([], f)
    freeze(work)
    return issues


def unpack_in_child(
    wheel_path: str, display: str, work: str, site_rel: str, version: tuple[int, ...]
) -> list[str]:
    """``unpack_frozen`` in a child process of this interpreter, for large wheels: the
    per-member Python work of installer then runs on the other core, beside this
    process's unpacking threads instead of under their GIL (numpy and pandas unpack at
    the same time as the small wheels). Its errors are raised here as the same
    exceptions (IntegrityError, OSError with its errno)."""
    import json
    import subprocess
    import sys

    import vpython
    from vpython.errors import VPythonError

    where = os.path.dirname(os.path.dirname(os.path.abspath(vpython.__file__)))
    code = "import sys; sys.path.insert(0, sys.argv[1]); from vpython.store.unpack import _child; _child(sys.argv[2])"
    job = json.dumps([wheel_path, display, work, site_rel, list(version)])
    proc = subprocess.run(
        [sys.executable, "-I", "-c", code, where, job],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        check=False,
    )
    try:
        err = json.loads(proc.stdout.decode("utf-8", "replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        err = {}
    if proc.returncode == 0:
        return [str(i) for i in err.get("issues", [])]
    if err.get("kind") == "os":
        raise OSError(err["errno"], err["strerror"], err.get("filename"))
    if err.get("kind") == "integrity":
        raise IntegrityError(err["message"], path=err.get("path"), hint=err.get("hint"))
    detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
    raise VPythonError(
        f"{display}: unpacking failed: {detail[0]}", hint="run again; if it persists, report it"
    )


def _child(job: str) -> None:
    """The child of ``unpack_in_child``: one JSON line on stdout when it fails."""
    import json
    import sys

    wheel_path, display, work, site_rel, version = json.loads(job)
    try:
        issues = unpack_frozen(wheel_path, display, work, site_rel, tuple(version))
        print(json.dumps({"kind": "ok", "issues": issues}))
    except IntegrityError as e:
        print(json.dumps({"kind": "integrity", "message": e.message, "path": e.path, "hint": e.hint}))
        sys.exit(3)
    except OSError as e:
        print(json.dumps({"kind": "os", "errno": e.errno, "strerror": e.strerror, "filename": e.filename}))
        sys.exit(3)
