"""Structural and numeric comparison of two parsed answers (trees from `verify.mathparse`).

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
Evaluation is bounded: exponents above 10,000 in size, factorials above 170 and overflow give
`EvalError`, so ``10^{10^{10}}`` or ``(10^{100})!`` cannot hang. A deadline (`DEADLINE`, a
context variable, so it is per thread and per asyncio task) is checked at every comparison and
evaluation step; when it passes, `BudgetExceeded` is raised.
"""
from __future__ import annotations

import cmath
import math
import time
from contextvars import ContextVar
from fractions import Fraction

POINTS = 4
REL_TOL = 1e-9
ABS_TOL = 1e-12
MAX_EXP = 10_000
MAX_EXACT_BITS = 20_000


class EvalError(ArithmeticError):
    """An expression could not be evaluated at a point (domain, overflow or size bound)."""


class BudgetExceeded(Exception):
    """The in-process time budget ran out (the caller then hands the case to a worker process)."""


# Deadline (time.monotonic()) of the comparison running in this thread / asyncio task, or None.
DEADLINE: ContextVar[float | None] = ContextVar("verify_compare_deadline", default=None)


def _tick() -> None:
    d = DEADLINE.get()
    if d is not None and time.monotonic() > d:
        raise BudgetExceeded()


def _point(name: str, k: int) -> float:
    h = sum((j + 1) * ord(c) for j, c in enumerate(name))
    return 0.5 + ((h * 0.6180339887 + k * 0.7548776662 + 0.1234) % 1.0) * 2.0


def free_symbols(node: tuple, out: set[str] | None = None) -> set[str]:
    out = set() if out is None else out
    kind = node[0]
    if kind == "sym":
        out.add(node[1])
    elif kind in ("num", "const"):
        pass
    else:
        for child in node[1:]:
            if isinstance(child, tuple):
                free_symbols(child, out)
            elif isinstance(child, list):
                for c in child:
                    if isinstance(c, tuple):
                        free_symbols(c, out)
    return out


def decimals(node: tuple) -> list[tuple]:
    """All decimal literals with at least 3 significant digits (candidates for approximation)."""
    if node[0] == "num":
        return [node] if node[2] is not None and node[3] >= 3 else []
    found = []
    for child in node[1:]:
        if isinstance(child, tuple):
            found += decimals(child)
        elif isinstance(child, list):
            for c in child:
                found += decimals(c)
    return found


def exact(node: tuple) -> Fraction | None:
    """The exact rational value of a tree built from numbers, + - * / and integer powers."""
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "neg":
        v = exact(node[1])
        return None if v is None else -v
    if kind == "add" or kind == "mul":
        acc = Fraction(0 if kind == "add" else 1)
        for c in node[1]:
            v = exact(c)
            if v is None:
                return None
            acc = acc + v if kind == "add" else acc * v
            if acc.numerator.bit_length() + acc.denominator.bit_length() > MAX_EXACT_BITS:
                return None
        return acc
    if kind == "div":
        a, b = exact(node[1]), exact(node[2])
        return None if a is None or b is None or b == 0 else a / b
    if kind == "pow":
        a, b = exact(node[1]), exact(node[2])
        if a is None or b is None or b.denominator != 1 or abs(b) > 4096 or (a == 0 and b < 0):
            return None
        if a.numerator.bit_length() * abs(b) > MAX_EXACT_BITS:
            return None
        return a ** int(b)
    return None


_FUNCS = {
    "sin": cmath.sin, "cos": cmath.cos, "tan": cmath.tan, "sinh": cmath.sinh, "cosh": cmath.cosh,
    "tanh": cmath.tanh, "arcsin": cmath.asin, "arccos": cmath.acos, "arctan": cmath.atan,
    "exp": cmath.exp, "ln": cmath.log, "log": cmath.log, "sqrt": cmath.sqrt,
    "sec": lambda z: 1 / cmath.cos(z), "csc": lambda z: 1 / cmath.sin(z), "cot": lambda z: 1 / cmath.tan(z),
    "abs": lambda z: complex(abs(z)),
}


def _real(z: complex) -> float:
    if abs(z.imag) > 1e-9 * max(1.0, abs(z.real)):
        raise EvalError("not real")
    return z.real


def evaluate(node: tuple, env: dict[str, complex]) -> complex:
    """Complex value of a tree with symbols bound by `env` (raises EvalError)."""
    _tick()
    try:
        v = _eval(node, env)
    except (ZeroDivisionError, OverflowError, ValueError, RecursionError) as e:
        raise EvalError(str(e)) from None
    if not (math.isfinite(v.real) and math.isfinite(v.imag)):
        raise EvalError("not finite")
    return v


def _eval(node: tuple, env: dict[str, complex]) -> complex:
    kind = node[0]
    if kind == "num":
        return complex(node[1])
    if kind == "sym":
        return env[node[1]]
    if kind == "const":
        name = node[1]
        if name == "inf":
            raise EvalError("infinity")
        return {"pi": complex(math.pi), "e": complex(math.e), "i": 1j}[name]
    if kind == "add":
        return sum((_eval(c, env) for c in node[1]), 0j)
    if kind == "mul":
        acc = 1 + 0j
        for c in node[1]:
            acc *= _eval(c, env)
        return acc
    if kind == "neg":
        return -_eval(node[1], env)
    if kind == "div":
        return _eval(node[1], env) / _eval(node[2], env)
    if kind == "pow":
        base, ex = _eval(node[1], env), _eval(node[2], env)
        if abs(ex) > MAX_EXP and abs(base) not in (0.0, 1.0):
            raise EvalError("exponent too large")
        if ex.imag == 0 and ex.real == int(ex.real) and abs(ex.real) <= 64:
            return base ** int(ex.real)
        if base.imag == 0 and base.real > 0 and ex.imag == 0:
            return complex(base.real ** ex.real)
        return base ** ex
    if kind == "fact":
        x = _real(_eval(node[1], env))
        if x < 0 or x != int(x) or x > 170:
            raise EvalError("factorial argument")
        return complex(math.factorial(int(x)))
    if kind == "fn":
        name = node[1]
        arg = _eval(node[2], env)
        if name == "logb":
            return cmath.log(arg) / cmath.log(_eval(node[3], env))
        if name == "binom":
            n, k = _real(arg), _real(_eval(node[3], env))
            if n != int(n) or k != int(k) or n > 10_000:
                raise EvalError("binomial arguments")
            return complex(math.comb(int(n), int(k)))
        if name in ("lfloor", "lceil"):
            r = _real(arg)
            return complex(math.floor(r) if name == "lfloor" else math.ceil(r))
        return complex(_FUNCS[name](arg))
    raise EvalError(f"cannot evaluate {kind}")


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
        from verify.numeric import Num, numbers_equal
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
    for k in range(POINTS if syms else 1):
        env = {s: complex(_point(s, k)) for s in syms}
        try:
            va, vb = evaluate(a, env), evaluate(b, env)
        except EvalError:
            continue
        ok += 1
        if not syms and approx and (a[0] == "num" or b[0] == "num"):
            dec, other = (a, vb) if a[0] == "num" and a in da else (b, va) if b in db else (None, None)
            if dec is not None:
                if not _rounds_to(dec, other):
                    return False
                continue
        if not _close(va, vb, rel):
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
    for k in range(POINTS + 2):
        env = {s: complex(_point(s, k)) for s in syms}
        try:
            va, vb = evaluate(a, env), evaluate(b, env)
        except EvalError:
            continue
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


def _as_interval(node: tuple) -> tuple | None:
    """``x > 3`` -> (3, inf); ``1 < x \\le 3`` (two relations on one variable) -> (1, 3]; else None."""
    rels = [node] if node[0] == "rel" else node[1] if node[0] == "list" and len(node[1]) == 2 and all(
        r[0] == "rel" for r in node[1]) else None
    if rels is None:
        return None
    lo, hi, lo_closed, hi_closed, var = ("neg", ("const", "inf")), ("const", "inf"), False, False, None
    for _, op, lhs, rhs in rels:
        if op == "!=":
            return None
        if lhs[0] == "sym" and not free_symbols(rhs):
            v, bound, upper = lhs[1], rhs, op in ("<", "<=")
        elif rhs[0] == "sym" and not free_symbols(lhs):
            v, bound, upper = rhs[1], lhs, op in (">", ">=")
        else:
            return None
        if var not in (None, v):
            return None
        var = v
        if upper:
            hi, hi_closed = bound, op in ("<=", ">=")
        else:
            lo, lo_closed = bound, op in ("<=", ">=")
    return ("interval", lo_closed, lo, hi, hi_closed)


def equal(a: tuple, b: tuple) -> bool | None:
    """Tri-state equality of two answer trees (see module docstring).

    >>> from verify.mathparse import parse_answer
    >>> equal(parse_answer("{1,\\\\sqrt{4}}"), parse_answer("{2,1}"))
    True
    """
    _tick()
    ka, kb = a[0], b[0]
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
        ia, ib = _as_interval(a), _as_interval(b)
        if ia is not None or ib is not None:
            return equal(ia or a, ib or b)
    if ka == "rel" and kb == "rel":
        oa, da = _canonical_rel(a)
        ob, db = _canonical_rel(b)
        if oa != ob:
            return False
        return _proportional(da, db, 0 if oa == "!=" else 1)
    if ka in ("list", "set") and len(a[1]) == 1 and kb not in ("list", "set"):
        return equal(a[1][0], b)
    if kb in ("list", "set") and len(b[1]) == 1 and ka not in ("list", "set"):
        return equal(a, b[1][0])
    containers = ("list", "tuple", "set", "matrix", "interval", "union", "eq", "rel")
    if ka in containers or kb in containers:
        xs, ys = _seq(ka, a), _seq(kb, b)
        if xs is not None and ys is not None:
            return _ordered(xs, ys)  # a tuple, vector or closed interval against another kind: in order
        return False
    return scalars_equal(a, b)
