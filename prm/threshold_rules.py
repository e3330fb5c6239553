"""Threshold rules that carry a PRM's calibration to data of another kind.

A ProcessBench-style prediction flags the first step scoring below a threshold t. A fixed t
chosen on one kind of solutions need not suit another: the shipped PRM's 0.475 (chosen on
held-out MATH/Olympiad/Omni solutions) flags too few GSM8K solutions. The rules here keep what
was learned on the calibration set as a *rate* and set t on the evaluated set from its
unlabelled scores (transductive; no label of the evaluated set is read):

- ``fixed``: t itself;
- ``trace-rate``: the share of traces flagged at t; on new data, the smallest t that flags
  at least that share (a quantile of the per-trace minimum scores; being the smallest, a
  flagged trace's first step below it can come later than at the calibration t);
- ``step-rate``: the share of scored steps below t; on new data, that quantile of all step
  scores.

`calibrate` turns labelled calibration traces into a rule (F1-best t, then its rate);
`threshold_for` applies a rule to new traces; `prm.processbench.rule_f1` scores it, the
threshold set again in every bootstrap replicate. `benchmarks/threshold_transfer.py`
compares the rules between two held-out sources (docs/learned-prm.md has the pre-registered
test on ProcessBench GSM8K: the rules carried better than the fixed threshold, but not far
enough to meet the goal set in advance).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

RULES = ("fixed", "trace-rate", "step-rate")


@dataclass(frozen=True)
class ThresholdRule:
    """`kind` in RULES; `threshold` the calibration set's F1-best t; `rate` what the rule
    keeps of it (unused by ``fixed``)."""

    kind: str
    threshold: float
    rate: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _minima(step_scores: Sequence[Sequence[float]]) -> np.ndarray:
    return np.array([min(s) if len(s) else math.inf for s in step_scores], dtype=float)


def _steps(step_scores: Sequence[Sequence[float]]) -> np.ndarray:
    return np.array([x for s in step_scores for x in s], dtype=float)


def trace_rate(step_scores: Sequence[Sequence[float]], t: float) -> float:
    """Share of traces with a step below `t` (flagged).

    >>> trace_rate([[0.9, 0.2], [0.8, 0.7], [0.6]], 0.65)
    0.6666666666666666
    """
    return float((_minima(step_scores) < t).mean()) if len(step_scores) else math.nan


def step_rate(step_scores: Sequence[Sequence[float]], t: float) -> float:
    """Share of scored steps below `t`.

    >>> step_rate([[0.9, 0.2], [0.8, 0.7]], 0.75)
    0.5
    """
    x = _steps(step_scores)
    return float((x < t).mean()) if x.size else math.nan


def _rate_threshold(values: np.ndarray, rate: float) -> float:
    """The smallest t with at least `rate` of the finite `values` below it."""
    v = np.sort(values[np.isfinite(values)])
    if v.size == 0 or rate <= 0:
        return -math.inf if v.size else 0.5
    k = min(v.size, math.ceil(rate * v.size - 1e-9))
    return float(np.nextafter(v[k - 1], math.inf))


def threshold_for(rule: ThresholdRule, step_scores: Sequence[Sequence[float]]) -> float:
    """The threshold `rule` sets on these (unlabelled) traces.

    >>> r = ThresholdRule("trace-rate", 0.5, 0.5)
    >>> t = threshold_for(r, [[0.9, 0.8], [0.7], [0.95], [0.6, 0.99]])
    >>> trace_rate([[0.9, 0.8], [0.7], [0.95], [0.6, 0.99]], t), 0.7 < t <= 0.8
    (0.5, True)
    """
    if rule.kind == "fixed":
        return rule.threshold
    if rule.kind == "trace-rate":
        return _rate_threshold(_minima(step_scores), rule.rate)
    if rule.kind == "step-rate":
        return _rate_threshold(_steps(step_scores), rule.rate)
    raise ValueError(f"unknown threshold rule {rule.kind!r} (one of {', '.join(RULES)})")


def calibrate(kind: str, labels: Sequence[int], step_scores: Sequence[Sequence[float]]) -> ThresholdRule:
    """The rule of `kind` that keeps the F1-best threshold of these labelled traces
    (ProcessBench labels: first wrong step, or -1).

    >>> calibrate("trace-rate", [1, -1], [[0.9, 0.3], [0.8, 0.7]])
    ThresholdRule(kind='trace-rate', threshold=0.7, rate=0.5)
    """
    from prm.processbench import best_threshold

    if kind not in RULES:
        raise ValueError(f"unknown threshold rule {kind!r} (one of {', '.join(RULES)})")
    t, _ = best_threshold(labels, step_scores)
    rate = {"fixed": math.nan, "trace-rate": trace_rate(step_scores, t),
            "step-rate": step_rate(step_scores, t)}[kind]
    return ThresholdRule(kind, t, rate)

