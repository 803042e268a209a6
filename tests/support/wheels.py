"""Build PEP 427 wheels (good and hostile) for tests, so no test needs PyPI.

Every wheel is byte-deterministic: entries sorted (payload first, ``.dist-info`` last,
``RECORD`` at the very end as the spec recommends), a fixed 1980-01-01 timestamp, fixed
Unix permissions and a fixed compression level.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Iterable, Mapping, Sequence, Union

Content = Union[str, bytes]

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
EVIL_KINDS = ("dotdot", "absolute", "record_lies", "symlink_escape", "zip_bomb")
ZIP_BOMB_SIZE = (1 << 30) + (1 << 20)  # what the bomb entry inflates to: 1 GiB + 1 MiB


# --------------------------------------------------------------------------- names

def normalize_name(name: str) -> str:
    """PEP 503 normalized project name (``Foo_Bar.baz`` -> ``foo-bar-baz``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def escape_name(name: str) -> str:
    """The distribution part of wheel and dist-info names (``foo_bar_baz``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def import_name(name: str) -> str:
    """The top-level package the default payload uses (``tiny-app`` -> ``tiny_app``)."""
    return escape_name(name)


def normalize_version(version: str) -> str:
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging is a vpython dependency
        return version
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def expand_tag(tag: str) -> list[str]:
    """``cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64`` -> each single tag."""
    try:
        pys, abis, plats = tag.split("-")
    except ValueError:
        raise ValueError(f"not a PEP 425 tag triple: {tag!r}") from None
    return [f"{p}-{a}-{pl}" for p in pys.split(".") for a in abis.split(".") for pl in plats.split(".")]


def is_pure(tag: str) -> bool:
    return all(t.rsplit("-", 1)[1] == "any" for t in expand_tag(tag))


def wheel_filename(name: str, version: str, tag: str = "py3-none-any", build: str | None = None) -> str:
    parts = [escape_name(name), normalize_version(version).replace("-", "_")]
    if build:
        parts.append(build)
    parts.append(tag)
    return "-".join(parts) + ".whl"


# --------------------------------------------------------------------------- RECORD

def record_hash(data: bytes) -> str:
    """``sha256=<urlsafe base64, no padding>`` as RECORD wants it."""
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _record_text(rows: Iterable[Sequence[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return buf.getvalue().encode("utf-8")


def _as_bytes(content: Content) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else bytes(content)


# --------------------------------------------------------------------------- zip writing

def _zipinfo(name: str, mode: int = 0o644, *, file_type: int = stat.S_IFREG) -> zipfile.ZipInfo:
    # ZipInfo() (unlike ZipFile.write) keeps hostile names such as "../x" or "/tmp/x" as given.
    zi = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    zi.create_system = 3  # Unix, so external_attr carries the mode
    zi.external_attr = (file_type | mode) << 16
    zi.compress_type = zipfile.ZIP_STORED if file_type == stat.S_IFLNK else zipfile.ZIP_DEFLATED
    return zi


def _write_zip(path: Path, entries: Sequence[tuple[zipfile.ZipInfo, bytes]]) -> None:
    tmp = path.with_name(path.name + ".part")
    with zipfile.ZipFile(tmp, "w") as zf:
        for zi, data in entries:
            zf.writestr(zi, data, compresslevel=6 if zi.compress_type == zipfile.ZIP_DEFLATED else None)
    tmp.replace(path)


def _order(names: Iterable[str], dist_info: str) -> list[str]:
    """Payload sorted, then dist-info sorted, RECORD last."""
    record = f"{dist_info}/RECORD"
    names = [n for n in names if n != record]
    payload = sorted(n for n in names if not n.startswith(dist_info + "/"))
    meta = sorted(n for n in names if n.startswith(dist_info + "/"))
    return payload + meta + [record]


# --------------------------------------------------------------------------- good wheels

def default_files(name: str, version: str) -> dict[str, str]:
    mod = import_name(name)
    return {
        f"{mod}/__init__.py": (
            f"__version__ = {json.dumps(version)}\n\n\n"
            f"def hello():\n    return {json.dumps(f'{name} {version}')}\n\n\n"
            "def main():\n    print(hello())\n    return 0\n"
        )
    }


def _metadata(name: str, version: str, requires: Sequence[str], requires_python: str | None) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", f"Summary: test package {name}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Requires-Dist: {r}" for r in requires]
    return "\n".join(lines) + "\n\n"


def _wheel_file(tag: str, build: str | None) -> str:
    lines = ["Wheel-Version: 1.0", "Generator: vpython-tests (1.0)",
             f"Root-Is-Purelib: {'true' if is_pure(tag) else 'false'}"]
    if build:
        lines.append(f"Build: {build}")
    lines += [f"Tag: {t}" for t in expand_tag(tag)]
    return "\n".join(lines) + "\n\n"


def _entry_points(entry_points: Mapping[str, Mapping[str, str]]) -> str:
    out = []
    for group in sorted(entry_points):
        out.append(f"[{group}]")
        out += [f"{k} = {v}" for k, v in sorted(entry_points[group].items())]
        out.append("")
    return "\n".join(out)


def wheel_contents(
    name: str,
    version: str,
    *,
    tag: str = "py3-none-any",
    files: Mapping[str, Content] | None = None,
    requires: Sequence[str] = (),
    entry_points: Mapping[str, Mapping[str, str]] | None = None,
    data: Mapping[str, Mapping[str, Content]] | None = None,
    requires_python: str | None = None,
    build: str | None = None,
) -> tuple[str, dict[str, bytes]]:
    """(dist-info dir name, {archive path: bytes}) for everything but RECORD."""
    version = normalize_version(version)
    base = f"{escape_name(name)}-{version}"
    dist_info = f"{base}.dist-info"
    contents = {k: _as_bytes(v) for k, v in (default_files(name, version) if files is None else files).items()}
    for scheme, scheme_files in (data or {}).items():
        for rel, content in scheme_files.items():
            contents[f"{base}.data/{scheme}/{rel}"] = _as_bytes(content)
    contents[f"{dist_info}/METADATA"] = _metadata(name, version, list(requires), requires_python).encode()
    contents[f"{dist_info}/WHEEL"] = _wheel_file(tag, build).encode()
    if entry_points:
        contents[f"{dist_info}/entry_points.txt"] = _entry_points(entry_points).encode()
    return dist_info, contents


def _mode_for(path: str) -> int:
    return 0o755 if "/scripts/" in path and ".data/" in path else 0o644


def make_wheel(
    out_dir: str | Path,
    name: str,
    version: str,
    *,
    tag: str = "py3-none-any",
    files: Mapping[str, Content] | None = None,
    requires: Sequence[str] = (),
    entry_points: Mapping[str, Mapping[str, str]] | None = None,
    data: Mapping[str, Mapping[str, Content]] | None = None,
    requires_python: str | None = None,
    extra_record_lines: Sequence[str] = (),
    corrupt_record: bool = False,
    build: str | None = None,
) -> Path:
    """Write a valid PEP 427 wheel into ``out_dir`` and return its path.

    ``files`` replaces the default payload (``<import_name>/__init__.py`` with
    ``__version__``, ``hello()`` and ``main()``). ``data`` maps a ``.data`` scheme
    (``scripts``, ``data``, ``headers``, ``purelib``, ``platlib``) to its files.
    ``tag`` may be compound (``cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64``);
    any non-``any`` platform makes ``Root-Is-Purelib: false``. ``extra_record_lines`` are
    raw lines appended to RECORD; ``corrupt_record`` makes the first payload file's
    RECORD hash wrong (same size, different content).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dist_info, contents = wheel_contents(
        name, version, tag=tag, files=files, requires=requires, entry_points=entry_points,
        data=data, requires_python=requires_python, build=build,
    )
    record_path = f"{dist_info}/RECORD"
    order = _order(contents, dist_info)
    lie_target = next((n for n in order if not n.startswith(dist_info + "/")), None) if corrupt_record else None
    rows = []
    for n in order[:-1]:
        body = contents[n]
        hashed = body if n != lie_target else bytes(b ^ 0x20 for b in body) or b"x"
        rows.append((n, record_hash(hashed), str(len(body))))
    rows.append((record_path, "", ""))
    record = _record_text(rows)
    if extra_record_lines:
        record += "".join(line.rstrip("\n") + "\n" for line in extra_record_lines).encode("utf-8")
    contents[record_path] = record
    path = out / wheel_filename(name, version, tag, build)
    _write_zip(path, [(_zipinfo(n, _mode_for(n)), contents[n]) for n in order])
    return path


def make_wheel_variants(out_dir: str | Path, name: str, version: str, tags: Sequence[str], **kwargs) -> list[Path]:
    """One wheel per tag (e.g. several platforms of one binary package)."""
    return [make_wheel(out_dir, name, version, tag=t, **kwargs) for t in tags]


def read_record(wheel: str | Path) -> list[list[str]]:
    """The RECORD rows of a wheel (for assertions)."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/RECORD"))
        return list(csv.reader(io.StringIO(zf.read(name).decode("utf-8"))))


# --------------------------------------------------------------------------- hostile wheels

def make_evil_wheel(out_dir: str | Path, kind: str, *, name: str | None = None, version: str = "1.0") -> Path:
    """A wheel that is valid except for exactly one hostile property.

    ``dotdot``          an entry ``../evil.py`` (listed in RECORD with its true hash)
    ``absolute``        an entry ``/tmp/evil.py`` (listed in RECORD with its true hash)
    ``record_lies``     ``<pkg>/__init__.py`` differs from its RECORD hash (same size)
    ``symlink_escape``  ``<pkg>/passwd`` is a zip symlink entry (mode 0o120777) -> ``/etc/passwd``
    ``zip_bomb``        ``<pkg>/bomb.bin``: ~1 MB of deflate that inflates to 1 GiB + 1 MiB of
                        zeros (header and RECORD tell the truth, so only a size limit stops it)
    """
    if kind not in EVIL_KINDS:
        raise ValueError(f"unknown evil wheel kind {kind!r}; choose from {', '.join(EVIL_KINDS)}")
    name = name or f"evil-{kind.replace('_', '-')}"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if kind == "record_lies":
        return make_wheel(out, name, version, corrupt_record=True)
    if kind == "zip_bomb":
        return _make_zip_bomb(out, name, version)
    dist_info, contents = wheel_contents(name, version)
    special = {}  # archive name -> (ZipInfo, bytes)
    if kind == "dotdot":
        special["../evil.py"] = (_zipinfo("../evil.py"), b"print('escaped via ..')\n")
    elif kind == "absolute":
        special["/tmp/evil.py"] = (_zipinfo("/tmp/evil.py"), b"print('escaped via absolute path')\n")
    elif kind == "symlink_escape":
        n = f"{import_name(name)}/passwd"
        special[n] = (_zipinfo(n, 0o777, file_type=stat.S_IFLNK), b"/etc/passwd")
    for n, (_, body) in special.items():
        contents[n] = body
    order = _order(contents, dist_info)
    record_path = f"{dist_info}/RECORD"
    rows = [(n, record_hash(contents[n]), str(len(contents[n]))) for n in order[:-1]] + [(record_path, "", "")]
    contents[record_path] = _record_text(rows)
    entries = [special[n] if n in special else (_zipinfo(n), contents[n]) for n in order]
    path = out / wheel_filename(name, version)
    _write_zip(path, entries)
    return path


_BOMB_MEMO: dict = {}


def _bomb_stream() -> tuple[bytes, int, str]:
    """(raw deflate bytes, crc32, RECORD hash) of ZIP_BOMB_SIZE zeros, computed once.

    A full-flushed deflate chunk of 1 MiB of zeros is self-contained, so repeating it and
    closing with an empty final block is a valid stream; only the CRC and the hash need a
    pass over the inflated bytes (~1 s, memoized per process).
    """
    if "v" not in _BOMB_MEMO:
        chunk = b"\0" * (1 << 20)
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        piece = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
        tail = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
        count = ZIP_BOMB_SIZE // len(chunk)
        crc, h = 0, hashlib.sha256()
        for _ in range(count):
            crc = zlib.crc32(chunk, crc)
            h.update(chunk)
        digest = "sha256=" + base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode("ascii")
        _BOMB_MEMO["v"] = (piece * count + tail, crc & 0xFFFFFFFF, digest)
    return _BOMB_MEMO["v"]


def _make_zip_bomb(out: Path, name: str, version: str) -> Path:
    dist_info, contents = wheel_contents(name, version)
    bomb_name = f"{import_name(name)}/bomb.bin"
    raw, crc, digest = _bomb_stream()
    order = _order(list(contents) + [bomb_name], dist_info)
    record_path = f"{dist_info}/RECORD"
    rows = []
    for n in order[:-1]:
        if n == bomb_name:
            rows.append((n, digest, str(ZIP_BOMB_SIZE)))
        else:
            rows.append((n, record_hash(contents[n]), str(len(contents[n]))))
    rows.append((record_path, "", ""))
    contents[record_path] = _record_text(rows)
    members = []
    for n in order:
        if n == bomb_name:
            members.append((n, raw, crc, ZIP_BOMB_SIZE))
        else:
            body = contents[n]
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            members.append((n, c.compress(body) + c.flush(), zlib.crc32(body) & 0xFFFFFFFF, len(body)))
    path = out / wheel_filename(name, version)
    _write_raw_zip(path, members)
    return path


def _write_raw_zip(path: Path, members: Sequence[tuple[str, bytes, int, int]]) -> None:
    """A minimal deterministic zip writer for pre-deflated members (name, raw, crc, size)."""
    dostime, dosdate = 0, (1980 - 1980) << 9 | 1 << 5 | 1
    out = io.BytesIO()
    central = []
    for name, raw, crc, size in members:
        fname = name.encode("utf-8")
        offset = out.tell()
        out.write(struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0x800, 8, dostime, dosdate,
                              crc, len(raw), size, len(fname), 0))
        out.write(fname)
        out.write(raw)
        central.append(struct.pack("<4s6H3I5H2I", b"PK\x01\x02", (3 << 8) | 20, 20, 0x800, 8, dostime,
                                   dosdate, crc, len(raw), size, len(fname), 0, 0, 0, 0,
                                   (stat.S_IFREG | 0o644) << 16, offset) + fname)
    cd_start = out.tell()
    for entry in central:
        out.write(entry)
    cd_size = out.tell() - cd_start
    out.write(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(central), len(central), cd_size, cd_start, 0))
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(out.getvalue())
    tmp.replace(path)
