"""Resolution through uv (a PyPI wheel that ships its binary).

uv was measured here at 0.43 s for a five-package universal lock where ``pex3 lock
create`` took about 10 s and ``pip lock`` 1.9 s (reference/bench-anchors.md), and it
writes PEP 751 directly. vpython drives it as a subprocess and treats its output as
input to our own selection and writer (``vpython.lock.select``,
``vpython.lock.pylock.render_lock``), so the bytes a user checks in do not depend on
uv's formatting. ``compile_pylock`` (one interpreter, used by runs without a lockfile)
returns uv's text as is; ``start``/``resolve`` (``vpython lock``) return candidates for
every target of one universal resolution.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from vpython.errors import ResolutionError, UserError
from vpython.settings import Sources, redact

# Variables uv would otherwise read from the user's environment and that could make a
# resolution differ from what the spec and settings say.
_UV_ENV_KEEP = ("UV_CACHE_DIR", "UV_NATIVE_TLS", "SSL_CERT_FILE", "SSL_CERT_DIR")


def uv_binary() -> str:
    # The finder lives in the bottom layer: the store runs uv too (sdist builds).
    from vpython.uvbin import uv_binary as find

    return find()


def _uv_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_"))}
    for k in _UV_ENV_KEEP:
        if k in os.environ:
            env[k] = os.environ[k]
    env["UV_NO_PROGRESS"] = "1"
    return env


def source_args(sources: Sources) -> list:
    args = []
    if sources.index_url:
        args += ["--index-url", sources.index_url]
    else:
        args += ["--no-index"]
    for url in sources.extra_index_urls:
        args += ["--extra-index-url", url]
    for fl in sources.find_links:
        args += ["--find-links", fl]
    if sources.offline:
        args += ["--offline"]
    if sources.exclude_newer:
        args += ["--exclude-newer", sources.exclude_newer]
    return args


# uv's hint when a package has no usable wheel but has an sdist. It names `--no-build`,
# a flag the user never passed (vpython passes --only-binary :all:), so vpython says
# what it means instead.
_SDIST_ONLY_HINT = re.compile(
    r"^\s*hint: Wheels are required for `([^`]+)` because building from source is disabled[^\n]*\n?", re.M
)


def resolution_error(detail: str, context: str = "", hint: str | None = None) -> ResolutionError:
    """A ResolutionError from uv's (redacted) stderr; sdist-only packages get our words."""
    where = f" for {context}" if context else ""
    names = list(dict.fromkeys(_SDIST_ONLY_HINT.findall(detail)))
    if names:
        listed = ", ".join(names)
        detail = _SDIST_ONLY_HINT.sub("", detail).strip()
        verb = "has" if len(names) == 1 else "have"
        return ResolutionError(
            f"cannot resolve the requirements{where}: {listed} {verb} only an sdist (no usable wheel); "
            f"vpython locks and installs wheels only\n{detail}",
            hint=(
                f"build a wheel (pip wheel --no-deps {names[0]} -w wheelhouse) into a --find-links "
                "directory and pass --find-links wheelhouse, or pick a version that publishes wheels"
            ),
        )
    return ResolutionError(f"cannot resolve the requirements{where}:\n{detail}", hint=hint)


def compile_pylock(
    requirements: list,
    sources: Sources,
    *,
    python: str | None = None,
    python_version: str | None = None,
    python_platform: str | None = None,
    universal: bool = False,
    no_deps: bool = False,
    upgrade: bool = False,
    context: str = "",
) -> str:
    """Resolve ``requirements`` and return uv's pylock.toml text."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="vpython-lock-") as tmp:
        req_file = os.path.join(tmp, "requirements.in")
        with open(req_file, "w", encoding="utf-8") as f:
            f.write("".join(r + "\n" for r in requirements))
        out = os.path.join(tmp, "pylock.toml")
        cmd = [
            uv_binary(),
            "pip",
            "compile",
            req_file,
            "-o",
            out,
            "--format",
            "pylock.toml",
            "--no-config",
            "--quiet",
            "--no-header",
            "--only-binary",
            ":all:",
        ]
        if python:
            cmd += ["--python", python]
        if python_version:
            cmd += ["--python-version", python_version]
        if python_platform:
            cmd += ["--python-platform", python_platform]
        if universal:
            cmd += ["--universal"]
        if no_deps:
            cmd += ["--no-deps"]
        cmd += source_args(sources)
        proc = subprocess.run(
            cmd,
            env=_uv_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if proc.returncode != 0:
            raise resolution_error(redact((proc.stderr or proc.stdout).strip()), context)
        with open(out, encoding="utf-8") as f:
            return f.read()


def file_url_path(url: str) -> str:
    """``file:`` URL -> local path (``urllib.request.url2pathname`` without importing
    urllib.request, which drags in http.client and email: 30 ms of a 300 ms lock)."""
    from urllib.parse import unquote, urlsplit

    path = unquote(urlsplit(url).path)
    if os.name == "nt":  # pragma: no cover - file:///C:/x -> C:\\x
        if len(path) >= 3 and path[0] == "/" and path[2] == ":":
            path = path[1:]
        path = path.replace("/", "\\")
    return path


def _basename(url_or_path: str) -> str:
    from urllib.parse import unquote

    tail = url_or_path.split("#", 1)[0].split("?", 1)[0].replace("\\", "/").rsplit("/", 1)[-1]
    return unquote(tail)


def _raw_wheel(entry: dict, base_dir: str):
    """A uv pylock wheel table -> RawWheel (file: URLs become absolute paths)."""
    from vpython.lock.model import RawWheel

    url = entry.get("url")
    path = entry.get("path")
    hashes = entry.get("hashes") or {}
    sha = hashes.get("sha256")
    if not sha:
        return None
    if url and url.startswith("file:"):
        path, url = file_url_path(url), None
    elif path and not os.path.isabs(path):
        path = os.path.normpath(os.path.join(base_dir, path))
    name = entry.get("name") or _basename(url or path or "")
    if not name.endswith(".whl"):
        return None
    return RawWheel(filename=name, sha256=sha, url=url, path=path, size=entry.get("size"))


def candidates_from_pylock(data: dict, targets, base_dir: str) -> list:
    """Candidates from uv's universal pylock: installed where uv's marker is true."""
    from packaging.utils import canonicalize_name

    from vpython.lock.markers import evaluator
    from vpython.lock.model import Candidate

    out = []
    for pkg in data.get("packages") or ():
        evaluate = evaluator(pkg.get("marker"))
        entries = list(pkg.get("wheels") or ())
        if not entries and isinstance(pkg.get("archive"), dict):
            # A direct reference to a wheel file (`name @ https://.../x.whl`): uv locks it
            # as an `archive`; it is one more wheel to select by tags.
            entries = [pkg["archive"]]
        wheels = tuple(w for w in (_raw_wheel(e, base_dir) for e in entries) if w is not None)
        out.append(
            Candidate(
                name=str(canonicalize_name(pkg["name"])),
                version=str(pkg.get("version") or ""),
                wheels=wheels,
                installed_on=frozenset(t.key for t in targets if evaluate(t)),
                has_sdist_only=not wheels and "sdist" in pkg,
            )
        )
    return out


_WHEEL_LINE = re.compile(r'^\s+\{ (?:url|path) = "([^"]+\.whl)".*\},?\s*$')


def _wheel_file_tags(filename: str):
    parts = filename[:-4].split("-")
    if len(parts) not in (5, 6):
        return None
    py, abi, plat = parts[-3:]
    return [f"{p}-{a}-{pl}" for p in py.split(".") for a in abi.split(".") for pl in plat.split(".")]


def prune_wheel_lines(text: str, supported: set) -> str:
    """Drop the wheel lines of uv's universal pylock that no target can install.

    uv lists every wheel of every locked version (numpy alone has ~60); parsing them
    all costs more than the rest of our work. Only whole one-line array elements
    (``    { url = "...whl", ... },``) whose every tag is outside ``supported`` are
    dropped, which leaves valid TOML; anything else is kept for the real parser.
    """
    out = []
    for line in text.splitlines(True):
        m = _WHEEL_LINE.match(line) if line.startswith("    {") else None
        if m:
            tags = _wheel_file_tags(_basename(m.group(1)))
            if tags is not None and not any(t in supported for t in tags):
                continue
        out.append(line)
    return "".join(out)


class UvJob:
    """A running ``uv pip compile``: started early so that the caller can do its own
    preparation (imports, tag tables) while uv resolves.

    Requirements go to uv's stdin and the lock comes back on stdout, unless a previous
    lockfile must seed uv's preferences: uv reads those from its output file, so then a
    private temp dir holds ``pylock.toml``.
    """

    def __init__(
        self, cmd: list, stdin_text: str, tmp, out, targets: list, sources: Sources, context: str
    ) -> None:
        self.tmp, self.out, self.targets, self.sources, self.context = tmp, out, targets, sources, context
        try:
            self.proc = subprocess.Popen(
                cmd,
                env=_uv_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        except OSError as e:
            self._cleanup()
            raise UserError(
                f"cannot run uv ({cmd[0]}): {e.strerror or e}",
                hint="pip install uv, or point VPYTHON_UV_BIN at a uv binary",
            ) from None
        try:
            self.proc.stdin.write(stdin_text)
            self.proc.stdin.close()
        except OSError:  # uv exited early; its stderr says why
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        self.proc.stdin = None  # communicate() must not flush the closed pipe

    def _cleanup(self) -> None:
        if self.tmp:
            import shutil

            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def cancel(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()
        self._cleanup()

    def result(self) -> list:
        """Wait for uv; return [Candidate] (raises ResolutionError with uv's reason)."""
        base_dir = self.tmp or os.getcwd()
        try:
            stdout, stderr = self.proc.communicate()
            if self.proc.returncode != 0:
                hint = None
                if self.sources.offline:
                    hint = "offline mode uses only uv's cache: run once online, or add --find-links"
                raise resolution_error(redact((stderr or stdout).strip()), self.context, hint)
            if self.out:
                with open(self.out, encoding="utf-8") as f:
                    text = f.read()
            else:
                text = stdout
        finally:
            self._cleanup()
        if sys.version_info >= (3, 11):
            import tomllib as toml
        else:  # pragma: no cover
            import tomli as toml
        supported = set()
        for t in self.targets:
            supported.update(t.tag_strings())
        data = toml.loads(prune_wheel_lines(text, supported))
        return candidates_from_pylock(data, self.targets, base_dir)


def start(
    requirements: list,
    sources: Sources,
    targets: list,
    *,
    python: str | None = None,
    previous_lock: str | None = None,
    upgrade: bool = False,
    upgrade_packages=(),
    context: str = "",
) -> UvJob:
    """Start one universal resolution for all ``targets`` (see ``UvJob.result``).

    ``previous_lock`` (the current lockfile's text) seeds uv's preferences, so a
    re-lock keeps every pin that still satisfies the spec unless ``upgrade`` /
    ``upgrade_packages`` say otherwise.
    """
    lowest = min(t.python[:2] for t in targets)
    cmd = [
        uv_binary(),
        "pip",
        "compile",
        "-",
        "--format",
        "pylock.toml",
        "--no-config",
        "--quiet",
        "--no-header",
        "--only-binary",
        ":all:",
        "--universal",
        "--python-version",
        f"{lowest[0]}.{lowest[1]}",
        "--python",
        python or sys.executable,
    ]
    if upgrade:
        cmd += ["--upgrade"]
    for name in upgrade_packages:
        cmd += ["--upgrade-package", name]
    cmd += source_args(sources)
    tmp = out = None
    if previous_lock and not upgrade:
        import tempfile

        tmp = tempfile.mkdtemp(prefix="vpython-lock-")
        out = os.path.join(tmp, "pylock.toml")
        try:
            with open(out, "w", encoding="utf-8") as f:
                f.write(previous_lock)
        except OSError as e:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
            raise UserError(f"cannot write a temporary file in {tmp}: {e.strerror}") from None
        cmd += ["-o", out]
    stdin_text = "".join(r + "\n" for r in requirements)
    return UvJob(cmd, stdin_text, tmp, out, targets, sources, context)


def resolve(requirements: list, sources: Sources, targets: list, **kw) -> list:
    """``start(...).result()``: one universal resolution, as [Candidate]."""
    return start(requirements, sources, targets, **kw).result()
