"""Typed errors. Everything vpython raises on purpose derives from VPythonError.

The CLI catches VPythonError, prints ``vpython: error: <message>`` and exits with
``exit_code``; anything else is a bug and keeps its traceback. Stdlib only: imported on
the warm path.

Errors about a file carry where the problem is as fields (``path``, ``line``, ``column``,
``key``), not only inside the message, so callers and tests can read them, and every error
renders them the same way: ``file:line:col: key: message`` (the form compilers use, so
editors can jump to it) followed by ``hint: what to do``. A rendered line longer than
``MAX_LINE`` characters is cut in the middle: a value quoted from hostile input (a 50 MB
``python_version``) must not become a 50 MB error message.
"""

from __future__ import annotations

MAX_LINE = 1200  # characters per rendered line; longer ones keep their head and tail


def cut(text: str, limit: int = MAX_LINE) -> str:
    """``text`` with every line longer than ``limit`` cut in the middle, saying how much."""
    if len(text) <= limit:
        return text
    head, tail = (limit * 2) // 3, limit // 6
    return "\n".join(
        line
        if len(line) <= limit
        else f"{line[:head]} ... [{len(line) - head - tail} characters cut] ... {line[-tail:]}"
        for line in text.split("\n")
    )


class VPythonError(Exception):
    """A failure vpython understands and can explain. Exit code 1 by default."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.path = path
        self.line = line
        self.column = column
        self.key = key

    def location(self) -> str | None:
        """``path[:line[:column]]``, or None when the error is about no file."""
        if self.path is None and self.line is None:
            return None
        parts = [self.path or self._unnamed]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    _unnamed = "<input>"

    def __str__(self) -> str:
        text = self.message
        if self.key is not None:
            text = f"{self.key}: {text}"
        where = self.location()
        if where is not None:
            text = f"{where}: {text}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return cut(text)


class UserError(VPythonError):
    """The user's input (argv, a spec, a lockfile, a setting) is wrong. Exit code 2."""

    exit_code = 2


class SpecError(UserError):
    """A spec file or block could not be parsed or is invalid (``path``/``line``/``column``
    are 1-based)."""

    _unnamed = "<spec>"

    def location(self) -> str:
        return super().location() or self._unnamed


class UsageError(UserError):
    """Bad command line."""


class ConfigError(UserError):
    """The config file or a VPYTHON_* setting is wrong (``path``/``line``/``key`` say where)."""

    _unnamed = "<config>"


class LockError(UserError):
    """A lockfile is missing, stale, malformed or cannot be produced (``path``/``line``/``key``
    locate the problem in the file when there is one)."""

    _unnamed = "<lock>"


class ResolutionError(UserError):
    """The requirements cannot be satisfied (for some platform)."""


class IntegrityError(VPythonError):
    """Bytes on disk or from the network do not match what was promised (sha256, RECORD)."""


class InterpreterError(UserError):
    """No installed interpreter satisfies the spec."""


class BuildError(VPythonError):
    """Building a wheel from an sdist failed. The message carries the package, version and
    the tail of the build log; ``log_path`` is the whole log (kept under the cache root)."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        package: str | None = None,
        version: str | None = None,
        log_path: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.package = package
        self.version = version
        self.log_path = log_path
