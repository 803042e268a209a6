"""Resolving a closed (text-proto) spec for one interpreter: its exact pins plus the seeds.

The original installed exactly the wheels a spec lists, with pip, setuptools and wheel
that virtualenv seeded, and resolved nothing. vpython does the same:

* the seeds (``settings.seeds``: versions chosen per interpreter, overridable and
  suppressible in the config) join the spec's pins unless the spec pins them itself, so
  they are resolved, locked by sha256 and part of the env key like any pin;
* uv resolves the pins *with* their dependencies, once, to find out whether the set is
  closed; when it is not (chromium's ``.vpython3`` lists ``pathos`` without ``dill``,
  ``pexpect`` without ``ptyprocess``), each listed package that needs something unlisted
  gets a warning naming its spec line, what it needs and the entry to add, and the env
  gets exactly the listed set (a ``--no-deps`` resolution), as the original's did.
  ``strict-closure = true`` in the config makes that an error instead, for spec owners
  who want their CI to catch it;
* when the pins do not resolve at all, the private-package error
  (``spec.private``) names what no source publishes; a set whose own dependencies
  conflict is installed as listed, with a warning;
* Python 2.7, which uv cannot target, takes each pin from the index directly
  (``env.pinned``): a closed set needs no resolver.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from vpython import log
from vpython.errors import ResolutionError, UserError

if TYPE_CHECKING:
    from packaging.pylock import Pylock

    from vpython.interpreters.model import Interpreter
    from vpython.settings.sources import Sources
    from vpython.spec.model import Requirements, Spec, WheelEntry


def seeded_pins(requirements: Requirements, python: tuple[int, ...]) -> tuple[list[str], list[str]]:
    """(the spec's pins + the seeds it does not pin itself, those seeds)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from vpython.settings.compat import seeds_for

    listed = {canonicalize_name(Requirement(r).name) for r in requirements.requirements}
    seeds = [f"{n}=={v}" for n, v in sorted(seeds_for(python).items()) if canonicalize_name(n) not in listed]
    return list(requirements.requirements) + seeds, seeds


def unlisted(pins: Sequence[str], lock: Pylock) -> list[tuple[str, str]]:
    """(name, version) of what ``lock`` installs beyond ``pins``."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pinned = {canonicalize_name(Requirement(r).name) for r in pins}
    return sorted(
        (str(p.name), str(p.version)) for p in lock.packages if canonicalize_name(str(p.name)) not in pinned
    )


def _wheel_line(name: str, version: str) -> str:
    return f'wheel: < name: "infra/python/wheels/{name}-py3" version: "version:{version or "<version>"}" >'


def gap_message(name: str, version: str, needs: Sequence[tuple[str, str]]) -> str:
    """The warning for listed ``name``/``version`` that needs ``needs`` ((name, version
    or "" when unknown))."""
    listed = ", ".join(f"{n}=={v}" if v else n for n, v in needs)
    adds = "  ".join(_wheel_line(n, v) for n, v in needs)
    return (
        f"{name}=={version} depends on {listed}, which the spec does not list; installing exactly the "
        f"listed packages, as Chromium's vpython does (importing what is missing will fail); to include "
        f"{'it' if len(needs) == 1 else 'them'}, add: {adds}"
    )


def report_gaps(
    spec: Spec, pins: Sequence[str], extras: list[tuple[str, str]], parents: dict[str, list[str]]
) -> None:
    """One warning per listed package that needs unlisted ones (``parents``: each
    package's dependents, from the resolution), located at that package's spec line;
    an error instead under ``strict-closure``."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from vpython.settings.compat import strict_closure
    from vpython.spec.private import entries_by_project

    versions = {str(canonicalize_name(Requirement(p).name)): str(Requirement(p).specifier)[2:] for p in pins}
    needed_by: dict[str, list[tuple[str, str]]] = {}
    for name, version in extras:
        # "" collects what the resolver did not attribute: one warning for the whole spec
        for root in _listed_roots(str(canonicalize_name(name)), parents, versions) or [""]:
            needed_by.setdefault(root, []).append((name, version))
    entries = entries_by_project(spec)
    messages: list[tuple[str, str, WheelEntry | None]] = []
    for root in sorted(needed_by):
        needs = sorted(set(needed_by[root]))
        entry = next(iter(entries.get(root, ())), None)
        where = f"{spec.path}:{entry.line}: " if entry is not None and entry.line else f"{spec.path}: "
        if root:
            messages.append((where, gap_message(root, versions.get(root, "?"), needs), entry))
        else:
            listed = ", ".join(f"{n}=={v}" if v else n for n, v in needs)
            messages.append(
                (where, f"the listed packages depend on {listed}, which the spec does not list", None)
            )
    if strict_closure():
        entry = messages[0][2]
        raise UserError(
            "the spec is not closed: " + "; ".join(m[1].split("; installing")[0] for m in messages),
            path=spec.path,
            line=entry.line if entry is not None else None,
            hint="add the missing wheel entries (strict-closure = true in the config makes this an error)",
        )
    for where, text, _ in messages:
        log.warning(where + text)


def _listed_roots(name: str, parents: dict[str, list[str]], listed: dict[str, str]) -> list[str]:
    """The listed packages that (transitively) need ``name``."""
    roots, seen, todo = set(), {name}, list(parents.get(name, ()))
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        if p in listed:
            roots.add(p)
        else:
            todo += parents.get(p, ())
    return sorted(roots)


_VIA = re.compile(r"^\s+#\s+(?:via\s+)?(?P<who>[A-Za-z0-9][A-Za-z0-9._-]*)\s*$")


def dependents(
    pins: Sequence[str], sources: Sources, python: str, cache_dir: str | None = None
) -> dict[str, list[str]]:
    """{package: [packages that depend on it]} from uv's annotated resolution of ``pins``
    (only asked when the set is not closed, to say who needs what)."""
    import subprocess

    from packaging.utils import canonicalize_name

    from vpython.lock.engine_uv import source_args, uv_binary, uv_env

    cmd = [uv_binary(), "pip", "compile", "-", "--no-config", "--no-header", "--only-binary", ":all:"]
    source_argv, source_env = source_args(sources)
    cmd += ["--python", python, "--annotation-style", "split", *source_argv]
    proc = subprocess.run(
        cmd,
        input="".join(p + "\n" for p in pins),
        env=uv_env(source_env, cache_dir),
        capture_output=True,
        text=True,
        check=False,
    )
    out: dict[str, list[str]] = {}
    current = None
    for line in proc.stdout.splitlines():
        if line and not line[0].isspace() and "==" in line:
            current = str(canonicalize_name(line.split("==", 1)[0].strip()))
            continue
        m = _VIA.match(line)
        if current and m and m["who"] != "via":
            out.setdefault(current, []).append(str(canonicalize_name(m["who"])))
    return out


def resolve_closed(
    spec: Spec,
    requirements: Requirements,
    interp: Interpreter,
    sources: Sources,
    context: str,
    cache_dir: str | None = None,
) -> str:
    """uv's pylock text of exactly the spec's pins and the seeds, with the warnings and
    errors of the module docstring (Python 2.7: ``env.pinned.resolve_pins`` instead)."""
    from vpython.lock import pylock
    from vpython.lock.engine_uv import compile_pylock
    from vpython.spec.private import missing_packages

    pins, seeds = seeded_pins(requirements, tuple(interp.version))
    try:
        text = compile_pylock(pins, sources, python=interp.path, context=context, cache_dir=cache_dir)
    except ResolutionError as e:
        private = missing_packages(spec, pins, sources, seeds)
        if private is not None:
            raise private from None
        try:
            text = compile_pylock(
                pins, sources, python=interp.path, no_deps=True, context=context, cache_dir=cache_dir
            )
        except ResolutionError:
            raise e from None
        from vpython.settings.compat import strict_closure

        if strict_closure():
            raise
        first = e.message.splitlines()[1:2] or [e.message]
        log.warning(
            f"{spec.path}: the listed packages' own dependencies do not resolve together "
            f"({first[0].strip()}); installing exactly the listed packages, as Chromium's vpython does"
        )
        return text
    lock, _ = pylock.parse_lock_text(text, "<resolution>")
    extras = unlisted(pins, lock)
    if not extras:
        return text
    report_gaps(spec, pins, extras, dependents(pins, sources, interp.path, cache_dir))
    return compile_pylock(
        pins, sources, python=interp.path, no_deps=True, context=context, cache_dir=cache_dir
    )
