"""Numeric fast path: a normalised answer that is a plain number -> an exact `Fraction`.

Accepted spellings: integers (``025``, ``1,000``, ``11,\\!111``), decimals (``.5``, ``2.50``),
scientific notation (``1.5e-3``, ``2.3\\times10^{-3}``), repeating decimals (``0.\\overline{3}``), fractions (``3/4``, ``\\frac{3}{4}``,
``\\frac34``, ``\\frac1{72}``), mixed numbers (``2\\frac{1}{2}``, ``1 1/2``), percent (``10\\%``).
Numbers are exact rationals, so ``0.1 + 0.2`` problems cannot arise.

Decimal answers that approximate an exact value are accepted by one documented rule
(`numbers_equal`): when one side is a decimal with at least 3 significant digits and the other
side's exact value has no finite decimal expansion (``1/3``, ``1/432``), the decimal must equal
the exact value rounded half-up OR truncated at the decimal's last digit. Two values that both
have finite decimal expansions must be exactly equal (``5`` vs ``5.001`` is not equal).
Literals are bounded (at most 400 digits, exponent at most 400) so no input can make a huge int.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

MAX_DIGITS = 400
MAX_EXP = 400
MIN_APPROX_SIG = 3


@dataclass(frozen=True)
class Num:
    """An exact number with the precision of the literal it came from.

    `ulp` is the value of one unit in the last written digit of a decimal literal (None for
    integers and fractions, which are exact); `sig` counts its significant digits.
    """

    value: Fraction
    ulp: Fraction | None = None
    sig: int = 0
    percent: bool = False


_INT = r"\d{1,3}(?:,\d{3})+|\d+"
_DEC = rf"(?:{_INT})?\.\d+|(?:{_INT})\.?"
_SCI = re.compile(rf"^({_DEC})(?:[eE]([-+]?\d+)|(?:\\times|\\cdot|\*)10\^(?:\{{([-+]?\d+)\}}|([-+]?\d)))?$", re.A)
_FRAC = re.compile(r"^\\frac(?:\{(\d+)\}|(\d))(?:\{(\d+)\}|(\d))$", re.A)
_SLASH = re.compile(r"^(\d+)/(\d+)$", re.A)
_MIXED_TEX = re.compile(r"^(\d+)\\frac(?:\{(\d+)\}|(\d))(?:\{(\d+)\}|(\d))$", re.A)
_MIXED_SPACE = re.compile(r"^(\d+) (\d+)/(\d+)$", re.A)
_REPEAT = re.compile(r"^(\d*)\.(\d*)\\overline\{?(\d{1,50})\}?$", re.A)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:(am|pm|a\.m\.?|p\.m\.?))?$", re.I | re.A)


def _decimal(lit: str, exp: int) -> Num:
    lit = lit.replace(",", "")
    if "." in lit:
        whole, frac = lit.split(".")
    else:
        whole, frac = lit, ""
    digits = (whole + frac).lstrip("0")
    value = Fraction(int(whole or "0") * 10 ** len(frac) + int(frac or "0"), 10 ** len(frac))
    scale = Fraction(10) ** exp
    value *= scale
    if not frac and exp >= 0:
        return Num(value)
    ulp = Fraction(1, 10 ** len(frac)) * scale
    return Num(value, ulp, len(digits) if digits else 1)


def _unsigned(s: str) -> Num | None:
    m = _REPEAT.match(s)
    if m:  # 0.1\overline{6} = 1/6: exact
        whole, fixed, rep = m.groups()
        value = int(whole or "0") + Fraction(int(fixed or "0"), 10 ** len(fixed))
        return Num(value + Fraction(int(rep), 10 ** len(fixed) * (10 ** len(rep) - 1)))
    m = _SCI.match(s)
    if m:
        lit, e1, e2, e3 = m.groups()
        exp = int(e1 or e2 or e3 or 0)
        if abs(exp) > MAX_EXP:
            return None
        return _decimal(lit, exp)
    m = _FRAC.match(s) or _SLASH.match(s)
    if m:
        g = [x for x in m.groups() if x is not None]
        den = int(g[1])
        return Num(Fraction(int(g[0]), den)) if den else None
    m = _MIXED_TEX.match(s)
    if m:
        whole, a1, a2, b1, b2 = m.groups()
        num, den = int(a1 or a2), int(b1 or b2)
        if den and num < den:
            return Num(int(whole) + Fraction(num, den))
        return None
    m = _MIXED_SPACE.match(s)
    if m:
        whole, num, den = (int(x) for x in m.groups())
        if den and num < den:
            return Num(whole + Fraction(num, den))
    return None


def parse_number(s: str) -> Num | None:
    """The exact value of a normalised answer that is a plain number, else None.

    >>> parse_number("2\\\\frac{1}{2}").value
    Fraction(5, 2)
    >>> parse_number("1,000").value, parse_number("x") is None
    (Fraction(1000, 1), True)
    """
    if not s or len(s) > MAX_DIGITS or not any(c in '0123456789' for c in s):
        return None
    s = s.replace("{,}", ",").replace(",\\!", ",")
    percent = False
    if s.endswith("%"):
        percent = True
        s = s[:-2] if s.endswith("\\%") else s[:-1]
    sign = 1
    while s[:1] in ("-", "+"):
        if s[0] == "-":
            sign = -sign
        s = s[1:]
    if s.startswith("(") and s.endswith(")"):
        inner = parse_number(s[1:-1])
        if inner is None or inner.percent:
            return None
        n = inner
    else:
        n = _unsigned(s)
    if n is None:
        return None
    return Num(sign * n.value, n.ulp, n.sig, percent)


def _terminates(q: Fraction) -> bool:
    d = q.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def _approximates(dec: Num, exact: Num) -> bool:
    if dec.ulp is None or dec.sig < MIN_APPROX_SIG or exact.ulp is not None or _terminates(exact.value):
        return False
    target = dec.value / dec.ulp  # an integer: the decimal in units of its last digit
    q = exact.value / dec.ulp
    half_up = (abs(q) + Fraction(1, 2)).__floor__() * (1 if q >= 0 else -1)
    trunc = int(q)
    return target in (half_up, trunc)


def _values(n: Num) -> tuple[Num, ...]:
    if n.percent:
        return (Num(n.value, n.ulp, n.sig), Num(n.value / 100, None if n.ulp is None else n.ulp / 100, n.sig))
    return (n,)


def numbers_equal(a: Num, b: Num) -> bool:
    """Exact equality, plus the documented decimal-approximation rule; percent reads both ways.

    >>> numbers_equal(parse_number("1/3"), parse_number("0.333"))
    True
    >>> numbers_equal(parse_number("5"), parse_number("5.001"))
    False
    """
    for x in _values(a):
        for y in _values(b):
            if x.value == y.value or _approximates(x, y) or _approximates(y, x):
                return True
    return False


def parse_time(s: str) -> int | None:
    """Seconds after midnight for ``20:34``, ``20:34:00``, ``08:34p.m.``; else None.

    >>> parse_time("08:34p.m.") == parse_time("20:34")
    True
    """
    m = _TIME.match(s)
    if not m:
        return None
    h, mi, sec, ampm = m.groups()
    h, mi, sec = int(h), int(mi), int(sec or 0)
    if ampm:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if ampm.lower().startswith("p") else 0)
    if h > 24 or mi > 59 or sec > 59:
        return None
    return h * 3600 + mi * 60 + sec
