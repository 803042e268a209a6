"""The package's layers, top to bottom, and a checker that imports only go downwards.

This list is the one place the layering is written down (docs/architecture.md explains
it). A module may import from its own layer's package and from any lower layer; packages
that share a layer (``lock`` and ``store``) are independent and may not import each other.
Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# Each entry: the subpackages/modules of one layer (names below the top package).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),
    ("cli",),
    ("artifacts",),
    ("env",),
    ("lock", "store"),
    ("spec",),
    ("interpreters", "settings", "uvbin"),
    ("errors", "log", "faults", "fs", "toml", ""),  # "" is the package's own __init__
)


@dataclass(frozen=True)
class Violation:
    importer: str  # dotted module name
    imported: str
    line: int
    why: str

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.imported}: {self.why}"


def _modules(root: str, package: str) -> Iterator[tuple[str, str, bool]]:
    """(dotted name, file path, is_package) for every .py file below ``root``."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__pycache__")))
        rel = os.path.relpath(dirpath, root)
        parts = [package] + ([] if rel == "." else rel.split(os.sep))
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            if name == "__init__.py":
                yield ".".join(parts), os.path.join(dirpath, name), True
            else:
                yield ".".join([*parts, name[:-3]]), os.path.join(dirpath, name), False


def imports_of(path: str, module: str, is_package: bool) -> Iterator[tuple[str, int]]:
    """Every absolute module name a file imports (``from a import b`` yields ``a.b`` too,
    since ``b`` may be a submodule), with its line."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target, node.lineno
            for alias in node.names:
                yield f"{target}.{alias.name}", node.lineno


def _component(dotted: str, package: str, known: set[str]) -> str | None:
    """The layer component a module belongs to ("cli", "errors", "" for the package)."""
    parts = dotted.split(".")
    if parts[0] != package:
        return None
    if len(parts) == 1:
        return ""
    return parts[1] if parts[1] in known else None


def check(root: str, package: str, layers: Sequence[Sequence[str]] = LAYERS) -> list[Violation]:
    """All imports in the package at ``root`` that go up a layer or sideways between two
    packages of the same layer, and every cycle between modules."""
    rank = {comp: i for i, layer in enumerate(layers) for comp in layer}
    known = set(rank)
    found: list[Violation] = []
    graph: dict[str, set[str]] = {}
    modules = {name for name, _, _ in _modules(root, package)}
    reported: set[tuple[str, int, str]] = set()
    for module, path, is_package in _modules(root, package):
        mine = _component(module, package, known)
        if mine is None:
            found.append(Violation(module, module, 1, "module is in no layer: add it to LAYERS"))
            continue
        for target, line in imports_of(path, module, is_package):
            theirs = _component(target, package, known)
            if theirs is None:
                continue
            if target in modules and target != module:
                graph.setdefault(module, set()).add(target)
            if theirs == mine:
                continue
            if theirs == "" and target != package:
                # ``from vpython import log``: the imported name decides the layer
                continue
            if (module, line, theirs) in reported:  # ``from a import b`` names a and a.b
                continue
            reported.add((module, line, theirs))
            if rank[theirs] < rank[mine]:
                found.append(Violation(module, target, line, f"'{theirs}' is a higher layer than '{mine}'"))
            elif rank[theirs] == rank[mine]:
                found.append(
                    Violation(
                        module,
                        target,
                        line,
                        f"'{theirs}' and '{mine}' share a layer and must stay independent",
                    )
                )
    found.extend(_cycles(graph))
    return found


def _cycles(graph: dict[str, set[str]]) -> list[Violation]:
    """One Violation per strongly connected group of modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[Violation] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                names = " -> ".join(sorted(group))
                out.append(Violation(sorted(group)[0], sorted(group)[1], 0, f"import cycle: {names}"))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out
