"""The words of a failed or refused sdist build: what failed, the log's tail, the fix."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from vpython.errors import BuildError, UserError

if TYPE_CHECKING:
    from vpython.interpreters.model import Interpreter

TAIL_LINES = 20

# (pattern in the build log, what to do). First match wins; the generic fix follows.
_CAUSES = (
    (
        re.compile(r"Python\.h: No such file|fatal error: Python\.h"),
        "install the Python development headers for {python} (Debian/Ubuntu: apt install python3-dev, "
        "or python{major_minor}-dev)",
    ),
    (
        re.compile(
            r"command '[^']*\b(gcc|cc|clang|g\+\+|c\+\+)' failed|unable to execute '[^']*(gcc|cc|clang)'|"
            r"\b(gcc|cc|clang|x86_64-linux-gnu-gcc): (command )?not found|"
            r"Microsoft Visual C\+\+ [\d.]+ or greater is required|"
            r"No such file or directory: '(?:[^']*/)?(gcc|cc|clang|g\+\+|c\+\+)'"
        ),
        "install a C compiler (Debian/Ubuntu: apt install build-essential; macOS: xcode-select --install; "
        "Windows: the Visual C++ Build Tools)",
    ),
    (
        re.compile(r"fatal error: ([\w./+-]+\.h): No such file"),
        "install the development package that provides the C header {header}",
    ),
    (
        re.compile(r"[Cc]an't find Rust compiler|cargo: (command )?not found|rustc: (command )?not found"),
        "install a Rust toolchain (https://rustup.rs)",
    ),
    (
        re.compile(r"build-system\.requires|No solution found when resolving|Failed to resolve requirements"),
        "the build requirements of {name} could not be installed from the configured index / find-links"
        "{offline}",
    ),
)


def log_tail(text: str, lines: int = TAIL_LINES) -> list[str]:
    return [line.rstrip() for line in text.rstrip().splitlines()[-lines:]]


def failure_hint(log_text: str, name: str, version: str, interp: Interpreter, offline: bool) -> str:
    """The specific fix the log points at (if any), then the ways around building."""
    fields = {
        "name": name,
        "python": interp.describe(),
        "major_minor": ".".join(map(str, interp.version[:2])),
        "offline": " (offline mode is on: they must be in a find-links directory)" if offline else "",
        "header": "",
    }
    around = (
        f"pin a version of {name} that publishes a wheel for Python {fields['major_minor']} on this "
        "platform, or build the wheel elsewhere and supply it with --find-links / VPYTHON_FIND_LINKS"
    )
    for pattern, fix in _CAUSES:
        m = pattern.search(log_text)
        if m:
            fields["header"] = next((g for g in m.groups() if g), "")
            return f"{fix.format(**fields)}; or {around}"
    return around


def build_failed(
    name: str,
    version: str,
    filename: str,
    interp: Interpreter,
    *,
    detail: str,
    log_text: str,
    log_path: str,
    offline: bool,
) -> BuildError:
    tail = log_tail(log_text)
    shown = "\n".join("    | " + line for line in tail) or "    | (the log is empty)"
    return BuildError(
        f"cannot build {name} {version} from source ({filename}) for {interp.describe()}: {detail}\n"
        f"  last {len(tail)} lines of the build log:\n{shown}\n  full build log: {log_path}",
        hint=failure_hint(log_text, name, version, interp, offline),
        package=name,
        version=version,
        log_path=log_path,
    )


def build_refused(name: str, version: str, filename: str, interp: Interpreter) -> UserError:
    """The strict mode's refusal (``allow_build=False``), naming every way to lift it."""
    return UserError(
        f"{name} {version} has no wheel for {interp.describe()}, only an sdist ({filename}), and "
        "building from source is turned off (--only-binary, VPYTHON_ONLY_BINARY or config only-binary)",
        hint=(
            "allow the build (drop --only-binary, set VPYTHON_ONLY_BINARY=0, or only-binary = false in the "
            f"config), or pin a version of {name} that publishes a wheel for this interpreter, or "
            "supply a wheel with --find-links / VPYTHON_FIND_LINKS"
        ),
    )
