"""Find, probe and choose the CPython interpreter an env is built on.

* ``find_interpreters()`` looks on PATH (``python3``, ``python3.N``), under pyenv
  (``$PYENV_ROOT/versions/*/bin/python3.N`` — the real binaries, never the shims, which
  cost ~100 ms each), through the Windows ``py`` launcher (``py -0p``) and at the
  interpreter running vpython, de-duplicated by real path.
* ``probe()`` runs an interpreter once with ``-I -S -c <script>`` (stdlib only; the same
  script runs on Python 2.7, falling back to ``-E -s -S`` where ``-I`` is unknown, so a
  2.7 can be named and refused clearly) and caches the JSON it prints under the cache dir,
  keyed by the binary's identity (real path, size, mtime): a repeated probe is a stat and
  a small read.
* ``select_interpreter()`` applies ``python_version`` / ``requires-python`` / an
  explicit path; ``target_tags()`` and ``marker_environment()`` describe the chosen
  interpreter (not the one running vpython) for wheel selection.

Not on the warm path: ``packaging`` is imported inside the functions that need it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from vpython import log
from vpython.errors import InterpreterError, UserError

MIN_VERSION = (3, 8)
UNSUPPORTED_2 = "Python 2.7 is not supported by vpython; envs need CPython 3.8+"
PROBE_FORMAT = "1"
PROBE_TIMEOUT = 60

# Runs inside the candidate interpreter. Stdlib only, and valid Python 2.7 *and* 3.x.
# argv[1], when given, is a directory holding ``packaging``: then the interpreter's own
# ``sys_tags()`` is reported too.
_PROBE_SCRIPT = r"""
import sys
sys.path[:] = [p for p in sys.path if p not in ("", ".")]
import json, os, platform
try:
    import sysconfig
except ImportError:
    sysconfig = None

def cv(name):
    try:
        return sysconfig.get_config_var(name)
    except Exception:
        return None

def fv(info):
    v = "%d.%d.%d" % (info[0], info[1], info[2])
    if info[3] != "final":
        v += info[3][0] + str(info[4])
    return v

def rel(name, scheme):
    try:
        base = os.path.abspath(os.sep + "vpython-probe-base")
        keys = ("base", "platbase", "installed_base", "installed_platbase")
        full = sysconfig.get_path(name, scheme, dict((k, base) for k in keys))
        return os.path.relpath(full, base).replace(os.sep, "/")
    except Exception:
        return None

impl = getattr(sys, "implementation", None)
vi = sys.version_info
try:
    names = sysconfig.get_scheme_names()
except Exception:
    names = ()
scheme = "venv" if "venv" in names else ("nt" if os.name == "nt" else "posix_prefix")
try:
    from importlib.machinery import EXTENSION_SUFFIXES as ext
except ImportError:
    ext = []
try:
    libc = os.confstr("CS_GNU_LIBC_VERSION")
except Exception:
    libc = None
d = {
    "executable": sys.executable,
    "version_info": [vi[0], vi[1], vi[2], vi[3], vi[4]],
    "implementation": impl.name if impl else platform.python_implementation().lower(),
    "cache_tag": getattr(impl, "cache_tag", None),
    "abiflags": getattr(sys, "abiflags", ""),
    "platform": sysconfig.get_platform() if sysconfig else sys.platform,
    "is_64bit": sys.maxsize > 2 ** 32,
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "purelib": rel("purelib", scheme),
    "platlib": rel("platlib", scheme),
    "config": dict((k, cv(k)) for k in ("Py_DEBUG", "Py_GIL_DISABLED", "WITH_PYMALLOC", "Py_UNICODE_SIZE",
                                         "py_version_nodot", "SOABI", "EXT_SUFFIX", "MULTIARCH")),
    "has_refcount": hasattr(sys, "gettotalrefcount"),
    "maxunicode": sys.maxunicode,
    "ext_suffixes": list(ext),
    "libc": libc,
    "markers": {
        "implementation_name": impl.name if impl else "",
        "implementation_version": fv(impl.version) if impl else "0",
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    },
}
if len(sys.argv) > 1:
    try:
        sys.path.insert(0, sys.argv[1])
        from packaging.tags import sys_tags
        d["tags"] = [str(t) for t in sys_tags()]
    except Exception as e:
        d["tags_error"] = "%s: %s" % (type(e).__name__, e)
sys.stdout.write(json.dumps(d))
"""

_RELEASE_RANK = {"alpha": 0, "beta": 1, "candidate": 2, "final": 3}


@dataclass(frozen=True)
class Interpreter:
    """A probed interpreter. Equality and hashing use the identity, not the path spelling."""

    path: str
    version: tuple  # (3, 11, 7)
    implementation: str  # "cpython"
    cache_tag: str | None  # "cpython-311" (None on 2.7)
    abiflags: str  # sys.abiflags ("" on Windows and for plain builds; "t" free-threaded, "d" debug)
    platform: str  # sysconfig.get_platform(): "linux-x86_64", "macosx-11.0-arm64", "win-amd64"
    is_64bit: bool  # sys.maxsize > 2**32
    purelib: str  # relative layout of a venv's purelib: "lib/python3.11/site-packages", "Lib/site-packages"
    platlib: str
    identity: tuple  # (realpath, st_size, st_mtime_ns): what cache keys use
    releaselevel: str = "final"
    serial: int = 0
    probe: dict = field(default_factory=dict, compare=False, repr=False)
    cache_dir: str | None = field(default=None, compare=False, repr=False)

    @property
    def realpath(self) -> str:
        return self.identity[0]

    @property
    def identity_key(self) -> str:
        return f"{self.identity[0]}:{self.identity[1]}:{self.identity[2]}"

    @property
    def version_string(self) -> str:
        """PEP 440 spelling of the full version: "3.11.7", "3.13.0rc1"."""
        v = ".".join(map(str, self.version))
        if self.releaselevel != "final":
            v += {"alpha": "a", "beta": "b", "candidate": "rc"}.get(self.releaselevel, "") + str(self.serial)
        return v

    @property
    def supported(self) -> bool:
        return self.implementation == "cpython" and tuple(self.version[:2]) >= MIN_VERSION

    @property
    def sort_key(self) -> tuple:
        return (tuple(self.version), _RELEASE_RANK.get(self.releaselevel, 0), self.serial)

    def describe(self) -> str:
        impl = {"cpython": "CPython", "pypy": "PyPy"}.get(self.implementation, self.implementation)
        return f"{impl} {self.version_string} ({self.path})"


# --------------------------------------------------------------------------- probing

_MEMO: dict = {}  # identity -> probe data, for this process
_MEMO_LOCK = threading.Lock()


def clear_memo() -> None:
    """Forget in-process probe results (tests; the disk cache is untouched)."""
    with _MEMO_LOCK:
        _MEMO.clear()


def _identity(path: str) -> tuple:
    real = os.path.realpath(path)
    st = os.stat(real)
    return (real, st.st_size, st.st_mtime_ns)


def _cache_file(cache_dir: str, identity: tuple, kind: str) -> str:
    key = "\0".join([PROBE_FORMAT, kind, identity[0], str(identity[1]), str(identity[2])])
    return os.path.join(cache_dir, f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.json")


def _read_cache(cache_dir: str | None, identity: tuple, kind: str) -> dict | None:
    if not cache_dir:
        return None
    try:
        with open(_cache_file(cache_dir, identity, kind), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.pop("identity", None) != list(identity):
        return None
    return data


def _write_cache(cache_dir: str | None, identity: tuple, kind: str, data: dict) -> None:
    if not cache_dir:
        return
    import tempfile

    try:
        os.makedirs(cache_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".probe-", dir=cache_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(dict(data, identity=list(identity)), f, sort_keys=True)
        os.replace(tmp, _cache_file(cache_dir, identity, kind))
    except OSError as e:  # a read-only cache only costs speed
        log.debug(f"cannot cache interpreter probe in {cache_dir}: {e}")


def _run(cmd: list) -> subprocess.CompletedProcess:
    """The one place interpreters are spawned (tests count calls here)."""
    return subprocess.run(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=PROBE_TIMEOUT
    )


def _run_probe(path: str, extra: Iterable[str] = ()) -> dict:
    extra = list(extra)
    try:
        proc = _run([path, "-I", "-S", "-c", _PROBE_SCRIPT, *extra])
        if proc.returncode != 0 and b"-I" in proc.stderr:  # Python 2.7 / 3.3: no isolated mode
            proc = _run([path, "-E", "-s", "-S", "-c", _PROBE_SCRIPT, *extra])
    except subprocess.TimeoutExpired:
        raise InterpreterError(f"interpreter {path} did not answer within {PROBE_TIMEOUT}s") from None
    except OSError as e:
        raise InterpreterError(f"cannot run interpreter {path}: {e.strerror or e}") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InterpreterError(
            f"interpreter {path} failed to start (exit {proc.returncode})"
            + (f": {detail[-1]}" if detail else "")
        )
    try:
        data = json.loads(proc.stdout.decode("utf-8"))
        data["version_info"][:3]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InterpreterError(
            f"{path} does not look like a Python interpreter (unexpected probe output)"
        ) from None
    return data


def _probe_data(path: str, identity: tuple, cache_dir: str | None) -> dict:
    with _MEMO_LOCK:
        data = _MEMO.get(identity)
    if data is None:
        data = _read_cache(cache_dir, identity, "probe")
        if data is None:
            data = _run_probe(path)
            _write_cache(cache_dir, identity, "probe", data)
        with _MEMO_LOCK:
            _MEMO[identity] = data
    return data


def probe(path: str, cache_dir: str | None = None) -> Interpreter:
    """Describe the interpreter at ``path`` (cached by identity). Raises InterpreterError."""
    try:
        identity = _identity(path)
    except OSError as e:
        raise InterpreterError(f"interpreter {path} not found ({e.strerror})") from None
    data = _probe_data(path, identity, cache_dir)
    vi = data["version_info"]
    version = tuple(int(x) for x in vi[:3])
    return Interpreter(
        path=path,
        version=version,
        implementation=str(data.get("implementation") or ""),
        cache_tag=data.get("cache_tag"),
        abiflags=data.get("abiflags") or "",
        platform=str(data.get("platform") or ""),
        is_64bit=bool(data.get("is_64bit")),
        purelib=data.get("purelib") or _default_site(version, "purelib"),
        platlib=data.get("platlib") or _default_site(version, "platlib"),
        identity=identity,
        releaselevel=str(vi[3]) if len(vi) > 3 else "final",
        serial=int(vi[4]) if len(vi) > 4 else 0,
        probe=data,
        cache_dir=cache_dir,
    )


def _default_site(version: tuple, _kind: str) -> str:
    if os.name == "nt":
        return "Lib/site-packages"
    return f"lib/python{version[0]}.{version[1]}/site-packages"


# --------------------------------------------------------------------------- discovery

_POSIX_NAME = re.compile(r"^python3(\.\d+)?$")
_WIN_NAME = re.compile(r"^python(3(\.\d+)?)?\.exe$", re.IGNORECASE)
_PYENV_NAME = re.compile(r"^python3\.\d+(\.exe)?$|^python\.exe$", re.IGNORECASE)


def _is_binary(path: str) -> bool:
    """A real executable, not a shell-script shim (pyenv's shims start with ``#!``)."""
    try:
        if not os.path.isfile(path) or not os.access(path, os.X_OK):
            return False
        with open(path, "rb") as f:
            return f.read(2) != b"#!"
    except OSError:
        return False


def pyenv_root() -> str:
    return os.environ.get("PYENV_ROOT") or os.path.join(os.path.expanduser("~"), ".pyenv")


def _path_candidates() -> list:
    out = []
    windows = os.name == "nt"
    pattern = _WIN_NAME if windows else _POSIX_NAME
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if not d or (windows and "windowsapps" in d.lower()):  # store aliases are stubs
            continue
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        out += [os.path.join(d, n) for n in names if pattern.match(n)]
    return out


def _pyenv_candidates() -> list:
    versions = os.path.join(pyenv_root(), "versions")
    try:
        entries = sorted(os.listdir(versions))
    except OSError:
        return []
    out = []
    for v in entries:
        for sub in ("bin", ""):  # POSIX layout; pyenv-win keeps python.exe at the top
            d = os.path.join(versions, v, sub) if sub else os.path.join(versions, v)
            try:
                names = sorted(os.listdir(d))
            except OSError:
                continue
            out += [os.path.join(d, n) for n in names if _PYENV_NAME.match(n)]
    return out


def _py_launcher_candidates() -> list:
    if os.name != "nt":
        return []
    py = shutil.which("py")
    if not py:
        return []
    try:
        proc = subprocess.run(
            [py, "-0p"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=PROBE_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    out = []
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) == 2 and parts[0].startswith("-"):
            path = parts[1].strip().strip("*").strip()
            if path.lower().endswith(".exe"):
                out.append(path)
    return out


def default_interpreter_path() -> str:
    """The interpreter vpython builds envs on when the spec names none.

    That is the Python running vpython — but its *base* interpreter when vpython itself
    runs from a virtualenv (pipx, ``pip install`` into a venv): envs must not depend on
    vpython's own venv, whose removal or upgrade would otherwise strand them, and the
    base binary's identity is what stays stable. Found via ``sys._base_executable``, else
    pyvenv.cfg's ``home``; falls back to ``sys.executable``.
    """
    exe = sys.executable
    if sys.prefix == getattr(sys, "base_prefix", sys.prefix):
        return exe
    base = getattr(sys, "_base_executable", None)
    if base and os.path.isfile(base) and not _inside(base, sys.prefix):
        return base
    home = _pyvenv_home(sys.prefix)
    if home:
        v = sys.version_info
        names = ["python.exe"] if os.name == "nt" else [f"python{v[0]}.{v[1]}", f"python{v[0]}", "python"]
        for name in names:
            cand = os.path.join(home, name)
            if os.path.isfile(cand):
                return cand
    return exe


def _inside(path: str, directory: str) -> bool:
    try:
        return os.path.commonpath([os.path.abspath(path), os.path.abspath(directory)]) == os.path.abspath(
            directory
        )
    except ValueError:
        return False


def _pyvenv_home(prefix: str) -> str | None:
    try:
        with open(os.path.join(prefix, "pyvenv.cfg"), encoding="utf-8") as f:
            for line in f:
                key, sep, value = line.partition("=")
                if sep and key.strip().lower() == "home":
                    return value.strip()
    except OSError:
        pass
    return None


def candidate_paths() -> list:
    """Interpreter paths worth probing, best-known first, de-duplicated by real path."""
    seen, out = set(), []
    groups = [
        [default_interpreter_path()],
        _path_candidates(),
        _pyenv_candidates(),
        _py_launcher_candidates(),
        [sys.executable],
    ]
    for group in groups:
        for path in group:
            try:
                real = os.path.realpath(path)
            except (OSError, ValueError):
                continue
            if real in seen or not _is_binary(real):
                continue
            seen.add(real)
            out.append(path)
    return out


def find_interpreters(cache_dir: str | None = None) -> list:
    """Every CPython found (any version, newest first; ties keep discovery order)."""
    paths = candidate_paths()
    results: dict = {}

    def one(path: str) -> None:
        try:
            results[path] = probe(path, cache_dir)
        except InterpreterError as e:
            log.debug(f"skipping {path}: {e.message}")

    uncached = []
    for p in paths:
        try:
            ident = _identity(p)
        except OSError:
            continue
        with _MEMO_LOCK:
            known = ident in _MEMO
        if not known:
            data = _read_cache(cache_dir, ident, "probe")
            if data is not None:
                with _MEMO_LOCK:
                    _MEMO[ident] = data
                known = True
        if known:
            one(p)
        else:
            uncached.append(p)
    if len(uncached) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(8, len(uncached))) as pool:
            list(pool.map(one, uncached))
    elif uncached:
        one(uncached[0])
    found = [results[p] for p in paths if p in results and results[p].implementation == "cpython"]
    found.sort(key=lambda i: i.sort_key, reverse=True)
    return found


# --------------------------------------------------------------------------- selection


def _parse_version(version: str) -> tuple:
    text = version.strip()
    if text.lower().startswith("python"):
        text = text[6:].strip()
    if not re.fullmatch(r"\d+(\.\d+){0,2}", text):
        raise UserError(f'python_version "{version}" is not a version like "3", "3.11" or "3.11.4"')
    want = tuple(int(x) for x in text.split("."))
    if want[0] < 3:
        raise InterpreterError(
            f'python_version "{version}": {UNSUPPORTED_2}',
            hint='set python_version to "3.8" or newer (for example "3.11")',
        )
    if len(want) >= 2 and want[:2] < MIN_VERSION:
        raise InterpreterError(
            f'python_version "{version}": Python {want[0]}.{want[1]} is not supported by vpython; '
            "envs need CPython 3.8+",
            hint='set python_version to "3.8" or newer (for example "3.11")',
        )
    return want


def _parse_requires_python(text: str):
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(text)
    except InvalidSpecifier as e:
        raise UserError(f'requires-python "{text}" is not a valid version specifier: {e}') from None


def _matches(interp: Interpreter, want: tuple, spec) -> bool:
    if want and tuple(interp.version[: len(want)]) != want:
        return False
    return not (spec is not None and not spec.contains(interp.version_string, prereleases=True))


def _check_supported(interp: Interpreter, origin: str) -> None:
    if interp.implementation != "cpython":
        raise InterpreterError(
            f"{origin} {interp.path} is {interp.describe().split(' (')[0]}; vpython envs need CPython 3.8+"
        )
    if interp.version[0] < 3:
        raise InterpreterError(
            f"{origin} {interp.path} is Python {interp.version_string}: {UNSUPPORTED_2}",
            hint="point -vpython-interpreter at a CPython 3.8+ (for example python3.11)",
        )
    if tuple(interp.version[:2]) < MIN_VERSION:
        raise InterpreterError(
            f"{origin} {interp.path} is Python {interp.version_string}, which vpython does not support; "
            "envs need CPython 3.8+",
            hint="point -vpython-interpreter at a CPython 3.8+",
        )


def _resolve_explicit(explicit: str) -> str:
    path = os.path.expanduser(explicit)
    if os.sep in path or (os.altsep and os.altsep in path) or os.path.exists(path):
        if not os.path.exists(path):
            raise InterpreterError(f"interpreter {explicit} does not exist")
        return os.path.abspath(path)
    found = shutil.which(path)
    if not found:
        raise InterpreterError(f"interpreter {explicit} not found on PATH")
    return found


def _unshim(path: str) -> str:
    """A script standing in for python (a pyenv shim) -> the binary it runs today, so the
    identity cache keys on what really executes."""
    if _is_binary(os.path.realpath(path)):
        return path
    exe = _run_probe(path).get("executable")
    return exe if exe and os.path.isfile(exe) else path


def select_interpreter(
    version: str = "",
    requires_python: str = "",
    explicit: str | None = None,
    cache_dir: str | None = None,
) -> Interpreter:
    """Choose the interpreter an env is built on.

    * ``explicit`` (``-vpython-interpreter``) wins: it must exist and be CPython 3.8+; a
      mismatch with the spec's version constraints is a warning, not an error.
    * ``version``: "3.11" → the newest 3.11.x found, "3" → the newest 3.x, "3.11.4" →
      exactly that; "2"/"2.7" (and 3.0-3.7) are refused with a hint to set 3.8+.
    * ``requires_python`` alone: the default interpreter (below) if it satisfies, else
      the newest that does. With ``version`` too, both must hold.
    * nothing: ``default_interpreter_path()`` — the Python running vpython, or its base
      interpreter when vpython runs inside a virtualenv (see that function for why).

    Raises InterpreterError listing what was found and how to get a matching Python.
    """
    want = _parse_version(version) if version and version.strip() else ()
    spec = _parse_requires_python(requires_python) if requires_python and requires_python.strip() else None
    if explicit:
        interp = probe(_unshim(_resolve_explicit(explicit)), cache_dir)
        _check_supported(interp, "-vpython-interpreter")
        if not _matches(interp, want, spec):
            log.warning(
                f"-vpython-interpreter {interp.path} is Python {interp.version_string}, which does not "
                f"match the spec's {_describe_request(version, requires_python)}; using it anyway"
            )
        return interp
    if not want and spec is None:
        interp = probe(default_interpreter_path(), cache_dir)
        _check_supported(interp, "the interpreter running vpython,")
        return interp
    if not want:
        try:
            default = probe(default_interpreter_path(), cache_dir)
        except InterpreterError:
            default = None
        if default is not None and default.supported and _matches(default, want, spec):
            return default
    found = find_interpreters(cache_dir)
    ok = [i for i in found if i.supported and _matches(i, want, spec)]
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


def _not_found(version: str, requires_python: str, want: tuple, found: list) -> InterpreterError:
    listing = ", ".join(i.describe() + ("" if i.supported else " [unsupported]") for i in found) or "none"
    suggestion = ".".join(map(str, want)) if want else "<a version matching " + requires_python + ">"
    return InterpreterError(
        f"no installed CPython matches {_describe_request(version, requires_python)}; found: {listing}",
        hint=(
            f"install one (e.g. `pyenv install {suggestion}`, or your OS package manager / python.org "
            "installer), or choose one explicitly with -vpython-interpreter /path/to/python3"
        ),
    )


# --------------------------------------------------------------------------- tags and markers


def marker_environment(interp: Interpreter) -> dict:
    """PEP 508 marker values of ``interp`` itself (as packaging's default_environment())."""
    return dict(interp.probe.get("markers") or {})


def _host_libc() -> str | None:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        return None


def same_platform(interp: Interpreter) -> bool:
    """Whether ``interp`` runs on the platform this process's ``platform_tags()`` describe."""
    import platform

    return (
        interp.platform == sysconfig.get_platform()
        and interp.is_64bit == (sys.maxsize > 2**32)
        and interp.probe.get("libc") == _host_libc()
        and marker_environment(interp).get("platform_machine") == platform.machine()
    )


def cpython_abis(interp: Interpreter) -> list:
    """``packaging.tags._cpython_abis`` evaluated with the target's config vars."""
    cfg = interp.probe.get("config") or {}
    v = tuple(interp.version[:2])
    nodot = f"{v[0]}{v[1]}"
    abis = []
    threading_ = debug = pymalloc = ucs4 = ""
    with_debug = cfg.get("Py_DEBUG")
    has_refcount = bool(interp.probe.get("has_refcount"))
    has_ext = "_d.pyd" in (interp.probe.get("ext_suffixes") or [])
    if with_debug or (with_debug is None and (has_refcount or has_ext)):
        debug = "d"
    if v >= (3, 13) and cfg.get("Py_GIL_DISABLED"):
        threading_ = "t"
    if v < (3, 8):
        with_pymalloc = cfg.get("WITH_PYMALLOC")
        if with_pymalloc or with_pymalloc is None:
            pymalloc = "m"
        if v < (3, 3):
            unicode_size = cfg.get("Py_UNICODE_SIZE")
            if unicode_size == 4 or (unicode_size is None and interp.probe.get("maxunicode") == 0x10FFFF):
                ucs4 = "u"
    elif debug:
        abis.append(f"cp{nodot}{threading_}")
    abis.insert(0, f"cp{nodot}{threading_}{debug}{pymalloc}{ucs4}")
    return abis


def _tags_here(interp: Interpreter) -> list:
    from packaging import tags

    pyver = tuple(interp.version[:2])
    platforms = list(tags.platform_tags())
    nodot = (interp.probe.get("config") or {}).get("py_version_nodot") or f"{pyver[0]}{pyver[1]}"
    out = list(tags.cpython_tags(python_version=pyver, abis=cpython_abis(interp), platforms=platforms))
    out += list(tags.compatible_tags(python_version=pyver, interpreter=f"cp{nodot}", platforms=platforms))
    return out


def _tags_in_target(interp: Interpreter) -> list:
    """``sys_tags()`` computed by the target itself, with our ``packaging`` on its path."""
    import packaging
    from packaging.tags import Tag

    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(packaging.__file__)))
    kind = f"tags-{packaging.__version__}"
    data = _read_cache(interp.cache_dir, interp.identity, kind)
    if data is None:
        data = _run_probe(interp.path, [pkg_parent])
        if "tags" in data:
            _write_cache(interp.cache_dir, interp.identity, kind, {"tags": data["tags"]})
    if "tags" not in data:
        from packaging import tags

        log.warning(
            f"cannot compute PEP 425 tags inside {interp.path} ({data.get('tags_error', 'unknown error')}); "
            f"assuming only {interp.platform}-specific and pure-Python wheels fit"
        )
        pyver = tuple(interp.version[:2])
        plats = [re.sub(r"[-. ]", "_", interp.platform)]
        return list(
            tags.cpython_tags(python_version=pyver, abis=cpython_abis(interp), platforms=plats)
        ) + list(
            tags.compatible_tags(python_version=pyver, interpreter=f"cp{pyver[0]}{pyver[1]}", platforms=plats)
        )
    return [Tag(*t.split("-", 2)) for t in data["tags"]]


def target_tags(interp: Interpreter) -> list:
    """The target interpreter's own PEP 425 tags, most preferred first (== its ``sys_tags()``).

    On this process's platform they are computed here (no spawn): ``cpython_tags`` with the
    target's version and ABIs over this host's ``platform_tags()``, then
    ``compatible_tags``. Otherwise (another bitness, libc, architecture or a non-CPython)
    the target computes ``sys_tags()`` itself, cached by identity.
    """
    if interp.implementation == "cpython" and same_platform(interp):
        return _tags_here(interp)
    return _tags_in_target(interp)
