"""The compatibility corpus: its manifest, and installing its specs the way users do.

Shared by the network test (``tests/integration/test_corpus_install.py``) and the report
(``tools/corpus_report.py``), so both measure exactly the same thing: for every spec in
``tests/corpus/MANIFEST.toml``, ``vpython -vpython-spec SPEC -vpython-tool install`` (an
inline-block script: ``vpython -vpython-tool install SCRIPT``) in a separate process, on
one shared vpython root, against the index vpython is configured with by default (PyPI).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tests.support.vp import REPO, run_vpython

CORPUS_DIR = os.path.join(REPO, "tests", "corpus")
MANIFEST = os.path.join(CORPUS_DIR, "MANIFEST.toml")
KINDS = ("textproto", "vpython2", "inline")
EXPECTED = ("builds", "private", "broken")
INSTALL_TIMEOUT = 1800  # seconds for one spec; a cold sdist build of zstandard takes ~1 min


@dataclass(frozen=True)
class Entry:
    """One corpus file, as MANIFEST.toml describes it."""

    file: str  # relative to tests/corpus
    repository: str
    path: str
    commit: str
    blob: str  # git blob id of the bytes (``git rev-parse COMMIT:PATH`` in the repository)
    url: str
    kind: str
    python: str  # the Python version the spec targets
    expected: str
    interpreter: str = ""  # run on this Python version (-vpython-interpreter)
    private: tuple = ()  # what only Chromium's CIPD has: a PyPI name, or "name==version"
    error_line: int | None = None  # broken specs: the line the error must name
    upstream: str = ""
    notes: str = ""
    features: tuple = ()

    @property
    def abspath(self) -> str:
        return os.path.join(CORPUS_DIR, self.file)

    @property
    def is_inline(self) -> bool:
        return self.kind == "inline"


def load_manifest(path: str = MANIFEST) -> list:
    """Every [[spec]] of the manifest, checked for the fields the tests rely on."""
    from vpython.toml import loads

    with open(path, encoding="utf-8") as f:
        data = loads(f.read())
    entries = []
    for raw in data.get("spec", []):
        raw = dict(raw)
        for key in ("private", "features"):
            raw[key] = tuple(raw.get(key, ()))
        entry = Entry(**raw)
        if entry.kind not in KINDS or entry.expected not in EXPECTED:
            raise ValueError(f"{path}: {entry.file}: bad kind {entry.kind!r} or expected {entry.expected!r}")
        if (entry.expected == "broken") != (entry.error_line is not None):
            raise ValueError(f"{path}: {entry.file}: error_line is for (and required by) broken specs")
        if (entry.expected == "private") != bool(entry.private):
            raise ValueError(f"{path}: {entry.file}: private names are for (and required by) private specs")
        entries.append(entry)
    return entries


def find_python(version: str) -> str | None:
    """A CPython ``version`` ("2.7", "3.8") on PATH or in pyenv, or None."""
    exe = shutil.which(f"python{version}")
    if exe and "shims" not in exe.split(os.sep):
        return exe
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", f"python{version}")))
    return found[-1] if found else exe


def install_args(entry: Entry) -> list:
    """vpython's argv for installing ``entry``'s env (no exec)."""
    args = []
    if entry.interpreter:
        python = find_python(entry.interpreter)
        if python:
            args += ["-vpython-interpreter", python]
    if entry.is_inline:
        return args + ["-vpython-tool", "install", entry.abspath]
    return args + ["-vpython-spec", entry.abspath, "-vpython-tool", "install"]


def run_environ(root: str, scratch: str) -> dict:
    """The child environment: the machine's pip/uv/vpython settings removed (a None value
    removes the variable), a shared vpython root and uv cache, an empty config file."""
    env: dict = {k: None for k in os.environ if k.startswith(("PIP_", "UV_", "VPYTHON_"))}
    config = os.path.join(scratch, "config.toml")
    if not os.path.exists(config):
        os.makedirs(scratch, exist_ok=True)
        open(config, "w").close()
    env.update(
        VPYTHON_VIRTUALENV_ROOT=root,
        VPYTHON_CONFIG=config,
        UV_CACHE_DIR=os.path.join(scratch, "uv-cache"),
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
    )
    return env


@dataclass
class Outcome:
    """What one install did."""

    entry: Entry
    returncode: int | None  # None: timed out, or not run
    seconds: float
    stderr: str = ""
    skipped: str = ""  # why it was not run
    problems: list = field(default_factory=list)  # mismatches with the manifest

    @property
    def result(self) -> str:
        if self.skipped:
            return "skipped"
        if self.returncode is None:
            return "timeout"
        return "built" if self.returncode == 0 else f"exit {self.returncode}"

    @property
    def first_error(self) -> str:
        return first_error_line(self.stderr)


_ERROR = re.compile(r"^(vpython: )?error: ")


def first_error_line(stderr: str) -> str:
    """The first ``error:`` line of vpython's stderr (else its last non-empty line)."""
    lines = [ln.rstrip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if _ERROR.match(ln):
            return _ERROR.sub("", ln, count=1)
    return lines[-1] if lines else ""


def run_install(entry: Entry, root: str, scratch: str, timeout: float = INSTALL_TIMEOUT) -> Outcome:
    """Install ``entry``'s env with vpython; the outcome, checked against the manifest."""
    if entry.interpreter and not find_python(entry.interpreter):
        out = Outcome(entry, None, 0.0, skipped=f"no Python {entry.interpreter} on this machine")
        return out
    cwd = os.path.join(scratch, "cwd")
    os.makedirs(cwd, exist_ok=True)
    start = time.monotonic()
    try:
        proc = run_vpython(install_args(entry), cwd=cwd, env=run_environ(root, scratch), timeout=timeout)
        out = Outcome(entry, proc.returncode, time.monotonic() - start, proc.stderr)
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        out = Outcome(
            entry, None, time.monotonic() - start, err + f"\nerror: timed out after {timeout:.0f} s"
        )
    out.problems = check_outcome(out)
    return out


def check_outcome(out: Outcome) -> list:
    """How ``out`` differs from what the manifest expects (empty: as expected)."""
    e = out.entry
    if out.skipped:
        return []
    if e.expected == "builds":
        return [] if out.returncode == 0 else [f"expected an env, got {out.result}: {out.first_error}"]
    problems = []
    if out.returncode == 0:
        return [f"expected a failure ({e.expected}), but the env was built"]
    if e.expected == "broken":
        where = f"{e.abspath}:{e.error_line}:"
        if out.returncode != 2:
            problems.append(f"expected exit 2 for a broken spec, got {out.result}")
        if where not in out.stderr:
            problems.append(f"the error does not name {where}: {out.first_error}")
        if "Traceback (most recent call last)" in out.stderr:
            problems.append("a traceback instead of a one-line error")
        return problems
    # private: every CIPD-only package (and version, if given) is named, and so is the spec.
    folded = out.stderr.lower().replace("_", "-")
    for item in e.private:
        name, _, version = item.partition("==")
        if name not in folded or version not in out.stderr:
            problems.append(f"the error does not name the private package {item}: {out.first_error}")
    if e.abspath not in out.stderr:
        problems.append(f"the error does not name the spec file {e.abspath}")
    return problems


def run_many(entries, root: str, scratch: str, jobs: int = 2, progress=None, timeout=INSTALL_TIMEOUT) -> list:
    """``run_install`` for every entry, ``jobs`` at a time; outcomes in ``entries`` order.
    ``progress(outcome)`` is called as each one finishes."""

    def one(entry):
        out = run_install(entry, root, scratch, timeout)
        if progress is not None:
            progress(out)
        return out

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, entries))
