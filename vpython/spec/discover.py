"""Find the spec that governs a run. Stdlib only: this runs on every (warm) invocation.

Order (first hit wins; a broken spec that is found is an error, never skipped):

1. ``-vpython-spec PATH``
2. partner file ``<script>.vpython3`` beside the script path as given, then beside its
   real path (symlinked wrappers can carry their own spec: Chromite relies on it)
3. an inline block in the (real) script: PEP 723 ``# /// script`` first, then
   ``[VPYTHON:BEGIN]`` ... ``[VPYTHON:END]``
4. the nearest ``vpython.toml`` or ``.vpython3`` walking up from the script's real
   directory; ``.gclient`` (file or dir) stops the walk after its own directory
5. ``VPYTHON_DEFAULT_SPEC``
6. the empty spec

``-c``, ``-m``, stdin and interactive runs search from the working directory (a ``-c``
command may carry its own PEP 723 block). This module only locates and reads spec text;
parsing happens later, and only when no cached env matches the text.
"""

from __future__ import annotations

import os
import stat as _stat

from vpython.errors import UserError
from vpython.spec import inline

PARTNER_SUFFIX = ".vpython3"
COMMON_NAMES = ("vpython.toml", ".vpython3")
BARRIER = ".gclient"
TOML_KIND = "toml"
TEXTPROTO_KIND = "textproto"
PEP723_KIND = "pep723"
EMPTY_KIND = "empty"
_READABLE = "check that it exists and is readable"
_SEARCHABLE = "check the permissions of the directories above it"


class DiscoveredSpec:
    """What discovery found. A plain slotted class: ``dataclasses`` costs ~15 ms to
    import, more than the whole warm-path budget."""

    __slots__ = ("kind", "line_offset", "lock_path", "origin", "path", "text")

    def __init__(
        self,
        kind: str,
        path: str | None,
        text: str,
        line_offset: int,
        origin: str,
        lock_path: str | None,
    ) -> None:
        self.kind = kind  # textproto | pep723 | toml | empty
        self.path = path  # the spec file, or the script holding an inline block
        self.text = text  # raw spec text (the block body for inline specs)
        self.line_offset = line_offset  # file line of the text's first line, minus one
        self.origin = origin  # human explanation, logged at -vpython-log-level info
        self.lock_path = lock_path  # where this spec's lockfile lives (may not exist)

    def __repr__(self) -> str:
        return f"DiscoveredSpec({self.kind!r}, {self.path!r}, origin={self.origin!r})"


def lock_path_for(spec_path: str, inline_script: bool = False) -> str:
    """The PEP 751 lockfile that belongs to a spec.

    Directory-level specs (``.vpython3``, ``vpython.toml``) lock to ``pylock.vpython.toml``
    beside them; a script's own spec (partner file or inline block) locks to
    ``pylock.<name>.toml`` beside the script, where ``<name>`` is the script's file name
    without its ``.py`` extension and with every other dot turned into ``-``
    (``build.linux.py`` -> ``pylock.build-linux.toml``): PEP 751 names must match
    ``pylock.<name>.toml`` with no dots in ``<name>``, and keeping the rest of the name
    keeps ``build.py`` and ``build.linux.py`` apart. Names that still collide
    (``a-b.py`` / ``a.b.py``) are caught by ``vpython lock``, which records the spec in
    the lock and refuses to overwrite another spec's lock.
    """
    directory, name = os.path.split(spec_path)
    if not inline_script:
        if name in COMMON_NAMES:
            return os.path.join(directory, "pylock.vpython.toml")
        for suffix in (PARTNER_SUFFIX, ".vpython", ".toml"):
            if name.endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
                break
    for ext in (".py", ".pyw"):
        if name.endswith(ext) and len(name) > len(ext):
            name = name[: -len(ext)]
            break
    stem = name.strip(".").replace(".", "-") or "vpython"
    return os.path.join(directory, f"pylock.{stem}.toml")


def _read_text(path: str, what: str) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise UserError(f"cannot read the {what}: {e.strerror}", path=path, hint=_READABLE) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserError(
            f"{what} is not valid UTF-8 (byte {e.start})",
            path=path,
            line=data.count(b"\n", 0, e.start) + 1,
            hint="save it as UTF-8",
        ) from None


def _is_file(path: str) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        return False
    except OSError as e:
        raise UserError(f"cannot stat: {e.strerror}", path=path, hint=_SEARCHABLE) from None
    return _stat.S_ISREG(st.st_mode)


def _named_file(path: str, given: str, key: str, hint: str) -> None:
    """A spec file the user named (``-vpython-spec``, ``VPYTHON_DEFAULT_SPEC``) must be a
    regular file: a directory, FIFO or device is "not a regular file" (reading a FIFO
    would block, ``/dev/zero`` would never end), a missing path "no such file"."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise UserError("no such file", path=given, key=key, hint=hint) from None
    except OSError as e:
        raise UserError(f"cannot stat: {e.strerror}", path=given, key=key, hint=_SEARCHABLE) from None
    if not _stat.S_ISREG(st.st_mode):
        what = (
            "a directory"
            if _stat.S_ISDIR(st.st_mode)
            else "a FIFO"
            if _stat.S_ISFIFO(st.st_mode)
            else "a device"
        )
        if _stat.S_ISSOCK(st.st_mode):
            what = "a socket"
        raise UserError(f"not a regular file ({what})", path=given, key=key, hint=hint)


def _exists(path: str) -> bool:
    try:
        os.stat(path)
        return True
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as e:
        raise UserError(f"cannot stat: {e.strerror}", path=path, hint=_SEARCHABLE) from None


def spec_file(path: str, origin: str) -> DiscoveredSpec:
    """A spec named by path (flag, partner, common walk, default)."""
    text = _read_text(path, "spec file")
    kind = TOML_KIND if path.endswith(".toml") else TEXTPROTO_KIND
    return DiscoveredSpec(kind, path, text, 0, origin, lock_path_for(path))


def _inline(script: str, text: str, origin_prefix: str) -> DiscoveredSpec | None:
    block = inline.extract_pep723(text, script)
    if block is not None:
        body, offset = block
        return DiscoveredSpec(
            PEP723_KIND,
            script,
            body,
            offset,
            f"{origin_prefix}PEP 723 '# /// script' block in {script}",
            lock_path_for(script, inline_script=True),
        )
    block = inline.extract_vpython_block(text, script)
    if block is not None:
        body, offset = block
        return DiscoveredSpec(
            TEXTPROTO_KIND,
            script,
            body,
            offset,
            f"{origin_prefix}inline [VPYTHON:BEGIN] block in {script}",
            lock_path_for(script, inline_script=True),
        )
    return None


def _walk(start_dir: str) -> DiscoveredSpec | None:
    d = start_dir
    while True:
        for name in COMMON_NAMES:
            candidate = os.path.join(d, name)
            if _is_file(candidate):
                return spec_file(
                    candidate, f"nearest directory spec {candidate} (walking up from {start_dir})"
                )
        if _exists(os.path.join(d, BARRIER)):
            return None
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _read_script(path: str) -> str | None:
    """Script text for inline-block scanning; None for binary files (zipapps)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise UserError(f"cannot read the script: {e.strerror}", path=path, hint=_READABLE) from None
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def _for_script(path: str) -> DiscoveredSpec | None:
    given = os.path.abspath(path)
    try:
        st = os.stat(given)
    except OSError as e:
        raise UserError(f"cannot run it: {e.strerror}", path=path, hint="check the script's path") from None
    is_dir = _stat.S_ISDIR(st.st_mode)
    real = os.path.realpath(given)
    for candidate_base in (given, real) if real != given else (given,):
        if is_dir:
            # A package directory: climb while __init__.py marks a package.
            d = candidate_base
            while True:
                partner = d + PARTNER_SUFFIX
                if _is_file(partner):
                    return spec_file(partner, f"partner spec {partner} of package {path}")
                if not _is_file(os.path.join(d, "__init__.py")):
                    break
                d = os.path.dirname(d)
        else:
            partner = candidate_base + PARTNER_SUFFIX
            if _is_file(partner):
                return spec_file(partner, f"partner spec {partner} of {path}")
    if is_dir:
        main = os.path.join(real, "__main__.py")
        if not _is_file(main):
            raise UserError(
                "cannot run it: the directory has no __main__.py",
                path=path,
                hint="add a __main__.py, or run a script inside the directory",
            )
        script, walk_from = main, real
    else:
        script, walk_from = real, os.path.dirname(real)
        if not _stat.S_ISREG(st.st_mode):  # a FIFO (`vpython <(...)`) or device: python reads it, not us
            return _walk(walk_from)
    text = _read_script(script)
    if text is not None:
        found = _inline(script, text, "")
        if found is not None:
            return found
    return _walk(walk_from)


def discover(
    *,
    target_kind: str,
    target: str | None,
    cwd: str,
    explicit: str | None = None,
    default_spec: str | None = None,
) -> DiscoveredSpec:
    """Locate the spec for a python command line (see module docstring for the order)."""
    if explicit:
        path = os.path.abspath(explicit)
        _named_file(path, explicit, "-vpython-spec", "pass the path of a .vpython3 or vpython.toml")
        return spec_file(path, f"-vpython-spec {explicit}")
    found = None
    if target_kind == "script":
        found = _for_script(target or "")
    else:
        if target_kind == "command" and target:
            found = _inline("<-c command>", target, "")
            if found is not None:
                found = DiscoveredSpec(
                    found.kind, None, found.text, found.line_offset, "PEP 723 block in the -c command", None
                )
        if found is None:
            # Parity with the original: a partner file named after the working directory.
            for base in (cwd, os.path.realpath(cwd)):
                partner = base.rstrip(os.sep) + PARTNER_SUFFIX
                if _is_file(partner):
                    found = spec_file(partner, f"partner spec {partner} of the working directory")
                    break
        if found is None:
            found = _walk(os.path.realpath(cwd))
    if found is not None:
        return found
    if default_spec:
        path = os.path.abspath(default_spec)
        _named_file(
            path,
            default_spec,
            "VPYTHON_DEFAULT_SPEC",
            "point VPYTHON_DEFAULT_SPEC at a spec file, or unset it",
        )
        return spec_file(path, f"VPYTHON_DEFAULT_SPEC={default_spec}")
    return DiscoveredSpec(EMPTY_KIND, None, "", 0, "no spec found: using the empty spec", None)
