"""Matrices as answers (family 7): determinants of ``vmatrix`` and sums/products of literal matrices.

`determinant(cells)` builds the expression tree of a square matrix's determinant (Laplace
expansion, up to 4x4) so ``\\begin{vmatrix}1&2\\\\3&4\\end{vmatrix}`` compares equal to ``-2``.
`matrix_expression(text, build)` evaluates a sum, difference or product of literal matrices
written side by side (``A + B``, ``AB``, ``A \\cdot B``) into one matrix of entry trees;
anything else between the matrices gives None (the parser then reports it cannot parse).
Entries stay trees, so fractions and radicals are compared entrywise by the usual layers.
"""
from __future__ import annotations

import re

from verify.checker.latex_expr import ParseError

MAX_DET = 4
MAX_OPERANDS = 4
MAX_DIM = 8
_ENV_BLOCK = re.compile(r"\\begin\{([A-Za-z]+)\}(.*?)\\end\{\1\}", re.S)
_OPS = {"+": "+", "-": "-", "": "*", "\\cdot": "*", "\\times": "*", "*": "*"}


def determinant(cells: list[list[tuple]]) -> tuple:
    """The determinant of a square matrix of entry trees, as a tree."""
    n = len(cells)
    if n == 0 or any(len(r) != n for r in cells):
        raise ParseError("a determinant needs a square matrix")
    if n > MAX_DET:
        raise ParseError(f"determinant larger than {MAX_DET}x{MAX_DET}")
    if n == 1:
        return cells[0][0]
    terms = []
    for j in range(n):
        minor = [row[:j] + row[j + 1:] for row in cells[1:]]
        term = ("mul", [cells[0][j], determinant(minor)])
        terms.append(term if j % 2 == 0 else ("neg", term))
    return ("add", terms)


def _add(a: list, b: list, sign: str) -> list:
    if len(a) != len(b) or any(len(r) != len(s) for r, s in zip(a, b)):
        raise ParseError("matrix sum of different shapes")
    return [[("add", [x, y if sign == "+" else ("neg", y)]) for x, y in zip(r, s)] for r, s in zip(a, b)]


def _mul(a: list, b: list) -> list:
    if any(len(r) != len(b) for r in a):
        raise ParseError("matrix product of incompatible shapes")
    cols = len(b[0])
    return [[("add", [("mul", [r[k], b[k][j]]) for k in range(len(b))]) for j in range(cols)] for r in a]


def matrix_expression(text: str, build) -> tuple | None:
    """``A + B``, ``A - B`` or ``AB`` of literal matrices -> ("matrix", cells); None otherwise.

    `build(env_name, body)` parses one matrix environment into ("matrix", cells).
    """
    blocks = list(_ENV_BLOCK.finditer(text))
    if not 2 <= len(blocks) <= MAX_OPERANDS or blocks[0].start() != 0 or blocks[-1].end() != len(text):
        return None
    ops = []
    for prev, nxt in zip(blocks, blocks[1:]):
        op = text[prev.end():nxt.start()].strip()
        if op not in _OPS:
            return None
        ops.append(_OPS[op])
    mats = []
    for b in blocks:
        m = build(b.group(1), b.group(2))
        if m[0] != "matrix" or len(m[1]) > MAX_DIM or any(len(r) > MAX_DIM for r in m[1]):
            return None
        mats.append(m[1])
    # products bind tighter than sums
    terms, signs, cur = [], ["+"], mats[0]
    for op, m in zip(ops, mats[1:]):
        if op == "*":
            cur = _mul(cur, m)
        else:
            terms.append(cur)
            signs.append(op)
            cur = m
    terms.append(cur)
    acc = terms[0]
    for sign, t in zip(signs[1:], terms[1:]):
        acc = _add(acc, t, sign)
    return ("matrix", acc)
