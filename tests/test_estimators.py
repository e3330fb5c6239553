"""Exact estimators == brute-force enumeration of all k-subsets, and == a long seeded
simulation of the real aggregators in verify.select.aggregate."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.select.aggregate import best_of, majority_vote, weighted_vote
from verify.select.estimators import (best_of_k, bootstrap_ci, majority_at_k, pass_at_k, vote_at_k)


# ----------------------------------------------------------------------------- brute force

def brute_majority(labels, class_correct, k):
    """Mean over all k-subsets of the tie-weighted correctness of majority_vote."""
    vals = []
    for sub in itertools.combinations(range(len(labels)), k):
        v = majority_vote([None if labels[i] < 0 else int(labels[i]) for i in sub])
        vals.append(np.mean([class_correct[a] for a in v.tied]) if v.tied else 0.0)
    return float(np.mean(vals))


def brute_best_of(scores, answered, correct, k, tie):
    vals = []
    for sub in itertools.combinations(range(len(scores)), k):
        items = [i if answered[i] else None for i in sub]
        sc = [None if np.isnan(scores[i]) else float(scores[i]) for i in sub]
        v = best_of(items, sc)
        if v.answer is None:
            vals.append(0.0)
        elif tie == "first":
            vals.append(float(correct[v.answer]))
        else:
            top = [items[j] for j in range(k) if items[j] is not None and
                   (sc[j] if sc[j] is not None else -np.inf) == (sc[v.index] if sc[v.index] is not None else -np.inf)]
            vals.append(float(np.mean([correct[i] for i in top])))
    return float(np.mean(vals))


def brute_weighted(labels, weights, class_correct, k):
    vals = []
    for sub in itertools.combinations(range(len(labels)), k):
        v = weighted_vote([None if labels[i] < 0 else int(labels[i]) for i in sub], [weights[i] for i in sub])
        vals.append(np.mean([class_correct[a] for a in v.tied]) if v.tied else 0.0)
    return float(np.mean(vals))


problems = st.integers(1, 9).flatmap(lambda n: st.tuples(
    st.lists(st.integers(-1, 4), min_size=n, max_size=n),          # class labels, -1 abstains
    st.lists(st.booleans(), min_size=5, max_size=5),              # class_correct (several may be correct)
    st.lists(st.sampled_from([np.nan, 0.1, 0.5, 0.5, 0.9, 1.0]), min_size=n, max_size=n),  # scores with ties
    st.lists(st.booleans(), min_size=n, max_size=n),              # per-sample correctness for best-of
))


@settings(max_examples=150, deadline=None)
@given(problems)
def test_majority_exact_equals_brute_force(case):
    labels, cc, _, _ = case
    labels, cc = np.array(labels), np.array(cc)
    n = len(labels)
    exact = majority_at_k(labels, cc, range(1, n + 1))
    for k in range(1, n + 1):
        assert exact[k - 1] == pytest.approx(brute_majority(labels, cc, k), abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(problems)
def test_best_of_exact_equals_brute_force(case):
    labels, _, scores, correct = case
    scores, answered, correct = np.array(scores, float), np.array(labels) >= 0, np.array(correct)
    n = len(scores)
    for tie in ("first", "random"):
        exact = best_of_k(scores, answered, correct, range(1, n + 1), tie=tie)
        for k in range(1, n + 1):
            assert exact[k - 1] == pytest.approx(brute_best_of(scores, answered, correct, k, tie), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(problems)
def test_weighted_vote_enumeration_equals_brute_force(case):
    labels, cc, scores, _ = case
    labels, cc = np.array(labels), np.array(cc)
    w = np.nan_to_num(np.array(scores, float), nan=0.0)
    for k in range(1, len(labels) + 1):
        m, se, exact = vote_at_k(labels, w, cc, k)
        assert exact and se == 0.0
        assert m == pytest.approx(brute_weighted(labels, w, cc, k), abs=1e-12)


def test_pass_at_k_matches_enumeration():
    for n in range(1, 9):
        for c in range(n + 1):
            correct = [True] * c + [False] * (n - c)
            for k in range(1, n + 1):
                brute = np.mean([any(correct[i] for i in s) for s in itertools.combinations(range(n), k)])
                assert pass_at_k(n, c, k) == pytest.approx(brute, abs=1e-12)


def test_large_n_realistic_spread_agrees_with_long_simulation_of_majority_vote():
    """n = 64 with a realistic spread: the DP vs 200k seeded votes of the real aggregator on
    random k-subsets (in random order, tie rule 'first' = random tie-breaking)."""
    rng = np.random.default_rng(7)
    n = 64
    labels = rng.choice([0, 1, 2, 3, 4, -1], size=n, p=[0.34, 0.3, 0.15, 0.1, 0.06, 0.05])
    cc = np.array([True, False, False, False, False])
    ks = [1, 3, 8, 16, 31]
    exact = majority_at_k(labels, cc, ks)
    trials = 40_000
    for k, e in zip(ks, exact):
        wins = 0.0
        for _ in range(trials // 8):
            sub = rng.permutation(n)[:k]
            v = majority_vote([None if labels[i] < 0 else int(labels[i]) for i in sub], tie="first")
            wins += 0.0 if v.answer is None else float(cc[v.answer])
        sim = wins / (trials // 8)
        se = math.sqrt(max(e * (1 - e), 1e-4) / (trials // 8))
        assert abs(sim - e) < 4.5 * se, (k, sim, e)


def test_simulation_with_random_tie_rule_and_best_of():
    rng = np.random.default_rng(3)
    labels = np.array([0, 0, 1, 1, 2, -1, 1, 0, 2, 3])
    cc = np.array([True, False, False, True])
    scores = np.array([0.2, 0.9, 0.9, 0.4, 0.7, 0.99, np.nan, 0.4, 0.1, 0.9])
    correct = cc[np.maximum(labels, 0)] & (labels >= 0)
    T = 20_000
    for k in (2, 5):
        maj = best = 0.0
        for _ in range(T):
            sub = rng.choice(10, size=k, replace=False)
            items = [None if labels[i] < 0 else int(labels[i]) for i in sub]
            v = majority_vote(items, tie="random", rng=rng)
            maj += 0.0 if v.answer is None else float(cc[v.answer])
            b = best_of([i if labels[i] >= 0 else None for i in sub],
                        [None if np.isnan(scores[i]) else scores[i] for i in sub], tie="random", rng=rng)
            best += 0.0 if b.answer is None else float(correct[b.answer])
        e_maj = majority_at_k(labels, cc, [k])[0]
        e_best = best_of_k(scores, labels >= 0, correct, [k], tie="random")[0]
        assert abs(maj / T - e_maj) < 4.5 * math.sqrt(e_maj * (1 - e_maj) / T) + 1e-9
        assert abs(best / T - e_best) < 4.5 * math.sqrt(e_best * (1 - e_best) / T) + 1e-9


def test_monte_carlo_fallback_reports_error_and_covers_exact():
    rng = np.random.default_rng(11)
    n = 40
    labels = rng.choice([0, 1, 2], size=n, p=[0.45, 0.4, 0.15])
    cc = np.array([True, False, False])
    m, se, exact = vote_at_k(labels, None, cc, 15, max_enum=1000, trials=4000, rng=rng)
    assert not exact and (m, se) == pytest.approx((0.5959167, 0.0072030), abs=1e-7)  # seeded
    assert abs(m - majority_at_k(labels, cc, [15])[0]) < 4.5 * se


def test_edge_cases_all_abstain_k_equals_n_and_k_greater_than_n():
    assert majority_at_k(np.array([-1, -1, -1]), np.array([], bool), [1, 3]).tolist() == [0.0, 0.0]
    labels = np.array([0, 1, 1, -1])
    cc = np.array([True, False])
    assert majority_at_k(labels, cc, [4])[0] == 0.0                # k = n: the full vote, 1 < 2
    assert majority_at_k(labels, cc, [1])[0] == pytest.approx(0.25)
    with pytest.raises(ValueError, match="k must be in 1..n=4"):
        majority_at_k(labels, cc, [5])
    with pytest.raises(ValueError):
        best_of_k(np.zeros(4), np.ones(4, bool), np.ones(4, bool), [0])
    with pytest.raises(ValueError):
        pass_at_k(4, 1, 5)


def test_bootstrap_ci_seeded_and_sensible():
    v = np.r_[np.ones(70), np.zeros(30)]
    a = bootstrap_ci(v, seed=1)
    assert a == bootstrap_ci(v, seed=1)
    u = np.random.default_rng(0).random(50)                    # continuous values: seeds differ
    assert bootstrap_ci(u, seed=1) != bootstrap_ci(u, seed=2)
    # normal approximation: 0.7 +- 1.96 * sqrt(.21/100) = [0.61, 0.79]
    assert a[0] == pytest.approx(0.61, abs=0.02) and a[1] == pytest.approx(0.79, abs=0.02)
    assert bootstrap_ci(np.ones(10)) == (1.0, 1.0)
