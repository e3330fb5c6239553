"""Fit the vote model to recorded samples and predict maj@k beyond what was sampled.

From the first `fit_k` samples of each problem (e.g. 4), fit by maximum likelihood
(`verify.analytic.fit`): a Beta prior of per-problem accuracy (beta-binomial likelihood of
the correct counts), the number m of equally likely wrong answers (likelihood of how the
wrong samples split into distinct answers) and the share of non-correct samples that
abstain. The prediction for maj@k averages each problem's posterior win probability:
maj@k = mean_i sum_c BetaBinom(c; k, a + c_i, b + s_i - c_i) g(c) (`verify.analytic.model`).

It is compared with the exact unbiased maj@k from *all* samples
(`verify.select.estimators.majority_at_k`, random tie-breaking) and with the pooled binomial
(every problem at the mean accuracy, one wrong answer). Samples are graded and grouped into
answer classes by `verify.select.grading.grade_traces` exactly as `verify eval` does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from verify.analytic.model import majority_accuracy, posterior_accuracy
from verify.analytic.fit import fit_beta, fit_spread
from verify.errors import InputError
from verify.select.estimators import bootstrap_ci, majority_at_k
from verify.select.grading import GradedProblem


@dataclass(frozen=True)
class SampleFit:
    """Parameters fitted from the first `fit_k` samples of each problem."""

    fit_k: int
    a: float
    b: float
    wrong: float          # m equally likely wrong answers; inf: all distinct
    abstain: float        # share of non-correct samples without an answer
    n_problems: int

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    @property
    def concentration(self) -> float:
        return self.a + self.b

    def to_dict(self) -> dict:
        return {"fit_k": self.fit_k, "a": self.a, "b": self.b, "mean": self.mean,
                "concentration": self.concentration,
                "wrong": "inf" if math.isinf(self.wrong) else int(self.wrong),
                "abstain": self.abstain, "n_problems": self.n_problems}


def subset_counts(gp: GradedProblem, k: int) -> tuple[int, int, list[int], int]:
    """(correct, seen, wrong class counts, abstained) among the first k samples of a problem.

    >>> gp = GradedProblem("p", "4", np.array([0, 1, 1, -1, 2]), np.array([True, False, False]),
    ...                    ("4", "5", "6"), *[np.zeros(5)] * 3)
    >>> subset_counts(gp, 4)
    (1, 4, [2], 1)
    """
    lab = gp.labels[:k]
    seen = int(lab.shape[0])
    answered = lab[lab >= 0]
    counts = np.bincount(answered, minlength=len(gp.class_correct))
    correct = int(counts[gp.class_correct].sum())
    wrong = [int(x) for x in counts[~gp.class_correct] if x > 0]
    return correct, seen, wrong, seen - int(answered.shape[0])


def fit_samples(problems: Sequence[GradedProblem], fit_k: int = 4) -> SampleFit:
    """ML fit of the vote model from the first `fit_k` samples of each problem.

    >>> gps = [GradedProblem(str(i), "1", np.array(lab), np.array([True, False, False]), ("1", "2", "3"),
    ...                      *[np.zeros(4)] * 3) for i, lab in enumerate([[0, 0, 0, 0], [1, 2, 0, 1], [2, 1, 1, 1]])]
    >>> f = fit_samples(gps, 4); (f.wrong, round(f.mean, 2))
    (2, 0.46)
    """
    if fit_k < 1:
        raise ValueError("fit_k must be >= 1")
    rows = [subset_counts(gp, fit_k) for gp in problems if gp.n > 0]
    if not rows:
        raise InputError("no problems with samples to fit")
    correct = [r[0] for r in rows]
    seen = [r[1] for r in rows]
    a, b = fit_beta(correct, seen)
    wrong = fit_spread([r[2] for r in rows])
    non_correct = sum(s - c for c, s in zip(correct, seen))
    abstain = sum(r[3] for r in rows) / non_correct if non_correct else 0.0
    return SampleFit(fit_k, a, b, wrong, abstain, len(rows))


def predict_curve(problems: Sequence[GradedProblem], fit: SampleFit, ks: Sequence[int]) -> list[dict]:
    """Predicted (model and pooled binomial) and measured maj@k for each k, as dict rows.

    Measured values use every recorded sample; problems with fewer than k samples are
    left out of that k's measurement (`n_problems` says how many count), with a percentile
    bootstrap 95% CI over problems.

    >>> gps = [GradedProblem(str(i), "1", np.array(lab), np.array([True, False, False]), ("1", "2", "3"),
    ...                      *[np.zeros(4)] * 3) for i, lab in enumerate([[0, 0, 0, 1], [1, 2, 0, 1], [2, 1, 0, 0]])]
    >>> row = predict_curve(gps, fit_samples(gps, 2), [3])[0]
    >>> row["k"], row["n_problems"], round(row["measured"], 3)
    (3, 3, 0.611)
    """
    rows = [subset_counts(gp, fit.fit_k) for gp in problems]
    correct = [r[0] for r in rows]
    seen = [r[1] for r in rows]
    if any(k < 1 for k in ks):
        raise ValueError("k must be >= 1")
    # one exact maj@k polynomial per problem serves every k it has samples for
    exact = []
    for gp in problems:
        kk = [int(k) for k in ks if gp.n >= k]
        exact.append(dict(zip(kk, majority_at_k(gp.labels, gp.class_correct, kk).tolist())) if kk else {})
    out = []
    for k in ks:
        pred = posterior_accuracy(correct, seen, fit.a, fit.b, int(k), wrong=fit.wrong, abstain=fit.abstain)
        per = [m[int(k)] for m in exact if int(k) in m]
        measured = float(np.mean(per)) if per else None
        lo, hi = bootstrap_ci(per) if per else (None, None)
        out.append({"k": int(k), "predicted": float(pred.mean()),
                    "binomial": float(majority_accuracy(fit.mean, int(k))),
                    "measured": measured, "ci_low": lo, "ci_high": hi, "n_problems": len(per)})
    return out


def analyze_samples(problems: Sequence[GradedProblem], *, fit_k: int = 4,
                    ks: Sequence[int] | None = None) -> dict:
    """Fit on the first `fit_k` samples, predict maj@k for `ks` (default: powers of two up
    to the largest sample count) and measure it from all samples.

    Returns {"fit": SampleFit.to_dict(), "curve": [...], "mae_model", "mae_binomial"}, the
    errors in accuracy units over the ks where a measurement exists.

    >>> gps = [GradedProblem(str(i), "1", np.array(lab), np.array([True, False]), ("1", "2"),
    ...                      *[np.zeros(4)] * 3) for i, lab in enumerate([[0, 0, 1, 0], [1, 1, 0, 1]])]
    >>> [r["k"] for r in analyze_samples(gps, fit_k=2)["curve"]]
    [1, 2, 4]
    """
    if not problems:
        raise InputError("no problems in the samples")
    n_max = max(gp.n for gp in problems)
    if ks is None:
        ks = sorted({2 ** i for i in range(int(math.log2(n_max)) + 1)} | {n_max})
    fit = fit_samples(problems, fit_k)
    curve = predict_curve(problems, fit, ks)
    have = [r for r in curve if r["measured"] is not None]
    mae = {name: (float(np.mean([abs(r[name] - r["measured"]) for r in have])) if have else None)
           for name in ("predicted", "binomial")}
    return {"fit": fit.to_dict(), "curve": curve, "mae_model": mae["predicted"],
            "mae_binomial": mae["binomial"], "n_problems": len(problems), "max_samples": n_max}
