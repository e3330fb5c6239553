"""The analytic vote models: binomial formula, plurality DP against brute force, Beta average
against quadrature, and all of them against a seeded simulation of the real aggregator."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate
from scipy.special import beta as beta_fn

from verify.select.aggregate import majority_vote
from verify.analytic.model import (geometric_profile, heterogeneous_accuracy, majority_accuracy,
                             plurality_accuracy, plurality_table, posterior_accuracy, sampling_se)


@pytest.mark.parametrize("p,n,ties,expected", [
    (0.71, 8, "random", 0.886558),
    (0.71, 1, "random", 0.71),
    (0.71, 4, "random", 0.796478),
    (0.5, 2, "random", 0.5),
    (0.5, 2, "strict", 0.25),
    (0.5, 2, "at-least-half", 0.75),
    (0.6, 3, "strict", 0.648),          # 3 * 0.36 * 0.4 + 0.216
    (0.0, 5, "random", 0.0),
    (1.0, 6, "strict", 1.0),
])
def test_majority_accuracy_values(p, n, ties, expected):
    assert majority_accuracy(p, n, ties) == pytest.approx(expected, abs=1e-6)


def test_majority_accuracy_broadcasts_and_orders_tie_policies():
    p = np.linspace(0, 1, 11)
    n = np.array([[1], [2], [7], [8], [64]])
    r = majority_accuracy(p, n)
    assert r.shape == (5, 11)
    s, a = majority_accuracy(p, n, "strict"), majority_accuracy(p, n, "at-least-half")
    assert np.all(s <= r + 1e-15) and np.all(r <= a + 1e-15)
    odd = n.ravel() % 2 == 1
    assert np.allclose(s[odd], a[odd])                 # no ties with an odd number of voters
    assert np.allclose(r[:, 5], 0.5)                   # p = 1/2 is a fair coin for every n
    assert np.all(np.diff(majority_accuracy(0.8, np.arange(1, 40, 2))) > 0)  # Condorcet


def test_majority_accuracy_rejects_bad_input():
    with pytest.raises(ValueError):
        majority_accuracy(1.2, 3)
    with pytest.raises(ValueError):
        majority_accuracy(0.5, 0)
    with pytest.raises(ValueError):
        majority_accuracy(0.5, 2.5)
    with pytest.raises(ValueError):
        majority_accuracy(0.5, 3, ties="coin")


def _brute_force(p: float, n: int, weights, ties: str, abstain: float = 0.0) -> float:
    """Enumerate every sequence of n votes over (correct, wrong_1..m, abstain)."""
    w = np.asarray(weights, float) / np.sum(weights)
    probs = [p] + list((1 - p) * (1 - abstain) * w) + [(1 - p) * abstain]
    cats = len(probs)
    total = 0.0
    for seq in itertools.product(range(cats), repeat=n):
        pr = math.prod(probs[i] for i in seq)
        if pr == 0:
            continue
        counts = [seq.count(i) for i in range(cats - 1)]    # the abstain category never votes
        top = max(counts)
        if counts[0] == 0 or counts[0] < top:
            continue
        tied = sum(1 for x in counts if x == top)
        total += pr * {"random": 1 / tied, "strict": float(tied == 1), "at-least-half": 1.0}[ties]
    return total


@pytest.mark.parametrize("ties", ["random", "strict", "at-least-half"])
@pytest.mark.parametrize("n,weights,abstain", [
    (1, [1.0], 0.0),
    (4, [1.0], 0.0),
    (5, [1.0, 1.0], 0.0),
    (6, [1.0, 1.0, 1.0], 0.0),
    (6, [0.6, 0.3, 0.1], 0.0),
    (5, [0.7, 0.3], 0.25),
    (6, [1.0, 1.0], 0.5),
])
def test_plurality_dp_equals_brute_force(n, weights, ties, abstain):
    ps = [0.05, 0.3, 0.5, 0.83]
    dp = plurality_accuracy(ps, n, wrong=weights, ties=ties, abstain=abstain)
    bf = [_brute_force(p, n, weights, ties, abstain) for p in ps]
    assert np.allclose(dp, bf, atol=1e-12)


def test_plurality_distinct_limit_and_binary_case():
    p = np.linspace(0, 1, 9)
    assert np.allclose(plurality_accuracy(p, 9, wrong=1), majority_accuracy(p, 9))
    for ties in ("random", "strict", "at-least-half"):
        assert np.allclose(plurality_accuracy(p, 8, wrong=1, ties=ties), majority_accuracy(p, 8, ties))
    # many equally likely wrong answers approach "all distinct"
    assert np.allclose(plurality_table(8, 5000), plurality_table(8, math.inf), atol=2e-3)
    # all distinct, c = 1 of 5: a 5-way tie among single votes
    assert plurality_table(5, math.inf)[1] == pytest.approx(1 / 5)
    # spread wrong answers let the truth win below 50%
    assert plurality_accuracy(0.3, 16, wrong=10) > 0.6 and majority_accuracy(0.3, 16) < 0.06
    # a dominant trap answer behaves almost like the binary case
    trap = plurality_accuracy(0.4, 16, wrong=geometric_profile(0.05, 5))
    assert abs(trap - majority_accuracy(0.4, 16)) < 0.1


def test_plurality_table_checks_input():
    with pytest.raises(ValueError):
        plurality_table(0)
    with pytest.raises(ValueError):
        plurality_table(4, wrong=0)
    with pytest.raises(ValueError):
        plurality_table(4, wrong=[-1.0, 2.0])
    with pytest.raises(ValueError):
        plurality_table(4, abstain=1.5)


@pytest.mark.parametrize("mean,conc,wrong", [(0.3, 0.5, 1), (0.71, 0.5, 8), (0.5, 3.0, math.inf),
                                             (0.9, 20.0, 3)])
def test_heterogeneous_equals_quadrature(mean, conc, wrong):
    a, b = mean * conc, (1 - mean) * conc
    n = 16

    # the Beta density is singular at 0 and 1 for a, b < 1: let quad weight by x^(a-1) (1-x)^(b-1)
    quad = integrate.quad(lambda p: plurality_accuracy(p, n, wrong=wrong), 0, 1, weight="alg",
                          wvar=(a - 1, b - 1))[0] / beta_fn(a, b)
    assert heterogeneous_accuracy(mean, conc, n, wrong=wrong) == pytest.approx(quad, abs=2e-4)


def test_heterogeneity_pulls_toward_pass_at_1():
    hom = heterogeneous_accuracy(0.71, math.inf, 64)
    het = heterogeneous_accuracy(0.71, 0.5, 64)
    # exact values; heterogeneity keeps maj@64 near pass@1 = 0.71 where the binomial says ~1
    assert (hom, het) == pytest.approx((0.99977658, 0.72021046), abs=1e-8)
    assert heterogeneous_accuracy(0.71, 0.5, 1) == pytest.approx(0.71)   # maj@1 is pass@1
    post = posterior_accuracy([4, 0, 2], [4, 4, 4], 1.0, 1.0, 8)
    assert post[0] > post[2] > post[1]


def test_sampling_se():
    assert sampling_se(0.5, 30) == pytest.approx(math.sqrt(0.25 / 30))


def _simulate(p, n, ties, rng, trials, wrong=1, abstain=0.0):
    """Seeded votes through the real `majority_vote`; returns the win rate of the truth."""
    probs = np.array([p] + [(1 - p) * (1 - abstain) / wrong] * wrong + [(1 - p) * abstain])
    labels = ["C"] + [f"W{i}" for i in range(wrong)] + [None]
    draws = rng.choice(len(probs), size=(trials, n), p=probs / probs.sum())
    wins = 0.0
    for row in draws:
        vote = majority_vote([labels[i] for i in row], tie="random" if ties == "random" else "first",
                             rng=rng)
        if ties == "random":
            wins += vote.answer == "C"
        elif ties == "strict":
            wins += vote.tied == ("C",)
        else:
            wins += "C" in vote.tied
    return wins / trials


@pytest.mark.parametrize("ties", ["random", "strict", "at-least-half"])
def test_formula_matches_real_majority_aggregator(ties):
    rng = np.random.default_rng(20261129)
    trials = 1500
    zs = []
    for p in (0.2, 0.45, 0.5, 0.71, 0.9):
        for n in (1, 2, 4, 7, 8):
            exact = majority_accuracy(p, n, ties)
            sim = _simulate(p, n, ties, rng, trials)
            se = max(math.sqrt(exact * (1 - exact) / trials), 1e-3)
            zs.append((sim - exact) / se)
    assert max(abs(z) for z in zs) < 4.0, zs


def test_plurality_matches_real_aggregator_with_spread_and_abstentions():
    rng = np.random.default_rng(7)
    trials = 1500
    for p, n, m, ab in [(0.3, 8, 4, 0.0), (0.25, 6, 3, 0.4), (0.45, 5, 2, 0.2)]:
        for ties in ("random", "strict", "at-least-half"):
            exact = plurality_accuracy(p, n, wrong=m, ties=ties, abstain=ab)
            sim = _simulate(p, n, ties, rng, trials, wrong=m, abstain=ab)
            assert abs(sim - exact) < 4 * math.sqrt(exact * (1 - exact) / trials) + 1e-3, (p, n, m, ties)


def test_first_vote_tie_rule_has_the_random_expectation():
    # samples are exchangeable, so "earliest first vote wins a tie" averages to a fair lottery
    rng = np.random.default_rng(11)
    trials = 3000
    for p, n in [(0.5, 4), (0.35, 6)]:
        draws = rng.random((trials, n)) < p
        wins = sum(majority_vote(["C" if d else "W" for d in row]).answer == "C" for row in draws)
        exact = majority_accuracy(p, n)
        assert abs(wins / trials - exact) < 4 * math.sqrt(exact * (1 - exact) / trials)


def test_large_n_is_stable():
    p = np.linspace(0, 1, 21)
    assert np.allclose(plurality_accuracy(p, 200, wrong=1), majority_accuracy(p, 200), atol=1e-12)
    g = plurality_table(96, 3)
    assert np.all(np.diff(g) >= -1e-12) and g[0] == 0 and g[-1] == 1 and np.all((g >= 0) & (g <= 1 + 1e-12))
