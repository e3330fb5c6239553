"""Exact confirmation of near-equal numbers with sympy: the last layer, run only in the worker.

Double-precision identity testing cannot tell ``10^{20}\\sqrt2`` from ``10^{20}\\sqrt2 + 1`` (the
difference is below its rounding error) and can call a cancelled difference
(``\\sqrt2 \\cdot 10^{20} + 1 - \\sqrt2 \\cdot 10^{20}`` against 1) unequal. When the difference of
two constant values is below the evaluation's own error bound (`needs_exact`), the in-process
layer hands the case to the worker (`verify.checker.worker`), which calls `decide`:

1. both trees evaluated with mpmath at `DPS` digits; a difference above that evaluation's error
   bound refutes equality ("high-precision");
2. otherwise sympy expressions are built from OUR parse tree (`to_sympy`; text is never given to
   ``sympify``, ``parse_expr`` or ``parse_latex``) and the difference is simplified (rational
   arithmetic, radical denesting, ``simplify``, then ``equals(0)``): zero confirms ("exact"), a
   provably non-zero number refutes;
3. when sympy cannot settle within its budget, agreement to `AGREE_DIGITS` digits without
   catastrophic cancellation counts as equal ("high-precision"); anything else is undecided.

The sympy step runs under a SIGALRM budget inside the single-threaded worker, and the worker
itself is killed by the caller's hard timeout, so a bomb cannot hang a check. sympy is imported
only here, only in the worker: the parent process never loads it.
"""
from __future__ import annotations

import signal
import time
from contextvars import ContextVar

from verify.checker.treeval import EvalError

DPS = 60
AGREE_DIGITS = 30
MAX_POW = 10_000
MAX_FACT = 1_000
# time.monotonic() by which sympy must give up on the current request (set per request by the worker)
SYMPY_DEADLINE: ContextVar[float | None] = ContextVar("verify_sympy_deadline", default=None)
DEFAULT_BUDGET = 2.0
# how often this layer ran and how it ended (the worker reports these with each verdict)
STATS: dict[str, int] = {}
LAST: list[str] = []  # reasons of the decisions made for the current request (the worker clears it)


class _OutOfTime(BaseException):
    """Raised by the SIGALRM handler; a BaseException so sympy's `except Exception` cannot eat it."""


def _alarm(signum, frame):
    raise _OutOfTime()


def to_sympy(node: tuple, sp):
    """A sympy expression for one of our trees (raises EvalError for what it cannot express)."""
    kind = node[0]
    rec = lambda n: to_sympy(n, sp)  # noqa: E731
    if kind == "num":
        return sp.Rational(node[1].numerator, node[1].denominator)
    if kind == "sym":
        return sp.Symbol(node[1], positive=True)
    if kind == "const":
        return {"pi": sp.pi, "e": sp.E, "i": sp.I, "inf": sp.oo}[node[1]]
    if kind == "add":
        return sp.Add(*[rec(c) for c in node[1]])
    if kind == "mul":
        return sp.Mul(*[rec(c) for c in node[1]])
    if kind == "neg":
        return -rec(node[1])
    if kind == "div":
        return rec(node[1]) / rec(node[2])
    if kind == "pow":
        base, ex = rec(node[1]), rec(node[2])
        if ex.is_number and abs(ex) > MAX_POW:
            raise EvalError("exponent too large for the exact layer")
        return sp.Pow(base, ex)
    if kind == "fact":
        arg = rec(node[1])
        if not (arg.is_Integer and 0 <= arg <= MAX_FACT):
            raise EvalError("factorial argument")
        return sp.factorial(arg)
    if kind == "fn":
        return _fn(node, sp, rec)
    raise EvalError(f"no exact form for {kind}")


def _fn(node: tuple, sp, rec):
    name, arg = node[1], rec(node[2])
    if name == "logb":
        return sp.log(arg) / sp.log(rec(node[3]))
    if name == "binom":
        return sp.binomial(arg, rec(node[3]))
    table = {"sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "sec": sp.sec, "csc": sp.csc, "cot": sp.cot,
             "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "arcsin": sp.asin, "arccos": sp.acos,
             "arctan": sp.atan, "exp": sp.exp, "ln": sp.log, "log": sp.log, "sqrt": sp.sqrt, "abs": sp.Abs,
             "lfloor": sp.floor, "lceil": sp.ceiling}
    if name not in table:
        raise EvalError(f"no exact form for {name}")
    return table[name](arg)


def _high_precision(a: tuple, b: tuple):
    """(difference, error bound, magnitude) of the two constant trees at DPS digits, or None."""
    import mpmath

    try:
        with mpmath.workdps(DPS + 10):
            va, vb = _mp(a), _mp(b)
            sa, sb = _mp_scale(a), _mp_scale(b)
            return float(abs(va - vb)), float((sa + sb) * mpmath.mpf(10) ** (-DPS)), float(max(abs(va), abs(vb)))
    except (EvalError, OverflowError, ValueError, TypeError):
        return None


def _mp_scale(node: tuple):
    """A magnitude bound for rounding errors: the tree evaluated with every sum's terms added
    in absolute value (mpmath, at the current precision)."""
    import mpmath

    kind = node[0]
    if kind == "add":
        return mpmath.fsum(_mp_scale(c) for c in node[1])
    if kind == "neg":
        return _mp_scale(node[1])
    if kind == "mul":
        return mpmath.fprod(_mp_scale(c) for c in node[1])
    if kind == "div":
        den = abs(_mp(node[2]))
        return _mp_scale(node[1]) / den if den else mpmath.inf
    return abs(_mp(node))


def _mp(node: tuple):
    """The mpmath value of a constant tree at the current precision (treeval_mp's bounded rules)."""
    import mpmath

    from verify.checker.treeval_mp import _ev

    try:
        return _ev(node, {}, mpmath)
    except (ZeroDivisionError, OverflowError, ValueError, RecursionError) as e:
        raise EvalError(str(e)) from None


def decide(a: tuple, b: tuple) -> tuple[bool | None, str]:
    """Exact (or high-precision) verdict on two constant trees whose doubles were near-equal."""
    verdict, reason = _decide(a, b)
    LAST.append(reason)
    return verdict, reason


def _decide(a: tuple, b: tuple) -> tuple[bool | None, str]:
    STATS["runs"] = STATS.get("runs", 0) + 1
    hp = _high_precision(a, b)
    if hp is not None:
        diff, bound, mag = hp
        if diff > max(bound, 1e-300):
            STATS["refuted"] = STATS.get("refuted", 0) + 1
            return False, f"differ by {diff:.3g} at {DPS} digits (beyond its error bound {bound:.2g})"
    verdict = _sympy(a, b)
    if verdict is not None:
        STATS["exact"] = STATS.get("exact", 0) + 1
        return verdict, "exactly " + ("equal (sympy: the difference simplifies to 0)" if verdict
                                      else "different (sympy: the difference is a non-zero number)")
    if hp is not None and hp[1] <= 10.0 ** -AGREE_DIGITS * max(hp[2], 1e-300):
        STATS["agree"] = STATS.get("agree", 0) + 1
        return True, f"agree to {AGREE_DIGITS} digits at {DPS}-digit precision (sympy could not settle it)"
    STATS["undecided"] = STATS.get("undecided", 0) + 1
    return None, "near-equal values that neither high precision nor sympy could settle"


def _sympy(a: tuple, b: tuple) -> bool | None:
    deadline = SYMPY_DEADLINE.get()
    if deadline is None:
        deadline = time.monotonic() + DEFAULT_BUDGET
    try:
        import sympy as sp  # outside the alarm: an interrupted import would leave sympy half-loaded
    except ImportError:
        return None
    budget = deadline - time.monotonic()
    if budget <= 0.01:
        return None
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        diff = to_sympy(a, sp) - to_sympy(b, sp)
        for step in (lambda d: d, sp.expand, sp.radsimp, sp.sqrtdenest, sp.simplify):
            d = step(diff)
            if d == 0:
                return True
            if d.is_number and d.is_zero is False and d.is_comparable:
                return False
        z = diff.equals(0)
        return None if z is None else bool(z)
    except _OutOfTime:
        return None
    except (EvalError, ArithmeticError, ValueError, TypeError, AttributeError, RecursionError, NotImplementedError):
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
