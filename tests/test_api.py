"""`Verifier(generator=..., scorer=..., method=...).solve(problem)` on scripted generators."""
from __future__ import annotations

import pytest

from verify.api import Verifier
from verify.sampling.base import Completion, SamplingParams
from verify.sampling.callable_backend import CallableGenerator
from verify.records.types import Problem


def scripted(*answers, finish=None):
    def fn(prompt, n):
        assert n == len(answers)
        return [Completion(text=f"Work.\n\n\\boxed{{{a}}}" if a is not None else "",
                           finish_reason=(finish or {}).get(i, "stop")) for i, a in enumerate(answers)]
    return fn


def test_majority_groups_equivalent_answers():
    v = Verifier(generator=scripted("0.5", "1/2", "\\frac{1}{2}", "2", "2", "3", None, "2"), method="majority@8")
    s = v.solve(Problem("p", "What is 1/2?", "\\frac12"))
    assert s.answer == "0.5" and s.correct is True and s.method == "majority@8"
    assert s.votes == {"0.5": 3, "2": 3, "3": 1}  # tie 3-3: the class voted first wins
    assert len(s.traces) == 8 and s.traces[6].answer is None and s.index == 0


def test_unfinished_traces_do_not_vote():
    v = Verifier(generator=scripted("7", "7", "9", finish={0: "length", 1: "length"}), method="maj@3")
    s = v.solve("What is 4 + 5?", gold="9")
    assert s.answer == "9" and s.correct is True and s.votes == {"9": 1}


def test_all_abstain_gives_none_and_wrong():
    s = Verifier(generator=scripted(None, None), method="majority@2").solve("q", gold="1")
    assert s.answer is None and s.correct is False and s.votes == {}


def test_prm_best_of_with_the_arith_scorer():
    texts = ["2 + 3 = 6.\n\nSo \\boxed{6}"] * 3 + ["2 + 3 = 5.\n\nSo \\boxed{5}"]
    v = Verifier(generator=lambda prompt, n: texts[:n], scorer="arith", method="prm-best-of-4")
    s = v.solve("What is 2 + 3?", gold="5")
    assert s.answer == "5" and s.index == 3 and s.correct is True
    assert s.votes == {"6": 3, "5": 1}  # majority would have said 6
    assert s.traces[0].step_scores[0] < 0.5 < s.traces[3].step_scores[0]


def test_weighted_vote_with_a_callable_scorer():
    v = Verifier(generator=scripted("1", "1", "2"), method="weighted-vote@3",
                 scorer=lambda q, steps: [0.9 if "\\boxed{2}" in steps[-1] else 0.2] * len(steps))
    s = v.solve("q")
    assert s.answer == "2" and s.weights == pytest.approx({"1": 0.08, "2": 0.81}) and s.correct is None


def test_backend_object_and_params_are_passed_through():
    seen = {}

    def fn(prompt, n, params):
        seen.update(prompt=prompt, n=n, params=params)
        return ["\\boxed{4}"] * n

    params = SamplingParams(temperature=0.3, max_tokens=99)
    v = Verifier(generator=CallableGenerator(fn), method="majority@5", params=params, prompt="qwen-math")
    assert v.solve("What is 2 + 2?").answer == "4"
    assert seen["n"] == 5 and seen["params"] == params and seen["prompt"][0]["role"] == "system"


def test_solve_many_batches_one_call():
    calls = []

    def fn(prompt, n):
        calls.append(prompt)
        return ["\\boxed{1}"] * n

    sols = Verifier(generator=fn, method="majority@2", prompt=lambda p: p.question).solve_many(
        [Problem("a", "q1", "1"), Problem("b", "q2", "2")])
    assert [s.correct for s in sols] == [True, False] and calls == ["q1", "q2"]


@pytest.mark.parametrize("method,scorer,match", [
    ("pass@8", None, "pass@8 needs gold answers and picks no answer"),
    ("prm-best-of-8", None, "needs a scorer"),
    ("magic@3", None, "magic"),
])
def test_bad_methods(method, scorer, match):
    with pytest.raises(ValueError, match=match):
        Verifier(generator=lambda p, n: [""] * n, scorer=scorer, method=method)
