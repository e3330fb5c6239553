"""A small, bounded recursive-descent parser for LaTeX / plain-text math answers.

It turns a normalised answer (see `verify.checker.normalize`) into a tree of plain tuples, never calling
`eval`, `sympify` or `parse_expr`, so untrusted model text cannot run code. This module reads
the structure (lists, sets, tuples, intervals, unions, matrices, equations, inequalities, and
``a \\pm b``); `verify.checker.latex_expr` parses each scalar expression, with bounded input length,
nesting depth and node count. Beyond a bound `ParseError` is raised and the checker answers
"undecided".

Trees (first item is the kind):
  ("num", Fraction, ulp, sig)   number literal (ulp/sig: precision of a decimal, else None/0)
  ("sym", name)  ("const", "pi" | "e" | "i" | "inf")
  ("add", [t...]) ("mul", [f...]) ("div", a, b) ("neg", a) ("pow", a, b) ("fn", name, a[, b]) ("fact", a)
  ("list", [..]) bare comma list (unordered)   ("tuple", [..]) bracketed list (ordered)
  ("set", [..])  ("interval", left_closed, a, b, right_closed)   ("union", [..])
  ("matrix", [[..], ..])   ("eq", lhs, rhs)   ("rel", op, lhs, rhs) with op in < <= > >= !=
  ("chain", [rel, rel]) for ``1 < x \\le 3`` (both hold)

Conventions (documented in the README): ``i``/``I`` is the imaginary unit, ``e`` is Euler's
number, ``\\pi`` is pi, a letter before ``(`` multiplies (``x(x+1)``), ``\\sin x`` applies to the
following product, ``^`` followed by digits takes the whole digit run, ``^\\circ`` inside an
expression means degrees (times pi/180), ``2\\frac{1}{2}`` and ``1 1/2`` are mixed numbers.
"""
from __future__ import annotations

import re
from verify.checker.treeval import free_symbols
from verify.checker.matrices import determinant, matrix_expression
from verify.checker.latex_expr import _CLOSE, _OPEN, GREEK, ParseError, _matching, parse_expr, tokenize

RELS = {"=": "=", "<": "<", ">": ">", "\\le": "<=", "\\leq": "<=", "\\leqslant": "<=",
        "\\ge": ">=", "\\geq": ">=", "\\geqslant": ">=", "\\ne": "!=", "\\neq": "!=",
        "\\lt": "<", "\\gt": ">", "<=": "<=", ">=": ">="}
_ENV = re.compile(r"^\\begin\{([A-Za-z]+\*?)\}(.*)\\end\{\1\}$", re.S)
_SCALED_ENV = re.compile(r"^([^\\]*?|\\frac\{[^{}]*\}\{[^{}]*\}|\\frac\d\d)\s*(?:\\cdot|\\times)?\s*"
                         r"\\begin\{([A-Za-z]+)\}(.*)\\end\{\2\}$", re.S)
_NESTED = ("tuple", "interval", "list", "set", "matrix")  # ((1,2),(3,4)) is a tuple of pairs, not an interval
_EMPTY = ("\\emptyset", "\\varnothing", "{}")
_MATRIX_ENVS = ("matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "smallmatrix", "array", "cases",
                "aligned", "align", "align*")


def split_top(tokens: list[str], seps: set[str]) -> list[list[str]]:
    """Split a token list at separators that are not inside brackets."""
    parts, cur, depth = [], [], 0
    for t in tokens:
        if t in _OPEN or t.startswith("\\begin"):
            depth += 1
        elif t in _CLOSE or t.startswith("\\end"):
            depth -= 1
        if depth == 0 and t in seps:
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    parts.append(cur)
    return parts


def _strip_spaces(tokens: list[str]) -> list[str]:
    i, j = 0, len(tokens)
    while i < j and tokens[i] == " ":
        i += 1
    while j > i and tokens[j - 1] == " ":
        j -= 1
    return tokens[i:j]


def _is_simple_lhs(tokens: list[str]) -> bool:
    """A lone variable (``x``, ``x_1``, ``\\theta``) or a function head (``f(x)``, ``g(a,b)``)."""
    toks = [t for t in tokens if t != " "]
    if not toks:
        return False
    if _is_name_tuple(toks):
        return True
    head = toks[0]
    if not ((len(head) == 1 and head.isalpha()) or (head[:1] == "\\" and head[1:] in GREEK)):
        return False
    rest = toks[1:]
    if rest[:1] == ["_"]:
        if rest[1:2] == ["{"]:
            k = _matching(rest, 1)
            rest = rest[k + 1:] if k > 0 else ["?"]
        else:
            rest = rest[2:]
    if not rest:
        return True
    return (rest[0] == "(" and rest[-1] == ")"
            and all(len(t) == 1 and (t.isalpha() or t == ",") for t in rest[1:-1]))


def _is_name_tuple(toks: list[str]) -> bool:
    """``(m, n)``: a bracketed tuple of lone names (the left side of ``(m,n) = (5,3)``)."""
    toks = [t for t in toks if t != " "]
    return (len(toks) >= 5 and toks[0] in ("(", "[") and toks[-1] in (")", "]")
            and all((t == ",") if k % 2 else (len(t) == 1 and t.isalpha()) for k, t in enumerate(toks[1:-1])))


def parse_answer(s: str) -> tuple:
    """The tree of a whole normalised answer: structure (lists, intervals, ...) then expressions.

    >>> parse_answer("[1, 2)")[0], parse_answer("x = 3")[0]
    ('interval', 'assign')
    """
    return _structure(_strip_spaces(tokenize(s)), 0)


def _structure(tokens: list[str], depth: int) -> tuple:
    if depth > 8:
        raise ParseError("structure nested too deep")
    tokens = _strip_spaces(tokens)
    if not tokens:
        raise ParseError("empty answer")
    joined = "".join(tokens)
    if joined in _EMPTY:
        return ("set", [])
    if joined == "\\mathbb{R}":
        return ("interval", False, ("neg", ("const", "inf")), ("const", "inf"), False)
    if joined.startswith(("(\\begin", "[\\begin")) and joined.endswith(("}]", "})")):
        tokens, joined = tokens[1:-1], joined[1:-1]  # \left[\begin{array}..\end{array}\right]
    m = _ENV.match(joined)
    if m and "\\begin" not in m.group(2):
        return _matrix(m.group(1), m.group(2), depth)
    if joined.count("\\begin") > 1 and (product := matrix_expression(joined, lambda n, b: _matrix(n, b, depth))):
        return product
    m = _SCALED_ENV.match(joined)
    if m and m.group(2) in ("matrix", "pmatrix", "bmatrix", "Bmatrix", "smallmatrix"):  # \frac{1}{49}\begin{pmatrix} 16 \\ 48 \end{pmatrix}
        scalar = parse_expr(_strip_spaces(tokenize(m.group(1))))
        matrix = _matrix(m.group(2), m.group(3), depth)
        return ("matrix", [[("mul", [scalar, c]) for c in row] for row in matrix[1]])
    parts = split_top(tokens, {"\\cup"})
    if len(parts) > 1:
        return ("union", [_structure(p, depth + 1) for p in parts])
    commas = split_top(tokens, {","})
    if len(commas) == 1 and tokens[0] in _OPEN and _matching(tokens, 0) == len(tokens) - 1:
        inner = tokens[1:-1]
        items = split_top(inner, {","})
        op, cl = tokens[0], tokens[-1]
        if len(items) > 1 or op in ("\\{",) or (op == "{" and len(items) > 1):
            if op in ("{", "\\{"):
                return ("set", [_structure(p, depth + 1) for p in _expand_pm(items)])
            elems = [_structure(p, depth + 1) for p in items]
            if len(elems) == 2 and op in "([" and cl in ")]" and not any(e[0] in _NESTED for e in elems):
                return ("interval", op == "[", elems[0], elems[1], cl == "]")
            return ("tuple", elems)
    if op_interval := _half_open(tokens, depth):
        return op_interval
    if len(commas) > 1:
        named = _named_values(commas)
        if named is not None and named[-1] is None:  # several solutions, each a named tuple
            return ("list", [_structure(p, depth + 1) for p in named[:-1]])
        if named is not None:
            return ("tuple", [_structure(p, depth + 1) for p in named])
        return ("list", [_structure(p, depth + 1) for p in _expand_pm(commas) if _strip_spaces(p)])
    both = _expand_pm([tokens])
    if len(both) == 2:
        return ("list", [_relation(t, depth) for t in both])
    return _relation(tokens, depth)


def _named_values(items: list[list[str]]) -> list[list[str]] | None:
    """``b = 3, a = 2``: assignments to distinct one-letter variables are a tuple in name order
    (the values of a, b), so ``a = 2, b = 3`` differs from ``a = 3, b = 2``. Repeated or
    subscripted names (``x = 2, x = 3``, ``x_1 = 1, x_2 = 2``) stay a list of solutions."""
    pairs = []
    for item in items:
        toks = _strip_spaces(item)
        if len(toks) < 3 or toks[1] != "=" or "=" in toks[2:] or "\\pm" in toks or "\\mp" in toks:
            return None
        name = toks[0]
        if not (len(name) == 1 and name.isalpha() or name[:1] == "\\" and name[1:] in GREEK):
            return None
        pairs.append((name, toks[2:]))
    names = [n for n, _ in pairs]
    if len(set(names)) != len(names):
        k = len(dict.fromkeys(names))  # m=3, n=1; m=5, n=1: the same names again and again
        if k < 2 or len(names) % k or any(names[j] != names[j % k] for j in range(len(names))):
            return None
        groups = [sorted(pairs[j:j + k]) for j in range(0, len(pairs), k)]
        return [["("] + [t for g in grp for t in g[1] + [","]][:-1] + [")"] for grp in groups] + [None]
    return [v for _, v in sorted(pairs)]


def _expand_pm(items: list[list[str]]) -> list[list[str]]:
    """``a \\pm b`` (exactly one sign, outside brackets) is the two answers ``a + b``, ``a - b``."""
    out = []
    for item in items:
        signs = [k for k, t in enumerate(item) if t in ("\\pm", "\\mp")]
        if len(signs) == 1:
            k = signs[0]
            depth = sum((t in _OPEN) - (t in _CLOSE) for t in item[:k])
            if depth == 0:
                plus, minus = ("+", "-") if item[k] == "\\pm" else ("-", "+")
                out += [item[:k] + [plus] + item[k + 1:], item[:k] + [minus] + item[k + 1:]]
                continue
        out.append(item)
    return out


def _half_open(tokens: list[str], depth: int) -> tuple | None:
    """Intervals whose brackets do not match as a pair: ``[1, 2)``, ``(-\\infty, 3]``."""
    if tokens[0] in ("(", "[") and tokens[-1] in (")", "]") and tokens[0] + tokens[-1] in ("[)", "(]"):
        items = split_top(tokens[1:-1], {","})
        if len(items) == 2:
            return ("interval", tokens[0] == "[", _structure(items[0], depth + 1),
                    _structure(items[1], depth + 1), tokens[-1] == "]")
    return None


def _matrix(name: str, body: str, depth: int) -> tuple:
    if name not in _MATRIX_ENVS:
        raise ParseError(f"unknown environment {name}")
    if name == "array" and body.startswith("{"):
        body = body[body.index("}") + 1:]
    rows = [r for r in body.split("\\\\") if r.strip()]
    cells = [[_structure(_strip_spaces(tokenize(c)), depth + 1) for c in r.split("&")] for r in rows]
    if name in ("cases", "aligned", "align", "align*"):
        return ("list", [c for row in cells for c in row])
    if name == "vmatrix":  # |A|: the determinant
        return determinant(cells)
    return ("matrix", cells)


def _relation(tokens: list[str], depth: int = 0) -> tuple:
    parts, ops, cur, depth = [], [], [], 0
    for t in tokens:
        if t in _OPEN:
            depth += 1
        elif t in _CLOSE:
            depth -= 1
        if depth == 0 and t in RELS:
            parts.append(cur)
            ops.append(RELS[t])
            cur = []
        else:
            cur.append(t)
    parts.append(cur)
    if len(parts) == 1:
        return parse_expr(tokens)
    if all(o == "=" for o in ops):
        if len(parts) == 2 and not _is_simple_lhs(parts[0]):
            lhs, rhs = parse_expr(parts[0]), parse_expr(parts[1])
            if rhs[0] == "sym" and rhs[1] not in free_symbols(lhs):
                return lhs  # 2x + 3 = y, 3 = x: a lone variable on the right is dropped as on the left
            return ("eq", lhs, rhs)
        if _is_name_tuple(parts[0]):  # (m, n) = (5, 3)
            return _structure(parts[-1], depth + 1)
        if len(parts) == 2:  # y = 2x + 3: the value, remembering the name (compared as an equation too)
            return ("assign", parse_expr(parts[0]), parse_expr(parts[1]))
        return parse_expr(parts[-1])
    if len(parts) == 2:
        return ("rel", ops[0], parse_expr(parts[0]), parse_expr(parts[1]))
    return ("chain", [("rel", o, parse_expr(a), parse_expr(b)) for o, a, b in zip(ops, parts, parts[1:])])


