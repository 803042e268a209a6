"""Unpacking locked wheels into a tree, under the target's venv scheme, without running
the target interpreter.

``installer`` does the unpacking; what it would get wrong for an artifact is replaced:
launchers (console scripts and ``#!python`` data scripts) get relocatable heads, never
the builder's interpreter path, and Windows targets get ``.cmd`` wrappers listed in
RECORD. Each member's bytes are checked against RECORD on their way in, and two locked
wheels that install the same file are refused before any is unpacked.
"""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, cast

# Only builds import this module, so installer is imported at the top: the destination
# class below derives from its SchemeDictionaryDestination.
from installer.destinations import SchemeDictionaryDestination
from installer.records import RecordEntry
from installer.sources import WheelFile
from installer.utils import Scheme

from vpython.artifacts import launcher
from vpython.errors import IntegrityError, UserError

if TYPE_CHECKING:
    from installer.scripts import ScriptSection

    from vpython.artifacts.model import Wheels
    from vpython.lock.targets import Target


def is_windows(target: Target) -> bool:
    return str(target.platform).startswith("win")


def scheme_paths(target: Target) -> dict[str, str]:
    """Relative install paths of the target's venv scheme (sysconfig 'venv' scheme)."""
    py = f"python{target.python[0]}.{target.python[1]}"
    if is_windows(target):
        return {
            "purelib": "Lib/site-packages",
            "platlib": "Lib/site-packages",
            "scripts": "Scripts",
            "headers": "Include/site",
            "data": ".",
        }
    return {
        "purelib": f"lib/{py}/site-packages",
        "platlib": f"lib/{py}/site-packages",
        "scripts": "bin",
        "headers": f"include/site/{py}",
        "data": ".",
    }


@dataclass
class _TreeDestination(SchemeDictionaryDestination):
    """installer's file-system destination, writing relocatable launchers.

    ``windows`` / ``version``: the target's; ``shipped``: the wheel's own
    ``.data/scripts`` file names (a Windows wrapper for a data script is not written
    over one the wheel ships itself); ``extra_records``: files written beside the
    wheel's own (``.cmd`` wrappers), listed in RECORD too."""

    windows: bool = False
    version: tuple[int, ...] = (3, 0)
    shipped: frozenset[str] = frozenset()
    extra_records: list[RecordEntry] = field(default_factory=list)

    def write_file(
        self, scheme: Scheme, path: str | os.PathLike[str], stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        # `.data/scripts` files with a `#!python` shebang: installer would write the
        # builder's interpreter path into them. POSIX trees give them the relocatable
        # launcher head; Windows trees keep `#!python` (a comment to Python) and get
        # a `<name>.cmd` wrapper that names the interpreter, as console scripts do.
        if scheme != "scripts":
            return super().write_file(scheme, path, stream, is_executable)
        data = stream.read()
        name = os.fspath(path)
        if data.startswith(b"#!python") and not self.windows:
            rest = data.split(b"\n", 1)[1] if b"\n" in data else b""
            data = launcher.polyglot_head() + rest
            is_executable = True
        elif data.startswith(b"#!python") and "/" not in name:
            self._windows_wrapper(name)
        return self.write_to_fs(Scheme("scripts"), name, io.BytesIO(data), is_executable)

    def _windows_wrapper(self, script: str) -> None:
        cmd = (script[:-3] if script.lower().endswith(".py") else script) + ".cmd"
        if cmd in self.shipped or os.path.lexists(os.path.join(self.scheme_dict["scripts"], cmd)):
            return
        self._write_cmd(cmd, script)

    def _write_cmd(self, cmd: str, script: str) -> None:
        body = io.BytesIO(launcher.windows_entry(self.version, script))
        self.extra_records.append(self.write_to_fs(Scheme("scripts"), cmd, body, False))

    def write_script(self, name: str, module: str, attr: str, section: ScriptSection) -> RecordEntry:
        if self.windows:
            script = f"{name}-script.py"
            body = launcher.ENTRY_BODY.format(module=module, head=attr.split(".")[0], call=attr).encode()
            self._write_cmd(f"{name}.cmd", script)
            return self.write_to_fs(Scheme("scripts"), script, io.BytesIO(body), False)
        return self.write_to_fs(
            Scheme("scripts"), name, io.BytesIO(launcher.entry_launcher(module, attr)), True
        )

    def finalize_installation(
        self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
    ) -> None:
        listed = list(records)
        listed[-1:-1] = [(Scheme("scripts"), r) for r in self.extra_records]  # before RECORD's own entry
        super().finalize_installation(scheme, record_file_path, listed)


def _destination(
    root: str, target: Target, dist_name: str, shipped: frozenset[str] = frozenset()
) -> _TreeDestination:
    rel = scheme_paths(target)
    scheme = {k: os.path.normpath(os.path.join(root, v)) for k, v in rel.items()}
    scheme["headers"] = os.path.join(scheme["headers"], dist_name)
    # `interpreter` is only used for `#!python` rewriting, which write_file replaces.
    return _TreeDestination(
        scheme,
        interpreter="python",
        script_kind="posix",
        windows=is_windows(target),
        version=tuple(target.python),
        shipped=shipped,
    )


class _CheckedStream:
    """A wheel member's stream that checks its RECORD hash and size when fully read.

    Saves a second decompression of every member (``validate_record`` with
    ``validate_contents`` reads the whole wheel once more): the bytes are checked on
    their way into the tree, and a mismatch is added to ``issues``, for one warning (as
    vpython.store.unpack: the wheel's bytes are already the locked sha256)."""

    def __init__(self, stream: BinaryIO, record: tuple[str, str, str], issues: list[str]) -> None:
        import hashlib

        self._stream, self._issues = stream, issues
        self._path, algo_value, size = record
        algo, _, self._expected = (algo_value or "").partition("=")
        self._algo = algo.lower()  # pip 20.3's 2.7 wheels write "SHA256"
        try:
            self._size = int(size) if size else None
        except ValueError:
            self._size = None
        try:
            self._hash = hashlib.new(self._algo) if self._algo else None
        except ValueError:
            issues.append(f"{self._path} (unknown hash algorithm {self._algo!r})")
            self._hash = None
        self._read = 0
        self._done = False

    def read(self, n: int | None = -1) -> bytes:
        data = self._stream.read(-1 if n is None else n)
        if self._hash is not None:
            self._hash.update(data)
        self._read += len(data)
        if not data or n is None or n < 0:
            self._check()
        return data

    def _check(self) -> None:
        import base64

        if self._done or self._hash is None:
            return
        self._done = True
        actual = base64.urlsafe_b64encode(self._hash.digest()).decode("ascii").rstrip("=")
        if actual != self._expected or (self._size is not None and self._size != self._read):
            self._issues.append(f"{self._path} (hash / size)")


class _CheckedWheel(WheelFile):
    """A wheel whose members are checked against RECORD while they are read."""

    display = ""  # what errors call the wheel (its file name)
    issues: list[str]

    def get_contents(self) -> Iterator[tuple[tuple[str, str, str], BinaryIO, bool]]:
        from vpython.store.unpack import normalized_record

        for row, stream, is_executable in super().get_contents():
            record = normalized_record(row)
            checked = _CheckedStream(stream, record, self.issues)
            if row[1] and checked._hash is None:  # unknown algorithm: installer would refuse the row
                record = (record[0], "", "")
            # installer only read()s from it: the checking stream stands in for the file.
            yield record, cast(BinaryIO, checked), is_executable


@contextlib.contextmanager
def _checked_wheel(wheel_path: str, display: str) -> Iterator[_CheckedWheel]:
    with _CheckedWheel.open(pathlib.Path(wheel_path)) as source:
        checked = cast(_CheckedWheel, source)  # open() is a classmethod: it made a _CheckedWheel
        checked.display = display
        checked.issues = []
        yield checked


def install_wheel(root: str, target: Target, wheel_path: str, display: str) -> None:
    from installer import install
    from installer.exceptions import InstallerError
    from installer.utils import parse_wheel_filename

    from vpython import log
    from vpython.store.archive import check_archive
    from vpython.store.unpack import record_warning

    check_archive(wheel_path, display)
    dist_name = parse_wheel_filename(os.path.basename(wheel_path)).distribution
    with zipfile.ZipFile(wheel_path) as zf:
        shipped = frozenset(
            n.split("/", 2)[2]
            for n in zf.namelist()
            if n.count("/") >= 2 and n.split("/", 2)[0].endswith(".data") and n.split("/", 2)[1] == "scripts"
        )
    try:
        with _checked_wheel(wheel_path, display) as source:
            try:
                source.read_dist_info("RECORD")
            except (KeyError, ValueError) as e:  # no RECORD: not a wheel
                raise IntegrityError(
                    f"the wheel has no readable RECORD: {e}",
                    path=display,
                    hint="the wheel is damaged or not a valid wheel; fetch it again or re-lock",
                ) from None
            try:
                # Names and the presence of hashes here; contents while they are written.
                source.validate_record(validate_contents=False)
            except Exception as e:  # installer raises a private _WheelFileValidationError  # noqa: BLE001
                prefix = f"In {wheel_path}, "
                source.issues.extend(
                    i[len(prefix) :] if i.startswith(prefix) else i
                    for i in getattr(e, "issues", None) or [str(e)]
                )
            install(
                source,
                _destination(root, target, dist_name, shipped),
                additional_metadata={"INSTALLER": b"vpython\n"},
            )
            if source.issues:
                log.warning(record_warning(display, source.issues))
    except IntegrityError:
        raise
    except FileExistsError as e:
        raise UserError(
            f"installs a file another locked wheel already installed ({e})",
            path=display,
            hint="two packages in the lock ship the same file; drop one of them",
        ) from None
    except (InstallerError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise IntegrityError(
            f"cannot install wheel: {e}",
            path=display,
            hint="the wheel is damaged or not a valid wheel; fetch it again or re-lock",
        ) from None


def _member_key(name: str) -> str:
    """Where a wheel member lands, as a comparable key (``.data/<scheme>/`` kept apart)."""
    first, _, rest = name.partition("/")
    if first.endswith(".data") and rest:
        scheme, _, path = rest.partition("/")
        return f"{'lib' if scheme in ('purelib', 'platlib') else scheme}:{path}"
    return f"lib:{name}"


def check_clashes(wheels: Wheels) -> None:
    """Two locked wheels that install the same file: an error naming both, before any
    is unpacked (pip would let the last one win, silently and order-dependently)."""
    owner: dict[str, str] = {}
    for artifact, path in wheels:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.endswith("/") or ".dist-info/" in name:
                    continue
                key = _member_key(name)
                other = owner.setdefault(key, artifact.filename)
                if other != artifact.filename:
                    raise UserError(
                        f"{artifact.filename} and {other} both install {key.split(':', 1)[1]}",
                        hint="two packages in the lock ship the same file; drop one of them",
                    )
