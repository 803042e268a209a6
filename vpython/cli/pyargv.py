"""CPython's own command-line grammar (``Python/getopt.c`` + ``initconfig.c``).

vpython must know which script (or ``-c``/``-m``/stdin/interactive) python is about to
run, to find its spec, and must hand python an argv it interprets exactly as the user's.
argparse cannot do this (``-vvc CODE``, ``-W -c``); neither, fully, could the original
(``command_line.go`` mis-parses ``--check-hash-based-pycs MODE`` as a ``-c`` command and
drops the user's ``--``). The rules, as CPython applies them:

- Short options cluster: ``-vvc CODE``, ``-vOOWfoo``, ``-cprint(1)``.
- ``c m W X Q`` take a value: the rest of the cluster, else the next argument whatever it
  looks like (``-W -c`` makes ``-c`` the value of ``-W``). ``-c``/``-m`` end option
  parsing: everything after their value is the script's ``sys.argv[1:]``.
- Options end at the first argument that is not an option: ``-`` (stdin), a script path
  (even ``""``), or after the first ``--``, where the next argument is the script even if
  it starts with ``-`` (but a lone ``-`` there is still stdin).
- ``--help``/``--version`` are recognised only as whole arguments. Other long options go
  through the cluster: a ``-`` inside a cluster starts one (``--help-env``,
  ``-q-help-env``); known: ``--check-hash-based-pycs MODE`` (value in the next argument),
  ``--help-env``, ``--help-xoptions``, ``--help-all``. A cluster ending in a lone ``-``
  (``-v-``) ends option parsing like ``--``.
- ``-J`` is an error (reserved for Jython). Other unknown letters are kept as no-value
  flags, as the original does, and left for the interpreter to accept or reject: the
  letters differ between versions (``-P`` is 3.11+), and vpython may run a newer python
  than itself.

Warm path: stdlib only, no regex, no dataclasses import (~8 ms); ``PythonCommandLine``
is a plain class with a dataclass's surface.
"""

from __future__ import annotations

import sys

from vpython.errors import UsageError

# typing costs ~2 ms to import on the warm path; mypy reads this block (it treats any
# name TYPE_CHECKING as true), the interpreter skips it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

Flag = tuple[str, "str | None"]  # (name, value): ("v", None), ("W", "error")

VALUE_LETTERS = frozenset("cmWXQ")
LONG_NO_VALUE = frozenset(("help-env", "help-xoptions", "help-all"))
LONG_WITH_VALUE = frozenset(("check-hash-based-pycs",))
CHECK_HASH_MODES = ("default", "always", "never")
TARGET_KINDS = ("none", "script", "command", "module", "stdin")

# Spellings with the same meaning (for has_flag / flag_count).
_CANONICAL = {"help": "h", "?": "h", "version": "V"}
_WINDOWS = sys.platform == "win32"


class PythonCommandLine:
    """A parsed python argv.

    ``flags``: ``(name, value)`` in order; ``name`` is one letter (``"v"``, ``"W"``) or a
    long option without its dashes (``"check-hash-based-pycs"``, ``"help"``,
    ``"version"``); ``value`` is None for no-value flags. ``target_kind`` is one of
    TARGET_KINDS; ``target`` is the script path, command, module, ``"-"`` (stdin) or
    None (interactive); ``args`` are the script's arguments (``sys.argv[1:]``);
    ``separator`` records that the user ended the options with ``--``.
    """

    __slots__ = ("flags", "target_kind", "target", "args", "separator")
    __match_args__ = ("flags", "target_kind", "target", "args", "separator")

    def __init__(
        self,
        flags: Sequence[Flag] | None = None,
        target_kind: str = "none",
        target: str | None = None,
        args: Sequence[str] | None = None,
        separator: bool = False,
    ) -> None:
        self.flags: list[Flag] = [] if flags is None else list(flags)
        self.target_kind = target_kind
        self.target = target
        self.args: list[str] = [] if args is None else list(args)
        self.separator = separator

    def _astuple(self) -> tuple[list[Flag], str, str | None, list[str], bool]:
        return (self.flags, self.target_kind, self.target, self.args, self.separator)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PythonCommandLine) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._astuple() == other._astuple()

    __hash__ = None  # type: ignore[assignment]  # mutable, like a non-frozen dataclass

    def __repr__(self) -> str:
        return (
            "PythonCommandLine(flags={!r}, target_kind={!r}, target={!r}, args={!r}, separator={!r})"
        ).format(*self._astuple())

    def copy(self) -> PythonCommandLine:
        """A deep-enough copy: its lists can be changed without touching this one."""
        return PythonCommandLine(self.flags, self.target_kind, self.target, self.args, self.separator)

    def flag_count(self, name: str) -> int:
        """How many times flag ``name`` was given (``-vv`` → 2); ``--version`` counts as
        ``V``, ``-?``/``--help`` as ``h``."""
        want = _CANONICAL.get(name, name)
        return sum(1 for n, _ in self.flags if _CANONICAL.get(n, n) == want)

    def has_flag(self, name: str) -> bool:
        """Whether flag ``name`` (a letter like ``"I"``/``"E"``/``"S"``/``"s"``, or a long
        name) was given."""
        want = _CANONICAL.get(name, name)
        return any(_CANONICAL.get(n, n) == want for n, _ in self.flags)

    def flag_values(self, name: str) -> list[str]:
        """The values of every ``name`` flag in order (``flag_values("W")`` is
        ``sys.warnoptions``' contribution from the command line)."""
        return [v for n, v in self.flags if n == name and v is not None]

    def xoptions(self) -> dict[str, str | bool]:
        """``-X`` options as ``sys._xoptions`` has them: ``-X a=b`` → ``{"a": "b"}``,
        ``-X importtime`` → ``{"importtime": True}``; later ones win."""
        out: dict[str, str | bool] = {}
        for n, v in self.flags:
            if n == "X" and v is not None:
                key, eq, val = v.partition("=")
                out[key] = val if eq else True
        return out

    def add_single_flag(self, letter: str) -> None:
        """Append no-value flag ``letter`` unless it is already there (the original's
        ``AddSingleFlag``, used to add ``-s`` once)."""
        if (letter, None) not in self.flags:
            self.flags.append((letter, None))


def _printable(s: str) -> str:
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def parse_python_argv(argv: Sequence[str | bytes]) -> PythonCommandLine:
    """Parse python's argv (without argv[0]) the way CPython does.

    Raises UsageError where CPython would refuse the command line (missing option value,
    unknown long option, ``-J``, bad ``--check-hash-based-pycs`` mode).

    One loop of ~80 lines on purpose: it mirrors CPython's ``_PyOS_GetOpt`` loop (over
    arguments, then over the letters of a cluster) statement for statement, so it can be
    checked against ``Python/getopt.c``; split into helpers, the shared cursor state
    (argument index, letter index, "options ended") would have to travel between them.
    """
    args = [a if isinstance(a, str) else _fsdecode(a) for a in argv]
    flags: list[Flag] = []
    n = len(args)
    i = 0
    separator = False
    while i < n:
        arg = args[i]
        if len(arg) < 2 or arg[0] != "-":
            if _WINDOWS and arg == "/?":
                flags.append(("?", None))
                i += 1
                continue
            break  # script path, "" or "-" (stdin)
        if arg == "--":
            separator = True
            i += 1
            break
        if arg == "--help" or arg == "--version":
            flags.append((arg[2:], None))
            i += 1
            continue
        i += 1
        j = 1
        end = len(arg)
        while j < end:
            ch = arg[j]
            j += 1
            if ch == "-":  # a long option: the rest of the argument names it
                name = arg[j:]
                if not name:  # `-v-`: CPython says "expected long option", stops options
                    separator = True
                    break
                if name in LONG_NO_VALUE:
                    flags.append((name, None))
                elif name in LONG_WITH_VALUE:
                    if i >= n:
                        raise UsageError(
                            f"Argument expected for the --{name} option",
                            hint=f"write --{name} MODE (default, always or never)",
                        )
                    value = args[i]
                    i += 1
                    if value not in CHECK_HASH_MODES:
                        raise UsageError(
                            f"--{name} must be one of 'default', 'always', or 'never' "
                            f"(got {_printable(value)!r})",
                            hint=f"write --{name} default, always or never",
                        )
                    flags.append((name, value))
                else:
                    hint = "see `python --help` for the options python accepts"
                    if "=" in name and name.partition("=")[0] in LONG_WITH_VALUE:
                        hint = f"python takes the value as the next argument: --{name.partition('=')[0]} MODE"
                    raise UsageError(f"unknown option {_printable(arg)}", hint=hint)
                j = end
                break
            if ch in VALUE_LETTERS:
                if j < end:
                    value = arg[j:]
                elif i < n:
                    value = args[i]
                    i += 1
                else:
                    raise UsageError(
                        f"Argument expected for the -{ch} option", hint=f"write -{ch} VALUE or -{ch}VALUE"
                    )
                if ch == "c":
                    return PythonCommandLine(flags, "command", value, args[i:], False)
                if ch == "m":
                    return PythonCommandLine(flags, "module", value, args[i:], False)
                flags.append((ch, value))
                break
            if ch == "J":
                raise UsageError("-J is reserved for Jython", hint="remove -J: no CPython accepts it")
            flags.append((ch, None))
        if separator:
            break
    if i < n:
        target = args[i]
        kind = "stdin" if target == "-" else "script"
        return PythonCommandLine(flags, kind, target, args[i + 1 :], separator)
    return PythonCommandLine(flags, "none", None, [], separator)


def build_args(cl: PythonCommandLine) -> list[str]:
    """An argv python interprets exactly as the one ``cl`` was parsed from.

    Flags come one per argument, each value in the next argument (``-vvc X`` →
    ``-v -v -c X``); the user's ``--`` is kept, and one is added before a script whose
    name starts with ``-``.
    """
    out: list[str] = []
    for name, value in cl.flags:
        out.append(("-" if len(name) == 1 else "--") + name)
        if value is not None:
            out.append(value)
    kind, target = cl.target_kind, cl.target
    if kind not in TARGET_KINDS:
        raise ValueError(f"unknown target_kind {kind!r}")
    if kind == "none":
        if cl.separator:
            out.append("--")
        return out
    if target is None:
        raise ValueError(f"target_kind {kind!r} needs a target")
    if kind == "command":
        out += ["-c", target]
    elif kind == "module":
        out += ["-m", target]
    else:  # script or stdin
        if cl.separator or (kind == "script" and target[:1] == "-"):
            out.append("--")
        out.append(target)
    out.extend(cl.args)
    return out


def _fsdecode(a: bytes) -> str:
    import os

    return os.fsdecode(a)
