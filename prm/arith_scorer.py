"""A programmatic step scorer that checks the arithmetic a reasoning step states.

It finds the calculations written in a step (GSM8K calculator annotations ``<<48/2=24>>``,
inline ``48/2 = 24``, chains ``a = b = c``, ``3 x 4``, ``$1,000``, ``20%``, and the LaTeX
forms ``\\times``, ``\\cdot``, ``\\div``, ``\\frac{a}{b}``) and evaluates both sides with a
small recursive-descent parser over exact fractions (numbers, ``+ - * / ^ ( )``, postfix
``%``). Model text is never handed to ``eval`` or sympy. Sizes are bounded (literal digits,
exponents, bits of every intermediate value) so that adversarial input returns quickly.

A step scores ``wrong`` (0.05) if any claim is false, ``correct`` (0.95) if it has claims
and all hold, and ``neutral`` (0.7) if it states nothing checkable: most reasoning errors
(a wrong plan, a misread question) are invisible to this check, so an unchecked step is
presumed fine but less confidently. It is the arithmetic half of "calculator annotation"
checking from Cobbe et al. 2021 (GSM8K), used here as a PRM that needs no model.

Rules that keep false alarms down: a side of ``=`` that touches a word (``3p + 1 = 7``,
``f(3) = 9``, ``apples * 3 = 6``), an operator word (``15 pages x 1/3 = 5``), a LaTeX command
(``13 - 12 \\cos C``) or a one-letter variable (``= 32 r^5``) is not a complete expression and
is not checked; LaTeX display blocks and line breaks end a calculation, and a leading ``- ``
on a line is a bullet; a plain-number side is compared with the rounding or truncation its
decimals imply (``10/3 = 3.33`` and ``0.20 * 85.98 = 17.19`` hold); ``p%`` as a whole side
may mean p/100 or p (``0.25 * 100 = 25%`` holds); and a running total ``5 + 3 = 8 + 2 = 10``
holds when each link starts from the previous value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

MAX_SIDE_TOKENS = 80      # longer "expressions" are prose, not a calculation
MAX_LITERAL_DIGITS = 40   # digits in one number literal
MAX_BITS = 4096           # bits of numerator/denominator of any intermediate value


class Unevaluable(Exception):
    """The expression is malformed, too large, or divides by zero."""


def _mixed(m: re.Match) -> str:
    """3\\frac{4}{5} is the mixed number 3 4/5 when the fraction is proper, else left alone."""
    a, b, c = m.group(1), m.group(2), m.group(3)
    return f"({a}+{b}/{c})" if int(b) < int(c) else m.group(0).replace(a, a + " ", 1)


_LATEX = [  # (pattern, replacement), applied in order before tokenising
    (re.compile(r"(?<![\d.])(\d{1,9})\\[dt]?frac\{(\d{1,9})\}\{(\d{1,9})\}"), _mixed),
    (re.compile(r"\\[dt]?frac\s*\{([^{}]{1,200})\}\s*\{([^{}]{1,200})\}"), r"((\1)/(\2))"),
    (re.compile(r"\\(?:boxed|text|mathrm|textbf|mathbf)\s*\{([^{}]{0,200})\}"), r" \1 "),
    (re.compile(r"\^\s*\{([^{}]{1,50})\}"), r"^(\1)"),
    (re.compile(r"\\times|\\cdot|\\ast"), " * "),
    (re.compile(r"\\div"), " / "),
    (re.compile(r"\\left|\\right"), ""),
    (re.compile(r"\\[()\[\]]"), " ; "),  # math delimiters end a calculation
    (re.compile(r"\\[,!;]|\{,\}"), lambda m: "," if m.group(0) == "{,}" else ""),
    (re.compile(r"\\([%$])"), r"\1"),
    (re.compile(r"\\ "), " "),
    (re.compile(r"\\approx|≈|\\neq|≠|\\le|\\ge|\\pm"), " ~ "),
]
_TRANSLATE = str.maketrans({"×": "*", "·": "*", "∗": "*", "÷": "/", "−": "-", "–": "-",
                            "½": "(1/2)", "¼": "(1/4)", "¾": "(3/4)"})
# words that make a neighbouring number an operand of a longer expression ("15 pages x 1/3 = 5")
_OPERATOR_WORDS = frozenset({"x", "times", "of", "by", "multiplied", "divided", "plus", "minus",
                             "over", "per", "mod", "modulo", "remainder", "rem"})
_SINGLE_LETTER_WORDS = frozenset({"a", "A", "I"})  # other one-letter words are variables: "= 32 r^5"
# units and currencies that may be glued to a number ("15km", "$80/week") without making it a variable
_UNIT_WORDS = frozenset("""
    dollars dollar usd cents cent euros euro eur pounds pound gbp yen rupees rs
    km cm mm kg mg lb lbs oz mph kph kmh ft feet foot inch inches yd yards yard mi miles mile
    meters meter metres metre liters liter litres litre ml gallons gallon quarts quart cups cup
    hours hour hrs hr h minutes minute mins min seconds second secs sec s days day weeks week wk
    months month years year yrs yr
    """.split())
_GSM8K_ANNOT = re.compile(r"<<([^<>]{0,400})>>")
_TOKEN = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,]\d)|\d+(?:\.\d+)?|\.\d+)"
    r"|(?P<op>[-+*/^])|(?P<lp>\()|(?P<rp>\))|(?P<eq>=)|(?P<pct>%)|(?P<sp>[\s$]+)"
    r"|(?P<word>(?:[^\W\d]|[\\{}|!'&#@√∛∜±∓∑∏∫∠°])+)|(?P<other>.)", re.S)


@dataclass(frozen=True)
class Claim:
    """One checked equality: `left` = `right` as written, and whether it holds."""

    left: str
    right: str
    holds: bool


def evaluate(expr: str) -> Fraction:
    """Exact value of an arithmetic expression; raises `Unevaluable` if it is not one.

    >>> evaluate("48/2"), evaluate("$1,000 * 20%"), evaluate("3 x (4 - 1)^2")
    (Fraction(24, 1), Fraction(200, 1), Fraction(27, 1))
    """
    toks = [t for t in _tokens(_normalise(expr)) if t[0] != "sp"]
    if any(k in ("word", "other", "eq") for k, _ in toks):
        raise Unevaluable(f"not an arithmetic expression: {expr[:60]!r}")
    return _Parser(toks).parse()


def check_step(text: str) -> list[Claim]:
    """All arithmetic claims stated in one step, each marked as holding or not.

    >>> [c.holds for c in check_step("She pays 40 * 3 = <<40*3=120>>120 dollars, then 120 + 5 = 126.")]
    [True, True, False]
    """
    claims: list[Claim] = []
    for m in _GSM8K_ANNOT.finditer(text):
        claims.extend(_chain_claims([_Side(s) for s in m.group(1).split("=")]))
    text = _GSM8K_ANNOT.sub(" ", text)
    for sides in _runs(_tokens(_normalise(text))):
        claims.extend(_chain_claims(sides))
    return claims


class ArithScorer:
    """PRM-shaped scorer: `(question, steps) -> list[float]`, no model involved.

    >>> ArithScorer()("q", ["12 / 4 = 3", "3 + 4 = 8", "So we are done."])
    [0.95, 0.05, 0.7]
    """

    forward_tokens = 0  # programmatic: no model forward passes

    def __init__(self, *, wrong: float = 0.05, correct: float = 0.95, neutral: float = 0.7):
        self.wrong, self.correct, self.neutral = wrong, correct, neutral

    def score_step(self, text: str) -> float:
        claims = check_step(text)
        if not claims:
            return self.neutral
        return self.correct if all(c.holds for c in claims) else self.wrong

    def __call__(self, question: str, steps: Sequence[str]) -> list[float]:
        return [self.score_step(s) for s in steps]

    def score_batch(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[list[float]]:
        return [self(q, steps) for q, steps in items]

    def __repr__(self) -> str:
        return f"ArithScorer(wrong={self.wrong}, correct={self.correct}, neutral={self.neutral})"


def _normalise(text: str) -> str:
    if "\\" in text or "{" in text or "≈" in text or "≠" in text:
        for pat, rep in _LATEX:
            text = pat.sub(rep, text)
    return text.translate(_TRANSLATE)


def _tokens(text: str) -> list[tuple[str, str]]:
    toks = [(m.lastgroup or "other", m.group()) for m in _TOKEN.finditer(text)]
    # a standalone x between two operands is "times" (3 x 4); anywhere else it is a word
    sig = [i for i, (k, _) in enumerate(toks) if k != "sp"]
    for a, i, b in zip(sig, sig[1:], sig[2:]):
        if toks[i] in (("word", "x"), ("word", "X")) and toks[a][0] in ("num", "rp", "pct") \
                and toks[b][0] in ("num", "lp"):
            toks[i] = ("op", "*")
    return toks


class _Side:
    """One side of an `=`: its source text, tokens, and whether it is complete."""

    def __init__(self, text: str, toks: list[tuple[str, str]] | None = None, complete: bool = True):
        self.text = text.strip()
        self.toks = toks if toks is not None else [t for t in _tokens(_normalise(text)) if t[0] != "sp"]
        self.complete = complete and bool(self.toks) and len(self.toks) <= MAX_SIDE_TOKENS \
            and all(k not in ("word", "other", "eq") for k, _ in self.toks)
        self._value: Fraction | None | bool = False  # False: not computed yet

    @property
    def value(self) -> Fraction | None:
        if self._value is False:
            try:
                self._value = _Parser(self.toks).parse() if self.complete else None
            except Unevaluable:
                self._value = None
        return self._value  # type: ignore[return-value]

    @property
    def has_operator(self) -> bool:  # a binary operator: follows an operand
        return any(k == "op" and p in ("num", "rp", "pct")
                   for (p, _), (k, _) in zip(self.toks, self.toks[1:])) or \
            any(k == "lp" and p in ("num", "rp") for (p, _), (k, _) in zip(self.toks, self.toks[1:]))

    def literal(self) -> tuple[Fraction, int, bool] | None:
        """(value, decimals, is_percent) when the side is one plain, possibly signed, number."""
        t = self.toks
        sign = -1 if t and t[0] == ("op", "-") else 1
        if sign == -1 or (t and t[0] == ("op", "+")):
            t = t[1:]
        if len(t) in (1, 2) and t[0][0] == "num" and (len(t) == 1 or t[1][0] == "pct"):
            digits = t[0][1].replace(",", "")
            dec = len(digits.split(".")[1]) if "." in digits else 0
            return sign * Fraction(digits), dec, len(t) == 2
        return None

    def leading_literal(self) -> tuple[Fraction, int] | None:
        """(value, decimals) of the first operand when the side starts `number op ...`."""
        t = self.toks
        if len(t) >= 3 and t[0][0] == "num" and t[1][0] == "op":
            digits = t[0][1].replace(",", "")
            return Fraction(digits), len(digits.split(".")[1]) if "." in digits else 0
        return None


def _runs(toks: list[tuple[str, str]]) -> list[list[_Side]]:
    """Maximal runs of arithmetic tokens containing `=`, split into sides."""
    runs: list[list[_Side]] = []
    cur: list[tuple[str, str]] = []
    start_attached = start_after_word = False
    prev_breaker: str | None = None
    prev_word = ""
    prev_was_space = True
    toks = toks + [("other", "")]
    for i, (kind, val) in enumerate(toks):
        if not cur and kind == "op" and toks[i + 1][0] == "sp" and (i == 0 or "\n" in toks[i - 1][1]):
            prev_was_space = True  # a list bullet ("- 24/60 = 0.40"), not a minus sign
            continue
        if kind == "sp" and "\n" in val:
            kind = "other"  # a calculation does not continue over a line break
        unit = kind == "word" and _is_unit(val, toks, i)
        if unit and cur and cur[-1] == ("op", "/") and not prev_was_space:
            cur.pop()  # "$80/week": a rate's unit, not a division
        if kind in ("num", "op", "lp", "rp", "eq", "pct"):
            if not cur:
                start_after_word = prev_breaker == "word"
                start_attached = start_after_word and (not prev_was_space or _binds(prev_word))
            cur.append((kind, val))
            prev_was_space = False
        elif kind == "sp":
            prev_was_space = True
        else:
            if cur and any(k == "eq" for k, _ in cur):
                end_attached = kind == "word" and not unit and (not prev_was_space or _binds(val) or (
                    len(val) == 1 and val not in _SINGLE_LETTER_WORDS))
                runs.append(_split_sides(cur, start_attached, start_after_word, end_attached))
            cur, prev_breaker, prev_word, prev_was_space = [], kind, val, False
    return runs


def _is_unit(word: str, toks: list[tuple[str, str]], i: int) -> bool:
    """Is the word at toks[i] a unit after a number ("15km", "$0.2 per minute"), not an operand?

    One-letter units count only when glued ("5h") and followed by no operand; "per" counts
    when a word follows it (a rate), not a number ("60 per 2" is a division).
    """
    nxt = next((t for t in toks[i + 1:] if t[0] != "sp"), ("other", ""))
    low = word.lower()
    if low == "per":
        return nxt[0] == "word"
    if low not in _UNIT_WORDS:
        return False
    return len(low) > 1 or (toks[i - 1][0] == "num" and nxt[0] not in ("num", "lp", "op"))


def _binds(word: str) -> bool:
    """Does this word act on the number beside it (an operator word or a LaTeX command)?"""
    return word.lower() in _OPERATOR_WORDS or word.startswith("\\") or "{" in word or "}" in word


def _split_sides(run, start_attached: bool, start_after_word: bool, end_attached: bool) -> list[_Side]:
    parts: list[list[tuple[str, str]]] = [[]]
    for t in run:
        if t[0] == "eq":
            parts.append([])
        else:
            parts[-1].append(t)
    sides = [_Side(" ".join(v for _, v in p), p) for p in parts]
    first, last = parts[0], parts[-1]
    if start_attached or (first and first[0][0] == "op" and (first[0][1] not in "+-" or start_after_word)):
        sides[0].complete = False  # "apples * 3 = ...", "3p + 1 = ...": the left operand is a word
    if end_attached or (last and last[-1][0] == "op"):
        sides[-1].complete = False  # "= 7x", "= 3 +  apples"
    return sides


def _close(a: Fraction, b: Fraction, decimals: int | None) -> bool:
    """`a` (computed) equals `b`, or `b` is `a` rounded or truncated to `decimals` places."""
    if a == b:
        return True
    rel = max(abs(a), abs(b)) * Fraction(1, 10 ** 9)  # float noise: 14.999999999999998
    if decimals is None:
        return abs(a - b) <= rel
    unit = Fraction(1, 10 ** min(decimals, 60))
    truncated = abs(b) <= abs(a) and (a >= 0) == (b >= 0) and abs(a) - abs(b) < unit  # 17.196 -> 17.19
    return abs(a - b) <= max(unit / 2, rel) or truncated


def _pair_holds(left: _Side, right: _Side) -> bool:
    a, b = left.value, right.value
    assert a is not None and b is not None
    for lit, other in ((right.literal(), a), (left.literal(), b)):
        if lit is not None and lit[2]:  # "25%" as a whole side: 0.25 or 25
            p, dec = lit[0], lit[1]
            if _close(other, p / 100, dec + 2) or _close(other, p, dec):
                return True
    lit = right.literal() or left.literal()
    if _close(a, b, None if lit is None else lit[1]):
        return True
    lead = right.leading_literal()  # running total: "5 + 3 = 8 + 2 = 10"
    return lead is not None and left.has_operator and _close(a, lead[0], lead[1])


def _chain_claims(sides: list[_Side]) -> list[Claim]:
    out = []
    for left, right in zip(sides, sides[1:]):
        if not (left.complete and right.complete) or not (left.has_operator or right.has_operator):
            continue
        if left.value is None or right.value is None:
            continue
        out.append(Claim(left.text, right.text, _pair_holds(left, right)))
    return out


class _Parser:
    """expr := term (+|- term)*; term := unary ((*|/|implicit) unary)*;
    unary := (+|-) unary | power; power := postfix (^ unary)?; postfix := atom %*;
    atom := number | ( expr ). `^` is right-associative and binds tighter than unary minus."""

    def __init__(self, toks: list[tuple[str, str]]):
        self.toks, self.i = toks, 0
        if not toks or len(toks) > MAX_SIDE_TOKENS:
            raise Unevaluable("empty or too long")

    def parse(self) -> Fraction:
        v = self.expr(0)
        if self.i != len(self.toks):
            raise Unevaluable(f"unexpected {self.toks[self.i][1]!r}")
        return v

    def peek(self) -> tuple[str, str]:
        return self.toks[self.i] if self.i < len(self.toks) else ("end", "")

    def expr(self, depth: int) -> Fraction:
        if depth > 40:
            raise Unevaluable("nested too deeply")
        v = self.term(depth)
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.toks[self.i][1]
            self.i += 1
            w = self.term(depth)
            v = _bounded(v + w if op == "+" else v - w)
        return v

    def term(self, depth: int) -> Fraction:
        v = self.unary(depth)
        while True:
            k, op = self.peek()
            if (k, op) in (("op", "*"), ("op", "/")):
                self.i += 1
            elif k == "lp":
                op = "*"  # implicit product: 2(3 + 1)
            else:
                return v
            w = self.unary(depth)
            if op == "/" and w == 0:
                raise Unevaluable("division by zero")
            v = _bounded(v * w if op == "*" else v / w)

    def unary(self, depth: int) -> Fraction:
        if self.peek() in (("op", "-"), ("op", "+")):
            neg = self.toks[self.i][1] == "-"
            self.i += 1
            v = self.unary(depth + 1)
            return -v if neg else v
        return self.power(depth)

    def power(self, depth: int) -> Fraction:
        base = self.postfix(depth)
        if self.peek() == ("op", "^"):
            self.i += 1
            exp = self.unary(depth + 1)
            if exp.denominator != 1 or abs(exp.numerator) > 10_000:
                raise Unevaluable("exponent not a small integer")
            e = exp.numerator
            size = max(base.numerator.bit_length(), base.denominator.bit_length())
            if size * abs(e) > MAX_BITS:
                raise Unevaluable("power too large")
            if base == 0 and e < 0:
                raise Unevaluable("division by zero")
            return base ** e
        return base

    def postfix(self, depth: int) -> Fraction:
        v = self.atom(depth)
        while self.peek()[0] == "pct":
            self.i += 1
            v = v / 100
        return v

    def atom(self, depth: int) -> Fraction:
        k, val = self.peek()
        if k == "num":
            self.i += 1
            digits = val.replace(",", "")
            if len(digits) > MAX_LITERAL_DIGITS:
                raise Unevaluable("number literal too long")
            return Fraction(digits)
        if k == "lp":
            self.i += 1
            v = self.expr(depth + 1)
            if self.peek()[0] != "rp":
                raise Unevaluable("unbalanced parenthesis")
            self.i += 1
            return v
        raise Unevaluable(f"unexpected {val!r}")


def _bounded(v: Fraction) -> Fraction:
    if v.numerator.bit_length() > MAX_BITS or v.denominator.bit_length() > MAX_BITS:
        raise Unevaluable("value too large")
    return v
