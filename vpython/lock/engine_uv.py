"""Resolution through uv (a PyPI wheel that ships its binary).

uv was measured here at 0.43 s for a five-package universal lock where ``pex3 lock
create`` took about 10 s and ``pip lock`` 1.9 s (reference/bench-anchors.md), and it
writes PEP 751 directly. vpython drives it as a subprocess and treats its output as
input to our own selection and writer (``vpython.lock.select``,
``vpython.lock.pylock_write.render_lock``), so the bytes a user checks in do not depend on
uv's formatting. ``compile_pylock`` (one interpreter, used by runs without a lockfile)
returns uv's text as is; ``start``/``resolve`` (``vpython lock``) return candidates for
every target of one universal resolution.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from vpython.errors import ResolutionError, UserError
from vpython.settings.credentials import redact, uv_source_options
from vpython.settings.sources import Sources

if TYPE_CHECKING:
    from vpython.lock.model import Candidate
    from vpython.lock.targets import Target

# Variables uv would otherwise read from the user's environment and that could make a
# resolution differ from what the spec and settings say.
_UV_ENV_KEEP = ("UV_CACHE_DIR", "UV_NATIVE_TLS", "SSL_CERT_FILE", "SSL_CERT_DIR")


def uv_binary() -> str:
    # The finder lives in the bottom layer: the store runs uv too (sdist builds).
    from vpython.uvbin import uv_binary as find

    return find()


def uv_env(sources_env: dict[str, str], cache_dir: str | None) -> dict[str, str]:
    """uv's environment: none of the user's ``UV_*``/``PIP_*`` but TLS settings; the
    sources' credentials (``sources_env``: never on argv); uv's cache inside vpython's root
    (``cache_dir``: ``<root>/v1/tool-cache``, so a wheel uv unpacks lands there, not in
    ``~/.cache/uv``, and so does the lock of uv's credentials store); no interpreter
    downloads (they would go to ``~/.local/share/uv``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_"))}
    for k in _UV_ENV_KEEP:
        if k in os.environ:
            env[k] = os.environ[k]
    if cache_dir is not None:
        env["UV_CACHE_DIR"] = touched_cache(cache_dir, "uv")
        # uv locks its credentials store (~/.local/share/uv/credentials) even when it
        # holds nothing; vpython's credentials come from URLs and netrc.
        env["UV_CREDENTIALS_DIR"] = os.path.join(env["UV_CACHE_DIR"], "credentials")
    env.update(sources_env, UV_NO_PROGRESS="1", UV_PYTHON_DOWNLOADS="never")
    return env


def touched_cache(cache_dir: str, tool: str) -> str:
    """``<cache_dir>/<tool>``, its mtime set to now: ``vpython gc`` deletes a tool's cache
    only when no resolution used it for its threshold."""
    path = os.path.join(cache_dir, tool)
    try:
        os.makedirs(path, exist_ok=True)
        os.utime(path)
    except OSError as e:  # a read-only or full root: say so here, not as a resolution failure
        from vpython.errors import VPythonError

        raise VPythonError(
            f"cannot write to the vpython cache at {cache_dir}: {e.strerror or e} ({path})",
            hint="the cache root must be writable; point -vpython-root / VPYTHON_VIRTUALENV_ROOT at a writable "
            "directory with room",
        ) from None
    return path


def source_args(sources: Sources) -> tuple[list[str], dict[str, str]]:
    """(argv, environment) for the sources: credentials only in the environment."""
    return uv_source_options(sources)


# uv's hint when a package has no usable wheel but has an sdist. It names `--no-build`,
# a flag the user never passed (vpython passes --only-binary :all:), so vpython says
# what it means instead.
_SDIST_ONLY_HINT = re.compile(
    r"^\s*hint: Wheels are required for `([^`]+)` because building from source is disabled[^\n]*\n?", re.M
)
# Resolve wheels only first: a range then settles on a version that publishes wheels, as
# pip's --prefer-binary would. Only when that fails for want of wheels (a pin that PyPI
# has only as an sdist) is the resolution repeated with sdists allowed (unless
# --only-binary), and the lock records their sdists.
_ONLY_BINARY = ["--only-binary", ":all:"]


def sdist_only_names(detail: str) -> list[str]:
    """The packages uv's error says have only an sdist (no usable wheel)."""
    return list(dict.fromkeys(_SDIST_ONLY_HINT.findall(detail)))


def without_only_binary(cmd: list[str]) -> list[str]:
    """``cmd`` with the ``--only-binary :all:`` pair taken out."""
    i = next(i for i in range(len(cmd) - 1) if cmd[i : i + 2] == _ONLY_BINARY)
    return cmd[:i] + cmd[i + 2 :]


def resolution_error(detail: str, context: str = "", hint: str | None = None) -> ResolutionError:
    """A ResolutionError from uv's (redacted) stderr; sdist-only packages get our words
    (they reach here only when building is turned off: --only-binary)."""
    where = f" for {context}" if context else ""
    names = sdist_only_names(detail)
    if names:
        listed = ", ".join(names)
        detail = _SDIST_ONLY_HINT.sub("", detail).strip()
        verb = "has" if len(names) == 1 else "have"
        return ResolutionError(
            f"cannot resolve the requirements{where}: {listed} {verb} only an sdist (no usable wheel), and "
            f"building from sdists is turned off (--only-binary, VPYTHON_ONLY_BINARY or config only-binary)\n"
            f"{detail}",
            hint=(
                "allow the build (drop --only-binary, VPYTHON_ONLY_BINARY=0, or only-binary = false), "
                f"pick a version of {names[0]} that publishes wheels, or supply a wheel with --find-links"
            ),
        )
    return ResolutionError(
        f"cannot resolve the requirements{where}:\n{detail}",
        hint=hint or "check the requirements, and that the index (--index-url / --find-links) serves them",
    )


def run_uv(
    cmd: list[str], stdin_text: str | None = None, *, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run uv with ``env`` (``uv_env``: credentials and the cache inside the root)."""
    try:
        return subprocess.run(
            cmd,
            env=env,
            input=stdin_text,
            stdin=None if stdin_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    except OSError as e:
        raise UserError(
            f"cannot run uv ({cmd[0]}): {e.strerror or e}",
            hint="pip install uv, or point VPYTHON_UV_BIN at a uv binary",
        ) from None


def _retry_with_sdists(proc: subprocess.CompletedProcess[str], sources: Sources) -> bool:
    """Whether a failed wheels-only resolution should run again with sdists allowed."""
    return proc.returncode != 0 and not sources.only_binary and bool(sdist_only_names(proc.stderr or ""))


def compile_pylock(
    requirements: list[str],
    sources: Sources,
    *,
    python: str | None = None,
    python_version: str | None = None,
    python_platform: str | None = None,
    universal: bool = False,
    no_deps: bool = False,
    upgrade: bool = False,
    context: str = "",
    cache_dir: str | None = None,
) -> str:
    """Resolve ``requirements`` and return uv's pylock.toml text (``cache_dir``: see ``uv_env``)."""
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
            *_ONLY_BINARY,
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
        source_argv, source_env = source_args(sources)
        cmd += source_argv
        env = uv_env(source_env, cache_dir)
        proc = run_uv(cmd, env=env)
        if _retry_with_sdists(proc, sources):
            proc = run_uv(without_only_binary(cmd), env=env)
        if proc.returncode != 0:
            raise resolution_error(redact((proc.stderr or proc.stdout).strip()), context)
        with open(out, encoding="utf-8") as f:
            return f.read()


class UvJob:
    """A running ``uv pip compile``: started early so that the caller can do its own
    preparation (imports, tag tables) while uv resolves.

    Requirements go to uv's stdin and the lock comes back on stdout, unless a previous
    lockfile must seed uv's preferences: uv reads those from its output file, so then a
    private temp dir holds ``pylock.toml``.
    """

    def __init__(
        self,
        cmd: list[str],
        stdin_text: str,
        tmp: str | None,
        out: str | None,
        targets: list[Target],
        sources: Sources,
        context: str,
        env: dict[str, str],
    ) -> None:
        self.tmp, self.out, self.targets, self.sources, self.context = tmp, out, targets, sources, context
        self.cmd, self.stdin_text, self.env = cmd, stdin_text, env
        try:
            self.proc = subprocess.Popen(
                cmd,
                env=env,
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
        stdin = self.proc.stdin
        assert stdin is not None  # stdin=PIPE
        try:
            stdin.write(stdin_text)
            stdin.close()
        except OSError:  # uv exited early; its stderr says why
            try:
                stdin.close()
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

    def result(self) -> list[Candidate]:
        """Wait for uv; return [Candidate] (raises ResolutionError with uv's reason)."""
        base_dir = self.tmp or os.getcwd()
        try:
            stdout, stderr = self.proc.communicate()
            returncode = self.proc.returncode
            failed = subprocess.CompletedProcess(self.cmd, returncode, stdout, stderr)
            if _retry_with_sdists(failed, self.sources):
                again = run_uv(without_only_binary(self.cmd), self.stdin_text, env=self.env)
                returncode, stdout, stderr = again.returncode, again.stdout, again.stderr
            if returncode != 0:
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
        from vpython import toml
        from vpython.lock.uv_pylock import candidates_from_pylock, prune_wheel_lines

        supported: set[str] = set()
        for t in self.targets:
            supported.update(t.tag_strings())
        data = toml.loads(prune_wheel_lines(text, supported))
        return candidates_from_pylock(data, self.targets, base_dir)


def _seed_preferences(previous_lock: str) -> tuple[str, str]:
    """(private temp dir, its pylock.toml holding ``previous_lock``): uv reads its
    preferences from the output file it is given."""
    import tempfile

    tmp = tempfile.mkdtemp(prefix="vpython-lock-")
    out = os.path.join(tmp, "pylock.toml")
    try:
        with open(out, "w", encoding="utf-8") as f:
            f.write(previous_lock)
    except OSError as e:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise UserError(
            f"cannot write a temporary file in {tmp}: {e.strerror}",
            hint="check that the temporary directory (TMPDIR) is writable and has space",
        ) from None
    return tmp, out


def start(
    requirements: list[str],
    sources: Sources,
    targets: list[Target],
    *,
    python: str | None = None,
    previous_lock: str | None = None,
    upgrade: bool = False,
    upgrade_packages: Iterable[str] = (),
    context: str = "",
    cache_dir: str | None = None,
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
        *_ONLY_BINARY,
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
    source_argv, source_env = source_args(sources)
    cmd += source_argv
    tmp = out = None
    if previous_lock and not upgrade:
        tmp, out = _seed_preferences(previous_lock)
        cmd += ["-o", out]
    stdin_text = "".join(r + "\n" for r in requirements)
    return UvJob(cmd, stdin_text, tmp, out, targets, sources, context, uv_env(source_env, cache_dir))


def resolve(requirements: list[str], sources: Sources, targets: list[Target], **kw: Any) -> list[Candidate]:
    """``start(...).result()``: one universal resolution, as [Candidate]."""
    return start(requirements, sources, targets, **kw).result()
