"""Votes that use the model's own token confidence (DeepConf, Fu et al. 2025, arXiv 2508.15260).

- `confidence-vote@k`: a weighted vote whose weights are the traces' confidence weights
  (`verify.records.confidence.trace_confidence`: the lowest sliding-window group confidence).
- `confidence-filter@k`: keep the `ceil(SHARE * k)` most confident of the k traces, then a plain
  majority vote among them (DeepConf's offline filtering; with SHARE = 0.5 at k = 8 the top 4).
  Confidence ties are broken by sample order (earlier first); a trace without a recorded
  confidence ranks last. Abstaining traces (no answer, unfinished) can be kept and abstain.

Both read `reads="confidence"` scores, which only traces sampled with token logprobs have
(verify.sampling backends record them; `verify eval` says so when none has). Exact estimators
enumerate all k-subsets of a problem's n samples when there are at most `max_enum` of them,
else Monte-Carlo over random k-subsets with its standard error, as `weighted-vote` does.
"""
from __future__ import annotations

import math
from itertools import combinations
from typing import Any, Callable, Sequence

from verify.select.aggregate import Vote, majority_vote, weighted_vote
from verify.select.methods import Estimate, Method, estimate_per_k, exact_weighted_vote, register

SHARE = 0.5   # share of the k traces that confidence-filter keeps


def kept(k: int, share: float = SHARE) -> int:
    """How many of k traces confidence-filter keeps (at least one).

    >>> [kept(k) for k in (1, 2, 3, 8)]
    [1, 1, 2, 4]
    """
    return max(1, math.ceil(share * k - 1e-9))


def confidence_filter(items: Sequence[Any], scores: Sequence[float | None], *, tie: str = "first",
                      rng=None, key: Callable | None = None, share: float = SHARE) -> Vote:
    """Majority vote among the most confident `kept(len(items))` items.

    >>> confidence_filter(["4", "5", "5", "4"], [0.9, 0.1, 0.2, 0.8]).answer
    '4'
    """
    if len(scores) != len(items):
        raise ValueError(f"{len(items)} answers but {len(scores)} scores")
    m = kept(len(items), share)
    order = sorted(range(len(items)), key=lambda i: (_rank(scores[i]), i))[:m]
    order.sort()  # keep input order among the kept, so "first" ties mean the same as in majority
    v = majority_vote([items[i] for i in order], tie=tie, rng=rng, key=key)
    return Vote(v.answer, None if v.index is None else order[v.index], v.counts, v.weights, v.tied)


def _rank(s: float | None) -> tuple[int, float]:
    """Sort key: higher confidence first, missing (None / nan) last."""
    if s is None or math.isnan(s):
        return (1, 0.0)
    return (0, -float(s))


def filter_votes(labels: Any, conf: Any, class_correct: Any, subsets: Any, share: float = SHARE) -> Any:
    """Tie-split correctness of confidence-filter on each row of `subsets` (M, k)."""
    import numpy as np

    from verify.select.estimators import _subset_votes

    k = subsets.shape[1]
    c = np.where(np.isnan(conf), -np.inf, conf)[subsets]          # (M, k); missing ranks last
    # rows of `subsets` are increasing sample indices, so a stable sort on -confidence breaks
    # ties by sample order, as the aggregator does
    order = np.argsort(-c, axis=1, kind="stable")
    top = np.take_along_axis(subsets, order[:, :kept(k, share)], axis=1)  # (M, m)
    return _subset_votes(np.asarray(labels), np.ones(len(labels)), class_correct, top)


def filter_at_k(labels: Any, conf: Any, class_correct: Any, k: int, *, max_enum: int = 20_000,
                trials: int = 2_000, rng: Any = None, share: float = SHARE) -> tuple[float, float, bool]:
    """E[confidence-filter@k correct] over k-subsets: `(mean, std_error, exact)`."""
    import numpy as np

    from verify.select.estimators import _check_k, _random_subsets

    labels = np.asarray(labels)
    conf = np.asarray(conf, dtype=float)
    n = len(labels)
    _check_k(n, [k])
    if math.comb(n, k) <= max_enum:
        subsets = np.array(list(combinations(range(n), k)), dtype=np.int64).reshape(-1, k)
        return float(filter_votes(labels, conf, class_correct, subsets, share).mean()), 0.0, True
    rng = rng if rng is not None else np.random.default_rng(0)
    subsets = np.sort(_random_subsets(rng, n, k, trials), axis=1)
    v = filter_votes(labels, conf, class_correct, subsets, share)
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(trials)), False


def exact_confidence_filter(gp, scores, ks, *, max_enum: int = 20_000, trials: int = 2000, rng=None) -> Estimate:
    """confidence-filter@k over all k-subsets (Monte-Carlo with its error above `max_enum`)."""
    return estimate_per_k(gp, scores, ks, max_enum=max_enum, trials=trials, rng=rng, at_k=filter_at_k)


register(Method("confidence-vote", exact=exact_weighted_vote, aggregate=weighted_vote, reads="confidence",
                aliases=("conf-vote",), description="vote weighted by token confidence (DeepConf)"))
register(Method("confidence-filter", exact=exact_confidence_filter, aggregate=confidence_filter,
                reads="confidence", aliases=("conf-filter",),
                description="majority vote of the most confident half of the traces (DeepConf filtering)"))
