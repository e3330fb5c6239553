"""String normalisation of extracted answers: the first, cheapest layer of the checker.

`normalize(answer)` rewrites an answer into a canonical spelling without changing its meaning:
LaTeX spacing and sizing commands go (``\\left``, ``\\!``, ``\\,``, ``\\displaystyle``),
``\\dfrac``/``\\tfrac`` become ``\\frac``, doubly escaped commands (``\\\\frac``) are undone,
wrappers such as ``\\mathrm{E}``/``\\textbf{A}`` are unwrapped, trailing units are dropped
(``10\\text{ cm}^2``, ``10 square units``, ``10weeks``; but not ``10cm``/``10m``, which read as
products), a leading ``x \\in`` and a trailing ``\\approx 0.577`` are dropped, ``\\$`` and degree
marks go, unicode minus/times/pi become ASCII/LaTeX. Whitespace is removed except one space
between two digits (``1 1/2`` is a mixed number, ``11/2`` is not).

Equal normal forms imply equivalent answers, so `answer_key` (used to group votes) is built on it.
The rules follow the MATH grader's `strip_string` (Hendrycks et al., 2021) and extend it.
"""
from __future__ import annotations

import re

from verify.checker.formats import rewrite_formats

UNIT_WORDS = frozenset(
    """unit units square sq cubic cm mm km m meter meters metre metres centimeter centimeters
    kilometer kilometers millimeter millimeters inch inches in ft foot feet yard yards mile miles
    mph kg g gram grams kilogram kilograms pound pounds lb lbs ounce ounces oz liter liters litre
    litres ml l gallon gallons second seconds sec s minute minutes min hour hours hr hrs day days
    week weeks month months year years dollar dollars cent cents degree degrees deg radian radians
    percent point points people person students times ways cups cup page pages mm2 cm2 m2""".split()
)
_UNIT_NAMES = {  # canonical unit -> its spellings; units of one kind are never converted
    "mm": "mm millimeter millimeters millimetre millimetres", "cm": "cm centimeter centimeters centimetre centimetres",
    "m": "m meter meters metre metres", "km": "km kilometer kilometers kilometre kilometres",
    "in": "in inch inches", "ft": "ft foot feet", "yd": "yd yard yards", "mi": "mi mile miles",
    "mg": "mg milligram milligrams", "g": "g gram grams", "kg": "kg kilogram kilograms",
    "lb": "lb lbs pound pounds", "oz": "oz ounce ounces", "ml": "ml milliliter milliliters millilitre millilitres",
    "l": "l liter liters litre litres", "gal": "gal gallon gallons", "s": "s sec secs second seconds",
    "min": "min mins minute minutes", "h": "h hr hrs hour hours", "day": "day days", "week": "week weeks",
    "month": "month months", "year": "year years yr yrs", "cent": "cent cents", "dollar": "dollar dollars",
    "deg": "degree degrees deg", "rad": "radian radians rad",
}
UNIT_OF_NAME = {w: k for k, v in _UNIT_NAMES.items() for w in v.split()}
_UNIT_TAIL = re.compile(r"(?:\\(?:text|mbox|mathrm)\s*\{([^{}]*)\}|(?<=[\d}])\s+([A-Za-z]+(?: +[A-Za-z]+)*))"
                        r"\s*(?:\^\s*\{?\s*([23])\s*\}?)?\s*\.?\s*$")
FUNCTION_WORDS = frozenset(
    "sin cos tan sec csc cot sinh cosh tanh arcsin arccos arctan ln log exp sqrt pi and or inf "
    "infty max min gcd lcm det mod".split()
)
_DOUBLE_ESC = re.compile(r"\\\\(?=(?:frac|dfrac|tfrac|sqrt|begin|end|text|pi|left|right|cdot|times|"
                         r"infty|sin|cos|tan|log|ln|mathrm|mathbf|pm|le|ge|neq|circ|approx)(?![A-Za-z]))")
_WRAPPERS = re.compile(r"\\(?:mathrm|textbf|mathbf|textit|mathit|mathsf|boldsymbol|bm|operatorname|"
                       r"textrm|mathnormal|displaystyle)\s*\{([^{}]*)\}")
_TEXT = re.compile(r"\\(?:text|mbox|textnormal)\s*\{([^{}]*)\}")
_SPACING = re.compile(r"(?<!\\)\\[,;:! ]|\\(?:left|right|big|Big|bigg|Bigg|bigl|bigr|Bigl|Bigr)(?![A-Za-z])|"
                      r"\\(?:displaystyle|textstyle|quad|qquad)(?![A-Za-z])|~")
_UNICODE = {"\u2212": "-", "\u2013": "-", "\u00d7": "\\times ", "\u00b7": "\\cdot ", "\u22c5": "\\cdot ",
            "\u03c0": "\\pi ", "\u221e": "\\infty ", "\u2264": "\\le ", "\u2265": "\\ge ", "\u2260": "\\ne ",
            "\u00b0": "^\\circ", "\u221a": "\\sqrt", "\u00f7": "\\div ", "\u00bd": "1/2", "\u2009": " ",
            "\u00a0": " ", "\u00b2": "^2", "\u00b3": "^3"}
_UNICODE_RE = re.compile("|".join(map(re.escape, _UNICODE)))
_TRAIL_UNIT_TEXT = re.compile(r"(?<=\S)\s*\\(?:text|mbox|textnormal)\s*\{[^{}]*\}\s*(?:\^\s*\{?\s*[23]\s*\}?)?\s*$")
# unambiguous word runs, searched only near the end: "1 a a a ... !" used to take cubic time
_TRAIL_WORDS = re.compile(r"(?<=[\d}).\w])\s+([A-Za-z]+(?: +[A-Za-z]+)*)\s*(?:\^\s*\{?\s*[23]\s*\}?)?\s*$")
_TRAIL_WINDOW = 120
_ATTACHED_UNIT = re.compile(r"(?<=\d)([A-Za-z]{3,})\s*(?:\^\s*\{?\s*[23]\s*\}?)?\s*$")
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\degree|\^\s*\{\s*\\text\{\s*o\s*\}\s*\}")
_IN_PREFIX = re.compile(r"^\s*[A-Za-z]\s*\\in\s*")
_APPROX = re.compile(r"\\approx|≈")
_SPACES = re.compile(r"\s+")
_DIGIT_SPACE = re.compile(r"(?<=\d) (?=\d)")
_CLOCK = re.compile(r"\d:\d\d")
_CMD_SPACE = re.compile(r"(\\[A-Za-z]+) (?=[A-Za-z])")
_PLAIN = re.compile(r"-?[0-9]+(?:\.[0-9]+)?|[A-Za-z]")
_THOUSANDS_TEX = re.compile(r",\\!\s*(?=\d{3})")
_TEXT_AND = re.compile(r"\\text\s*\{\s*(?:and|or)\s*\}")
_COMMA_AND = re.compile(r",\s*(?:and|or)\s+")
_SPACE_AND = re.compile(r"(?<=\S)\s+(?:and|or)\s+(?=\S)")
_DEGREE_NUMBER = re.compile(r"[-+\d.,\s]+\^\\circ")
_COMMAS = re.compile(r"\s*,[\s,]*")
_SUBSCRIPT = re.compile(r"_\{(\w)\}")
_MATHY = re.compile(r"[\d})]")
_LONE_LETTER_PARENS = re.compile(r"^\(([A-Za-z])\)$")
_SPACED_THOUSANDS = re.compile(r"-?\d{1,3}(?: \d{3})+(?:\.\d+)?")
_TEXT_I = re.compile(r"\\(?:text|mbox|textnormal)\s*\{i\}")
_ITEM_DEGREES = re.compile(r"\^\\circ\s*(?=,|$)")
_INF = re.compile(r"\\inf(?![A-Za-z])")
_TEXT_NUMBER_UNIT = re.compile(r"\\(?:text|mbox)\s*\{\s*(-?[\d.,]+)\s+([A-Za-z]+(?: +[A-Za-z]+)*)\s*\}")
_RAW_CHOICE = re.compile(r"\s*(\\(?:text|textbf|mathrm|mathbf)\s*\{\s*)?\(([A-E])\)\s*(\})?")
_CHOICE_WITH_VALUE = re.compile(r"^\(([A-E])\)\s*(?=[^\s^_(*/+\-=,])")
_PLAIN_FUNCS = re.compile(r"(?<![\\A-Za-z])(sqrt|pi)(?![A-Za-z])")
_MATHRM_UNIT = re.compile(r"(?<=[\d}])\s*\\(?:mathrm|operatorname)\s*\{\s*([A-Za-z]+)\s*\}(?=\s*(?:\^\s*\{?\s*[23]\s*\}?)?\s*$)")
_SCI = re.compile(r"(-?\d+(?:\.\d+)?)[eE]([-+]?\d{1,4})")
_TRIG_OR_PI = re.compile(r"\\(?:pi|sin|cos|tan|cot|sec|csc)(?![A-Za-z])")


def undo_double_escape(s: str) -> str:
    """Undo doubled backslashes when they precede a LaTeX command (``\\\\frac`` -> ``\\frac``)."""
    if _DOUBLE_ESC.search(s):
        s = _DOUBLE_ESC.sub(r"\\", s)
        s = s.replace("\\\\\\\\", "\\\\")
    return s


def _strip_units(s: str) -> str:
    if _CLOCK.search(s):
        return s
    t = _TRAIL_UNIT_TEXT.sub("", s)
    if t != s and t.strip():
        s = t
    m = _TRAIL_WORDS.search(s, max(0, len(s) - _TRAIL_WINDOW))
    if m and _MATHY.search(s[:m.start()]):
        words = m.group(1).split()
        if all(w.lower() in UNIT_WORDS or (len(w) >= 3 and w.lower() not in FUNCTION_WORDS) for w in words):
            s = s[:m.start()]
    m = _ATTACHED_UNIT.search(s)
    if m and m.group(1).lower() in UNIT_WORDS:
        s = s[:m.start()]
    return s


def unit_of(answer: str) -> str | None:
    """The canonical unit written after a number (``10\\text{ cm}^2``, ``5 square inches``), or None.

    A power written as ``^2``/``^3`` or "square"/"cubic" is kept (``cm^2``); the two spellings
    are the same unit. No power at all gives the bare unit (``cm``).

    >>> unit_of("15\\\\mbox{ cm}^2"), unit_of("15 square centimeters"), unit_of("15"), unit_of("2x")
    ('cm^2', 'cm^2', None, None)
    """
    m = _UNIT_TAIL.search(answer[-200:])
    if not m or not _MATHY.search(answer[:len(answer) - len(answer[-200:]) + m.start()]):
        return None
    words = (m.group(1) or m.group(2) or "").lower().split()
    power = m.group(3) or ("2" if words[:1] in (["square"], ["sq"]) else "3" if words[:1] == ["cubic"] else "")
    words = [w for w in words if w not in ("square", "sq", "cubic")]
    unit = UNIT_OF_NAME.get(words[0]) if len(words) == 1 else None
    return None if unit is None else unit + ("^" + power if power else "")


def choice_value(answer: str) -> str | None:
    """The value after a choice letter (``(C) 12`` -> ``12``), normalised; None without one.

    >>> choice_value("\\\\textbf{(C)}\\\\ 12"), choice_value("(C)"), choice_value("12")
    ('12', None, None)
    """
    m = _RAW_CHOICE.match(answer)
    if not m:
        return None
    rest = answer[m.end():].strip()
    if m.group(1) and not m.group(3):
        if not rest.endswith("}"):
            return None
        rest = rest[:-1]
    return normalize(rest) or None


def normalize(answer: str) -> str:
    """A canonical spelling of an extracted answer (meaning-preserving, see module docstring).

    >>> normalize("\\\\left( \\\\dfrac{1}{2}, 3 \\\\right)")
    '(\\\\frac{1}{2}, 3)'
    >>> normalize("10\\\\text{ cm}^2")
    '10'
    """
    s = answer.strip()
    if not s or _PLAIN.fullmatch(s):
        return s
    if not s.isascii():
        s = _UNICODE_RE.sub(lambda m: _UNICODE[m.group(0)], s)
    s = rewrite_formats(s)
    latex = "\\" in s
    if latex:
        s = undo_double_escape(s)
        s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\cfrac", "\\frac")
        s = s.replace("\\$", "")
        if "\\inf" in s:
            s = _INF.sub(r"\\infty", s)  # \inf is a common misspelling of \infty
        if "{i}" in s:
            s = _TEXT_I.sub("i", s)  # 7\text{i} is the imaginary unit, not a unit to drop
        if "vert" in s:
            s = s.replace("\\lvert", "|").replace("\\rvert", "|").replace("\\vert", "|")
    s = s.replace("$", "")
    if ("sqrt" in s or "pi" in s) and _PLAIN_FUNCS.search(s):
        s = _PLAIN_FUNCS.sub(r"\\\1 ", s)  # plain-text sqrt(2), 2pi
        latex = True
    if latex:
        if "rm" in s:  # 5\mathrm{cm}: an upright unit after a number is a unit, as \text{cm} is
            s = _MATHRM_UNIT.sub(lambda m: "\\text{ " + m.group(1) + "}" if m.group(1).lower() in UNIT_OF_NAME
                                 or m.group(1).lower() in UNIT_WORDS else m.group(0), s)
        for _ in range(3):
            t = _WRAPPERS.sub(r"\1", s)
            if t == s:
                break
            s = t
        s = _THOUSANDS_TEX.sub(",", s)
        if s.startswith(("\\text", "\\mbox")) and (m := _TEXT_NUMBER_UNIT.fullmatch(s)):
            s = m.group(1) + " " + m.group(2)  # \text{2 cm}: a number and its unit
        s = _SPACING.sub(" ", s)
        s = _TEXT_AND.sub(",", s)
    if ";" in s:  # 3; 5 separates answers as 3, 5 does (\; spacing is already gone)
        s = s.replace(";", ",")
    if " " in s or "," in s:
        s = _COMMA_AND.sub(",", s)
        s = _SPACE_AND.sub(",", s)
    if latex:
        m = _APPROX.search(s)
        if m and s[:m.start()].strip():
            s = s[:m.start()]
        s = _IN_PREFIX.sub("", s)
    s = s.strip()
    if s.endswith("\\") and not s.endswith("\\\\"):
        s = s[:-1]
    s = s.rstrip(".").strip()
    if latex or "^" in s:
        s = _DEGREES.sub(lambda m: "^\\circ", s)
        if s.endswith("^\\circ") and _DEGREE_NUMBER.fullmatch(s):
            s = s[: -len("^\\circ")]
        elif "^\\circ" in s and not _TRIG_OR_PI.search(s):
            # a degree mark ending an answer or a list item is a unit, as for 30^\circ = 30
            # (\frac{360}{7}^\circ, 30^\circ, 150^\circ); inside trig or beside \pi it converts
            s = _ITEM_DEGREES.sub("", s)
    if any(c.isalpha() for c in s):
        s = _strip_units(s)
    if latex:
        s = _TEXT.sub(r"\1", s)
        s = s.replace("\\{", "{").replace("\\}", "}")
    if " " in s or "," in s or "\t" in s or "\n" in s:
        s = _SPACES.sub(" ", s).strip()
        s = _COMMAS.sub(lambda m: ", " if " " in m.group(0) else ",", s)
        s = _CMD_SPACE.sub("\\1\x00", s)
        s = s.replace(", ", ",\x00")
        s = _DIGIT_SPACE.sub("\x00", s).replace(" ", "").replace("\x00", " ")
    if "_{" in s:
        s = _SUBSCRIPT.sub(r"_\1", s)
    m = _LONE_LETTER_PARENS.match(s) or _CHOICE_WITH_VALUE.match(s)
    if m:  # (B), or a choice letter with its value, (C) 12: the letter (choice_value gives the 12)
        s = m.group(1)
    if ("e" in s or "E" in s) and (m := _SCI.fullmatch(s)):  # 1e-5: not Euler's number times 1, minus 5
        s = f"{m.group(1)}\\times10^{{{m.group(2)}}}"
    if " " in s and _SPACED_THOUSANDS.fullmatch(s):  # 10\,080 / 10 080: digits grouped by threes
        s = s.replace(" ", "")
    return s
