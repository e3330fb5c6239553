"""Spellings of answers that models write every day, rewritten before normalisation (family 6).

`rewrite_formats(answer)` turns, without changing the meaning:

* percent words into ``\\%``: ``41.5 percent``, ``41.5 pct``, ``41.5 percentage`` (then the
  numeric layer's percent policy applies: ``41.5\\%`` equals 41.5 and 0.415);
* Python powers ``3**(1/3)`` into ``3^(1/3)``; ``!=`` into ``\\neq``;
* a named angle ``\\angle ABC = 58^\\circ`` (also ``m\\angle B``) into its value;
* a named ratio ``S_1 : S_2 = 5 : 13`` into ``5 : 13``;
* ``y \\approx 13`` into 13 when the left side is a lone name (``\\frac{1}{\\sqrt3} \\approx 0.577``
  keeps its exact left side, as before);
* solutions joined by a bare word ``(13,2)or(2,13)`` into ``(13,2), (2,13)``;
* a backslash before a digit (``\\15``, a ``\\$15`` that lost its dollar) and LaTeX thousands
  separators ``10{,}000`` are dropped.

Decimal commas are not rewritten here: ``3,75`` is read as 3.75 only when compared with a
single number (see `decimal_comma`), because ``-2,1`` is a list of two solutions in MATH.
"""
from __future__ import annotations

import re

_PERCENT_WORD = re.compile(r"(?<=[\d}])\s*(?:\\text\s*\{\s*)?(?:per\s*cent(?:age)?|percent(?:age)?|pct)\.?\s*\}?\s*$",
                           re.I)
_PY_POW = re.compile(r"\*\*")
_ANGLE = re.compile(r"^\s*(?:m\s*)?\\(?:angle|measuredangle)\s*\{?[A-Za-z]{1,3}\}?\s*=\s*")
_NAMED_RATIO = re.compile(r"^[^=]{1,40}:[^=]{1,40}=\s*(-?[\d.]+\s*:\s*-?[\d.]+(?:\s*:\s*-?[\d.]+)*)\s*$")
_APPROX_NAMED = re.compile(r"^\s*\\?[A-Za-z]+(?:_\{?\w{1,4}\}?)?\s*(?:\\approx|≈)\s*")
_WORD_JOIN = re.compile(r"(?<=[)\]])\s*(?:or|and)\s*(?=[(\[])")
_STRAY_BACKSLASH = re.compile(r"(?<!\\)\\(?=\d)")
_BRACED_COMMA = re.compile(r"(?<=\d)\{,\}(?=\d{3}(?!\d))")
_DECIMAL_COMMA = re.compile(r"(-?)(\d+),(\d+)")


def rewrite_formats(s: str) -> str:
    """Rewrite the spellings listed in the module docstring.

    >>> rewrite_formats("41.5 percent"), rewrite_formats("3**(1/3)"), rewrite_formats("\\\\angle ABC = 58^\\\\circ")
    ('41.5\\\\%', '3^(1/3)', '58^\\\\circ')
    """
    if "\\" in s and _STRAY_BACKSLASH.search(s):  # \15: a dollar sign that lost its $ (\$15)
        s = _STRAY_BACKSLASH.sub("", s)
    if "{,}" in s:  # 10{,}000: a LaTeX thousands separator
        s = _BRACED_COMMA.sub("", s)
    if "**" in s:
        s = _PY_POW.sub("^", s)
    if "!=" in s:
        s = s.replace("!=", "\\neq ")
    if "angle" in s:
        s = _ANGLE.sub("", s)
    if ":" in s and "=" in s and (m := _NAMED_RATIO.match(s)):
        s = m.group(1)
    if "approx" in s or "≈" in s:
        s = _APPROX_NAMED.sub("", s)
    if ("or" in s or "and" in s) and _WORD_JOIN.search(s):
        s = _WORD_JOIN.sub(", ", s)
    low = s.lower()
    if "p" in low and ("percent" in low or "pct" in low or "per cent" in low):
        s = _PERCENT_WORD.sub("\\%", s)
    return s


def decimal_comma(s: str) -> str | None:
    """``3,75`` -> ``3.75`` when `s` is two digit runs joined by one comma that is neither
    thousands grouping nor a short list: the left run is 0 (``0,125``, ``0,5``), or the right run
    has two digits or more than three (``3,75``, ``3,1416``). Else None.

    ``1,234`` is always 1234 (thousands), never 1.234; ``2,5`` and ``-2,1`` stay lists of two.

    >>> decimal_comma("3,75"), decimal_comma("0,125"), decimal_comma("1,234"), decimal_comma("1, 2")
    ('3.75', '0.125', None, None)
    """
    m = _DECIMAL_COMMA.fullmatch(s)
    if not m:
        return None
    left, right = m.group(2), m.group(3)
    if left != "0" and (len(right) == 1 or len(right) == 3 and len(left) <= 3):
        return None  # 1,234 is thousands; -2,1 and 2,5 are two solutions (MATH writes lists so)
    return f"{m.group(1)}{m.group(2)}.{m.group(3)}"
