"""Structural and numeric comparison of two parsed answers (trees from `verify.checker.mathparse`).

Containers are compared by kind: bare lists and sets as multisets (a perfect matching of equal
elements), tuples and matrices in order, intervals by endpoints and open/closed ends, equations
``a = b`` and ``c = d`` as equal when ``a - b`` is a non-zero constant multiple of ``c - d``,
inequalities when that multiple is positive (after turning ``>`` round).

Scalars use randomised identity testing (Schwartz-Zippel style): both sides are evaluated with
complex floats at 4 fixed pseudo-random points for their free symbols (positive reals in
[0.5, 2.5], so ``\\sqrt{x^2} = x`` holds) and must agree to a relative 1e-9. Purely rational
expressions are compared exactly with `Fraction` instead. When a side contains a decimal literal
with at least 3 significant digits and the other side is not a plain rational, the decimal is
treated as rounded: equal when it is the other value rounded or truncated at its last digit
(constants), or within half a unit of its last significant digit relatively (expressions).
Evaluation (`verify.checker.treeval`) is bounded, and a per-thread/per-task deadline is checked at
every step (`BudgetExceeded`).
"""
from __future__ import annotations

from verify.checker.treeval import (DEADLINE, BudgetExceeded, EvalError, _point, _tick, decimals, evaluate,
                             exact, free_symbols, scale)
from verify.checker.bound import bigops_equal
from verify.checker.numeric import Num, numbers_equal
from verify.checker.relations import as_interval as _as_interval, assign_as_eq, constant_side as _constant_side

__all__ = ["DEADLINE", "BudgetExceeded", "EvalError", "NeedsWorker", "equal", "scalars_equal"]


class NeedsWorker(BudgetExceeded):
    """Double precision could not evaluate either side; the worker's arbitrary-range layer may."""

POINTS = 4
REL_TOL = 1e-9
ABS_TOL = 1e-12


def _close(a: complex, b: complex, rel: float) -> bool:
    return abs(a - b) <= max(ABS_TOL, rel * max(abs(a), abs(b)))


def _rounds_to(dec: tuple, value: complex) -> bool:
    """The documented decimal rule: `dec` is `value` rounded half-up or truncated at its last digit."""
    if abs(value.imag) > 1e-12:
        return False
    ulp = float(dec[2])
    q, target = value.real / ulp, float(dec[1] / dec[2])
    return abs(q - target) <= 0.5 + 1e-9 or 0 <= (q - target) * (1 if target >= 0 else -1) < 1 - 1e-9


def _is_inf(node: tuple) -> int:
    if node == ("const", "inf"):
        return 1
    if node[0] == "neg" and node[1] == ("const", "inf"):
        return -1
    return 0


def scalars_equal(a: tuple, b: tuple) -> bool | None:
    """Equality of two scalar trees; None when no point could be evaluated."""
    ia, ib = _is_inf(a), _is_inf(b)
    if ia or ib:
        return ia == ib
    ea, eb = exact(a), exact(b)
    if ea is not None and eb is not None:
        if ea == eb:
            return True
        na = Num(ea, a[2], a[3]) if a[0] == "num" else Num(ea)
        nb = Num(eb, b[2], b[3]) if b[0] == "num" else Num(eb)
        return numbers_equal(na, nb)
    syms = sorted(free_symbols(a) | free_symbols(b))
    da, db = decimals(a), decimals(b)
    approx = bool(da or db)
    rel = REL_TOL
    if approx:
        sig = min(d[3] for d in da + db)
        rel = 0.5 * 10.0 ** (1 - sig)
    ok = 0
    for va, vb in _values(a, b, syms, evaluate, POINTS if syms else 1):
        ok += 1
        if not syms and approx and (a[0] == "num" or b[0] == "num"):
            dec, other = (a, vb) if a[0] == "num" and a in da else (b, va) if b in db else (None, None)
            if dec is not None:
                if not _rounds_to(dec, other):
                    return False
                continue
        if not syms and not approx and _near_equal(a, b, va, vb):
            return _exact(a, b)
        if not _close(va, vb, rel):
            return False
    if ok == 0 or (syms and ok < 2):
        return _high_range(a, b, syms, rel)
    return True


def _near_equal(a: tuple, b: tuple, va: complex, vb: complex) -> bool:
    """Is the double-precision verdict on two constants unreliable? True when the values differ
    beyond rounding but within the tolerance (a real tiny difference), or agree only within a
    rounding error large enough to hide one (big magnitudes, or cancellation in a sum)."""
    d, m = abs(va - vb), max(abs(va), abs(vb))
    try:
        s = scale(a, {}) + scale(b, {})
    except EvalError:
        return True
    err = 1e-13 * s
    if d > max(err, REL_TOL * m, ABS_TOL):
        return False  # clearly different
    if d > err:
        return True  # different beyond rounding, equal only by the tolerance
    return s >= 1e7 or s > 1e3 * max(m, 1e-300)


def _exact(a: tuple, b: tuple) -> bool | None:
    """Near-equal constants: exactly in the worker (`verify.checker.exact`), else hand over or stay undecided."""
    from verify.checker.treeval_mp import HIGH_RANGE

    if HIGH_RANGE.get():
        from verify.checker.exact import decide

        return decide(a, b)[0]
    if DEADLINE.get() is not None:
        raise NeedsWorker()
    return None


def _values(a: tuple, b: tuple, syms: list[str], ev, points: int):
    """Both sides evaluated by `ev` at each of `points` sample points of the symbols; points
    where either side cannot be evaluated (division by zero, a domain error) are skipped."""
    for k in range(points):
        env = {s: complex(_point(s, k)) for s in syms}
        try:
            yield ev(a, env), ev(b, env)
        except EvalError:
            continue


def _high_range(a: tuple, b: tuple, syms: list[str], rel: float) -> bool | None:
    """No point evaluated in double precision: in the worker, retry with mpmath (`verify.checker.treeval_mp`);
    in-process under a budget, hand the case to the worker; otherwise undecided."""
    from verify.checker.treeval_mp import HIGH_RANGE, evaluate_mp

    if not HIGH_RANGE.get():
        if DEADLINE.get() is not None:
            raise NeedsWorker()
        return None
    ok = 0
    for va, vb in _values(a, b, syms, evaluate_mp, POINTS if syms else 1):
        ok += 1
        if abs(va - vb) > max(1e-25, max(rel, 1e-20) * max(abs(va), abs(vb))):
            return False
    if ok == 0 or (syms and ok < 2):
        return None
    return True


def _diff(node: tuple) -> tuple:
    return ("add", [node[-2], ("neg", node[-1])])


def _proportional(a: tuple, b: tuple, sign: int) -> bool | None:
    """Is `a` a constant multiple c * `b` with c != 0 (and sign(c) == sign when sign != 0)?"""
    syms = sorted(free_symbols(a) | free_symbols(b))
    approx = bool(decimals(a) or decimals(b))
    rel = 1e-3 if approx else 1e-7
    ratio, ok = None, 0
    for va, vb in _values(a, b, syms, evaluate, POINTS + 2):
        ok += 1
        za, zb = abs(va) <= 1e-9, abs(vb) <= 1e-9
        if za or zb:
            if za != zb:
                return False
            continue
        r = va / vb
        if ratio is None:
            ratio = r
            if sign and (abs(r.imag) > 1e-9 or r.real * sign <= 0):
                return False
        elif not _close(r, ratio, rel):
            return False
    if ok < 2:
        return None
    return True


_CONTAINERS = ("list", "tuple", "set", "matrix", "interval", "union", "eq", "rel", "chain")
_FLIP = {"<": ">", "<=": ">=", ">": ">", ">=": ">=", "!=": "!="}


def _canonical_rel(node: tuple) -> tuple[str, tuple]:
    op, lhs, rhs = node[1], node[2], node[3]
    if op in ("<", "<="):
        return _FLIP[op], ("add", [rhs, ("neg", lhs)])
    return op, ("add", [lhs, ("neg", rhs)])


def _seq(kind: str, node: tuple) -> list | None:
    if node[0] in ("list", "tuple", "set"):
        return node[1]
    if node[0] == "matrix":
        rows = node[1]
        if len(rows) == 1:
            return rows[0]
        if all(len(r) == 1 for r in rows):
            return [r[0] for r in rows]
    if node[0] == "interval" and node[1] == node[4]:  # [a, b] or (a, b): also reads as a pair
        return [node[2], node[3]]
    return None


def _matching(xs: list, ys: list) -> bool | None:
    """Multiset equality under `equal`: a perfect matching (None edges count as unknown)."""
    if len(xs) != len(ys):
        return False
    table = [[equal(x, y) for y in ys] for x in xs]

    def perfect(allow_unknown: bool) -> bool:
        match: dict[int, int] = {}

        def augment(i: int, seen: set[int]) -> bool:
            for j in range(len(ys)):
                ok = table[i][j] is True or (allow_unknown and table[i][j] is None)
                if ok and j not in seen:
                    seen.add(j)
                    if j not in match or augment(match[j], seen):
                        match[j] = i
                        return True
            return False

        return all(augment(i, set()) for i in range(len(xs)))

    if perfect(False):
        return True
    return None if perfect(True) else False


def _ordered(xs: list, ys: list) -> bool | None:
    if len(xs) != len(ys):
        return False
    result: bool | None = True
    for x, y in zip(xs, ys):
        r = equal(x, y)
        if r is False:
            return False
        if r is None:
            result = None
    return result


def _one_value(items: list) -> bool:
    """One item, or a few that are all equal (``\\boxed{\\frac12}`` or ``\\boxed{0.5}``): one value."""
    return len(items) == 1 or 1 < len(items) <= 4 and all(equal(items[0], x) is True for x in items[1:])


def _is_solution_tuple(node: tuple) -> bool:
    """A tuple whose items are all tuples (or pairs) of one length >= 2: a list of solutions."""
    if node[0] != "tuple" or len(node[1]) < 2:
        return False
    lens = {len(s) if (s := _seq(x[0], x)) is not None and x[0] != "matrix" else 0 for x in node[1]}
    return len(lens) == 1 and lens.pop() >= 2


def _assign_equal(a: tuple, b: tuple) -> bool | None:
    """``y = 2x + 3`` equals its value ``2x + 3``; two equations (an assignment is one) also equal
    when they have the same solution set (``y = -x/2 + 1/3`` and ``3x + 6y - 2 = 0``)."""
    va = a[2] if a[0] == "assign" else a
    vb = b[2] if b[0] == "assign" else b
    r = equal(va, vb)
    if r is True or a[0] not in ("assign", "eq") or b[0] not in ("assign", "eq"):
        return r
    ea, eb = assign_as_eq(a), assign_as_eq(b)
    if a[0] == b[0] == "assign" and not (free_symbols(va) | free_symbols(vb)):
        return r  # x = 3 against y = 3 is the value; x = 3 against x = 4 differs
    return True if _proportional(_diff(ea), _diff(eb), 0) is True else r


def equal(a: tuple, b: tuple) -> bool | None:
    """Tri-state equality of two answer trees (see module docstring).

    >>> from verify.checker.mathparse import parse_answer
    >>> equal(parse_answer("{1,\\\\sqrt{4}}"), parse_answer("{2,1}"))
    True
    """
    _tick()
    ka, kb = a[0], b[0]
    if ka == "assign" or kb == "assign":
        return _assign_equal(a, b)
    if ka == kb == "bigop":
        return bigops_equal(a, b, equal)
    if _is_solution_tuple(a) and kb in ("list", "set", "tuple") or _is_solution_tuple(b) and ka in ("list", "set"):
        return _matching(a[1], b[1])  # ((1,2),(3,4)): a tuple of solutions is a set of them
    if ka in ("list", "set") and kb in ("list", "set"):
        return _matching(a[1], b[1])
    if ka == "union" and kb == "union":
        return _matching(a[1], b[1])
    if ka == "interval" and kb == "interval":
        if a[1] != b[1] or a[4] != b[4]:
            return False
        return _ordered([a[2], a[3]], [b[2], b[3]])
    if ka == "matrix" and kb == "matrix":
        if len(a[1]) != len(b[1]) or any(len(r) != len(s) for r, s in zip(a[1], b[1])):
            return False
        return _ordered([c for r in a[1] for c in r], [c for r in b[1] for c in r])
    if ka == "eq" and kb == "eq":
        return _proportional(_diff(a), _diff(b), 0)
    if "interval" in (ka, kb) or "union" in (ka, kb):
        ia, ib = _as_interval(a, loose=True), _as_interval(b, loose=True)
        if ia is not None or ib is not None:
            return equal(ia or a, ib or b)
    if ka == "chain" or kb == "chain":
        ia, ib = _as_interval(a), _as_interval(b)
        if ia is not None and ib is not None:
            return equal(ia, ib)
        if ka == kb:
            return _ordered(a[1], b[1])
        return False
    if ka == "eq" and kb not in _CONTAINERS and (c := _constant_side(a)) is not None:
        return equal(c, b)
    if kb == "eq" and ka not in _CONTAINERS and (c := _constant_side(b)) is not None:
        return equal(a, c)
    if ka == "rel" and kb == "rel":
        oa, da = _canonical_rel(a)
        ob, db = _canonical_rel(b)
        if oa != ob:
            return False
        return _proportional(da, db, 0 if oa == "!=" else 1)
    if ka in ("list", "set") and kb not in ("list", "set") and _one_value(a[1]):
        return equal(a[1][0], b)
    if kb in ("list", "set") and ka not in ("list", "set") and _one_value(b[1]):
        return equal(a, b[1][0])
    if ka in _CONTAINERS or kb in _CONTAINERS:
        xs, ys = _seq(ka, a), _seq(kb, b)
        if xs is not None and ys is not None:
            return _ordered(xs, ys)  # a tuple, vector or closed interval against another kind: in order
        return False
    return scalars_equal(a, b)
