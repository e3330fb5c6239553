"""check / compare_answers: tables of (gold, pred, expected) per category, and the 106 shared cases."""
from __future__ import annotations

import json

import pytest

from verify.checker.equivalence import answer_key, check, compare_answers, equivalent

T, F = True, False

NUMERIC = [
    ("025", "25", T), ("25", "025", T), ("1,000", "1000", T), ("1{,}000", "1000", T),
    ("11,\\! 111,\\! 111,\\! 100", "11111111100", T), ("0.5", ".5", T), ("2.50", "2.5", T),
    ("\\frac{1}{2}", "0.5", T), ("\\dfrac{3}{4}", "\\tfrac34", T), ("\\frac1{72}", "1/72", T),
    ("2\\frac{1}{2}", "2.5", T), ("1 1/2", "3/2", T), ("-2\\frac{1}{2}", "-2.5", T),
    ("1.5e-3", "0.0015", T), ("0.\\overline{3}", "\\frac13", T), ("0.1\\overline{6}", "1/6", T),
    ("0.\\overline{3}", "0.3", F), ("2.3\\times10^{-3}", "0.0023", T), ("1.2 \\times 10^{5}", "120000", T),
    ("10\\%", "10", T), ("10\\%", "0.1", T), ("50%", "\\frac12", T), ("\u22123", "-3", T),
    ("30^\\circ", "30", T), ("30^{\\circ}", "30", T), ("45\u00b0", "45", T),
    ("5", "5.001", F), ("0.1", "0.10001", F), ("1/3", "0.333", T), ("1/3", "0.334", F), ("1/3", "0.3", F),
    ("2/3", "0.667", T), ("2/3", "0.666", T), ("1.25", "1.2", F), ("3", "-3", F), ("100", "10", F),
    ("0", "-0", T), ("12", "12.0", T), ("7", "7.00", T), ("-\\frac{1}{2}", "\\frac{-1}{2}", T),
]

UNITS_AND_TEXT = [
    ("10\\text{ units}", "10", T), ("10 \\text{cm}", "10", T), ("10\\text{ cm}^2", "10", T),
    ("10 square units", "10", T), ("10weeks", "10", T), ("10 weeks", "10", T), ("10 cm^2", "10", T),
    ("\\$10", "10", T), ("10 dollars", "10", T), ("10cm", "10", F), ("10m", "10", F),
    ("17\\text{ any text}", "17", T), ("x = 3", "3", T), ("3", "x=3", T), ("y = 2x + 3", "2x+3", T),
    ("f(x) = 2x + 3", "y = 2x + 3", T), ("\\text{odd}", "odd", T), ("odd", "\\text{oddd}", F),
    ("Yes", "yes", T), ("no solution", "No solution", T), ("\\mathrm{E}", "E", T), ("\\textbf{A}", "A", T),
    ("(B)", "B", T), ("B", "C", F), ("185", "185\\", T), ("20:34", "20:34:00", T),
    ("20:34", "08:34 \\text{P.M.}", T), ("8:34 am", "20:34", F), ("4:30p..", "4:30 \\text{ p.m.}", F),
    # base subscripts compare by digits
    ("52_8", "52", T), ("52_8", "52_{8}", T), ("52_8", "42", F), ("52_8", "52_9", F), ("4210_{5}", "4210_5", T),
]

EXPRESSIONS = [
    ("x^2+2x+1", "(x+1)^2", T), ("x^2+2x+1", "x^2 + 2*x - (-1)", T), ("x^2+2x+1", "x^3+2x+1", F),
    ("\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", T), ("\\frac{\\sqrt{3}}{2}", "0.866", T),
    ("\\sqrt{8}", "2\\sqrt{2}", T), ("\\sqrt{8}", "2\\sqrt{3}", F), ("\\sqrt[3]{27}", "3", T),
    ("2\\pi", "\\pi \\cdot 2", T), ("40\\pi", "125.663", T), ("\\pi", "3.14159", T), ("\\pi", "3", F),
    ("e^2", "e \\cdot e", T), ("\\ln 8", "3\\ln 2", T), ("\\log_2 8", "3", T),
    ("\\sin^2 x + \\cos^2 x", "1", T), ("\\sec x", "\\frac{1}{\\cos x}", T), ("\\tan x", "\\sin x/\\cos x", T),
    ("1+2i", "i(2-i)", T), ("3+4i", "4i+3", T), ("3+4i", "3-4i", F), ("\\frac34i", "0.75i", T),
    ("(x-2)(x+2)", "x^2-4", T), ("2^{10}", "1024", T), ("2^{10}+1", "1024", F), ("5!", "120", T),
    ("\\binom{5}{2}", "10", T), ("|-3|", "3", T), ("\\frac{a}{b}", "a/b", T), ("\\frac{a}{b}", "b/a", F),
    ("x_1 + x_2", "x_2 + x_1", T), ("\\alpha + \\beta", "\\beta+\\alpha", T), ("2^{40}+1", "2^{40}", F),
    ("\\sin(90^{\\circ}-x)", "\\cos(x)", T), ("\\frac{8-7x}{6}", "4/3-7x/6", T),
    ("\\cos^{-1}(0.5)", "\\frac{\\pi}{3}", T), ("\\sin^{-1} 1", "\\pi/2", T),
]

STRUCTURES = [
    # bare comma lists: unordered (see docs/sections/checker.md, "Policy")
    ("1, 2, 3", "3, 2, 1", T), ("1, 2, 3", "1, 2", F), ("1, 2, 2", "1, 2, 1", F),
    ("\\frac13, \\sqrt3", "\\sqrt{3}, 1/3", T), ("1 \\pm \\sqrt{2}", "1+\\sqrt2, 1-\\sqrt2", T),
    ("3 \\pm 2 \\sqrt{2}", "3+2\\sqrt2", F), ("\\{1\\pm\\sqrt{5},-2\\}", "-2, 1-\\sqrt5, 1+\\sqrt5", T),
    # sets: unordered
    ("\\{1, 2\\}", "\\{2, 1\\}", T), ("\\{1, 2\\}", "\\{1, 3\\}", F), ("{x, x - 1}", "{x - 1, x}", T),
    # tuples: ordered
    ("(1, 2, 3)", "(1, 2, 3)", T), ("(1, 2, 3)", "(3, 2, 1)", F), ("[1, 2, 3]", "(1, 3, 2)", F),
    ("(\\frac12, 3, 4)", "(0.5, 3, 4)", T),
    # intervals: open/closed ends matter
    ("[1, 2)", "[1, 2)", T), ("[1, 2)", "(1, 2)", F), ("(-\\infty, 3]", "(-\\infty,3]", T),
    ("(-\\infty, 3]", "(-\\infty, 3)", F), ("[0.5, \\infty)", "[1/2, \\infty)", T),
    ("(-\\infty, 1) \\cup (2, \\infty)", "(2,\\infty)\\cup(-\\infty,1)", T),
    ("(-\\infty, 1) \\cup (2, \\infty)", "(-\\infty, 1) \\cup [2, \\infty)", F),
    # matrices
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}", T),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}", F),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&2\\end{pmatrix}", F),
    ("\\begin{pmatrix} 1 \\\\ -2 \\end{pmatrix}", "(1, -2)", T),
    # equations and inequalities
    ("\\emptyset", "\\varnothing", T), ("\\{\\}", "\\emptyset", T), ("\\emptyset", "\\{0\\}", F),
    ("\\mathbb{R}", "(-\\infty, \\infty)", T), ("(-\\infty,-2)\\cup(2,\\infty)", "x<-2 \\text{ or } x>2", T),
    ("10", "m+n = 10", T), ("3", "2x = 3", F), ("a = 2, b = 3", "(2, 3)", T),
    ("2x + 4y = 6", "x + 2y = 3", T), ("2x + 4y = 6", "x + 2y = 4", F),
    ("y = 2x", "2x - y = 0", T),  # one solution set (issue 12 family 5; an assignment is also an equation)
    ("x > 3", "3 < x", T), ("x \\ge 3", "x \\geq 3", T), ("x > 3", "x \\ge 3", F), ("x > 3", "x < 3", F),
    ("-x < -3", "x > 3", T), ("x > 3", "(3, \\infty)", T), ("x \\ge 3", "(3, \\infty)", F),
    ("1 < x \\le 3", "(1, 3]", T), ("x < 1", "(1, \\infty)", F), ("\\sin(x)=\\frac{42}{59}", "\\cos(x)=\\frac{42}{59}", F),
]


# Realistic answer pairs in the styles models and datasets use.
REALISTIC = [
    ("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}", T), ("2\\sqrt{3}", "\\sqrt{12}", T),
    ("\\frac{x+1}{x-1}", "(x+1)/(x-1)", T), ("3\\sqrt{2}", "3 \\sqrt 2", T), ("\\dfrac{9}{4}", "2.25", T),
    ("\\$18.90", "18.9", T), ("-\\frac{\\pi}{4}", "-\\pi/4", T), ("\\text{(C)}", "C", T),
    ("\\textbf{(C)}", "(C)", T), ("12\\%", "12", T), ("y = -\\frac{1}{2}x + 3", "y=-0.5x+3", T),
    ("\\left\\{ 1, 2 \\right\\}", "\\{2,1\\}", T), ("\\{-2, 3\\}", "-2, 3", T), ("a = 2, b = 3", "(2, 3)", T),
    ("\\frac{3}{2}", "1\\frac{1}{2}", T), ("0.\\overline{3}", "\\frac13", T), ("\\sqrt[3]{2}", "2^{1/3}", T),
    ("\\cos^{-1}(0.5)", "\\frac{\\pi}{3}", T), ("\\emptyset", "\\varnothing", T),
    ("\\mathbb{R}", "(-\\infty, \\infty)", T), ("x=2 \\text{ or } x=3", "2, 3", T), ("10", "m+n = 10", T),
    ("(-\\infty,-2)\\cup(2,\\infty)", "x<-2 \\text{ or } x>2", T), ("\\frac{1}{2}", "\\frac{2}{4}", T),
    ("6", "6.0", T), ("\\pi r^2", "r^2\\pi", T), ("4\\pi", "12.566", T), ("\\$5.00", "5", T),
    ("5", "\\$5.01", F), ("1", "0.999", F), ("\\frac{5}{2}", "5/2", T), ("2+i", "2 + 1i", T), ("-1", "- 1", T),
    ("10^6", "1000000", T), ("1.0 \\times 10^6", "10^6", T), ("3", "\\sqrt{9}", T), ("\\sqrt{9}", "-3", F),
    ("\\frac{1}{3}", "0.\\overline{3}", T), ("(3, 4)", "(4, 3)", F), ("x^2", "x \\cdot x", T), ("2x", "x2", T),
    ("\\frac{a+b}{2}", "\\frac{b+a}{2}", T), ("\\text{Monday}", "monday", T), ("3:2", "3:2", T),
    ("\\tfrac{1}{6}", "1/6", T),
]


def _run(table):
    bad = []
    for gold, pred, want in table:
        v = check(gold, pred)
        if v.equal is not want:
            bad.append((gold, pred, want, v))
    return bad


@pytest.mark.parametrize("name,table", [("numeric", NUMERIC), ("units/text", UNITS_AND_TEXT),
                                        ("expressions", EXPRESSIONS), ("structures", STRUCTURES),
                                        ("realistic", REALISTIC)])
def test_category_tables(name, table):
    assert _run(table) == []


def test_symmetric():
    """Swapping gold and pred gives the same decision on every decided row."""
    for gold, pred, want in NUMERIC + EXPRESSIONS + STRUCTURES:
        assert check(pred, gold).equal is want, (pred, gold)


def test_missing_answers():
    assert check("5", None).equal is False and "pred" in check("5", None).reason
    assert check(None, "5").equal is None
    assert compare_answers("5", "").equal is False
    assert check("5", "I could not solve it.", fallback_last_number=False).equal is False


def test_full_responses():
    response = "Let x be the number. Then 2x = 10, so x = 5.\nThe final answer is $\\boxed{5}$."
    assert check("\\boxed{5}", response).equal is True
    assert check("$5$", "so the answer is 6.").equal is False
    assert check("72", "She sold 48 + 24 = 72 clips.\n#### 72").equal is True


def test_undecided_is_not_false():
    v = check("\\foo{1}", "\\bar{2}")
    assert v.equal is None and v.reason and v.method == "parse-error"
    assert equivalent("\\foo{1}", "\\bar{2}") is False


BEYOND_DOUBLE = [
    ("10^{400}\\sqrt{2}", "\\sqrt2 \\cdot 10^{400}", T), ("10^{400}\\sqrt{2}", "\\sqrt3 \\cdot 10^{400}", F),
    ("e^{1000}", "e^{999} e", T), ("200!", "200 \\cdot 199!", T), ("200!", "201!", F), ("10^{10^{10}}", "1", F),
]


def test_beyond_double_precision_uses_the_worker():
    """Values past 1e308 are decided by the worker's mpmath layer; in-process only they stay undecided."""
    for gold, pred, want in BEYOND_DOUBLE:
        v = check(gold, pred)
        assert (v.equal, v.method) == (want, "structural"), (gold, pred, v)
        assert compare_answers(gold, pred, timeout=None).equal is None


def test_answer_key_groups_equivalent_numbers():
    assert answer_key("\\frac{1}{2}") == answer_key("0.5") == answer_key("$\\dfrac12$")
    assert answer_key("1,000") == answer_key("1000")
    assert answer_key("x+1") != answer_key("x+2")
    assert answer_key(None) == ""


def test_in_process_and_worker_agree():
    for gold, pred, want in EXPRESSIONS[:12] + STRUCTURES[:12]:
        assert compare_answers(gold, pred, timeout=None).equal == compare_answers(gold, pred).equal


# Rows where our policy differs from the grader's own label (documented in docs/sections/checker.md).
# hendrycks is_equiv compares normalised strings, so a reordered bare list is "different" there;
# we read a bare comma list as the set of answers (as MARIO_EVAL does in mario-12 and mario-13).
POLICY = {"hendrycks-1": True, "hendrycks-8": True}
# Rows where the label conflicts with exact mathematics; our result is asserted as it is, and why:
# mario-54: 2^(1/2^1000) differs from 1 by about 7e-302, which double-precision identity testing
# cannot see, so the interval endpoints compare equal (as MARIO_EVAL's label says). Documented limit.
# mario-1/10/11/21/49/52: a decimal with >= 3 significant digits is read as a rounded value
# (x + 1.414i "=" x + sqrt(2) i); that is our documented policy for rounded decimals, not exactness.
MATH_CONFLICT = {"mario-54": True, "mario-1": True, "mario-10": True, "mario-11": True, "mario-21": True,
                 "mario-49": True, "mario-52": True}


def _shared_cases(shared_data):
    rows = []
    for f in sorted((shared_data / "answer_equivalence").glob("*.jsonl")):
        rows += [json.loads(line) for line in f.open()]
    return rows


def test_shared_answer_equivalence_cases(shared_data):
    rows = _shared_cases(shared_data)
    assert len(rows) == 106
    bad = []
    for r in rows:
        want = POLICY.get(r["id"], MATH_CONFLICT.get(r["id"], r["expected_equivalent"]))
        got = check(r["gold"], r["pred"])
        if got.equal is not want:
            bad.append((r["id"], got))
        if r.get("symmetric") and r["gold"] is not None and r["pred"] is not None:
            if check(r["pred"], r["gold"]).equal is not want:
                bad.append((r["id"] + " reversed", check(r["pred"], r["gold"])))
    assert bad == []


def test_policy_rows_really_conflict(shared_data):
    """The POLICY rows are exactly where a grader's label differs from our documented rule."""
    rows = {r["id"]: r for r in _shared_cases(shared_data)}
    for rid, ours in POLICY.items():
        assert rows[rid]["expected_equivalent"] is not ours


def test_docstring_examples():
    import doctest
    import importlib
    for name in ("extract", "normalize", "numeric", "latex_expr", "mathparse", "treeval", "treeval_mp", "compare",
                 "equivalence", "batch", "extract_multi", "formats", "many"):
        result = doctest.testmod(importlib.import_module(f"verify.checker.{name}"))
        assert result.failed == 0 and result.attempted > 0, name
