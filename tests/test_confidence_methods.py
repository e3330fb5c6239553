"""confidence-vote@k and confidence-filter@k: exact estimators == brute-force enumeration of the
real aggregators over all k-subsets; the aggregators on hand-built cases; the registry and
`evaluate_samples` on traces that carry a confidence summary."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.records.types import Trace
from verify.select.confidence_vote import confidence_filter, filter_at_k, kept
from verify.select.estimators import vote_at_k
from verify.select.methods import aggregate, parse_method


def brute(labels, conf, class_correct, k, aggregator):
    """Mean over all k-subsets of the tie-split correctness of the real aggregator."""
    vals = []
    for sub in itertools.combinations(range(len(labels)), k):
        items = [None if labels[i] < 0 else int(labels[i]) for i in sub]
        sc = [None if np.isnan(conf[i]) else float(conf[i]) for i in sub]
        v = aggregator(items, sc)
        vals.append(np.mean([class_correct[a] for a in v.tied]) if v.tied else 0.0)
    return float(np.mean(vals))


problems = st.integers(1, 9).flatmap(lambda n: st.tuples(
    st.lists(st.integers(-1, 3), min_size=n, max_size=n),                      # class labels, -1 abstains
    st.lists(st.booleans(), min_size=4, max_size=4),                           # class_correct
    st.lists(st.sampled_from([np.nan, 0.05, 0.3, 0.3, 0.8, 1.0]), min_size=n, max_size=n),  # ties, missing
))


@settings(max_examples=150, deadline=None)
@given(problems, st.integers(1, 9))
def test_filter_exact_equals_brute_force(prob, k):
    labels, cc, conf = np.array(prob[0]), np.array(prob[1]), np.array(prob[2], float)
    k = min(k, len(labels))
    got, se, exact = filter_at_k(labels, conf, cc, k)
    assert exact and se == 0.0
    assert got == pytest.approx(brute(labels, conf, cc, k, confidence_filter), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(problems, st.integers(1, 9))
def test_confidence_vote_exact_equals_brute_force(prob, k):
    labels, cc, conf = np.array(prob[0]), np.array(prob[1]), np.array(prob[2], float)
    k = min(k, len(labels))
    vote = parse_method(f"confidence-vote@{k}").method.aggregate
    got, _, exact = vote_at_k(labels, conf, cc, k)
    assert exact
    assert got == pytest.approx(brute(labels, conf, cc, k, vote), abs=1e-12)


def test_filter_monte_carlo_is_close_with_its_error():
    rng = np.random.default_rng(1)
    labels = rng.integers(-1, 3, size=16)
    conf = rng.random(16)
    cc = np.array([True, False, False])
    exact, _, _ = filter_at_k(labels, conf, cc, 8)
    mc, se, was_exact = filter_at_k(labels, conf, cc, 8, max_enum=10, trials=4000, rng=np.random.default_rng(0))
    assert not was_exact and se > 0
    assert abs(mc - exact) < 4 * se + 1e-9


@pytest.mark.parametrize("items, conf, expected", [
    (["4", "5", "5", "4"], [0.9, 0.1, 0.2, 0.8], "4"),        # top half is 4, 4
    (["4", "5", "5", "5"], [0.9, 0.8, 0.1, 0.1], "4"),        # 4 vs 5 tie among the top 2: first wins
    (["4", "5", "5", "4"], [None, 0.1, 0.2, None], "5"),      # missing confidence ranks last
    ([None, None, "5", "4"], [0.9, 0.9, 0.1, 0.2], None),     # the most confident abstain: no answer
    (["7"], [0.3], "7"),                                       # k = 1 keeps the one trace
])
def test_filter_aggregator_table(items, conf, expected):
    assert confidence_filter(items, conf).answer == expected


def test_filter_index_points_into_the_input():
    v = confidence_filter(["4", "5", "5", "6"], [0.1, 0.2, 0.9, 0.8])
    assert (v.answer, v.index) == ("5", 2)   # kept: samples 2 and 3, tied 5 vs 6, the first wins


def test_kept_counts():
    assert [kept(k) for k in range(1, 9)] == [1, 1, 2, 2, 3, 3, 4, 4]


def test_registry_names_and_k_bounds():
    assert parse_method("conf-vote@8").spec == "confidence-vote@8"
    assert parse_method("confidence-filter@4").method.reads == "confidence"
    with pytest.raises(ValueError, match="needs k=5"):
        aggregate("confidence-filter@5", ["1"] * 4, [0.1] * 4)


def _traces():
    """Two problems, 4 samples each; the wrong answers are the unconfident ones."""
    out = []
    rows = {"p1": [("4", -0.1), ("5", -2.0), ("5", -2.5), ("4", -0.2)],
            "p2": [("9", -1.5), ("8", -0.1), ("9", -1.8), ("9", -1.9)]}
    gold = {"p1": "4", "p2": "8"}
    for pid, samples in rows.items():
        for i, (ans, g) in enumerate(samples):
            conf = {"kind": "sampled", "window": 32, "tokens": 10, "mean": g, "lowest_group": g,
                    "step_logprob": [g]}
            out.append(Trace(pid, i, text=f"\\boxed{{{ans}}}", answer=ans, gold=gold[pid], num_tokens=10,
                             confidence=conf))
    return out


def test_evaluate_samples_runs_the_confidence_methods():
    from evals.evaluate import evaluate_samples

    rep = evaluate_samples(_traces(), ["majority@4", "confidence-vote@4", "confidence-filter@4"], n_boot=200)
    acc = {r.method: r.accuracy for r in rep.results}
    # p1: majority ties 4/5 (0.5); p2: majority says 9 (0). Weights exp(lowest group): the vote
    # picks 4 (0.90 + 0.82 > 0.22) and 8 (0.90 > 0.54). The filter keeps the top 2: 4, 4 in p1;
    # 8 and 9 tie in p2 (0.5 with ties split)
    assert acc == {"majority@4": 0.25, "confidence-vote@4": 1.0, "confidence-filter@4": 0.75}


def test_trace_round_trips_its_confidence():
    t = _traces()[0]
    assert Trace.from_dict(t.to_dict()) == t
    assert "confidence" not in Trace.from_dict(t.to_dict()).meta


def test_missing_confidence_is_a_clear_error():
    from evals.evaluate import evaluate_samples
    from verify.errors import InputError

    plain = [Trace("p", i, answer="4", gold="4") for i in range(4)]
    with pytest.raises(InputError, match="confidence"):
        evaluate_samples(plain, ["confidence-vote@4"], n_boot=50)
