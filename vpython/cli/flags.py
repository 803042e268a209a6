"""vpython's own flags, split off the front of argv (luci ``extractFlagsForSet``).

``vpython [vpython flags] [--] <anything python accepts>``. Only the *leading run* of
registered flags is vpython's:

- ``-name`` and ``--name`` are the same flag; ``-name=value`` is one argument.
- A bool flag consumes one argument (``-help``, ``-help=false``), a valued flag two
  (``-vpython-root DIR``) unless written ``-name=value``.
- The first unregistered flag or positional argument ends vpython's share; it and
  everything after it belong to python.
- An unregistered ``-vpython-*`` / ``--vpython-*`` flag is an error, not python's.
- Only the arguments before the first literal ``--`` are candidates, and, unlike the
  original (whose ``CommandLine.Clone()`` drops it), the ``--`` itself is kept for
  python, so ``vpython -- -c x`` runs a script named ``-c``.

``VPythonFlags`` is also what the subcommands build from their argparse options
(``cli/targets.flags_from_options``): one record, so the runner and ``vpython lock`` /
``build`` / ``install`` / ``verify`` hand the lower layers the same type.

Warm path: stdlib only and nothing heavy. ``VPythonFlags`` is a plain class with the
surface of a dataclass (keyword/positional construction, ``==``, ``repr``), because
importing ``dataclasses`` costs ~8 ms (it pulls in ``inspect``) on every invocation.
"""

from __future__ import annotations

from vpython.errors import UsageError

# typing costs ~2 ms to import on the warm path; mypy reads this block (it treats any
# name TYPE_CHECKING as true), the interpreter skips it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

LOG_LEVELS = ("debug", "info", "warning", "error")
TOOLS = ("install", "verify")

# name (without leading dashes) -> attribute. Valued flags consume the next argument.
_VALUED = {
    "vpython-root": "root",
    "vpython-spec": "spec",
    "vpython-log-level": "log_level",
    "vpython-tool": "tool",
    "vpython-interpreter": "interpreter",
    "vpython-index-url": "index_url",
    "vpython-find-links": "find_links",
}
_BOOL = {
    "vpython-offline": "offline",
    "vpython-only-binary": "only_binary",
    "h": "help",
    "help": "help",
}
# Go's strconv.ParseBool.
_TRUE = frozenset(("1", "t", "T", "TRUE", "true", "True"))
_FALSE = frozenset(("0", "f", "F", "FALSE", "false", "False"))

_HELP_HINT = "run `vpython -help` for vpython's flags"


class VPythonFlags:
    """The flags vpython itself understood (or a subcommand's shared options). ``None``
    means "not given".

    ``exclude_newer`` has no runner flag: ``vpython lock --exclude-newer`` sets it, and
    the package-source settings read it beside ``index_url`` / ``find_links`` / ``offline``.
    """

    __slots__ = (
        "root",
        "spec",
        "log_level",
        "tool",
        "interpreter",
        "index_url",
        "find_links",
        "offline",
        "help",
        "exclude_newer",
        "only_binary",
    )
    __match_args__ = (
        "root",
        "spec",
        "log_level",
        "tool",
        "interpreter",
        "index_url",
        "find_links",
        "offline",
        "help",
        "exclude_newer",
        "only_binary",
    )

    def __init__(
        self,
        root: str | None = None,
        spec: str | None = None,
        log_level: str | None = None,
        tool: str | None = None,
        interpreter: str | None = None,
        index_url: str | None = None,
        find_links: Sequence[str] | None = None,
        offline: bool = False,
        help: bool = False,
        exclude_newer: str | None = None,
        only_binary: bool = False,
    ) -> None:
        self.root = root  # "" is meaningful: a temporary root (reference §6.5)
        self.spec = spec
        self.log_level = log_level
        self.tool = tool
        self.interpreter = interpreter
        self.index_url = index_url
        self.find_links: list[str] = [] if find_links is None else list(find_links)
        self.offline = offline
        self.help = help
        self.exclude_newer = exclude_newer
        self.only_binary = only_binary  # never build a wheel from an sdist

    def _astuple(self) -> tuple[object, ...]:
        return tuple(getattr(self, n) for n in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VPythonFlags) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._astuple() == other._astuple()

    __hash__ = None  # type: ignore[assignment]  # mutable, like a non-frozen dataclass

    def __repr__(self) -> str:
        body = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"VPythonFlags({body})"


def _printable(s: str) -> str:
    """``s`` safe to show in a message even if it carries surrogate-escaped bytes."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _unknown_flag(display: str, name: str) -> UsageError:
    import difflib  # error path only

    # Compare what follows "vpython-", or every misspelling would look close.
    known = sorted(n[8:] for n in set(_VALUED) | set(_BOOL) if n.startswith("vpython-"))
    close = difflib.get_close_matches(name[8:], known, n=1, cutoff=0.6)
    hint = _HELP_HINT if not close else f"did you mean -vpython-{close[0]}? {_HELP_HINT}"
    return UsageError(f"unknown flag: {_printable(display)}", hint=hint)


def _set_valued(flags: VPythonFlags, attr: str, display: str, value: str) -> None:
    if attr == "find_links":
        flags.find_links.append(value)
        return
    if attr == "log_level":
        level = value.lower()
        if level not in LOG_LEVELS:
            raise UsageError(
                f"invalid value {_printable(value)!r} for {display}: unknown logging level",
                hint="use one of: " + ", ".join(LOG_LEVELS),
            )
        value = level
    elif attr == "tool" and value not in TOOLS:
        raise UsageError(
            f"unknown -vpython-tool command: {_printable(value)!r}",
            hint="use one of: "
            + ", ".join(TOOLS)
            + " (or the subcommands: vpython install / vpython verify)",
        )
    setattr(flags, attr, value)


def _parse_bool(display: str, value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise UsageError(
        f"invalid boolean value {_printable(value)!r} for {display}",
        hint="write it as FLAG, FLAG=true or FLAG=false",
    )


def split_flags(argv: Sequence[str | bytes]) -> tuple[VPythonFlags, list[str]]:
    """Split ``argv`` (without argv[0]) into vpython's flags and python's argv.

    Raises UsageError for an unknown ``-vpython-*`` flag, a valued flag with no value,
    or a bad value.
    """
    flags = VPythonFlags()
    if not argv:
        return flags, []
    args = [a if isinstance(a, str) else _fsdecode(a) for a in argv]
    if not args[0].startswith("-"):
        return flags, args  # fast path: `vpython script.py ...`
    try:
        end = args.index("--")  # candidates are the args before the first `--`
    except ValueError:
        end = len(args)
    i = 0
    while i < end:
        arg = args[i]
        if len(arg) < 2 or arg[0] != "-":
            break  # positional (or `-`, python's stdin)
        name = arg[2:] if arg[1] == "-" else arg[1:]
        value = None
        eq = name.find("=")
        if eq >= 0:
            name, value = name[:eq], name[eq + 1 :]
        display = arg if eq < 0 else arg[: arg.index("=")]
        attr = _VALUED.get(name)
        if attr is not None:
            if value is None:
                if i + 1 >= end:
                    where = "before `--`" if end < len(args) else "at the end"
                    raise UsageError(
                        f"flag needs an argument: {display} (nothing follows it {where})",
                        hint=f"write `{display} VALUE` or `{display}=VALUE`",
                    )
                value = args[i + 1]
                i += 2
            else:
                i += 1
            _set_valued(flags, attr, display, value)
            continue
        attr = _BOOL.get(name)
        if attr is not None:
            setattr(flags, attr, True if value is None else _parse_bool(display, value))
            i += 1
            continue
        if name.startswith("vpython-"):
            raise _unknown_flag(display, name)
        break  # python's flag: it and the rest are python's
    return flags, args[i:]


def _fsdecode(a: bytes) -> str:
    import os

    return os.fsdecode(a)


USAGE = """\
usage: vpython [VPYTHON FLAGS] [--] [PYTHON FLAGS] [SCRIPT | -c CMD | -m MOD | -] [ARGS...]
       vpython SUBCOMMAND [ARGS...]

Runs python in a cached virtualenv built from the script's spec: -vpython-spec, else
<script>.vpython3 beside the script, else an inline [VPYTHON:BEGIN] or PEP 723 block,
else the nearest .vpython3 / vpython.toml above it (stopping at .gclient), else
$VPYTHON_DEFAULT_SPEC. Everything from the first non-vpython flag or argument on is
passed to python unchanged (a `--` included).

vpython flags (-flag and --flag are the same; -flag=value also works):
  -vpython-root DIR            cache root (default: $VPYTHON_VIRTUALENV_ROOT or the user cache dir; "" = temp)
  -vpython-spec PATH           use this spec file; no discovery
  -vpython-log-level LEVEL     debug, info, warning or error (default: error; debug if $VPYTHON_LOG_TRACE)
  -vpython-tool NAME           install: build the env, do not run; verify: check the spec resolves everywhere
  -vpython-interpreter PATH    run this python interpreter instead of choosing one for the spec
  -vpython-index-url URL       package index (PEP 503/691 simple API); 'none' for no index
  -vpython-find-links PATH     extra wheel directory or URL (repeatable)
  -vpython-offline             never touch the network; fail if something is not cached
  -vpython-only-binary         never build a wheel from an sdist (also $VPYTHON_ONLY_BINARY=1)
  -h, -help, --help            print this help, then python's own help (the env is still built)

subcommands (only as the first argument; `vpython -- lock` runs a script named lock):
  vpython lock --help          resolve a spec and write its lockfile
  vpython build --help         build an env, venv directory or pex from a spec
  vpython verify --help        check a spec resolves for every platform it targets
  vpython install --help       build the env for a script or spec without running it
  vpython gc --help            delete envs not used recently (never one in use)
  vpython cache --help         inspect the cache

environment: VPYTHON_VIRTUALENV_ROOT, VPYTHON_DEFAULT_SPEC, VPYTHON_LOG_TRACE, VPYTHON_BYPASS,
             VPYTHON_ONLY_BINARY
"""


def format_help() -> str:
    """The text ``vpython -help`` prints before running ``python -h``."""
    return USAGE
