"""``vpython build`` without the command line: lock -> target -> wheels -> artifact.

Everything is written in a work directory beside OUT and renamed into place at the end,
so a failure (or a kill) never leaves a partial OUT; an existing OUT is replaced only by
a complete new one, and only when it is a previous artifact and none of the inputs
(checked before any work: ``outputs.check``).

Where the content hash and the platform are recorded:

* venv: ``OUT/vpython-artifact.json`` (``content-sha256``: ``reproducible.tree_digest``
  of the tree without the two metadata files; ``platform``; ``python``; packages) and the
  SBOM ``OUT/vpython-artifact.cdx.json`` (``metadata.component``);
* pex: the SBOM beside it, ``OUT.cdx.json`` (``metadata.component.hashes`` is the pex
  file's sha256, ``vpython:platform`` its target);
* both: the last line ``vpython build`` prints.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vpython import __version__, log
from vpython.artifacts import inputs, outputs, reproducible, sbom
from vpython.artifacts.model import BuildFlags, Entry, Wheels
from vpython.errors import UserError, VPythonError
from vpython.faults import checkpoint

if TYPE_CHECKING:
    from vpython.lock.pylock import Artifact
    from vpython.lock.targets import Target
    from vpython.settings.sources import Sources
    from vpython.spec.discover import DiscoveredSpec
    from vpython.store.root import Layout

LayoutFactory = Callable[[], "Layout"]


@dataclass
class Result:
    target: Target
    artifacts: list[Artifact]
    sha256: str
    sbom_path: str
    entry: str | None = None


def _layout_factory(flags: BuildFlags) -> LayoutFactory:
    """The cache layout, resolved on first use: a build from --find-links with a lock
    never needs the cache root (a Bazel action may have none)."""
    cache: dict[str, Layout] = {}

    def make() -> Layout:
        if "layout" not in cache:
            from vpython.store.root import Layout, resolve_root

            cache["layout"] = Layout(resolve_root(flags.root))
        return cache["layout"]

    return make


def _fallback_python(
    discovered: DiscoveredSpec, flags: BuildFlags, layout_factory: LayoutFactory
) -> Callable[[], tuple[int, ...]]:
    """The Python version to build for when neither --python nor the lock says (the
    spec's, as ``vpython lock`` would choose it), computed only when needed."""

    def version() -> tuple[int, ...]:
        from vpython.lock.plan import default_python
        from vpython.spec.load import parse_discovered

        if discovered.kind == "empty":
            import sys

            return tuple(sys.version_info[:2])
        return tuple(
            default_python(parse_discovered(discovered), flags.interpreter, layout_factory().interpreters)
        )

    return version


def artifact_name(discovered: DiscoveredSpec, entry: Entry | None) -> str:
    if entry is not None:
        return entry.name
    spec_path: str | None = discovered.path
    if spec_path:
        return os.path.basename(spec_path)
    return "vpython-artifact"


def build(
    discovered: DiscoveredSpec,
    *,
    flags: BuildFlags,
    fmt: str,
    output: str,
    lock_flag: str | None = None,
    platform: str | None = None,
    python: str | None = None,
    entry: Entry | None = None,
    compile_pyc: bool = False,
    pex_venv: bool = False,
    extra_inputs: Iterable[tuple[str, str | None]] = (),
) -> Result:
    from vpython.settings.sources import load_sources

    # Relative --find-links are relative to the working directory (Bazel passes
    # execroot-relative paths); the spec's own [tool.vpython] sources are not used here:
    # the lock already says what to install and where it came from.
    sources = load_sources(flags=flags, spec_tool=None, base_dir=os.getcwd())
    # Before any work: OUT must be nothing or our own previous output, and no input.
    outputs.check(output, fmt, _input_paths(discovered, lock_flag, entry, sources, extra_inputs))
    layout_factory = _layout_factory(flags)
    choice = inputs.obtain(
        discovered,
        lock_flag=lock_flag,
        flags=flags,
        layout_factory=layout_factory,
        platform=platform,
        python=python,
    )
    target = inputs.choose_target(
        choice, platform, python, _fallback_python(discovered, flags, layout_factory)
    )
    log.info(f"target: {target.key}" + (f" (lock {choice.path})" if choice.path else ""))
    artifacts = inputs.select(choice, target)
    artifacts = inputs.built_for_target(artifacts, target, sources, layout_factory)
    wheels = inputs.wheel_files(artifacts, sources, layout_factory)
    name = artifact_name(discovered, entry)
    work = reproducible.work_dir_beside(output)
    try:
        if fmt == "venv":
            result = _build_venv(
                work, output, target, wheels, entry, choice, name, compile_pyc, flags, layout_factory
            )
        else:
            result = _build_pex(
                work, output, target, wheels, entry, choice, name, pex_venv, _pex_cache(flags, layout_factory)
            )
    except OSError as e:  # a full or read-only disk: say so, without a traceback
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        raise VPythonError(
            f"cannot build {output}: {e.strerror or e}{where}", hint=f"{output} was left as it was"
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def _input_paths(
    discovered: DiscoveredSpec,
    lock_flag: str | None,
    entry: Entry | None,
    sources: Sources,
    extra: Iterable[tuple[str, str | None]],
) -> list[tuple[str, str | None]]:
    paths = list(extra) + [
        ("the lock", lock_flag),
        ("the --main script", entry.main if entry is not None else None),
        ("the spec", discovered.path),
        ("the spec's lockfile", discovered.lock_path),
    ]
    paths += [("a --find-links directory", d) for d in inputs.local_wheel_dirs(sources)]
    paths.append(("the working directory", os.getcwd()))
    return paths


def _packages(wheels: Wheels) -> list[dict[str, str]]:
    return [
        {"name": a.name, "version": a.version, "wheel": a.filename, "sha256": a.sha256} for a, _ in wheels
    ]


def _build_venv(
    work: str,
    output: str,
    target: Target,
    wheels: Wheels,
    entry: Entry | None,
    choice: inputs.LockChoice,
    name: str,
    compile_pyc: bool,
    flags: BuildFlags,
    layout_factory: LayoutFactory,
) -> Result:
    from vpython.artifacts import venv_tree

    compile_with = None
    if compile_pyc:
        from vpython.interpreters.select import select_interpreter

        interp = select_interpreter(version=target.python_version, cache_dir=layout_factory().interpreters)
        compile_with = interp.path
    tree = os.path.join(work, "tree")
    os.mkdir(tree)
    entry_rel = venv_tree.build(tree, target, wheels, entry, compile_with)
    reproducible.normalize_tree(tree)
    digest = reproducible.tree_digest(tree)
    meta = {
        "format": "venv",
        "platform": target.key,
        "python": target.python_version,
        "content-sha256": digest,
        "content-hash-excludes": [venv_tree.META_NAME, venv_tree.SBOM_NAME],
        "entry": entry_rel,
        "lock-sha256": choice.sha256,
        "packages": _packages(wheels),
        "compiled": bool(compile_pyc),
        "vpython": __version__,
    }
    with open(os.path.join(tree, venv_tree.META_NAME), "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    doc = sbom.document(
        [a for a, _ in wheels],
        artifact_name=name,
        artifact_format="venv",
        target=target,
        artifact_sha256=digest,
        lock_sha256=choice.sha256,
        tools=_tools("installer"),
    )
    with open(os.path.join(tree, venv_tree.SBOM_NAME), "wb") as f:
        f.write(sbom.render(doc))
    reproducible.normalize_tree(tree)
    checkpoint("artifact-built")
    # Replacing a pex: its SBOM beside it would describe a file that is gone.
    stale = outputs.stale_sbom(output, "venv")
    reproducible.publish_all([(tree, output)] + ([(None, stale)] if stale else []))
    return Result(
        target, [a for a, _ in wheels], digest, os.path.join(output, venv_tree.SBOM_NAME), entry_rel
    )


def _tools(*distributions: str) -> list[dict[str, str]]:
    """SBOM tool entries for the libraries whose version shapes the artifact's bytes."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for dist in distributions:
        try:
            out.append({"type": "library", "name": dist, "version": version(dist)})
        except PackageNotFoundError:
            continue
    return out


def _pex_cache(flags: BuildFlags, layout_factory: LayoutFactory) -> str | None:
    """pex's build cache in vpython's cache root, when that is writable (a sandboxed
    build without one gets a fresh pex root in its work dir: same bytes, slower)."""
    try:
        layout = layout_factory()
        path = layout.pex_root
        os.makedirs(path, exist_ok=True)
    except (OSError, VPythonError) as e:  # e.g. a root below a file: the cache is optional here
        log.info(f"building the pex without a cache: {getattr(e, 'message', None) or e}")
        return None
    return path if os.access(path, os.W_OK) else None


def _using_pex_cache(pex_root: str | None) -> AbstractContextManager[Any]:
    """Hold the store lock shared while pex reads and writes its cache in the root, and
    mark the cache used: `vpython gc` deletes it (under the exclusive lock) once it has
    not been used for its age threshold."""
    import contextlib

    if pex_root is None:
        return contextlib.nullcontext()
    from vpython.store.locks import flocked

    try:
        os.utime(pex_root)
    except OSError:
        pass
    return flocked(os.path.join(os.path.dirname(pex_root), "store.lock"), exclusive=False)


def _build_pex(
    work: str,
    output: str,
    target: Target,
    wheels: Wheels,
    entry: Entry | None,
    choice: inputs.LockChoice,
    name: str,
    pex_venv: bool,
    pex_root: str | None = None,
) -> Result:
    from vpython.artifacts import pex_file

    if entry is not None and entry.main is None and not wheels:
        raise UserError(
            "--entry-point needs the package that provides it in the lock",
            hint="add that package to the spec's dependencies and lock again, or pass --main FILE",
        )
    built = os.path.join(work, "artifact.pex")
    with _using_pex_cache(pex_root):
        pex_file.build(built, target, wheels, entry, pex_venv=pex_venv, work=work, pex_root=pex_root)
    os.chmod(built, 0o755)
    digest = reproducible.file_sha256(built)
    # The pex's bytes depend on pex's version (its bootstrap code and PEX-INFO's
    # build_properties.pex_version), so the SBOM names the version that wrote it.
    tools = [{"type": "application", "name": "pex", "version": pex_file.built_with(built)}]
    doc = sbom.document(
        [a for a, _ in wheels],
        artifact_name=name,
        artifact_format="pex",
        target=target,
        artifact_sha256=digest,
        lock_sha256=choice.sha256,
        tools=tools,
    )
    sbom_tmp = os.path.join(work, "artifact.cdx.json")
    with open(sbom_tmp, "wb") as f:
        f.write(sbom.render(doc))
    os.chmod(sbom_tmp, 0o644)
    sbom_path = outputs.sbom_path(output)
    checkpoint("artifact-built")
    # The pex first, then its SBOM (an old SBOM is moved aside before the old pex), so
    # no SBOM ever sits beside a pex it does not describe; any error restores both.
    reproducible.publish_all([(built, output), (sbom_tmp, sbom_path)])
    return Result(target, [a for a, _ in wheels], digest, sbom_path)
