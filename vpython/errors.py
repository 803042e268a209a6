"""Typed errors. Everything vpython raises on purpose derives from VPythonError.

The CLI catches VPythonError, prints ``vpython: error: <message>`` and exits with
``exit_code``; anything else is a bug and keeps its traceback. Stdlib only: imported on
the warm path.
"""

from __future__ import annotations


class VPythonError(Exception):
    """A failure vpython understands and can explain. Exit code 1 by default."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class UserError(VPythonError):
    """The user's input (argv, a spec, a lockfile, a setting) is wrong. Exit code 2."""

    exit_code = 2


class SpecError(UserError):
    """A spec file or block could not be parsed or is invalid.

    ``path``/``line``/``column`` (1-based) locate the problem; str() renders them
    in the ``file:line:col: message`` form compilers use, so editors can jump to it.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.path = path
        self.line = line
        self.column = column

    def location(self) -> str:
        parts = [self.path or "<spec>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        text = f"{self.location()}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class UsageError(UserError):
    """Bad command line."""


class LockError(UserError):
    """A lockfile is missing, stale, malformed or cannot be produced."""


class ResolutionError(UserError):
    """The requirements cannot be satisfied (for some platform)."""


class IntegrityError(VPythonError):
    """Bytes on disk or from the network do not match what was promised (sha256, RECORD)."""


class InterpreterError(UserError):
    """No installed interpreter satisfies the spec."""
