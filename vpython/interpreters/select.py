"""Choose the interpreter an env is built on: ``python_version`` / ``requires-python`` /
an explicit path → one probed ``Interpreter`` (see ``select_interpreter``)."""

from __future__ import annotations

import os
import re
import shutil
from typing import TYPE_CHECKING

from vpython import log
from vpython.errors import InterpreterError, UserError
from vpython.interpreters.discover import default_interpreter_path, find_interpreters, is_binary
from vpython.interpreters.model import MIN_VERSION, PY27, UNSUPPORTED_2, Interpreter
from vpython.interpreters.probe import probe, run_probe

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

_SET_38 = 'set python_version to "3.8" or newer (for example "3.11")'
_EXPLICIT = "-vpython-interpreter"
_EXPLICIT_HINT = "point -vpython-interpreter at a CPython 3.8+ (for example python3.11)"


def _parse_version(version: str, allow_27: bool = False) -> tuple[int, ...]:
    text = version.strip()
    if text.lower().startswith("python"):
        text = text[6:].strip()
    if not re.fullmatch(r"\d{1,4}(\.\d{1,4}){0,2}", text):  # bounded: int() of 5,000 digits raises
        raise UserError(
            f'"{version}" is not a version like "3", "3.11" or "3.11.4"',
            key="python_version",
            hint='write the major, major.minor or full version, for example "3.11"',
        )
    want = tuple(int(x) for x in text.split("."))
    if allow_27 and want[:2] in ((2,), PY27):
        return want if len(want) > 1 else PY27  # "2" means the one Python 2 that runs: 2.7
    if want[0] < 3:
        raise InterpreterError(f'"{version}": {UNSUPPORTED_2}', key="python_version", hint=_SET_38)
    if len(want) >= 2 and want[:2] < MIN_VERSION:
        raise InterpreterError(
            f'"{version}": Python {want[0]}.{want[1]} is not supported by vpython; envs need CPython 3.8+',
            key="python_version",
            hint=_SET_38,
        )
    return want


def _parse_requires_python(text: str) -> SpecifierSet:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(text)
    except InvalidSpecifier as e:
        raise UserError(
            f'"{text}" is not a valid version specifier: {e}',
            key="requires-python",
            hint='write PEP 440 specifiers, for example ">=3.9" or ">=3.10,<3.13"',
        ) from None


def _matches(interp: Interpreter, want: tuple[int, ...], spec: SpecifierSet | None) -> bool:
    if want and tuple(interp.version[: len(want)]) != want:
        return False
    return not (spec is not None and not spec.contains(interp.version_string, prereleases=True))


def _check_supported(interp: Interpreter, origin: str, allow_27: bool = False) -> None:
    """Refuse what envs cannot be built on; ``origin`` says who chose ``interp``."""
    if allow_27 and interp.is_py27:
        return
    hint = _EXPLICIT_HINT if origin == _EXPLICIT else f"set python_version in the spec, or {_EXPLICIT_HINT}"
    if interp.implementation != "cpython":
        raise InterpreterError(
            f"{origin} is {interp.describe().split(' (')[0]}; vpython envs need CPython 3.8+",
            path=interp.path,
            hint=hint,
        )
    if interp.version[0] < 3:
        raise InterpreterError(
            f"{origin} is Python {interp.version_string}: {UNSUPPORTED_2}", path=interp.path, hint=hint
        )
    if tuple(interp.version[:2]) < MIN_VERSION:
        raise InterpreterError(
            f"{origin} is Python {interp.version_string}, which vpython does not support; "
            "envs need CPython 3.8+",
            path=interp.path,
            hint=hint,
        )


def _resolve_explicit(explicit: str) -> str:
    path = os.path.expanduser(explicit)
    if os.sep in path or (os.altsep and os.altsep in path) or os.path.exists(path):
        if not os.path.exists(path):
            raise InterpreterError(
                "interpreter does not exist", path=explicit, hint="pass the path of an installed python3"
            )
        return os.path.abspath(path)
    found = shutil.which(path)
    if not found:
        raise InterpreterError(
            f"interpreter {explicit} not found on PATH",
            key=_EXPLICIT,
            hint="pass a full path (/path/to/python3), or add its directory to PATH",
        )
    return found


def _unshim(path: str) -> str:
    """A script standing in for python (a pyenv shim) -> the binary it runs today, so the
    identity cache keys on what really executes."""
    if is_binary(os.path.realpath(path)):
        return path
    exe = run_probe(path).get("executable")
    return exe if isinstance(exe, str) and os.path.isfile(exe) else path


def select_interpreter(
    version: str = "",
    requires_python: str = "",
    explicit: str | None = None,
    cache_dir: str | None = None,
    allow_27: bool = False,
) -> Interpreter:
    """Choose the interpreter an env is built on.

    * ``explicit`` (``-vpython-interpreter``) wins: it must exist and be CPython 3.8+; a
      mismatch with the spec's version constraints is a warning, not an error.
    * ``version``: "3.11" → the newest 3.11.x found, "3" → the newest 3.x, "3.11.4" →
      exactly that; "2"/"2.7" (and 3.0-3.7) are refused with a hint to set 3.8+, unless
      ``allow_27`` (text-proto specs: Chromium's ``.vpython`` files), which accepts a
      CPython 2.7 (requested, or passed explicitly) and says how to get one if none is found.
    * ``requires_python`` alone: the default interpreter (below) if it satisfies, else
      the newest that does. With ``version`` too, both must hold.
    * nothing: ``default_interpreter_path()`` — the Python running vpython, or its base
      interpreter when vpython runs inside a virtualenv (see that function for why).

    Raises InterpreterError listing what was found and how to get a matching Python.
    """
    want = _parse_version(version, allow_27) if version and version.strip() else ()
    spec = _parse_requires_python(requires_python) if requires_python and requires_python.strip() else None
    if explicit:
        interp = probe(_unshim(_resolve_explicit(explicit)), cache_dir)
        _check_supported(interp, _EXPLICIT, allow_27)
        if not _matches(interp, want, spec):
            log.warning(
                f"-vpython-interpreter {interp.path} is Python {interp.version_string}, which does not "
                f"match the spec's {_describe_request(version, requires_python)}; using it anyway"
            )
        return interp
    if not want and spec is None:
        interp = probe(default_interpreter_path(), cache_dir)
        _check_supported(interp, "the interpreter running vpython")
        return interp
    if not want:
        try:
            default: Interpreter | None = probe(default_interpreter_path(), cache_dir)
        except InterpreterError:
            default = None
        if default is not None and default.supported and _matches(default, want, spec):
            return default
    found = find_interpreters(cache_dir)
    ok = [i for i in found if (i.supported or (allow_27 and i.is_py27)) and _matches(i, want, spec)]
    if ok:
        best = max(ok, key=lambda i: i.sort_key)  # max keeps the first of equals
        log.debug(f"selected {best.describe()} for {_describe_request(version, requires_python)}")
        return best
    raise _not_found(version, requires_python, want, found)


def _describe_request(version: str, requires_python: str) -> str:
    parts = []
    if version:
        parts.append(f'python_version "{version}"')
    if requires_python:
        parts.append(f'requires-python "{requires_python}"')
    return " and ".join(parts) or "default interpreter"


def _not_found(
    version: str, requires_python: str, want: tuple[int, ...], found: list[Interpreter]
) -> InterpreterError:
    listing = ", ".join(i.describe() + ("" if i.supported else " [unsupported]") for i in found) or "none"
    suggestion = ".".join(map(str, want)) if want else "<a version matching " + requires_python + ">"
    if want[:2] == PY27:
        return InterpreterError(
            f'"{version}": this spec needs a CPython 2.7, and none is installed; found: {listing}',
            key="python_version",
            hint=(
                "install CPython 2.7 (e.g. `pyenv install 2.7.18`) and vpython will build the env on it, "
                "or point -vpython-interpreter at a python2.7, or port the spec to Python 3 "
                '(python_version: "3.8" or newer, in a .vpython3 file)'
            ),
        )
    return InterpreterError(
        f"no installed CPython matches {_describe_request(version, requires_python)}; found: {listing}",
        hint=(
            f"install one (e.g. `pyenv install {suggestion}`, or your OS package manager / python.org "
            "installer), or choose one explicitly with -vpython-interpreter /path/to/python3"
        ),
    )
