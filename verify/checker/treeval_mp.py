"""Arbitrary-range evaluation with mpmath: the slow last layer, run only in the worker process.

Double-precision evaluation (`verify.checker.treeval`) overflows beyond about 1e308, so a comparison
such as ``10^{400}\\sqrt{2}`` vs ``\\sqrt{2} \\cdot 10^{400}`` is undecided there. This module
evaluates the same trees with mpmath's multiprecision complex numbers (30 significant digits,
unbounded exponent range). The worker uses it when no point could be evaluated in double precision.
It stays bounded: any intermediate result whose |log2| would exceed 1e30, trig arguments
above 1e6, factorials of non-integers or of arguments above 1e30 raise `EvalError`.
mpmath's precision context is process-global, not thread-safe, which is why this runs only in
the single-threaded worker (`verify.checker._symworker` sets `HIGH_RANGE`).
"""
from __future__ import annotations

from contextvars import ContextVar

from verify.checker.treeval import EvalError, _tick

DPS = 30
MAX_LOG2 = 1e30
MAX_TRIG_ARG = 1e6
HIGH_RANGE: ContextVar[bool] = ContextVar("verify_high_range", default=False)


def evaluate_mp(node: tuple, env: dict[str, complex]):
    """mpmath complex value of a tree (raises EvalError).

    >>> from verify.checker.mathparse import parse_answer
    >>> v = evaluate_mp(parse_answer("10^{400} \\\\cdot 2"), {})
    >>> str(v.real)[:6], int(__import__("mpmath").log10(v.real))
    ('2.0e+4', 400)
    """
    import mpmath

    _tick()
    with mpmath.workdps(DPS):
        try:
            v = _ev(node, env, mpmath)
        except (ZeroDivisionError, OverflowError, ValueError, RecursionError) as e:
            raise EvalError(str(e)) from None
        if not (mpmath.isfinite(v.real) and mpmath.isfinite(v.imag)):
            raise EvalError("not finite")
        return v


def _log2_size(z, mp) -> float:
    return 0.0 if z == 0 else float(mp.log(abs(z), 2))


def _ev(node: tuple, env: dict, mp):
    kind = node[0]
    if kind == "num":
        return mp.mpc(mp.mpf(node[1].numerator) / node[1].denominator)
    if kind == "sym":
        return mp.mpc(env[node[1]])
    if kind == "const":
        if node[1] == "inf":
            raise EvalError("infinity")
        return {"pi": mp.mpc(mp.pi), "e": mp.mpc(mp.e), "i": mp.mpc(0, 1)}[node[1]]
    if kind == "add":
        acc = mp.mpc(0)
        for c in node[1]:
            acc += _ev(c, env, mp)
        return acc
    if kind == "mul":
        acc = mp.mpc(1)
        for c in node[1]:
            acc *= _ev(c, env, mp)
        return acc
    if kind == "neg":
        return -_ev(node[1], env, mp)
    if kind == "div":
        den = _ev(node[2], env, mp)
        if den == 0:
            raise EvalError("division by zero")
        return _ev(node[1], env, mp) / den
    if kind == "pow":
        base, ex = _ev(node[1], env, mp), _ev(node[2], env, mp)
        if base == 0:
            if ex.real <= 0:
                raise EvalError("0 to a non-positive power")
            return mp.mpc(0)
        if abs(ex) * (abs(_log2_size(base, mp)) + 4) > MAX_LOG2:
            raise EvalError("power beyond the arbitrary-range bound")
        if ex.imag == 0 and ex.real == int(ex.real) and abs(ex.real) < 1e6:
            return base ** int(ex.real)
        return mp.power(base, ex)
    if kind == "fact":
        x = _ev(node[1], env, mp)
        if x.imag != 0 or x.real < 0 or x.real != int(x.real) or x.real > MAX_LOG2:
            raise EvalError("factorial argument")
        return mp.mpc(mp.factorial(x.real))
    if kind == "fn":
        return _fn(node, env, mp)
    raise EvalError(f"cannot evaluate {kind}")


def _fn(node: tuple, env: dict, mp):
    name = node[1]
    arg = _ev(node[2], env, mp)
    if name in ("sin", "cos", "tan", "sec", "csc", "cot", "sinh", "cosh", "tanh", "exp") and abs(arg) > MAX_TRIG_ARG:
        raise EvalError("function argument beyond the arbitrary-range bound")
    if name == "logb":
        base = _ev(node[3], env, mp)
        return mp.log(arg) / mp.log(base)
    if name == "binom":
        k = _ev(node[3], env, mp)
        if arg.imag or k.imag or arg.real != int(arg.real) or k.real != int(k.real) or arg.real > 1e6:
            raise EvalError("binomial arguments")
        return mp.mpc(mp.binomial(arg.real, k.real))
    if name in ("lfloor", "lceil"):
        if arg.imag:
            raise EvalError("floor of a complex number")
        return mp.mpc(mp.floor(arg.real) if name == "lfloor" else mp.ceil(arg.real))
    if name == "abs":
        return mp.mpc(abs(arg))
    table = {"sin": mp.sin, "cos": mp.cos, "tan": mp.tan, "sec": mp.sec, "csc": mp.csc, "cot": mp.cot,
             "sinh": mp.sinh, "cosh": mp.cosh, "tanh": mp.tanh, "arcsin": mp.asin, "arccos": mp.acos,
             "arctan": mp.atan, "exp": mp.exp, "ln": mp.log, "log": mp.log, "sqrt": mp.sqrt}
    return mp.mpc(table[name](arg))
