"""Cost accounting for test-time-compute methods: tokens, prices, cost per correct answer,
and the accuracy-versus-cost Pareto frontier.

Charging rules (documented in the README):
- a method that uses k of the n samples per problem is charged k samples' generated tokens
  (the mean generated tokens per sample of that problem times k);
- the prompt is charged once per problem (one request with `n=k`, as vLLM and OpenAI-style
  servers bill it; with prefix caching the prompt is encoded once);
- a method that reads PRM scores is charged the PRM forward tokens of its k traces;
- prices are per million tokens: `price_in` (prompt), `price_out` (generated), `prm_price`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True)
class Prices:
    """Prices in currency units per million tokens; None means not given."""

    price_in: float | None = None
    price_out: float | None = None
    prm_price: float | None = None

    @property
    def given(self) -> bool:
        return any(p is not None for p in (self.price_in, self.price_out, self.prm_price))


@dataclass(frozen=True)
class MethodCost:
    gen_tokens: float          # generated tokens per problem charged to the method
    prompt_tokens: float       # prompt tokens per problem
    prm_tokens: float          # PRM forward tokens per problem
    cost_multiplier: float     # generated tokens relative to one sample
    cost_per_problem: float | None
    cost_per_correct: float | None


def method_cost(k: int, mean_gen_tokens: float, mean_prompt_tokens: float, mean_prm_tokens: float,
                uses_prm: bool, accuracy: float, prices: Prices = Prices()) -> MethodCost:
    """Cost of a method that uses k samples per problem.

    `mean_*_tokens` are per sample (per trace), averaged over problems.

    >>> c = method_cost(8, 100.0, 50.0, 160.0, True, 0.5, Prices(1.0, 2.0, 0.5))
    >>> (c.gen_tokens, c.prm_tokens, c.cost_multiplier)
    (800.0, 1280.0, 8.0)
    >>> round(c.cost_per_problem * 1e6, 6), round(c.cost_per_correct * 1e6, 6)
    (2290.0, 4580.0)
    """
    gen = k * mean_gen_tokens
    prm = k * mean_prm_tokens if uses_prm else 0.0
    mult = gen / mean_gen_tokens if mean_gen_tokens > 0 else float(k)
    cpp = None
    cpc = None
    if prices.given:
        cpp = ((prices.price_in or 0.0) * mean_prompt_tokens + (prices.price_out or 0.0) * gen
               + (prices.prm_price or 0.0) * prm) / 1e6
        cpc = cpp / accuracy if accuracy > 0 else math.inf
    return MethodCost(gen, mean_prompt_tokens, prm, mult, cpp, cpc)


def pareto_front(accuracy: Sequence[float], cost: Sequence[float]) -> list[bool]:
    """Which points are on the accuracy-versus-cost frontier (no other point is at least as
    accurate and at most as costly while strictly better in one).

    >>> pareto_front([0.5, 0.6, 0.55, 0.6], [1, 8, 8, 16])
    [True, True, False, False]
    """
    n = len(accuracy)
    out = []
    for i in range(n):
        dominated = any(
            accuracy[j] >= accuracy[i] and cost[j] <= cost[i]
            and (accuracy[j] > accuracy[i] or cost[j] < cost[i])
            for j in range(n) if j != i)
        out.append(not dominated)
    return out


def cheapest_within_ci_of_best(accuracy: Sequence[float], ci_low: Sequence[float],
                               cost: Sequence[float]) -> int | None:
    """Index of the cheapest method whose accuracy lies inside the 95% CI of the most
    accurate method (accuracy >= the best method's ci_low). Equal cost goes to the more
    accurate method, then to the earlier one.

    >>> cheapest_within_ci_of_best([0.60, 0.70, 0.68], [0.50, 0.62, 0.60], [1, 8, 4])
    2
    >>> cheapest_within_ci_of_best([0.570, 0.650, 0.66], [0.5, 0.55, 0.56], [8, 8, 16])
    1
    """
    if not accuracy:
        return None
    best = max(range(len(accuracy)), key=lambda i: (accuracy[i], -cost[i]))
    ok = [i for i in range(len(accuracy)) if accuracy[i] >= ci_low[best]]
    return min(ok, key=lambda i: (cost[i], -accuracy[i], i))


def add_costs(rows: Sequence[Any], traces: Sequence[Any], prices: Prices = Prices()) -> None:
    """Fill the cost columns of result rows (`evals.results.MethodResult`) from the traces'
    token counts, and mark the frontier and the cheapest row within the CI of the best.

    Token means are per trace, averaged over problems; a method is charged by `method_cost`,
    PRM tokens only when it reads step scores. `cost_multiplier` stays what the evaluation
    measured (with `--subsets first` it is the first k samples' own tokens).
    """
    by_problem: dict[str, list] = {}
    for t in traces:
        by_problem.setdefault(t.problem_id, []).append(t)
    groups = list(by_problem.values()) or [[]]

    def mean_of(get) -> float:
        return float(sum(sum(get(t) for t in ts) / max(len(ts), 1) for ts in groups) / len(groups))

    gen = mean_of(lambda t: t.num_tokens)
    prompt = mean_of(lambda t: t.prompt_tokens)
    prm = mean_of(lambda t: float(t.meta.get("prm_tokens", 0)))
    for r in rows:
        c = method_cost(r.k, gen, prompt, prm, r.spec.method.reads == "step", r.accuracy, prices)
        r.gen_tokens_per_problem, r.prompt_tokens_per_problem = c.gen_tokens, c.prompt_tokens
        r.prm_tokens_per_problem = c.prm_tokens
        r.cost_per_problem, r.cost_per_correct = c.cost_per_problem, c.cost_per_correct
    cost = [cost_measure(r) for r in rows]
    front = pareto_front([r.accuracy for r in rows], cost)
    pick = cheapest_within_ci_of_best([r.accuracy for r in rows], [r.ci_low for r in rows], cost)
    for i, r in enumerate(rows):
        r.pareto, r.cheapest_within_ci_of_best = front[i], i == pick


def cost_measure(row: Any) -> float:
    """What the frontier ranks by: money when prices are given, else tokens, else k."""
    if row.cost_per_problem is not None:
        return row.cost_per_problem
    if row.gen_tokens_per_problem > 0:
        return row.gen_tokens_per_problem + row.prm_tokens_per_problem
    return float(row.k)
