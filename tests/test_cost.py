"""Cost accounting and the Pareto frontier, checked against hand computations."""
from __future__ import annotations

import math

import pytest

from evals.cost import Prices, cheapest_within_ci_of_best, method_cost, pareto_front


def test_k_samples_are_charged_k_times_and_prm_only_when_used():
    c = method_cost(4, 120.0, 30.0, 200.0, uses_prm=False, accuracy=0.5)
    assert (c.gen_tokens, c.prm_tokens, c.cost_multiplier) == (480.0, 0.0, 4.0)
    assert c.cost_per_problem is None and c.cost_per_correct is None
    c = method_cost(4, 120.0, 30.0, 200.0, uses_prm=True, accuracy=0.5, prices=Prices(2.0, 10.0, 1.0))
    # 30*2 + 480*10 + 800*1 = 5660 per million
    assert math.isclose(c.cost_per_problem, 5660e-6)
    assert math.isclose(c.cost_per_correct, 5660e-6 / 0.5)


def test_zero_accuracy_costs_infinity_per_correct():
    assert method_cost(1, 10.0, 0.0, 0.0, False, 0.0, Prices(price_out=1.0)).cost_per_correct == math.inf


def test_pareto_front_and_equal_points():
    assert pareto_front([0.5, 0.5], [1, 1]) == [True, True]
    assert pareto_front([0.4, 0.5, 0.7, 0.6], [1, 2, 8, 8]) == [True, True, True, False]


def test_cheapest_within_ci():
    assert cheapest_within_ci_of_best([0.9, 0.5], [0.8, 0.4], [8, 1]) == 0
    assert cheapest_within_ci_of_best([0.85, 0.9], [0.8, 0.8], [1, 8]) == 0
    assert cheapest_within_ci_of_best([], [], []) is None


@pytest.mark.parametrize("acc,ci_low,cost,expected", [
    ([0.570, 0.650, 0.660], [0.50, 0.55, 0.56], [8, 8, 16], 1),   # same cost: the more accurate one (was 0)
    ([0.650, 0.570, 0.660], [0.55, 0.50, 0.56], [8, 8, 16], 0),
    ([0.60, 0.60, 0.61], [0.5, 0.5, 0.5], [4, 4, 8], 0),           # same cost and accuracy: the earlier one
    ([0.57, 0.65], [0.50, 0.60], [8, 8], 1),                        # 0.57 is outside the best's CI anyway
])
def test_cheapest_within_ci_breaks_cost_ties_by_accuracy(acc, ci_low, cost, expected):
    assert cheapest_within_ci_of_best(acc, ci_low, cost) == expected
