"""Sums and products with a bound variable (family 9): ``\\sum_{i=1}^{n} a_i b_{n-i}``.

Tree: ("bigop", "sum" | "prod", var, lo, hi, body). The bound variable is not free: two
big operators compare structurally (same operator, equal bounds, bodies equal after renaming
one bound variable to the other, also inside subscripts such as ``a_i``/``a_j``), so
``\\sum_{i=1}^{n} a_i b_{n-i}`` equals ``\\sum_{j=1}^{n} b_{n-j} a_j``. With integer bounds
(at most `MAX_TERMS` terms) the operator is also evaluated, so ``\\sum_{k=1}^{10} k`` = 55.
"""
from __future__ import annotations

import re

from verify.checker.latex_expr import ParseError, parse_expr

MAX_TERMS = 1000
_BOUND = "\u03be"  # the canonical name of a bound variable while comparing bodies


def parse_bigop(p, name: str) -> tuple:
    """Parse ``_{i=1}^{n} body`` after ``\\sum``/``\\prod`` with the parser `p` (latex_expr._Parser)."""
    if p.peek() == "\\limits":
        p.take()
    if p.peek() != "_":
        raise ParseError(f"\\{name} without a lower bound")
    p.take("_")
    p.take("{")
    start = p.i
    depth = 1
    while p.i < len(p.toks) and depth:
        t = p.toks[p.i]
        depth += (t == "{") - (t == "}")
        p.i += 1
    if depth:
        raise ParseError("unclosed bound")
    inner = [t for t in p.toks[start:p.i - 1] if t != " "]
    if len(inner) < 3 or inner[1] != "=" or not (len(inner[0]) == 1 and inner[0].isalpha()):
        raise ParseError(f"\\{name} needs a bound like i=1")
    var, lo = inner[0], parse_expr(inner[2:])
    if p.peek() != "^":
        raise ParseError(f"\\{name} without an upper bound")
    p.take("^")
    hi = p.exponent()
    p.enter()
    body = p.term()  # the body runs to the next + or - outside brackets (``\\sum_k k \\cdot k``)
    p.depth -= 1
    return p.node("bigop", name, var, lo, hi, body)


def rename(node: tuple, old: str, new: str) -> tuple:
    """`node` with the variable `old` renamed to `new`, also inside subscripts (``a_i``, ``b_{n-i}``)."""
    if node[0] == "sym":
        name = node[1]
        if name == old:
            return ("sym", new)
        if "_" in name:
            head, sub = name.split("_", 1)
            return ("sym", head + "_" + re.sub(rf"(?<![A-Za-z]){re.escape(old)}(?![A-Za-z])", new, sub))
        return node
    if node[0] == "bigop" and node[2] == old:
        return node[:3] + (rename(node[3], old, new), rename(node[4], old, new), node[5])
    out = []
    for child in node:
        if isinstance(child, tuple):
            out.append(rename(child, old, new))
        elif isinstance(child, list):
            out.append([rename(c, old, new) if isinstance(c, tuple) else c for c in child])
        else:
            out.append(child)
    return tuple(out)


def bigops_equal(a: tuple, b: tuple, equal) -> bool | None:
    """Structural equality of two big operators (see module docstring)."""
    if a[1] != b[1]:
        return None
    lo, hi = equal(a[3], b[3]), equal(a[4], b[4])
    if lo is not True or hi is not True:
        return None if None in (lo, hi) else False
    return equal(rename(a[5], a[2], _BOUND), rename(b[5], b[2], _BOUND))


def evaluate_bigop(node: tuple, env: dict, ev) -> complex:
    """The value of a big operator with integer bounds (`ev` evaluates a subtree)."""
    from verify.checker.treeval import EvalError

    lo, hi = ev(node[3], env), ev(node[4], env)
    if lo.imag or hi.imag or lo.real != int(lo.real) or hi.real != int(hi.real):
        raise EvalError("bounds are not integers")
    lo_i, hi_i = int(lo.real), int(hi.real)
    if hi_i - lo_i > MAX_TERMS:
        raise EvalError("too many terms")
    acc = 0j if node[1] == "sum" else 1 + 0j
    for k in range(lo_i, hi_i + 1):
        v = ev(node[5], {**env, node[2]: complex(k)})
        acc = acc + v if node[1] == "sum" else acc * v
    return acc
