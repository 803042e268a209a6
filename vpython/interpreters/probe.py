"""Run an interpreter once and remember what it says.

``probe()`` runs the binary with ``-I -S -c <script>`` (stdlib only; the same script runs
on Python 2.7, falling back to ``-E -s -S`` where ``-I`` is unknown, so a 2.7 can be named
and refused clearly) and caches the JSON it prints under the cache dir, keyed by the
binary's identity (real path, size, mtime): a repeated probe is a stat and a small read,
and in one process a dict lookup.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
from collections.abc import Iterable
from typing import Any

from vpython import log
from vpython.errors import InterpreterError
from vpython.fs import write_atomic
from vpython.interpreters.identity import probe_identity
from vpython.interpreters.model import Interpreter

PROBE_FORMAT = "2"  # 2: libc from gnu_get_libc_version where confstr lacks it
PROBE_TIMEOUT = 60
_HINT = (
    "check that it starts (`{path} -c pass`), or choose another with -vpython-interpreter /path/to/python3"
)

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
if libc is None and sys.platform.startswith("linux"):
    # Some builds (pyenv's 2.7) do not know the confstr name: ask glibc, as packaging does.
    try:
        import ctypes
        fn = ctypes.CDLL(None).gnu_get_libc_version
        fn.restype = ctypes.c_char_p
        v = fn()
        libc = "glibc " + (v if isinstance(v, str) else v.decode("ascii"))
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

Identity = tuple[str, int, int]
ProbeData = dict[str, Any]

_MEMO: dict[Identity, ProbeData] = {}  # identity -> probe data, for this process
_MEMO_LOCK = threading.Lock()


def clear_memo() -> None:
    """Forget in-process probe results (tests; the disk cache is untouched)."""
    with _MEMO_LOCK:
        _MEMO.clear()


def _cache_file(cache_dir: str, identity: Identity, kind: str) -> str:
    key = "\0".join([PROBE_FORMAT, kind, identity[0], str(identity[1]), str(identity[2])])
    return os.path.join(cache_dir, f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.json")


def read_cache(cache_dir: str | None, identity: Identity, kind: str) -> ProbeData | None:
    """The cached ``kind`` answer for ``identity``, or None (absent, corrupt or another binary's)."""
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


def write_cache(cache_dir: str | None, identity: Identity, kind: str, data: ProbeData) -> None:
    if not cache_dir:
        return
    try:
        os.makedirs(cache_dir, exist_ok=True)
        text = json.dumps(dict(data, identity=list(identity)), sort_keys=True)
        write_atomic(_cache_file(cache_dir, identity, kind), text, prefix=".probe-")  # gc sweeps .probe-*
    except OSError as e:  # a read-only cache only costs speed
        log.debug(f"cannot cache interpreter probe in {cache_dir}: {e}")


def _run(cmd: list[str]) -> subprocess.CompletedProcess[bytes]:
    """The one place interpreters are spawned (tests count calls here)."""
    return subprocess.run(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=PROBE_TIMEOUT
    )


def run_probe(path: str, extra: Iterable[str] = ()) -> ProbeData:
    """Spawn ``path`` with the probe script (``extra``: its argv) and parse the JSON it prints."""
    args = list(extra)
    hint = _HINT.format(path=path)
    try:
        proc = _run([path, "-I", "-S", "-c", _PROBE_SCRIPT, *args])
        if proc.returncode != 0 and b"-I" in proc.stderr:  # Python 2.7 / 3.3: no isolated mode
            proc = _run([path, "-E", "-s", "-S", "-c", _PROBE_SCRIPT, *args])
    except subprocess.TimeoutExpired:
        raise InterpreterError(
            f"interpreter did not answer within {PROBE_TIMEOUT}s", path=path, hint=hint
        ) from None
    except OSError as e:
        raise InterpreterError(f"cannot run interpreter: {e.strerror or e}", path=path, hint=hint) from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InterpreterError(
            f"interpreter failed to start (exit {proc.returncode})" + (f": {detail[-1]}" if detail else ""),
            path=path,
            hint=hint,
        )
    try:
        data = json.loads(proc.stdout.decode("utf-8"))
        data["version_info"][:3]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise InterpreterError(
            "does not look like a Python interpreter (unexpected probe output)",
            path=path,
            hint="point -vpython-interpreter at a CPython 3.8+ binary",
        )
    return data


def known(identity: Identity, cache_dir: str | None) -> bool:
    """Whether probing ``identity`` needs no spawn (memoized, or in the disk cache, which
    is then memoized)."""
    with _MEMO_LOCK:
        if identity in _MEMO:
            return True
    data = read_cache(cache_dir, identity, "probe")
    if data is None:
        return False
    with _MEMO_LOCK:
        _MEMO[identity] = data
    return True


def _probe_data(path: str, identity: Identity, cache_dir: str | None) -> ProbeData:
    with _MEMO_LOCK:
        data = _MEMO.get(identity)
    if data is None:
        data = read_cache(cache_dir, identity, "probe")
        if data is None:
            data = run_probe(path)
            write_cache(cache_dir, identity, "probe", data)
        with _MEMO_LOCK:
            _MEMO[identity] = data
    return data


def probe(path: str, cache_dir: str | None = None) -> Interpreter:
    """Describe the interpreter at ``path`` (cached by identity). Raises InterpreterError."""
    try:
        identity = probe_identity(path)
    except OSError as e:
        raise InterpreterError(
            f"interpreter not found ({e.strerror})",
            path=path,
            hint="pass an existing interpreter with -vpython-interpreter, or install the Python the spec names",
        ) from None
    data = _probe_data(path, identity, cache_dir)
    vi = data["version_info"]
    version = tuple(int(x) for x in vi[:3])
    return Interpreter(
        path=path,
        version=version,
        implementation=str(data.get("implementation") or ""),
        # Python 2 has no sys.implementation.cache_tag; its .pyc files are CPython 2.7's.
        cache_tag=data.get("cache_tag") or (f"cpython-{version[0]}{version[1]}" if version[0] < 3 else None),
        abiflags=data.get("abiflags") or "",
        platform=str(data.get("platform") or ""),
        is_64bit=bool(data.get("is_64bit")),
        purelib=data.get("purelib") or _default_site(version),
        platlib=data.get("platlib") or _default_site(version),
        identity=identity,
        releaselevel=str(vi[3]) if len(vi) > 3 else "final",
        serial=int(vi[4]) if len(vi) > 4 else 0,
        probe=data,
        cache_dir=cache_dir,
    )


def _default_site(version: tuple[int, ...]) -> str:
    """Where site-packages sits in a venv, for probes that could not say (no sysconfig)."""
    if os.name == "nt":
        return "Lib/site-packages"
    return f"lib/python{version[0]}.{version[1]}/site-packages"
