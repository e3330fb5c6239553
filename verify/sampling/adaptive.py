"""Adaptive sampling: draw samples in rounds and stop a problem once more samples cannot
(or very probably will not) change its majority answer.

Rules (answers are grouped by `answer_key`; a sample with no answer uses budget but casts
no vote). With leader count c1, runner-up count c2 and r samples left in the budget:

* `overtake` (exact): stop when c1 > c2 + r. No completion of the remaining r samples can
  tie or overtake the leader, so the majority answer equals the one full sampling would
  give for these samples. Always checked, whichever rule is chosen.
* `esc` (Early-Stopping Self-Consistency, Li et al., ICLR 2024): stop when all answers of
  the latest window (round) of `round_size` samples are the same non-empty answer.
* `beta` (Adaptive-Consistency, Aggarwal et al., EMNLP 2023): stop when
  P(p1 > p2 | counts) >= confidence under a Beta(c1 + 1, c2 + 1) posterior on the leader's
  share of the two top answers, i.e. `scipy.stats.beta.sf(0.5, c1 + 1, c2 + 1)`, computed
  exactly without scipy (`beta_sf_half`) so that `import verify.sampling` stays light.
  With confidence 0.95 that means, e.g., 4-0, 6-1 or 8-2.
* `confidence` (DeepConf's online consensus stop, Fu et al. 2025, arXiv 2508.15260): stop when
  the leader holds at least `confidence` of the confidence-weighted vote, sum of w over its
  samples / sum of w over all answering samples, with w the trace's token-confidence weight
  (`verify.records.confidence.trace_confidence`). Without weights for every sample (a backend
  without logprobs, or traces from an older run) each sample weighs 1.

`simulate` replays recorded answer lists through a rule (to measure samples saved and
accuracy without a model); `sample_to_file(..., adaptive=AdaptiveRule(...))` in run.py
runs the same rule live.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from verify.checker.equivalence import answer_key
from verify.errors import UnknownSpecError

RULES = ("overtake", "esc", "beta", "confidence")


def beta_sf_half(a: int, b: int) -> float:
    """P(X > 1/2) for X ~ Beta(a, b) with integer a, b >= 1, exactly.

    For integer shapes the Beta tail is a binomial sum: P(X > 1/2) = P(Bin(a + b - 1, 1/2) <= a - 1)
    (the order-statistic identity), the same value as `scipy.stats.beta.sf(0.5, a, b)`.

    >>> beta_sf_half(5, 1), round(beta_sf_half(7, 2), 6)
    (0.96875, 0.964844)
    """
    m = a + b - 1
    return sum(math.comb(m, j) for j in range(a)) / 2 ** m


@dataclass(frozen=True)
class AdaptiveRule:
    """When to stop sampling one problem.

    >>> AdaptiveRule(budget=8, round_size=2, rule="beta").should_stop(["4", "4", "4", "4"])
    True
    """

    budget: int = 8            # at most this many samples per problem (the N of maj@N)
    round_size: int = 2        # samples drawn per problem per round (ESC's window)
    rule: str = "beta"
    confidence: float = 0.95   # for `beta`
    min_samples: int = 2       # never stop before this many samples

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise UnknownSpecError(f"unknown adaptive rule {self.rule!r}; known: {', '.join(RULES)}")
        if self.budget < 1 or self.round_size < 1:
            raise ValueError("budget and round_size must be >= 1")

    def should_stop(self, answers: Sequence[str | None], weights: Sequence[float | None] | None = None) -> bool:
        """Whether a problem with these answers (in sampling order) needs no more samples;
        `weights` (one per answer) are read by the `confidence` rule.

        >>> r = AdaptiveRule(rule="confidence", confidence=0.9)
        >>> r.should_stop(["4", "4", "5"], [0.9, 0.8, 0.1]), r.should_stop(["4", "4", "5"])
        (True, False)
        """
        used = len(answers)
        if used >= self.budget:
            return True
        if used < self.min_samples:
            return False
        counts = Counter(answer_key(a) for a in answers if a is not None).most_common(2)
        c1 = counts[0][1] if counts else 0
        c2 = counts[1][1] if len(counts) > 1 else 0
        if c1 > c2 + (self.budget - used):
            return True
        if self.rule == "esc":
            window = answers[-self.round_size:]
            return (len(window) == self.round_size and window[0] is not None
                    and len({answer_key(a) if a is not None else None for a in window}) == 1)
        if self.rule == "beta":
            return c1 > 0 and beta_sf_half(c1 + 1, c2 + 1) >= self.confidence
        if self.rule == "confidence":
            return c1 > 0 and weighted_share(answers, weights) >= self.confidence
        return False

    def next_round(self, used: int) -> int:
        """How many samples to draw next for a problem that has `used` samples."""
        return max(0, min(self.round_size, self.budget - used))


def weighted_share(answers: Sequence[str | None], weights: Sequence[float | None] | None = None) -> float:
    """The leading answer's share of the (weighted) vote among answering samples; every sample
    weighs 1 unless all answering samples have a weight.

    >>> weighted_share(["4", "5", None], [3.0, 1.0, 9.0]), weighted_share(["4", "5"], [3.0, None])
    (0.75, 0.5)
    """
    idx = [i for i, a in enumerate(answers) if a is not None]
    if not idx:
        return 0.0
    use = weights is not None and all(weights[i] is not None and weights[i] == weights[i] for i in idx)
    totals: Counter = Counter()
    for i in idx:
        totals[answer_key(answers[i])] += float(weights[i]) if use else 1.0
    total = sum(totals.values())
    return max(totals.values()) / total if total > 0 else 0.0


def simulate(answer_lists: Sequence[Sequence[str | None]], rule: AdaptiveRule,
             weight_lists: Sequence[Sequence[float | None]] | None = None) -> list[int]:
    """Samples each problem would use under `rule`, replaying its recorded answers (and, for the
    `confidence` rule, their weights) in order.

    >>> simulate([["1"] * 8, ["1", "2", "1", "2", "1", "2", "1", "2"]], AdaptiveRule(rule="beta"))
    [4, 8]
    """
    used = []
    for j, answers in enumerate(answer_lists):
        w = None if weight_lists is None else list(weight_lists[j])
        k = 0
        while not rule.should_stop(answers[:k], None if w is None else w[:k]) and k < min(len(answers), rule.budget):
            k += rule.next_round(k)
        used.append(min(k, len(answers), rule.budget))
    return used


def majority(answers: Sequence[str | None]) -> str | None:
    """Plurality answer grouped by `answer_key` (`verify.select.aggregate.majority_vote`, ties to
    the answer seen first); None if no sample has an answer.

    >>> majority(["2", "3", "3", None])
    '3'
    """
    from verify.select.aggregate import majority_vote

    keyed = {answer_key(a): a for a in reversed([a for a in answers if a is not None])}
    win = majority_vote([None if a is None else answer_key(a) for a in answers]).answer
    return None if win is None else keyed[win]
