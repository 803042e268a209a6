"""A tiny boolean algebra over PEP 508 marker comparisons.

PEP 508 has no "not" and no literal true/false, yet translating a spec's
``not_match_tag`` needs both. Expressions here are built from comparisons
(``python_version >= '3.8'``), "and", "or" and the two constants; ``negate`` applies De
Morgan down to the comparisons (flipping their operators), constants fold away as
expressions are built, and ``render`` writes PEP 508 text ("" for true,
``FALSE_MARKER`` for false). Stdlib only.
"""

from __future__ import annotations

from typing import Union

FALSE_MARKER = "python_version < '0'"  # PEP 508 has no literal false; this never holds
_NEGATED_OP = {"==": "!=", "!=": "==", ">=": "<", "<": ">=", ">": "<=", "<=": ">"}


class Const:
    """``TRUE`` or ``FALSE``: compared by identity."""

    def __init__(self, value: bool) -> None:
        self.value = value


TRUE = Const(True)
FALSE = Const(False)


class Cmp:
    """``<var> <op> '<value>'``."""

    def __init__(self, var: str, op: str, value: str) -> None:
        self.var, self.op, self.value = var, op, value


class Junction:
    """Two or more terms joined by ``kind`` ("and" | "or"), none of them a constant."""

    def __init__(self, kind: str, items: list[Expr]) -> None:
        self.kind, self.items = kind, items


Expr = Union[Const, Cmp, Junction]


def _junction(kind: str, items: tuple[Expr, ...]) -> Expr:
    unit, absorbing = (TRUE, FALSE) if kind == "and" else (FALSE, TRUE)
    out: list[Expr] = []
    seen: set[str] = set()
    for it in items:
        if it is unit:
            continue
        if it is absorbing:
            return absorbing
        for x in it.items if isinstance(it, Junction) and it.kind == kind else [it]:
            key = render(x)
            if key not in seen:  # drop repeated terms (x and x == x)
                seen.add(key)
                out.append(x)
    if not out:
        return unit
    return out[0] if len(out) == 1 else Junction(kind, out)


def all_of(*items: Expr) -> Expr:
    """``a and b and ...``, flattened, constants folded, repeats dropped."""
    return _junction("and", items)


def one_of(*items: Expr) -> Expr:
    """``a or b or ...``, flattened, constants folded, repeats dropped."""
    return _junction("or", items)


def negate(expr: Expr) -> Expr:
    """``not expr`` by De Morgan, down to flipped comparisons."""
    if expr is TRUE:
        return FALSE
    if expr is FALSE:
        return TRUE
    if isinstance(expr, Cmp):
        return Cmp(expr.var, _NEGATED_OP[expr.op], expr.value)
    assert isinstance(expr, Junction)
    negated = [negate(x) for x in expr.items]
    return one_of(*negated) if expr.kind == "and" else all_of(*negated)


def render(expr: Expr) -> str:
    """PEP 508 text: "" for TRUE, ``FALSE_MARKER`` for FALSE, inner junctions parenthesised."""
    if expr is TRUE:
        return ""
    if expr is FALSE:
        return FALSE_MARKER
    if isinstance(expr, Cmp):
        return f"{expr.var} {expr.op} '{expr.value}'"
    assert isinstance(expr, Junction)
    parts = [f"({render(x)})" if isinstance(x, Junction) else render(x) for x in expr.items]
    return f" {expr.kind} ".join(parts)


def eq(var: str, value: str) -> Cmp:
    return Cmp(var, "==", value)


def any_value(var: str, *values: str) -> Expr:
    """``var == v1 or var == v2 ...``."""
    return one_of(*(eq(var, v) for v in values))
