"""Resolution through uv (a PyPI wheel that ships its binary).

uv was measured here at 0.43 s for a five-package universal lock where ``pex3 lock
create`` took about 10 s and ``pip lock`` 1.9 s (reference/bench-anchors.md), and it
writes PEP 751 directly. vpython drives it as a subprocess and treats its output as
input to our own validation and normalisation (``vpython.lock.write``), so the bytes a
user checks in do not depend on uv's formatting.
"""

from __future__ import annotations

import os
import subprocess
import tempfile

from vpython.errors import ResolutionError, UserError
from vpython.settings import Sources, redact

# Variables uv would otherwise read from the user's environment and that could make a
# resolution differ from what the spec and settings say.
_UV_ENV_KEEP = ("UV_CACHE_DIR", "UV_NATIVE_TLS", "SSL_CERT_FILE", "SSL_CERT_DIR")


def uv_binary() -> str:
    override = os.environ.get("VPYTHON_UV_BIN")
    if override:
        return override
    try:
        from uv import find_uv_bin
    except ImportError:
        raise UserError("the `uv` package is not installed", hint="pip install uv (it is a dependency of vpython)") from None
    return find_uv_bin()


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
    with tempfile.TemporaryDirectory(prefix="vpython-lock-") as tmp:
        req_file = os.path.join(tmp, "requirements.in")
        with open(req_file, "w", encoding="utf-8") as f:
            f.write("".join(r + "\n" for r in requirements))
        out = os.path.join(tmp, "pylock.toml")
        cmd = [
            uv_binary(), "pip", "compile", req_file, "-o", out, "--format", "pylock.toml",
            "--no-config", "--quiet", "--no-header", "--only-binary", ":all:",
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
        proc = subprocess.run(cmd, env=_uv_env(), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            detail = redact((proc.stderr or proc.stdout).strip())
            where = f" for {context}" if context else ""
            raise ResolutionError(f"cannot resolve the requirements{where}:\n{detail}")
        with open(out, encoding="utf-8") as f:
            return f.read()
