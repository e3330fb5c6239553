"""Gold vs predicted answer -> tri-state `Verdict`: cheap layers first, a killable worker last.

Layers, cheapest first; the first that decides wins (`Verdict.method` names it):

1. ``string``  - equal normal forms (`verify.checker.normalize`), e.g. ``\\left(x\\right)`` vs ``(x)``.
2. ``numeric`` - both sides plain numbers (`verify.checker.numeric`): exact rationals, ``025`` = 25,
   ``1,000``, ``2\\frac12``, ``10\\%`` = 10 or 0.1, decimals that round an exact value.
3. ``time`` / ``text`` / ``base`` - clock times (``20:34`` = ``8:34 PM``); word answers compared
   case-blind; numbers with a base subscript compared by their digits (``52_8`` = ``52``).
4. ``list``    - comma lists whose items are all plain numbers (unordered when bare).
5. ``structural`` - everything else: the bounded parser (`verify.checker.mathparse`) and randomised
   identity testing (`verify.checker.compare`) for expressions, sets, tuples, intervals, matrices,
   equations and inequalities. It first runs in-process under a 50 ms budget (every step is
   size-bounded and checks a deadline); a case that needs more moves to a killable worker
   process under the hard timeout (`verify.checker.worker`), so a check returns within `timeout`
   seconds from any thread, asyncio task or process. `isolate=True` sends every structural
   case to the worker.

Never a silent False: parse failures, timeouts and crashes give ``equal=None`` with a reason.
Gold comes first. The rules are symmetric except for missing answers: no answer in the
prediction is "not equal" (the model gave none), no answer in the gold is undecided.
Untrusted text is never passed to eval, sympify or parse_expr.
"""
from __future__ import annotations

import re
import time

from verify.checker.choices import gold_letter, pred_letter
from verify.checker.extract import extract_answer
from verify.checker.formats import decimal_comma
from verify.checker.normalize import FUNCTION_WORDS, choice_value, normalize, unit_of
from verify.checker.numeric import numbers_equal, parse_number, parse_time
from verify.records.types import Verdict

DEFAULT_TIMEOUT = 5.0
IN_PROCESS_BUDGET = 0.05  # seconds the structural layer may run in-process before it moves to a worker
MAX_ANSWER_CHARS = 10_000
MAX_LIST_ITEMS = 200
_INT = re.compile(r"[-+]?[0-9]{1,400}")
_BASE = re.compile(r"([0-9A-Za-z]+)_\{?([0-9]{1,2})\}?", re.A)
_BUGS = (IndexError, KeyError, TypeError, ValueError, ArithmeticError, AttributeError)
_WORDS = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*")
_BARE_ITEM = re.compile(r"[^()\[\]{}]*")


def answer_key(answer: str | None) -> str:
    """A cheap canonical string: equal keys imply equivalent answers (used to group votes).

    >>> answer_key("\\\\dfrac{1}{2}") == answer_key("0.5") == answer_key("$\\\\frac12$")
    True
    """
    if answer is None:
        return ""
    s = normalize(str(answer))
    n = parse_number(s)
    if n is not None and not n.percent:
        return f"{n.value.numerator}/{n.value.denominator}"
    return s


def _numeric_items(s: str) -> list | None:
    if not s or not _BARE_ITEM.fullmatch(s) or "," not in s:
        return None
    items = s.split(",")
    if len(items) > MAX_LIST_ITEMS:
        return None
    nums = [parse_number(x.strip()) for x in items]
    return None if any(n is None for n in nums) else nums


def _multiset_equal(xs: list, ys: list) -> bool:
    if len(xs) != len(ys):
        return False
    left = list(ys)
    for x in xs:
        for j, y in enumerate(left):
            if numbers_equal(x, y):
                del left[j]
                break
        else:
            return False
    return True


def _base_digits(s: str) -> tuple[str, int] | None:
    """``52_8`` / ``4210_{5}``: (digits, base) when every digit is valid in that base."""
    m = _BASE.fullmatch(s)
    if not m:
        return None
    digits, base = m.group(1).upper(), int(m.group(2))
    if not 2 <= base <= 36 or any(int(c, 36) >= base for c in digits):
        return None
    return digits, base


def _num_text(n) -> str:
    """A parsed number as the reason shows it: `10% (=0.1)` for a percent, which reads both ways."""
    v = f"{float(n.value):.6g}"
    return f"{v}% (={float(n.value / 100):.6g})" if n.percent else v


def fast_compare(a: str, b: str) -> tuple[bool, str, str] | None:
    """The in-process layers on two normalised answers: (equal, reason, method) or None."""
    if a == b:
        return True, "same normal form", "string"
    na, nb = parse_number(a), parse_number(b)
    if na is not None and nb is not None:
        eq = numbers_equal(na, nb)
        return eq, f"{_num_text(na)} {'==' if eq else '!='} {_num_text(nb)}", "numeric"
    ta, tb = parse_time(a), parse_time(b)
    if ta is not None and tb is not None:
        return ta == tb, "clock times " + ("match" if ta == tb else "differ"), "time"
    if (ta is None) != (tb is None) and ":" in a and ":" in b:
        return False, "a clock time against something that is not one", "time"
    if _WORDS.fullmatch(a) and _WORDS.fullmatch(b):
        words = [w.lower() for w in (a + " " + b).split()]
        if any(len(w) >= 3 and w not in FUNCTION_WORDS or w == "no" for w in words):
            eq = a.lower() == b.lower()
            return eq, "word answers " + ("match" if eq else "differ"), "text"
    ba, bb = _base_digits(a), _base_digits(b)
    if ba is not None or bb is not None:
        da = ba[0] if ba else (a.upper() if a.isalnum() else None)
        db = bb[0] if bb else (b.upper() if b.isalnum() else None)
        if da is not None and db is not None:
            eq = da.lstrip("0") == db.lstrip("0") and (ba is None or bb is None or ba[1] == bb[1])
            return eq, "digits in base " + str((ba or bb)[1]) + (" match" if eq else " differ"), "base"
        if "_" not in (b if ba else a):  # 52_8 against an expression, fraction or list: no numeral
            return False, f"a base-{(ba or bb)[1]} numeral against something that is not one", "base"
    la, lb = _numeric_items(a), _numeric_items(b)
    if la is not None and lb is not None:
        eq = _multiset_equal(la, lb)
        return eq, f"number lists ({len(la)} vs {len(lb)} items) " + ("match" if eq else "differ"), "list"
    return None


def structural_compare(a: str, b: str, budget: float | None = None) -> tuple[bool | None, str, str]:
    """The structural layer on two normalised answers; raises BudgetExceeded after `budget` s."""
    from verify.checker.compare import DEADLINE

    token = DEADLINE.set(None if budget is None else time.monotonic() + budget)
    try:
        return _structural(a, b)
    finally:
        DEADLINE.reset(token)


def _structural(a: str, b: str) -> tuple[bool | None, str, str]:
    from verify.checker.compare import equal
    from verify.checker.mathparse import ParseError, parse_answer

    trees = []
    for side, s in (("gold", a), ("pred", b)):
        try:
            trees.append(parse_answer(s))
        except (ParseError, RecursionError) as e:
            return None, f"cannot parse {side} answer: {e}", "parse-error"
        except _BUGS as e:  # a parser bug must not crash the caller; it is reported, never hidden
            return None, f"internal error parsing {side}: {type(e).__name__}: {e}", "internal-error"
    try:
        eq = equal(trees[0], trees[1])
    except RecursionError:
        return None, "expression nested too deep", "structural"
    except _BUGS as e:
        return None, f"internal error comparing: {type(e).__name__}: {e}", "internal-error"
    if eq is None:
        return None, "could not evaluate either side", "structural"
    return eq, "structurally " + ("equal" if eq else "different"), "structural"


def compare_answers(a: str | None, b: str | None, *, timeout: float | None = DEFAULT_TIMEOUT,
                    isolate: bool = False) -> Verdict:
    """Compare two already-extracted answers (gold first).

    The structural layer first runs in-process for at most `IN_PROCESS_BUDGET` seconds (its
    steps are size-bounded and check a deadline); a case that needs longer, or every case when
    `isolate=True`, runs in a worker process killed after `timeout` seconds. `timeout=None`
    runs everything in-process without a limit.

    >>> compare_answers("\\\\frac{1}{2}", "0.5").equal
    True
    >>> compare_answers("[1, 2)", "(1, 2)").equal
    False
    """
    if timeout is not None and timeout != timeout:  # nan: no deadline could ever be checked
        raise ValueError("timeout must be a number of seconds (inf: no limit) or None, got nan")
    if a is None or b is None:
        if b is None and a is not None:
            return Verdict(False, "no answer extracted from pred", a, None, "none")
        return Verdict(None, "no answer extracted from gold", a, b, "none")
    a, b = str(a), str(b)
    if a == b:
        return Verdict(True, "identical", a, b, "string")
    if _INT.fullmatch(a) and _INT.fullmatch(b):  # the commonest case (GSM8K, AIME): skip everything else
        eq = int(a) == int(b)
        return Verdict(eq, f"{int(a)} {'==' if eq else '!='} {int(b)}", a, b, "numeric")
    if len(a) > MAX_ANSWER_CHARS or len(b) > MAX_ANSWER_CHARS:
        return Verdict(None, f"answer longer than {MAX_ANSWER_CHARS} characters", a, b, "size")
    na, nb = normalize(a), normalize(b)
    if na != a and nb != b and (ua := unit_of(a)) and (ub := unit_of(b)) and ua != ub and (
            ua.split("^")[0] != ub.split("^")[0] or "^" in ua and "^" in ub):  # cm vs cm^2: sloppy, allowed
        return Verdict(False, f"different units: {ua} vs {ub}", a, b, "unit")
    if not na or not nb:
        return Verdict(None if not na else False, "empty answer after normalisation", a, b, "none")
    letter_a, letter_b = len(na) == 1 and na.isalpha(), len(nb) == 1 and nb.isalpha()
    if letter_a != letter_b:  # 12 vs (C) 12: compare the value when the other side is not a letter
        if letter_b and (v := choice_value(b)):
            nb = v
        elif letter_a and (v := choice_value(a)):
            na = v
    if "," in na or "," in nb:  # 3,75 against a single number: a decimal comma (formats.decimal_comma)
        if (d := decimal_comma(na)) and "," not in nb and parse_number(nb) is not None:
            na = d
        elif (d := decimal_comma(nb)) and "," not in na and parse_number(na) is not None:
            nb = d
    fast = fast_compare(na, nb)
    if fast is not None:
        return Verdict(fast[0], fast[1], a, b, fast[2])
    if timeout is None:
        eq, reason, method = structural_compare(na, nb)
        return Verdict(eq, reason, a, b, method)
    if not isolate:
        from verify.checker.compare import BudgetExceeded

        try:
            eq, reason, method = structural_compare(na, nb, budget=min(timeout, IN_PROCESS_BUDGET))
            return Verdict(eq, reason, a, b, method)
        except BudgetExceeded:
            pass
    from verify.checker.worker import POOL, WorkerCrashed, WorkerTimeout

    try:
        out = POOL.run({"gold": na, "pred": nb, "budget": max(0.0, 0.7 * timeout - 0.05)}, timeout)
    except WorkerTimeout:
        return Verdict(None, f"timeout after {timeout:g}s", a, b, "timeout")
    except WorkerCrashed as e:
        return Verdict(None, f"checker worker crashed: {e}", a, b, "crash")
    return Verdict(out["equal"], out["reason"], a, b, out["method"])


def _as_text(x) -> str | None:
    if x is None:
        return None
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, float) and x.is_integer():
        return str(int(x)) if abs(x) < 1e16 else repr(x)
    return str(x)


def check(gold, pred, *, timeout: float | None = DEFAULT_TIMEOUT, fallback_last_number: bool = True,
          isolate: bool = False) -> Verdict:
    """Extract the answer from both raw texts, then compare them (gold first).

    >>> check("$9$", "so the answer is \\\\boxed{9}.").equal
    True
    >>> check("\\\\frac{1}{2}", "The answer is 0.4").equal
    False
    """
    g, p = _as_text(gold), _as_text(pred)
    ga = None if g is None else extract_answer(g, fallback_last_number=True)
    pa = None if p is None else extract_answer(p, fallback_last_number=fallback_last_number)
    v = compare_answers(ga, pa, timeout=timeout, isolate=isolate)
    if v.equal is not True and g is not None and p is not None and (gl := gold_letter(g, ga)):
        pl = pred_letter(p)  # a multiple-choice gold: the letter the model chose (verify.checker.choices)
        if pl is not None:
            return Verdict(pl == gl, f"choice {pl} {'==' if pl == gl else '!='} {gl}", ga, pl, "choice")
    return v


def equivalent(gold, pred, **kw) -> bool:
    """True only when `check` decides equal (undecided counts as not equivalent).

    >>> equivalent("1,000", "1000")
    True
    """
    return check(gold, pred, **kw).equal is True
