"""ArithScorer: tables of step texts, the safe evaluator, real GSM8K text, adversarial input."""
from __future__ import annotations

import json
import re
import time
from fractions import Fraction

import pytest

from prm.arith_scorer import ArithScorer, Unevaluable, check_step, evaluate


@pytest.mark.parametrize("expr, value", [
    ("48/2", 24), ("3 + 4 * 2", 11), ("(3 + 4) * 2", 14), ("2^10", 1024), ("2^3^2", 512), ("-2^2", -4),
    ("$1,000", 1000), ("1,234,567.5", Fraction(2469135, 2)), ("20%", Fraction(1, 5)), ("3 x 4", 12),
    ("3 × 4 ÷ 6", 2), ("2(3 + 1)", 8), ("10 − 4", 6), (".5 * 4", 2), ("\\frac{3}{4} \\times 8", 6),
    ("2^-2", Fraction(1, 4)), ("½ * 6", 3),
])
def test_evaluate_table(expr, value):
    assert evaluate(expr) == value


@pytest.mark.parametrize("expr", [
    "1/0", "2 +", "(3 + 4", "3 + 4)", "x + 1", "2^0.5", "9^9^9^9", "10^100000", "0^-1", "5 = 5", "", "1" * 50,
    "(" * 500 + "1" + ")" * 500,
])
def test_evaluate_refuses(expr):
    with pytest.raises(Unevaluable):
        evaluate(expr)


@pytest.mark.parametrize("text, holds", [
    ("She spends 40 * 3 = 120 on lessons.", [True]),
    ("She spends 40 * 3 = 130 on lessons.", [False]),
    ("Janet spends 3 hours + 5 hours = <<3+5=8>>8 hours.", [True]),
    ("Janet spends 3 hours + 5 hours = <<3+5=9>>9 hours.", [False]),
    ("The total is $1,000 + $250 = $1,250.", [True]),
    ("20 + 22 = 42 + 66 = 108", [True, True]),           # running total
    ("3 + 4 = 7 = 8", [True]),                            # 7 = 8 has no operator: not a calculation
    ("So 2 * 3 = 6 = 2 + 4", [True, True]),
    ("2 * 3 = 6 = 2 + 5", [True, False]),
    ("The share is (30/120) * 100 = 25%.", [True]),
    ("It costs 50 * 20% = 10 dollars.", [True]),
    ("10/3 = 3.33 each", [True]),
    ("10/3 = 3.4 each", [False]),
    ("0.20 × $85.98 = $17.19", [True]),                   # truncated cents
    ("\\( 4 \\times 5 = 20 \\) cats", [True]),
    ("\\[ \\frac{3}{5} \\times 30 = 18 \\]", [True]),
    ("J_c = 3 \\times 22 = 66", [True]),
    ("\\( 12 \\div 4 = 4 \\)", [False]),
    ("Cost:\n- \\( \\frac{24.00}{60} = 0.40 \\) dollars", [True]),  # a bullet, not a minus
    ("4 x 6 = 24 and 24 - 4 = 21", [True, False]),
    ("\\[ 21^2 = 441 \\] \\[ (-20)^2 = 400 \\]", [True, True]),     # display blocks are separate
    ("- \\( 3^1 = 3 \\mod 8 \\)\n- \\( 3^2 = 9 \\equiv 1 \\mod 8 \\)", []),  # "mod" binds; lines are separate
    ("\\[3\\frac{4}{5} = \\frac{3 \\cdot 5 + 4}{5} = \\frac{19}{5}.\\]", [True, True]),  # mixed number
    ("\\[ 16 = 13 - 12 \\cos C \\]", []),                        # a LaTeX function binds its number
    ("\\[17^5 = 32 r^5.\\]", []),                                 # so does a one-letter variable
    ("Ratio = 4√3 / 6√3 = 4 / 6 = 2 / 3", [True]),
    ("\\[ -161 \\div 13 = -12 \\text{ remainder } -5 \\]", []),
    ("\\[ 1404 = 2^2 \\times 3^2 \\times 13 \\]", [False]),     # real slip from ProcessBench omnimath-805
    ("6084 * 6084 = 36,997,536.", [False]),                         # olympiadbench-897, labelled "correct"
    # not checkable: variables, functions, units glued to numbers, words around operators
    ("3p + e = 124", []), ("f(3) = 9", []), ("2x + 3 = 11", []), ("15 pages x 1/3 = 5 pages", []),
    ("apples * 3 = 6", []), ("x = 5", []), ("The answer is 42.", []), ("5! = 120", []),
    ("2 \\approx 3 - 1", []), ("Let 3 = y + 2", []),
    # a currency sign or unit glued to the result is still a checked claim (GSM8K text is full of $)
    ("Weng earns 12/60 = $0.2 per minute.", [True]), ("Weng earns 12/60 = $0.3 per minute.", [False]),
    ("She runs 5 * 3 = 15km", [True]), ("She runs 5 * 3 = 16km", [False]),
    ("20 x $4 = $80/week", [True]), ("20 x $4 = $81/week", [False]),
    ("speed is 60/2 = 30 per hour", [True]), ("It takes 3 * 20 = 60min.", [True]),
    ("60 per 2 = 30", []), ("x = 3 s", []), ("so 2 * 3 = 6 m", []),  # "per" before a number, one-letter words
])
def test_check_step_table(text, holds):
    assert [c.holds for c in check_step(text)] == holds


def test_scorer_levels_and_shape():
    s = ArithScorer()
    assert s("q", ["12 / 4 = 3", "3 + 4 = 8", "So we are done.", ""]) == [0.95, 0.05, 0.7, 0.7]
    custom = ArithScorer(wrong=0.0, correct=1.0, neutral=0.5)
    assert custom("q", ["1 + 1 = 2", "1 + 1 = 3", "ok"]) == [1.0, 0.0, 0.5]
    assert s.forward_tokens == 0
    assert s.score_batch([("q", ["1+1=2"]), ("q", [])]) == [[0.95], []]


def _gsm8k_steps(answer: str) -> list[str]:
    return [line for line in answer.split("\n") if line.strip() and not line.startswith("####")]


def test_gold_gsm8k_annotations_score_high_and_perturbed_low(shared_data):
    rows = [json.loads(l) for l in open(shared_data / "gsm8k" / "test.jsonl")]
    scorer = ArithScorer()
    # steps with a real calculation in an annotation (not "<<8=8>>8")
    annotated = [s for r in rows for s in _gsm8k_steps(r["answer"])
                 if re.search(r"<<[^=<>]*\d\s*[-+*/]\s*[\d(][^=<>]*=", s)]
    assert len(annotated) > 3000
    scores = [scorer.score_step(s) for s in annotated]
    assert scores.count(0.05) <= 3  # typos in the gold itself, e.g. "So, Suzzane has $32 - $20 = $300 left."
    assert scores.count(0.95) / len(annotated) >= 0.995

    def perturb(step: str) -> str:  # <<expr=R>>R  ->  <<expr=R+1>>R+1 for every annotation
        def bump(m: re.Match) -> str:
            new = str(Fraction(m.group(2)) + 1)
            new = new if "/" not in new else m.group(2) + "1"
            return f"<<{m.group(1)}={new}>>{new}"
        return re.sub(r"<<([^=<>]+)=([0-9.]+)>>\2", bump, step)

    perturbed = [perturb(s) for s in annotated]
    changed = [p for p, s in zip(perturbed, annotated) if p != s]
    assert len(changed) > 0.95 * len(annotated)
    low = sum(scorer.score_step(p) == 0.05 for p in changed)
    assert low / len(changed) >= 0.99


def test_model_solutions_flags_wrong_more_than_right(shared_data):
    rows = [json.loads(l) for l in open(shared_data / "gsm8k_model_solutions" / "example_model_solutions.jsonl")]
    scorer = ArithScorer()
    flagged = {True: [], False: []}
    for r in rows:
        for key in ("6b_finetuning", "175b_finetuning"):
            sol = r[key]
            steps = [s for s in sol["solution"].split("\n") if s.strip()]
            flagged[sol["is_correct"]].append(min(scorer("", steps), default=1.0) < 0.5)
    rate_right = sum(flagged[True]) / len(flagged[True])
    rate_wrong = sum(flagged[False]) / len(flagged[False])
    assert rate_right < 0.01          # almost never flags a solution whose answer is right
    assert rate_wrong > 0.04          # and catches real arithmetic slips in wrong ones
    assert rate_wrong > 4 * rate_right  # measured: 94/1894 vs 6/744


@pytest.mark.parametrize("text", ids=lambda t: f"{len(t)}chars", argvalues=[
    "9^9^9^9^9 = 1", "10^999999999 = 1", "2^(2^(2^(2^(2^2)))) = 3",
    "1+" * 50_000 + "1 = 50001",                             # 100 KB of one expression
    "(" * 20_000 + "1" + ")" * 20_000 + " = 1",
    "3 * 4 = 12. " * 9_000,                                  # ~100 KB of many claims
    "\\frac{" * 5_000 + "1" + "}" * 5_000 + " = 1",
    "".join(chr(33 + (i * 7919) % 90) for i in range(100_000)),
    "1" * 100_000 + " = 1",
])
def test_adversarial_input_returns_quickly(text):
    t = time.perf_counter()
    scores = ArithScorer()("q", [text])
    assert time.perf_counter() - t < 2.0
    assert scores[0] in (0.05, 0.7, 0.95)


def test_many_claims_all_checked():
    assert ArithScorer()("q", ["3 * 4 = 12. " * 9_000]) == [0.95]
    assert ArithScorer()("q", ["3 * 4 = 12. " * 9_000 + "1 + 1 = 3"]) == [0.05]
