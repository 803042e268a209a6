"""vpython's own tools for Python 2.7, pinned by sha256 and unpacked once under the root.

Python 2.7 envs need tools that dropped 2.7 long ago: virtualenv 20.22 stopped creating
Python 2 envs (20.21.1 is the last that can; it runs on the Python running vpython), and
uv cannot build sdists for 2.7 (it needs ``-I``), which pip 20.3.4, the last pip for
2.7, can (``vpython.store.sdist_pip27``). Each tool is a fixed set of wheels, fetched
like any artifact (local find-links directories first, else the configured index when it
is not PyPI itself, else the file's PyPI URL), verified against the sha256 below,
and unpacked into::

    <root>/v1/tools/wheels/<sha256>/<file>          the verified wheels (kept: gc never sweeps them)
    <root>/v1/tools/<tool>-<digest>/                the unpacked tool, published by one rename

so nothing is downloaded twice and a killed unpack leaves only a work dir in ``tmp/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vpython import log
from vpython.errors import VPythonError

if TYPE_CHECKING:
    from vpython.settings.sources import Sources
    from vpython.store.root import Layout

_PYPI = "https://files.pythonhosted.org/packages/"


@dataclass(frozen=True)
class ToolWheel:
    """One pinned wheel of a tool (a ``store.protocols.LockedArtifact``)."""

    name: str
    version: str
    filename: str
    sha256: str
    size: int
    url: str
    path: str | None = None
    direct_url: str | None = None


TOOLS: dict[str, tuple[ToolWheel, ...]] = {
    # virtualenv 20.21.1 and the newest releases of its dependencies that satisfy its
    # pins (distlib<1, filelock<4, platformdirs<4) and run on Python 3.7+.
    "virtualenv-py27": (
        ToolWheel(
            "virtualenv",
            "20.21.1",
            "virtualenv-20.21.1-py3-none-any.whl",
            "09ddbe1af0c8ed2bb4d6ed226b9e6415718ad18aef9fa0ba023d96b7a8356049",
            8744928,
            _PYPI + "fb/9b/445412c769289c18a5f9c2e8c816c1369f6c5fae4802f2196e5aef7630fd/"
            "virtualenv-20.21.1-py3-none-any.whl",
        ),
        ToolWheel(
            "distlib",
            "0.3.9",
            "distlib-0.3.9-py2.py3-none-any.whl",
            "47f8c22fd27c27e25a65601af709b38e4f0a45ea4fc2e710f65755fa8caaaf87",
            468973,
            _PYPI + "91/a1/cf2472db20f7ce4a6be1253a81cfdf85ad9c7885ffbed7047fb72c24cf87/"
            "distlib-0.3.9-py2.py3-none-any.whl",
        ),
        ToolWheel(
            "filelock",
            "3.12.2",
            "filelock-3.12.2-py3-none-any.whl",
            "cbb791cdea2a72f23da6ac5b5269ab0a0d161e9ef0100e653b69049a7706d1ec",
            10923,
            _PYPI + "00/45/ec3407adf6f6b5bf867a4462b2b0af27597a26bd3cd6e2534cb6ab029938/"
            "filelock-3.12.2-py3-none-any.whl",
        ),
        ToolWheel(
            "platformdirs",
            "3.11.0",
            "platformdirs-3.11.0-py3-none-any.whl",
            "e9d171d00af68be50e9202731309c4e658fd8bc76f55c11c7dd760d023bda68e",
            17579,
            _PYPI + "56/29/3ec311dc18804409ecf0d2b09caa976f3ae6215559306b5b530004e11156/"
            "platformdirs-3.11.0-py3-none-any.whl",
        ),
    ),
    # pip 20.3.4, run by Python 2.7 from this directory (from its wheel it cannot start
    # its PEP 517 hook runner, which sits inside the zip).
    "pip-py27": (
        ToolWheel(
            "pip",
            "20.3.4",
            "pip-20.3.4-py2.py3-none-any.whl",
            "217ae5161a0e08c0fb873858806e3478c9775caffce5168b50ec885e358c199d",
            1522101,
            _PYPI + "27/79/8a850fe3496446ff0d584327ae44e7500daf6764ca1a382d2d02789accf7/"
            "pip-20.3.4-py2.py3-none-any.whl",
        ),
    ),
}


def tools_dir(layout: Layout) -> str:
    return os.path.join(layout.base, "tools")


def tool_path(layout: Layout, tool: str) -> str:
    """Where ``tool`` is (or will be) unpacked: its directory goes on ``sys.path``."""
    return os.path.join(tools_dir(layout), f"{tool}-{_digest(TOOLS[tool])}")


def _digest(wheels: tuple[ToolWheel, ...]) -> str:
    import hashlib

    return hashlib.sha256("".join(w.sha256 for w in wheels).encode()).hexdigest()[:16]


def _local_dirs(sources: Sources) -> list[str]:
    from urllib.parse import unquote, urlsplit

    out = []
    for link in sources.find_links:
        if link.startswith("file:"):
            out.append(unquote(urlsplit(link).path))
        elif "://" not in link:
            out.append(link)
    return out


def _located(wheel: ToolWheel, sources: Sources) -> ToolWheel:
    """``wheel`` with the URL the configured index gives for the same file, when the index
    is not PyPI's (a mirror): machines behind one may not reach files.pythonhosted.org."""
    import dataclasses

    from vpython.settings.listing import ListingError, project_files
    from vpython.settings.sources import DEFAULT_INDEX

    if sources.offline or not sources.index_urls() or sources.index_urls() == [DEFAULT_INDEX]:
        return wheel
    try:
        files = project_files(wheel.name, dataclasses.replace(sources, find_links=())) or []
    except ListingError as e:
        log.debug(f"cannot look {wheel.filename} up on the index: {e}")
        return wheel
    for f in files:
        if f.filename == wheel.filename and f.url and f.sha256 in (None, wheel.sha256):
            return dataclasses.replace(wheel, url=f.url)
    return wheel


def ensure_tool(layout: Layout, sources: Sources, tool: str) -> str:
    """The unpacked directory of ``tool`` (a key of ``TOOLS``), fetched and unpacked first
    if this root does not have it yet."""
    final = tool_path(layout, tool)
    if os.path.isdir(final):
        return final
    from vpython.store.wheels import fetch_one

    wheels_dir = os.path.join(tools_dir(layout), "wheels")
    log.progress(f"fetching vpython's {tool} tool (first time only)")
    paths = [
        fetch_one(_located(w, sources), layout, sources, _local_dirs(sources), store_dir=wheels_dir)
        for w in TOOLS[tool]
    ]
    _unpack(paths, final, layout)
    return final


def _unpack(paths: list[str], final: str, layout: Layout) -> None:
    import shutil
    import tempfile
    import zipfile

    from vpython.store.packages import check_archive

    os.makedirs(layout.tmp, exist_ok=True)
    work = tempfile.mkdtemp(prefix="tool-", dir=layout.tmp)
    try:
        for path in paths:
            check_archive(path, os.path.basename(path))  # no absolute or '..' names, no bombs
            with zipfile.ZipFile(path) as zf:
                zf.extractall(work)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        try:
            os.rename(work, final)
        except OSError:
            if not os.path.isdir(final):  # else another process published it first: as good
                raise VPythonError(f"cannot publish the tool directory {final}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
