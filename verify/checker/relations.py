"""Relations and equations as answers (families 2 and 5): intervals, values, assignments.

* ``x > 3`` -> (3, inf); ``1 < x \\le 3`` -> (1, 3]; ``x < -2, x > 2`` (either) -> a union.
  The unknown may be any expression whose bounds are constants (``0 < g(x) < 2`` -> (0, 2)),
  and ``a \\le |t| \\le b`` (0 <= a) is ``[-b, -a] \\cup [a, b]``.
* ``m + n = 10`` is the value 10 (the question asked for m + n): only when the other side is a
  sum or product of distinct lone names with coefficient one, and the constant is not 0.
  ``b + 2w = 0`` is an equation, never the value 0.
* ``y = -\\frac12 x + \\frac13`` is an assignment: it equals its value, and as an equation it
  equals ``3x + 6y - 2 = 0`` (same solution set).
"""
from __future__ import annotations

from verify.checker.treeval import free_symbols

_INF = ("const", "inf")
_NEG_INF = ("neg", ("const", "inf"))


def _abs_var(node: tuple) -> tuple | None:
    return node[2] if node[0] == "fn" and node[1] == "abs" and free_symbols(node[2]) else None


def _rel_interval(rels: list, loose: bool) -> tuple | None:
    """Relations on one unknown that all hold -> an interval (or a union for ``|t|``)."""
    lo, hi, lo_closed, hi_closed, var = _NEG_INF, _INF, False, False, None
    for _, op, lhs, rhs in rels:
        if op == "!=":
            return None
        if (lhs[0] == "sym" or loose and free_symbols(lhs)) and not free_symbols(rhs):
            v, bound, upper = lhs, rhs, op in ("<", "<=")
        elif (rhs[0] == "sym" or loose and free_symbols(rhs)) and not free_symbols(lhs):
            v, bound, upper = rhs, lhs, op in (">", ">=")
        else:
            return None
        if var not in (None, v):
            return None
        var = v
        if upper:
            hi, hi_closed = bound, op in ("<=", ">=")
        else:
            lo, lo_closed = bound, op in ("<=", ">=")
    if var is not None and _abs_var(var) is not None:
        return _abs_interval(lo, lo_closed, hi, hi_closed)
    return ("interval", lo_closed, lo, hi, hi_closed)


def _neg(x: tuple) -> tuple:
    return _INF if x == _NEG_INF else _NEG_INF if x == _INF else ("neg", x)


def _abs_interval(lo, lo_closed, hi, hi_closed) -> tuple | None:
    """``lo < |t| < hi`` as a set of t: (-hi, -lo) u (lo, hi); ``|t| < hi``: (-hi, hi)."""
    if lo == _NEG_INF:
        return ("interval", hi_closed, _neg(hi), hi, hi_closed)
    if lo[0] == "neg" or free_symbols(lo):
        return None
    return ("union", [("interval", hi_closed, _neg(hi), _neg(lo), lo_closed),
                      ("interval", lo_closed, lo, hi, hi_closed)])


def as_interval(node: tuple, loose: bool = False) -> tuple | None:
    """The set a relation (or a chain, or a list of them read as "or") describes, as an interval
    or union; None when it is not a bound on one unknown. `loose` accepts any expression as the
    unknown (used when the other answer is an interval)."""
    if node[0] == "rel":
        return _rel_interval([node], loose)
    if node[0] == "chain":
        return _rel_interval(node[1], loose)
    if node[0] == "list" and node[1] and all(r[0] in ("rel", "chain") for r in node[1]):
        parts = [as_interval(r, loose) for r in node[1]]
        return None if any(p is None for p in parts) else ("union", parts)
    return None


def _is_name_combination(node: tuple) -> bool:
    """``m + n``, ``a + b + c``, ``mn``: distinct lone names with coefficient one."""
    if node[0] not in ("add", "mul"):
        return False
    kids = node[1]
    flat = []
    for k in kids:
        if k[0] == node[0]:
            flat += k[1]
        else:
            flat.append(k)
    return all(k[0] == "sym" for k in flat) and len({k[1] for k in flat}) == len(flat) >= 2


def constant_side(node: tuple) -> tuple | None:
    """``m + n = 10`` -> 10: the constant side, when the other side is a combination of names."""
    lhs, rhs = node[1], node[2]
    for names, value in ((lhs, rhs), (rhs, lhs)):
        if not free_symbols(value) and _is_name_combination(names) and not (
                value[0] == "num" and value[1] == 0):
            return value
    return None


def assign_as_eq(node: tuple) -> tuple:
    """An assignment ("assign", name, value) read as the equation name = value."""
    return ("eq", node[1], node[2]) if node[0] == "assign" else node
