"""extract_answer: priority order, nesting, cleaning, the switchable last-number fallback."""
from __future__ import annotations

import json

import pytest

from verify.checker.extract import clean_answer, extract_answer

CASES = [
    # boxed: last one wins, nested braces, \fbox, unbraced
    ("We get \\boxed{3} first, then \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}"),
    ("\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
    ("so \\boxed{\\sqrt{\\frac{a}{b}}}", "\\sqrt{\\frac{a}{b}}"),
    ("hence \\fbox{42}", "42"),
    ("answer \\boxed 5 and done", "5"),
    ("$\\boxed{x^{2}+1}$.", "x^{2}+1"),
    ("The answer is \\boxed{7} (not 8)", "7"),
    # boxed beats "the answer is"
    ("The answer is 6. Actually \\boxed{5}", "5"),
    # "the (final) answer is"
    ("Thus, the final answer is $\\frac{3}{4}$.", "\\frac{3}{4}"),
    ("So the answer is 12.", "12"),
    ("The answer is: -2.5", "-2.5"),
    ("I think the answer is 3.\nWait, the answer is 4.", "4"),
    # GSM8K
    ("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72", "72"),
    ("#### 1,000", "1,000"),
    # Answer: lines
    ("Work...\nAnswer: 17", "17"),
    ("**Answer:** (C)", "(C)"),
    # multiple choice
    ("Comparing the options, the correct choice is (B).", "B"),
    ("After checking each, option D works", "D"),
    ("We eliminate the others, leaving (E)", "E"),
    # bare answers are taken whole
    ("10 square units", "10 square units"),
    ("x = 1, y = 2, z = 3", "x = 1, y = 2, z = 3"),
    ("$\\frac{\\sqrt{3}}{2}$", "\\frac{\\sqrt{3}}{2}"),
    ("\\(2\\pi\\)", "2\\pi"),
    ("7, -2, \\text{ and } -5", "7, -2, \\text{ and } -5"),
    ("odd", "odd"),
    # last-number fallback
    ("There are 3 apples and 5 pears, so we have 8 fruits in total", "8"),
    ("It takes -4.5 hours", "-4.5"),
    ("The ratio is 3/4 of the whole thing", "3/4"),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_extract_table(text, expected):
    assert extract_answer(text) == expected


def test_fallback_switch():
    text = "There are 3 apples and 5 pears, so we have 8 fruits in total"
    assert extract_answer(text, fallback_last_number=False) is None
    assert extract_answer("The answer is 8.", fallback_last_number=False) == "8"


def test_no_answer():
    assert extract_answer("") is None
    assert extract_answer("I do not know the answer to this question at all.") is None
    assert extract_answer(None) is None


def test_unclosed_box_falls_through():
    assert extract_answer("so \\boxed{3 and then the answer is 4") == "4"


def test_clean_answer():
    assert clean_answer("  **$5$**. ") == "5"
    assert clean_answer("\\[x+1\\]") == "x+1"


def test_huge_text_is_fast():
    import time
    text = "blah " * 60_000 + "\\boxed{" * 5000 + "1"
    t = time.perf_counter()
    extract_answer(text)
    assert time.perf_counter() - t < 2.0


def test_gsm8k_gold_answers(shared_data):
    """Every GSM8K test solution yields its #### number."""
    n = 0
    with open(shared_data / "gsm8k" / "test.jsonl") as fh:
        for line in fh:
            rec = json.loads(line)
            want = rec["answer"].split("####")[-1].strip()
            assert extract_answer(rec["answer"]) == want
            n += 1
    assert n == 1319


def test_math500_solutions_give_their_answer(shared_data):
    """The last \\boxed{} of each MATH-500 solution is its gold answer (checker confirms equal)."""
    from verify.checker.equivalence import compare_answers
    bad = []
    with open(shared_data / "math500" / "test.jsonl") as fh:
        for line in fh:
            rec = json.loads(line)
            got = extract_answer(rec["solution"])
            if compare_answers(rec["answer"], got, timeout=None).equal is not True:
                bad.append((rec["unique_id"], rec["answer"], got))
    assert len(bad) <= 5, bad


def test_answer_is_clause_refinement():
    assert extract_answer("The final answer is $5$. I hope it is correct.") == "5"
    assert extract_answer("So the answer is that $x$ equals $5$.") == "5"
    assert extract_answer("Thus the answer is: John has 180 minutes to nap.") == "180"
    assert extract_answer("The answer is: the mean is \\(1.25\\).") == "1.25"
    assert extract_answer("the answer is that there are **6** such numbers") == "6"
    assert extract_answer("The answer is 10 square units.") == "10 square units"


def test_processbench_answers_are_stable(shared_data):
    """Re-extracting from an extracted answer gives an equivalent answer (3,400 real solutions)."""
    from verify.checker.equivalence import check
    n = stable = 0
    for f in sorted((shared_data / "processbench").glob("*.jsonl")):
        for line in f.open():
            text = "\n\n".join(json.loads(line)["steps"])
            ans = extract_answer(text)
            if ans is None:
                continue
            n += 1
            stable += check(ans, text).equal is True
    assert n > 3300 and stable / n > 0.99, (stable, n)
