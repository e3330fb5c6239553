"""Tokenizer and recursive-descent parser for one scalar LaTeX / plain-text math expression.

Builds plain tuples (see `verify.checker.mathparse` for the tree kinds), never calling `eval`,
`sympify` or `parse_expr`, so untrusted model text cannot run code. Input length, nesting depth
and node count are bounded (`MAX_CHARS`, `MAX_DEPTH`, `MAX_NODES`); beyond them `ParseError`.

Grammar (precedence low to high): sums ``+ -``; products ``* / \\cdot \\times \\div`` and
implicit multiplication (``2x``, ``x(x+1)``, ``2^6 3^5``); unary signs; powers ``^`` (right side:
a brace group, a whole digit run, or one atom); postfix ``!`` and ``\\%``; atoms: numbers,
letters (``x_1``, ``r_{0}``), greek letters, ``\\pi``, ``\\infty``, ``e``, ``i``, brackets, ``|x|``,
``\\frac``, ``\\sqrt[n]``, ``\\binom``, functions (``\\sin x``, ``\\sin^2 x``, ``\\log_2 8``, ``\\ln(x)``).
"""
from __future__ import annotations

import re
from fractions import Fraction

from verify.checker.numeric import _decimal

MAX_CHARS = 5000
MAX_DEPTH = 60
MAX_NODES = 4000

FUNCS = frozenset("sin cos tan sec csc cot arcsin arccos arctan sinh cosh tanh ln log exp "
                  "lfloor lceil abs".split())
GREEK = frozenset("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa "
                  "lambda mu nu xi rho sigma tau upsilon phi varphi chi psi omega Gamma Delta "
                  "Theta Lambda Xi Sigma Phi Psi Omega".split())
_ATOM_COMMANDS = FUNCS | GREEK | {"frac", "sqrt", "pi", "infty", "binom", "lfloor", "lceil", "exp", "sum", "prod"}


_TOKEN = re.compile(r"\d+(?:\.\d+)?|\.\d+|\\\\|\\[A-Za-z]+|\\.|<=|>=|[A-Za-z]|\s+|.", re.S | re.A)
_OPEN = {"(": ")", "[": "]", "{": "}", "\\{": "\\}", "\\langle": "\\rangle", "\\lfloor": "\\rfloor",
         "\\lceil": "\\rceil"}
_CLOSE = {")", "]", "}", "\\}", "\\rangle", "\\rfloor", "\\rceil"}


_DIGITS = frozenset("0123456789")


def _all_digits(t: str | None) -> bool:
    return bool(t) and all(c in _DIGITS for c in t)


class ParseError(ValueError):
    """The answer is not in the grammar, or exceeds a size bound."""


def tokenize(s: str) -> list[str]:
    """Split an answer into tokens (numbers, commands, letters, single characters).

    >>> tokenize("\\\\frac{3}{4}x^2")
    ['\\\\frac', '{', '3', '}', '{', '4', '}', 'x', '^', '2']
    """
    if len(s) > MAX_CHARS:
        raise ParseError("answer too long")
    return [t if not t.isspace() else " " for t in _TOKEN.findall(s)]


def _num(lit: str) -> tuple:
    if "." not in lit and len(lit) > 400:
        raise ParseError("number literal too long")
    n = _decimal(lit, 0)  # the numeric layer's reading, so both layers agree on ulp and significant digits
    return ("num", n.value, n.ulp, n.sig)


def _matching(tokens: list[str], i: int) -> int:
    """Index of the bracket closing tokens[i], or -1."""
    depth = 0
    for k in range(i, len(tokens)):
        t = tokens[k]
        if t in _OPEN:
            depth += 1
        elif t in _CLOSE:
            depth -= 1
            if depth == 0:
                return k
    return -1


def parse_expr(tokens: list[str]) -> tuple:
    """Parse one scalar expression from tokens (raises ParseError).

    >>> parse_expr(tokenize("2\\\\pi r"))
    ('mul', [('mul', [('num', Fraction(2, 1), None, 0), ('const', 'pi')]), ('sym', 'r')])
    """
    p = _Parser([t for t in tokens])
    node = p.expr()
    p.skip_spaces()
    if p.i != len(p.toks):
        raise ParseError(f"unexpected {p.toks[p.i]!r}")
    return node


class _Parser:
    def __init__(self, toks: list[str]):
        self.toks = toks
        self.i = 0
        self.depth = 0
        self.nodes = 0

    def peek(self, skip_space: bool = True) -> str | None:
        if skip_space:
            self.skip_spaces()
        return self.toks[self.i] if self.i < len(self.toks) else None

    def skip_spaces(self) -> None:
        while self.i < len(self.toks) and self.toks[self.i] == " ":
            self.i += 1

    def take(self, expected: str | None = None) -> str:
        t = self.peek()
        if t is None or (expected is not None and t != expected):
            raise ParseError(f"expected {expected!r}, got {t!r}")
        self.i += 1
        return t

    def node(self, *parts) -> tuple:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ParseError("expression too large")
        return tuple(parts)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError("expression nested too deep")

    def expr(self) -> tuple:
        self.enter()
        terms = [self.term()]
        while self.peek() in ("+", "-", "\\pm", "\\mp"):
            op = self.take()
            if op in ("\\pm", "\\mp"):
                raise ParseError("plus-minus is handled as two answers")
            t = self.term()
            terms.append(t if op == "+" else self.node("neg", t))
        self.depth -= 1
        return terms[0] if len(terms) == 1 else self.node("add", terms)

    def term(self) -> tuple:
        node = self.unary()
        while True:
            t = self.peek()
            if t in ("*", "\\cdot", "\\times", "\\ast"):
                self.take()
                node = self.node("mul", [node, self.unary()])
            elif t in ("/", "\\div"):
                self.take()
                node = self.node("div", node, self.unary())
            elif t is not None and self.starts_atom(t):
                node = self.node("mul", [node, self.power()])
            else:
                return node

    def starts_atom(self, t: str) -> bool:
        if t[0] in _DIGITS or t[0] == "." and len(t) > 1 or (len(t) == 1 and t.isalpha()):
            return True
        if t in ("(", "{", "\\{", "\\lfloor", "\\lceil"):
            return True
        if t.startswith("\\") and t[1:] in _ATOM_COMMANDS:
            return True
        return False

    def unary(self) -> tuple:
        t = self.peek()
        if t in ("-", "+"):
            self.take()
            self.enter()
            inner = self.unary()
            self.depth -= 1
            return inner if t == "+" else self.node("neg", inner)
        return self.power()

    def power(self) -> tuple:
        self.enter()
        base = self.postfix(self.atom())
        if self.peek() == "^":
            self.take()
            if self.peek() == "\\circ":
                self.take()
                base = self.node("mul", [base, ("div", ("const", "pi"), ("num", Fraction(180), None, 0))])
            elif self.peek() == "{" and self.toks[self.i + 1:self.i + 3] == ["\\circ", "}"]:
                self.i += 3
                base = self.node("mul", [base, ("div", ("const", "pi"), ("num", Fraction(180), None, 0))])
            else:
                exp = self.exponent()
                base = self.node("pow", base, exp)
                base = self.postfix(base)
        self.depth -= 1
        return base

    def exponent(self) -> tuple:
        t = self.peek()
        if t in ("-", "+"):
            self.take()
            e = self.exponent()
            return e if t == "+" else self.node("neg", e)
        if t == "{":
            return self.group()
        return self.power_atom()

    def power_atom(self) -> tuple:
        self.enter()
        node = self.atom()
        self.depth -= 1
        return node

    def postfix(self, node: tuple) -> tuple:
        while self.peek(skip_space=False) in ("!", "\\%", "%", "'"):
            t = self.take()
            if t == "!":
                node = self.node("fact", node)
            elif t == "'":
                raise ParseError("primes are compared as text")
            else:
                node = self.node("div", node, ("num", Fraction(100), None, 0))
        return node

    def group(self) -> tuple:
        """A brace group ``{...}`` or a single token (LaTeX argument rules)."""
        t = self.peek()
        if t == "{":
            self.take()
            inner = self.expr()
            self.take("}")
            return inner
        if t is not None and _all_digits(t):
            # `\frac12`: an unbraced argument is one digit; the rest goes back to the stream
            self.take()
            if len(t) > 1:
                self.toks[self.i - 1:self.i] = [t[0], t[1:]]
            return _num(t[0])
        return self.power_atom()

    def atom(self) -> tuple:
        t = self.peek()
        if t is None:
            raise ParseError("unexpected end")
        self.take()
        if t[0] in _DIGITS or (t[0] == "." and len(t) > 1):
            node = _num(t)
            return self.maybe_mixed(node)
        if len(t) == 1 and t.isalpha():
            name = t
            if self.peek(skip_space=False) == "_":
                name += "_" + self.subscript()
            if name in ("i", "I"):
                return ("const", "i")
            if name == "e":
                return ("const", "e")
            return self.node("sym", name)
        if t in ("(", "[", "{", "\\{"):
            inner = self.expr()
            self.take({"(": ")", "[": "]", "{": "}", "\\{": "\\}"}[t])
            return inner
        if t == "|":
            inner = self.expr()
            self.take("|")
            return self.node("fn", "abs", inner)
        if t in ("\\lfloor", "\\lceil"):
            inner = self.expr()
            self.take("\\rfloor" if t == "\\lfloor" else "\\rceil")
            return self.node("fn", t[1:], inner)
        if t.startswith("\\"):
            return self.command(t[1:])
        raise ParseError(f"unexpected {t!r}")

    def subscript(self) -> str:
        self.take("_")
        t = self.peek(skip_space=False)
        if t == "{":
            j = _matching(self.toks, self.i)
            if j < 0:
                raise ParseError("unclosed subscript")
            sub = "".join(self.toks[self.i + 1:j])
            self.i = j + 1
            return sub
        if t is None or t == " ":
            raise ParseError("empty subscript")
        self.i += 1
        return t

    def maybe_mixed(self, node: tuple) -> tuple:
        """``2\\frac{1}{2}`` and ``1 1/2`` are mixed numbers when the fraction is proper."""
        if node[2] is not None:
            return node
        j = self.i
        toks = self.toks
        if j < len(toks) and toks[j] == "\\frac":
            save = self.i
            self.i += 1
            a, b = self.group(), self.group()
            if a[0] == "num" and b[0] == "num" and a[2] is None and b[2] is None and 0 < a[1] < b[1]:
                return ("num", node[1] + a[1] / b[1], None, 0)
            self.i = save
        if (j + 3 < len(toks) and toks[j] == " " and _all_digits(toks[j + 1]) and toks[j + 2] == "/"
                and _all_digits(toks[j + 3]) and int(toks[j + 1]) < int(toks[j + 3])
                and (j + 4 >= len(toks) or toks[j + 4] in (" ", ",", ")", "]", "}"))):
            self.i = j + 4
            return ("num", node[1] + Fraction(int(toks[j + 1]), int(toks[j + 3])), None, 0)
        return node

    def command(self, name: str) -> tuple:
        if name == "frac":
            return self.node("div", self.group(), self.group())
        if name == "binom":
            return self.node("fn", "binom", self.group(), self.group())
        if name == "sqrt":
            if self.peek() == "[":
                self.take()
                n = self.expr()
                self.take("]")
                return self.node("pow", self.group(), ("div", ("num", Fraction(1), None, 0), n))
            return self.node("fn", "sqrt", self.group())
        if name in ("sum", "prod"):
            from verify.checker.bound import parse_bigop

            return parse_bigop(self, name)
        if name == "pi":
            return ("const", "pi")
        if name == "infty":
            return ("const", "inf")
        if name in GREEK:
            return self.node("sym", "\\" + name)
        if name in FUNCS:
            return self.function(name)
        raise ParseError(f"unknown command \\{name}")

    def function(self, name: str) -> tuple:
        base = None
        if name == "log" and self.peek() == "_":
            self.take("_")
            base = self.group()
        power = None
        if self.peek() == "^":
            self.take()
            power = self.exponent()
        if self.peek() in ("(", "{"):
            arg = self.atom()
        else:
            self.enter()
            arg = self.power()
            while (t := self.peek()) is not None and self.starts_atom(t) and not (
                    t.startswith("\\") and t[1:] in FUNCS):
                arg = self.node("mul", [arg, self.power()])
            self.depth -= 1
        node = self.node("fn", name, arg) if base is None else self.node("fn", "logb", arg, base)
        if power is not None:
            if power == ("neg", ("num", Fraction(1), None, 0)):
                if name not in ("sin", "cos", "tan"):
                    raise ParseError("inverse-function notation is ambiguous")
                return self.node("fn", "arc" + name, arg)  # \cos^{-1} x is arccos x, not 1/cos x
            node = self.node("pow", node, power)
        return node
