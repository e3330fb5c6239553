"""Evaluation of answer trees (from `verify.checker.mathparse`): exact rationals and complex floats.

`exact(tree)` gives a `Fraction` for trees built from numbers, + - * / and integer powers
(bounded to 20,000 bits). `evaluate(tree, env)` gives a complex float with the free symbols
bound by `env`; it is bounded too: exponents above 10,000 in size, factorials above 170 and
overflow raise `EvalError`, so ``10^{10^{10}}`` or ``(10^{100})!`` cannot hang.

A deadline (`DEADLINE`, a context variable, so it is per thread and per asyncio task) is checked
at every evaluation and comparison step; when it has passed, `BudgetExceeded` is raised.
"""
from __future__ import annotations

import cmath
import math
import time
from contextvars import ContextVar
from fractions import Fraction

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
    elif kind == "bigop":  # the bound variable is not free
        free_symbols(node[3], out)
        free_symbols(node[4], out)
        out |= free_symbols(node[5]) - {node[2]}
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
    """The exact rational value of a tree built from numbers, + - * / and integer powers.

    >>> from verify.checker.mathparse import parse_answer
    >>> exact(parse_answer("2^{10} - \\\\frac{1}{2}")), exact(parse_answer("\\\\sqrt{2}")) is None
    (Fraction(2047, 2), True)
    """
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
    """Complex value of a tree with symbols bound by `env` (raises EvalError).

    >>> from verify.checker.mathparse import parse_answer
    >>> evaluate(parse_answer("x^2 + i"), {"x": 3})
    (9+1j)
    """
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
    if kind == "bigop":
        from verify.checker.bound import evaluate_bigop

        return evaluate_bigop(node, env, _eval)
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


def scale(node: tuple, env: dict[str, complex]) -> float:
    """A magnitude for rounding errors: the value with every sum's terms added in absolute value.

    ``\\sqrt2 \\cdot 10^{20} + 1 - \\sqrt2 \\cdot 10^{20}`` has value 1 but scale 2.8e20, so a
    double-precision result can be off by about 1e-16 * 2.8e20 (raises EvalError like `evaluate`).
    """
    kind = node[0]
    try:
        if kind == "add":
            return sum(scale(c, env) for c in node[1])
        if kind == "neg":
            return scale(node[1], env)
        if kind == "mul":
            acc = 1.0
            for c in node[1]:
                acc *= scale(c, env)
            return acc
        if kind == "div":
            return scale(node[1], env) / abs(evaluate(node[2], env))
    except (ZeroDivisionError, OverflowError):
        raise EvalError("scale") from None
    return abs(evaluate(node, env))

