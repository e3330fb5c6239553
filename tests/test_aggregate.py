"""Aggregators on hand-built traces: ties, all-None, unfinished traces, k = n, k > n, spec grammar."""
from __future__ import annotations

import numpy as np
import pytest

from verify.select.aggregate import (MethodSpec, aggregate, best_of, majority_vote, parse_method,
                              reduce_step_scores, trace_score, weighted_vote)
from verify.errors import UnknownSpecError
from verify.records.types import Trace


def T(i, answer, *, score=None, steps=None, finish="stop"):
    return Trace("p", i, answer=answer, score=score, step_scores=steps, finish_reason=finish)


@pytest.mark.parametrize("spec,expected", [
    ("majority@8", MethodSpec("majority", 8)),
    ("maj@8", MethodSpec("majority", 8)),
    ("MAJ@16", MethodSpec("majority", 16)),
    ("pass@1", MethodSpec("pass", 1)),
    ("weighted-vote@4", MethodSpec("weighted-vote", 4)),
    ("prm-best-of-8", MethodSpec("prm-best-of", 8)),
    ("prm-best-of@8", MethodSpec("prm-best-of", 8)),
    ("best-of-3", MethodSpec("best-of", 3)),
    ("majority@n", MethodSpec("majority", None)),
    ("single", MethodSpec("single", 1)),
])
def test_parse_method(spec, expected):
    assert parse_method(spec) == expected


def test_parse_method_unknown_suggests_closest():
    with pytest.raises(UnknownSpecError) as ei:
        parse_method("majorty@8")
    msg = str(ei.value)
    assert "Did you mean 'majority'" in msg and "weighted-vote@k" in msg and "pass@k" in msg
    with pytest.raises(UnknownSpecError):
        parse_method("maj@0")
    with pytest.raises(UnknownSpecError):
        parse_method("single@4")


def test_majority_tie_rules():
    answers = ["4", "5", "5", "4", None]
    assert majority_vote(answers).answer == "4"              # first: "4" voted first
    v = majority_vote(answers, scores=[0.1, 0.9, 0.8, 0.2, 1.0], tie="score")
    assert v.answer == "5" and v.tied == ("4", "5") and v.counts == {"4": 2, "5": 2}
    # equal total score falls back to the earliest first vote
    assert majority_vote(["a", "b"], scores=[0.5, 0.5], tie="score").answer == "a"
    rng = np.random.default_rng(0)
    wins = [majority_vote(answers, tie="random", rng=rng).answer for _ in range(2000)]
    assert wins.count("4") == 957                            # seeded: about half, as a fair tie rule gives
    with pytest.raises(ValueError):
        majority_vote(answers, tie="random")


def test_all_none_and_unfinished_abstain():
    assert majority_vote([None, None]).answer is None
    traces = [T(0, "7", finish="length"), T(1, "7", finish="length"), T(2, "3")]
    v = majority_vote(traces)
    assert v.answer == "3" and v.counts == {"3": 1} and v.index == 2
    assert majority_vote([T(0, None), T(1, "9", finish="length")]).answer is None
    # best-of never selects an abstaining trace, even with the top score
    assert best_of(traces, [0.99, 0.98, 0.1]).answer == "3"
    assert best_of([T(0, None)], [1.0]).answer is None


def test_majority_with_key_groups_equivalent_strings():
    v = majority_vote(["1/2", "0.5 ", "3", "0.5"], key=lambda a: {"1/2": "0.5"}.get(a.strip(), a.strip()))
    assert v.answer == "0.5" and v.counts == {"0.5": 3, "3": 1}


def test_weighted_vote_and_best_of():
    assert weighted_vote(["4", "5", "5"], [0.9, 0.3, 0.4]).answer == "4"
    assert weighted_vote(["4", "5", "5"], [0.9, 0.5, 0.5]).answer == "5"
    assert weighted_vote(["4", "5"], [0.5, 0.5]).answer == "4"           # tie: first
    v = best_of(["1", "2", "3"], [0.5, 0.9, 0.9])
    assert v.answer == "2" and v.index == 1                               # tie: lowest index
    assert best_of(["1", "2"], [None, 0.1]).answer == "2"                 # missing score ranks last
    rng = np.random.default_rng(1)
    picks = [best_of(["1", "2", "3"], [0.5, 0.9, 0.9], tie="random", rng=rng).answer for _ in range(1000)]
    assert set(picks) == {"2", "3"}


def test_aggregate_k_equal_and_greater_than_n():
    answers = ["1", "2", "2", "1", "1"]
    assert aggregate("maj@3", answers).answer == "2"
    assert aggregate("maj@5", answers).answer == "1"        # k = n
    assert aggregate("majority@n", answers).answer == "1"
    with pytest.raises(ValueError, match="needs k=6 samples but only 5"):
        aggregate("maj@6", answers)
    with pytest.raises(ValueError, match="needs scores"):
        aggregate("prm-best-of-2", answers)
    assert aggregate("prm-best-of-2", answers, [0.1, 0.2, 0.9, 0, 0]).answer == "2"
    assert aggregate("single", answers).answer == "1"


def test_reductions_and_trace_score():
    s = [0.9, 0.5, 0.8]
    assert reduce_step_scores(s, "prod") == pytest.approx(0.36)
    assert reduce_step_scores(s, "min") == 0.5
    assert reduce_step_scores(s, "last") == 0.8
    assert reduce_step_scores(s, "mean") == pytest.approx(2.2 / 3)
    assert reduce_step_scores([], "prod") is None
    with pytest.raises(UnknownSpecError):
        reduce_step_scores(s, "max")
    assert trace_score(T(0, "1", score=0.7)) == 0.7                        # outcome score used
    assert trace_score(T(0, "1", score=0.7, steps=(0.5, 0.2)), "last") == 0.2
    assert trace_score(T(0, "1")) is None
