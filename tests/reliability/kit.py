"""Shared helpers of the reliability suite: hermetic subprocess environments, store
invariant checks, leftover detection, hostile wheels aimed at a canary directory, and
the scenario ledger that ``conftest.py`` prints at the end of the run (the table in
docs/reliability.md is that output).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import time
import zipfile
from pathlib import Path

from tests.support.vp import vpython_cmd
from tests.support.wheels import (
    _order,
    _record_text,
    _write_zip,
    _zipinfo,
    make_wheel,
    record_hash,
    wheel_contents,
    wheel_filename,
)

# ----------------------------------------------------------------------------- ledger

LEDGER: list = []  # dicts: scenario, trials, failures, leftovers, observed, seconds


def record(scenario: str, *, trials: int, failures: int = 0, leftovers: int = 0, observed: str = "",
           seconds: float | None = None) -> None:
    if failures or leftovers:  # the observed text describes a clean run; do not let it stand alone
        observed = f"NOT AS DESCRIBED ({failures} failures, {leftovers} leftovers): {observed}"
    LEDGER.append({"scenario": scenario, "trials": trials, "failures": failures, "leftovers": leftovers,
                   "observed": observed, "seconds": seconds})


# ----------------------------------------------------------------------------- processes

def vp_env(root, index_url: str | None = None, **extra) -> dict:
    """os.environ (already stripped of PIP_/UV_/VPYTHON_ by the autouse fixture) plus
    the root and index for a child vpython."""
    env = dict(os.environ)
    # As tests.support.isolate_environ sets it, for module-scoped fixtures too (they run
    # before the autouse isolation): a different value would change every spec digest.
    env.setdefault("VPYTHON_SEEDS", "0")
    env["VPYTHON_VIRTUALENV_ROOT"] = str(root)
    if index_url is not None:
        env["VPYTHON_INDEX_URL"] = index_url
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def popen(args, env, cwd, **kw) -> subprocess.Popen:
    return subprocess.Popen(vpython_cmd() + [str(a) for a in args], cwd=str(cwd), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def run(args, env, cwd, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(vpython_cmd() + [str(a) for a in args], cwd=str(cwd), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)


def no_traceback(proc) -> bool:
    return "Traceback" not in proc.stderr and "Traceback" not in proc.stdout


def one_line_error(proc) -> str:
    """The ``vpython: error: ...`` line of a failed run ('' if there is none)."""
    for line in proc.stderr.splitlines():
        if line.startswith("vpython: error: "):
            return line
    return ""


# ----------------------------------------------------------------------------- the cache

def v1(root) -> Path:
    return Path(root) / "v1"


def env_names(root) -> list:
    d = v1(root) / "envs"
    if not d.is_dir():
        return []
    return sorted(n for n in os.listdir(d) if not n.startswith(".") and not n.endswith(".lock"))


def leftovers(root) -> list:
    """Work files of builders that are not running any more: none may remain after runs
    that completed (crashed builders leave theirs until ``vpython gc``)."""
    base = v1(root)
    out = []
    for sub, prefixes in (("envs", (".tmp-",)), ("specs", (".ptr-",)), ("locks", (".lock-",)),
                          ("interpreters", (".probe-",))):
        d = base / sub
        if d.is_dir():
            out += [f"{sub}/{n}" for n in os.listdir(d) if n.startswith(prefixes)]
    tmp = base / "tmp"
    if tmp.is_dir():
        out += [f"tmp/{n}" for n in os.listdir(tmp)]
    return sorted(out)


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def store_problems(root) -> list:
    """Every visible cache entry must be complete; returns what is not.

    * envs/<key>: pyvenv.cfg, bin/python and a metadata file naming that key;
    * store/packages/<entry>: a manifest whose every file matches (size, mtime, read-only);
    * store/wheels/<sha>/<file>: bytes whose sha256 is <sha>;
    * specs/<digest>: a pointer naming an env (which may since have been collected);
    * locks/*.pylock.toml: parses.
    """
    from vpython.store.packages import entry_intact

    base = v1(root)
    problems = []
    for key in env_names(root):
        d = base / "envs" / key
        if not (d / "pyvenv.cfg").is_file():
            problems.append(f"env {key}: no pyvenv.cfg")
            continue
        if not os.path.lexists(d / "bin" / "python"):
            problems.append(f"env {key}: no bin/python")
        try:
            meta = json.loads((d / ".vpython-env.json").read_text())
            if meta.get("key") != key:
                problems.append(f"env {key}: metadata names {meta.get('key')}")
        except (OSError, ValueError) as e:
            problems.append(f"env {key}: metadata: {e}")
    packages = base / "store" / "packages"
    if packages.is_dir():
        for name in os.listdir(packages):
            if name.startswith("."):
                continue
            if not entry_intact(str(packages / name)):
                problems.append(f"package entry {name}: not intact")
    wheels = base / "store" / "wheels"
    if wheels.is_dir():
        for sha in os.listdir(wheels):
            files = os.listdir(wheels / sha)
            if len(files) != 1:
                problems.append(f"wheel dir {sha}: {files}")
            for f in files:
                if _sha256(wheels / sha / f) != sha:
                    problems.append(f"wheel {sha}/{f}: bytes do not match the name")
    specs = base / "specs"
    if specs.is_dir():
        for name in os.listdir(specs):
            if name.startswith("."):
                continue
            text = (specs / name).read_text()
            if not any(line.startswith("env=") for line in text.splitlines()):
                problems.append(f"pointer {name}: {text!r}")
    locks = base / "locks"
    if locks.is_dir():
        from vpython.lock.pylock import parse_lock_text

        for name in os.listdir(locks):
            if name.endswith(".pylock.toml") and not name.startswith("."):
                try:
                    parse_lock_text((locks / name).read_text(), name)
                except Exception as e:  # noqa: BLE001 - any failure is a problem to report
                    problems.append(f"cached lock {name}: {e}")
    return problems


def age_everything(root, seconds: float = 2 * 3600) -> None:
    """Backdate every file under the root, so GC treats crash leftovers as abandoned."""
    old = time.time() - seconds
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            try:
                os.utime(os.path.join(dirpath, n), (old, old), follow_symlinks=False)
            except OSError:
                pass


def tree_snapshot(directory) -> dict:
    """{relative path: (type, size, sha256-or-link)} of everything under ``directory``."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(directory):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, directory)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", 0, "")
            else:
                out[rel] = ("file", st.st_size, _sha256(p))
    return out


# ----------------------------------------------------------------------------- wheels

def make_big_wheel(out_dir, name: str, version: str, megabytes: int, seed: int = 0) -> Path:
    """A valid wheel with ``megabytes`` of incompressible payload: downloads, hashing and
    unpacking take long enough for a randomly timed SIGKILL to land inside them."""
    import random

    rng = random.Random(seed)
    blob = rng.randbytes(megabytes << 20)
    mod = name.replace("-", "_")
    files = {f"{mod}/__init__.py": f"__version__ = {version!r}\n", f"{mod}/blob.bin": blob}
    return make_wheel(out_dir, name, version, files=files)


def make_canary_wheel(out_dir, kind: str, canary: Path, name: str | None = None) -> Path:
    """Hostile wheels aimed at ``canary`` (a directory outside every work dir):

    ``dotdot_canary``    a member ``../../…/<canary>/pwned.py`` (true RECORD hash)
    ``absolute_canary``  a member ``<canary>/pwned.py`` (true RECORD hash)
    ``data_dotdot``      a ``.data/purelib/../../…/<canary>/pwned.py`` member
    ``record_missing``   a payload file that RECORD does not list
    ``duplicate``        the same member name twice (second copy differs)
    ``not_a_zip``        random bytes with a .whl name
    """
    name = name or f"canary-{kind.replace('_', '-')}"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / wheel_filename(name, "1.0")
    if kind == "not_a_zip":
        path.write_bytes(b"PK\x03\x04 this is not really a zip archive " * 10)
        return path
    dist_info, contents = wheel_contents(name, "1.0")
    target = str(canary / "pwned.py").lstrip("/")
    special = {}
    if kind == "dotdot_canary":
        special["../" * 40 + target] = b"print('escaped')\n"
    elif kind == "absolute_canary":
        special["/" + target] = b"print('escaped')\n"
    elif kind == "data_dotdot":
        special[f"{name.replace('-', '_')}-1.0.data/purelib/" + "../" * 40 + target] = b"print('escaped')\n"
    elif kind == "record_missing":
        special[f"{name.replace('-', '_')}/unlisted.py"] = b"print('not in RECORD')\n"
    elif kind not in ("duplicate",):
        raise ValueError(kind)
    contents.update(special)
    order = _order(contents, dist_info)
    record_path = f"{dist_info}/RECORD"
    rows = [(n, record_hash(contents[n]), str(len(contents[n]))) for n in order[:-1] if n not in special
            or kind != "record_missing"] + [(record_path, "", "")]
    contents[record_path] = _record_text(rows)
    entries = [(_zipinfo(n), contents[n]) for n in order]
    if kind == "duplicate":
        first = next(n for n in order if not n.startswith(dist_info))
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
            tmp = path.with_name(path.name + ".part")
            with zipfile.ZipFile(tmp, "w") as zf:
                for zi, data in entries:
                    zf.writestr(zi, data)
                zf.writestr(_zipinfo(first), b"print('second copy')\n")
            tmp.replace(path)
        return path
    _write_zip(path, entries)
    return path
