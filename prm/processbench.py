"""ProcessBench evaluation of a step scorer (Zheng et al. 2024, "ProcessBench").

Each sample has steps and `label`, the index of the earliest wrong step (-1: all correct).
The scorer's prediction is the first step whose score is below `threshold` (-1 if none).
ProcessBench's metric:

- accuracy on erroneous samples (label != -1): the predicted index equals the label;
- accuracy on correct samples (label == -1): the prediction is -1;
- F1 = 2 * a_err * a_cor / (a_err + a_cor), the harmonic mean of the two.

Also reported: step-level AUROC of the scores for "this step is correct" (Mann-Whitney U,
ties count one half), over the steps before the first error (positives) and the first wrong
step (negatives); later steps are excluded because their correctness is not labelled.

95% intervals: Wilson for the two accuracies; for F1 a stratified bootstrap (the error and
correct groups resampled separately, as the benchmark fixes their sizes); for AUROC a
bootstrap over samples (a sample's steps move together). A threshold sweep picks the F1-best
threshold *on the same data*: it is an optimistic upper figure and is labelled as tuned.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from prm.formats import iter_processbench
from verify.records.io import write_jsonl_atomic
from verify.intervals import wilson
from verify.progress import progress_line


@dataclass(frozen=True)
class ProcessBenchReport:
    """ProcessBench metrics at one threshold, each with its 95% interval."""

    threshold: float
    n_error: int                      # samples with a wrong step (label != -1)
    n_correct: int                    # samples with every step correct
    hits_error: int                   # erroneous samples whose first error was found exactly
    hits_correct: int                 # correct samples with no step flagged
    acc_error: float
    acc_error_ci: tuple[float, float]
    acc_correct: float
    acc_correct_ci: tuple[float, float]
    f1: float
    f1_ci: tuple[float, float]
    auroc: float | None               # None: no positive or no negative step
    auroc_ci: tuple[float, float] | None
    n_pos_steps: int
    n_neg_steps: int
    tuned_on_test: bool = False       # True: threshold chosen to maximise F1 on this data

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def first_error(scores: Sequence[float], threshold: float = 0.5) -> int:
    """Index of the first step scored below `threshold`, or -1.

    >>> first_error([0.9, 0.4, 0.1]), first_error([0.9, 0.8])
    (1, -1)
    """
    for i, s in enumerate(scores):
        if s < threshold:
            return i
    return -1


def harmonic(a: float, b: float) -> float:
    """Harmonic mean, 0 when both are 0 (ProcessBench's F1)."""
    return 0.0 if a + b == 0 else 2 * a * b / (a + b)


def auroc(scores: Sequence[float], positive: Sequence[bool]) -> float | None:
    """Area under the ROC curve (probability a positive outscores a negative; ties 1/2).

    >>> auroc([0.9, 0.8, 0.3, 0.8], [True, True, False, False])
    0.875
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    from scipy.stats import rankdata
    ranks = rankdata(s)  # average ranks: ties count one half
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def step_targets(label: int, scores: Sequence[float]) -> tuple[list[float], list[bool]]:
    """Scores and correctness of the labelled steps: those before the first error, and it."""
    if label == -1:
        return list(scores), [True] * len(scores)
    return list(scores[:label + 1]), [True] * label + [False]


def processbench_metrics(labels: Sequence[int], step_scores: Sequence[Sequence[float]],
                         threshold: float = 0.5, *, n_boot: int = 1000, seed: int = 0,
                         tuned_on_test: bool = False) -> ProcessBenchReport:
    """ProcessBench accuracies, F1 and step AUROC with 95% intervals.

    >>> r = processbench_metrics([1, -1], [[0.9, 0.2, 0.9], [0.8, 0.7]], n_boot=50)
    >>> r.acc_error, r.acc_correct, r.f1, r.auroc
    (1.0, 1.0, 1.0, 1.0)
    """
    if len(labels) != len(step_scores):
        raise ValueError(f"{len(labels)} labels but {len(step_scores)} score lists")
    hit_err = [first_error(s, threshold) == y for y, s in zip(labels, step_scores) if y != -1]
    hit_cor = [first_error(s, threshold) == -1 for y, s in zip(labels, step_scores) if y == -1]
    ke, ne, kc, nc = sum(hit_err), len(hit_err), sum(hit_cor), len(hit_cor)
    a_err = ke / ne if ne else math.nan
    a_cor = kc / nc if nc else math.nan
    rng = np.random.default_rng(seed)
    # resampling a 0/1 vector of size n with k ones gives Binomial(n, k/n) ones: draw that directly
    be = rng.binomial(ne, a_err, n_boot) / ne if ne else np.full(n_boot, np.nan)
    bc = rng.binomial(nc, a_cor, n_boot) / nc if nc else np.full(n_boot, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        bf = np.where(be + bc > 0, 2 * be * bc / (be + bc), 0.0)
    f1_ci = _percentile_ci(bf) if ne and nc else (math.nan, math.nan)  # F1 undefined without both groups

    per = [step_targets(y, s) for y, s in zip(labels, step_scores)]
    flat_s = [x for s, _ in per for x in s]
    flat_y = [x for _, y in per for x in y]
    auc = auroc(flat_s, flat_y)
    auc_ci = None
    if auc is not None:
        auc_ci = bootstrap_auroc(per, n_boot, rng)
    return ProcessBenchReport(
        threshold=float(threshold), n_error=ne, n_correct=nc, hits_error=ke, hits_correct=kc,
        acc_error=a_err, acc_error_ci=wilson(ke, ne), acc_correct=a_cor, acc_correct_ci=wilson(kc, nc),
        f1=harmonic(a_err, a_cor) if ne and nc else math.nan, f1_ci=f1_ci,
        auroc=auc, auroc_ci=auc_ci, n_pos_steps=sum(flat_y), n_neg_steps=len(flat_y) - sum(flat_y),
        tuned_on_test=tuned_on_test)


def best_threshold(labels: Sequence[int], step_scores: Sequence[Sequence[float]]) -> tuple[float, float]:
    """The threshold that maximises ProcessBench F1 on this data, and that F1 (optimistic).

    Each sample is right for thresholds t in an interval (lo, hi]: an erroneous one when
    t > score[label] and t <= min(score[:label]); a correct one when t <= min(scores). F1
    only changes at the `hi` ends, so those (and one above every score) are the candidates.

    >>> best_threshold([1, -1], [[0.9, 0.6], [0.8, 0.7]])
    (0.7, 1.0)
    """
    lo, hi, is_err = [], [], []
    for y, s in zip(labels, step_scores):
        if y == -1:
            lo.append(-math.inf)
            hi.append(min(s) if len(s) else math.inf)
        else:
            lo.append(s[y])
            hi.append(min(s[:y]) if y > 0 else math.inf)
        is_err.append(y != -1)
    lo_a, hi_a, err = np.array(lo), np.array(hi), np.array(is_err, dtype=bool)
    top = max([x for x in hi if math.isfinite(x)] + [x for x in lo if math.isfinite(x)] + [1.0])
    cands = np.unique(np.append(hi_a[np.isfinite(hi_a)], np.nextafter(top, math.inf)))
    ok = (lo_a[None, :] < cands[:, None]) & (cands[:, None] <= hi_a[None, :])  # (candidates, samples)
    a_e = ok[:, err].mean(axis=1) if err.any() else np.zeros(len(cands))
    a_c = ok[:, ~err].mean(axis=1) if (~err).any() else np.zeros(len(cands))
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(a_e + a_c > 0, 2 * a_e * a_c / (a_e + a_c), 0.0)
    i = int(np.argmax(f1))
    return float(cands[i]), float(f1[i])


def evaluate_processbench(data: str | Path, scorer: Any, *, threshold: float = 0.5, sweep: bool = False,
                          batch_size: int = 16, records: str | Path | None = None, n_boot: int = 1000,
                          seed: int = 0, progress: bool = True, limit: int | None = None) -> dict[str, Any]:
    """Score every ProcessBench sample in `data` with `scorer` and compute the metrics.

    Writes one JSONL record per sample to `records` first (id, label, pred, step_scores),
    then returns {"data", "n", "scorer", "forward_tokens", "report", "tuned"}; "tuned" is
    the sweep's report (threshold tuned on this data) or None.

    >>> import json, tempfile
    >>> p = tempfile.mktemp(suffix=".jsonl")
    >>> _ = open(p, "w").write(json.dumps({"id": "a", "problem": "?", "steps": ["2+2=5"], "label": 0}) + "\\n")
    >>> evaluate_processbench(p, lambda q, s: [0.1] * len(s), progress=False, n_boot=10)["report"]["acc_error"]
    1.0
    """
    from prm.scorers import CheckedScorer, load_scorer
    checked = scorer if isinstance(scorer, CheckedScorer) else load_scorer(scorer)
    rows = list(iter_processbench(data))
    if limit is not None:
        rows = rows[:limit]
    labels, all_scores, predictions = [], [], []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        scores = checked.score_batch([(q, steps) for _, _, q, steps, _ in chunk])
        out = []
        for (line, rid, _, steps, label), s in zip(chunk, scores):
            labels.append(label)
            all_scores.append(s)
            out.append({"id": rid, "label": label, "pred": first_error(s, threshold), "step_scores": s})
        predictions += out
        if progress:
            progress_line(f"scored {start + len(chunk)}/{len(rows)} samples", start + len(chunk), len(rows),
                          prev=start)
    if records is not None:  # one atomic replace at the end: never unlinks what the path is (/dev/stdout)
        write_jsonl_atomic(records, predictions)
    report = processbench_metrics(labels, all_scores, threshold, n_boot=n_boot, seed=seed)
    tuned = None
    if sweep:
        t, _ = best_threshold(labels, all_scores)
        tuned = processbench_metrics(labels, all_scores, t, n_boot=n_boot, seed=seed, tuned_on_test=True).to_dict()
    return {"data": str(data), "n": len(rows), "scorer": getattr(checked, "name", repr(checked)),
            "forward_tokens": int(getattr(checked, "forward_tokens", 0)),
            "report": report.to_dict(), "tuned": tuned}


def _percentile_ci(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (math.nan, math.nan)
    return (float(np.percentile(x, 2.5)), float(np.percentile(x, 97.5)))


def bootstrap_auroc(per: list[tuple[list[float], list[bool]]], n_boot: int,
                    rng: np.random.Generator) -> tuple[float, float]:
    """95% percentile interval of the AUROC, resampling whole groups `per` = [(scores, positive)]
    (the steps of one sample, or of one problem's traces, are not independent)."""
    lens = np.array([len(s) for s, _ in per])
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    s_all = np.array([x for s, _ in per for x in s], dtype=float)
    y_all = np.array([x for _, y in per for x in y], dtype=bool)
    vals = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(per), len(per))
        ln = lens[pick]
        idx = np.repeat(starts[pick], ln) + np.arange(ln.sum()) - np.repeat(np.cumsum(ln) - ln, ln)
        a = auroc(s_all[idx], y_all[idx])
        if a is not None:
            vals.append(a)
    return _percentile_ci(np.array(vals))
