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
    assert seen["n"] == 5 and seen["prompt"][0]["role"] == "system"
    # a callable taking params gets its problem's first-sample seed, as under `verify sample`
    from verify.sampling.base import sample_seed
    assert seen["params"] == params.replace(seed=sample_seed(0, "q0", 0))


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


# ------------------------------------------------------------------ one trace pipeline, one scorer check

def _seven(question, steps):
    return [7.0] * len(steps)


@pytest.mark.parametrize("scorer,message", [
    (_seven, "_seven: score 7.0 is not a probability in [0, 1]"),
    (lambda q, steps: [0.5], "<lambda>: returned 1 scores for 2 steps"),
    (lambda q, steps: ["high", "low"], "<lambda>: expected a list of numbers, got ['high', 'low']"),
])
def test_verifier_and_evaluate_validate_scorers_alike(tmp_path, scorer, message):
    """Verifier accepted a scorer returning 7.0 that verify.api.evaluate rejected: both use
    prm.scorers.load_scorer (CheckedScorer) now, and fail with the same message."""
    from prm.scorers import ScorerError
    from verify.api import evaluate

    gen = lambda prompt, n: ["3 + 4 = 7.\n\n\\boxed{7}"] * n  # noqa: E731  (two steps each)
    with pytest.raises(ScorerError) as a:
        Verifier(generator=gen, scorer=scorer, method="prm-best-of-2").solve("What is 3 + 4?", gold="7")
    with pytest.raises(ScorerError) as b:
        evaluate(gen, [Problem("p1", "What is 3 + 4?", "7")], ["prm-best-of-2"], scorer=scorer,
                 out_dir=str(tmp_path / "run"), progress=False, n_boot=20)
    assert str(a.value) == str(b.value) == message


def test_verifier_and_sample_to_file_make_the_same_traces(tmp_path):
    """One completion -> Trace function: the Python API's traces equal the file's (sampling info aside)."""
    from verify.records.io import read_traces
    from verify.sampling.run import sample_to_file

    texts = ["2 + 2 = 4.\n\nSo \\boxed{4}", "2 + 2 = 5.\n\n\\boxed{5}", "no answer"]

    def gen(prompt, n):
        return [Completion(text=t, num_tokens=7 + i, prompt_tokens=3, finish_reason="length" if i == 2 else "stop")
                for i, t in enumerate(texts[:n])]

    p = Problem("p1", "What is 2 + 2?", "4")
    api = Verifier(generator=gen, method="majority@3", prompt=lambda q: q.question).sample([p])[0]
    out = tmp_path / "s.jsonl"
    sample_to_file([p], CallableGenerator(gen), out, n=3, prompt=lambda q: q.question, progress=False)
    from dataclasses import replace
    assert [replace(t, sampling={}) for t in read_traces(out)] == api
    assert [(t.answer, t.steps, t.num_tokens, t.finish_reason) for t in api] == [
        ("4", ("2 + 2 = 4.", "So \\boxed{4}"), 7, "stop"), ("5", ("2 + 2 = 5.", "\\boxed{5}"), 8, "stop"),
        (None, ("no answer",), 9, "length")]


def test_seeded_generator_draws_each_problem_alike_in_any_company(tmp_path):
    """A generator taking `seeds` gets sample_seed(seed, problem id, i): the same traces for a problem
    whether it is solved alone, beside others or in another order, and the same as `verify sample`'s."""
    import random

    from verify.records.io import read_traces
    from verify.sampling.base import sample_seed
    from verify.sampling.run import sample_to_file

    def gen(prompt, n, seeds):
        return [f"\\boxed{{{random.Random(s).randint(0, 9)}}}" for s in seeds]

    a, b = Problem("a", "q1", "1"), Problem("b", "q2", "2")
    v = Verifier(generator=gen, method="majority@4", prompt=lambda p: p.question,
                 params=SamplingParams(seed=7))
    alone = v.sample([b])[0]
    together = v.sample([a, b])
    assert together[1] == alone and v.sample([b, a])[0] == alone
    assert [t.answer for t in alone] == [str(random.Random(sample_seed(7, "b", i)).randint(0, 9)) for i in range(4)]
    out = tmp_path / "s.jsonl"
    sample_to_file([a, b], CallableGenerator(gen), out, n=4, params=SamplingParams(seed=7),
                   prompt=lambda p: p.question, progress=False)
    assert [t.answer for t in read_traces(out) if t.problem_id == "b"] == [t.answer for t in alone]
