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


def _intervals(labels: Sequence[int], step_scores: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sample, the thresholds t that make its prediction right form an interval (lo, hi]:
    an erroneous sample when t > score[label] and t <= min(score[:label]); a correct one when
    t <= min(scores). Returns (lo, hi, is_error) arrays."""
    lo, hi, is_err = [], [], []
    for y, s in zip(labels, step_scores):
        if y == -1:
            lo.append(-math.inf)
            hi.append(min(s) if len(s) else math.inf)
        else:
            lo.append(s[y])
            hi.append(min(s[:y]) if y > 0 else math.inf)
        is_err.append(y != -1)
    return np.array(lo, dtype=float), np.array(hi, dtype=float), np.array(is_err, dtype=bool)


def _best_of(lo: np.ndarray, hi: np.ndarray, err: np.ndarray) -> tuple[float, float]:
    """The F1-best threshold over samples given by their intervals, and that F1. F1 only
    changes at the `hi` ends, so those (and one above every score) are the candidates."""
    finite = np.concatenate([hi[np.isfinite(hi)], lo[np.isfinite(lo)], [1.0]])
    cands = np.unique(np.append(hi[np.isfinite(hi)], np.nextafter(finite.max(), math.inf)))
    ok = (lo[None, :] < cands[:, None]) & (cands[:, None] <= hi[None, :])  # (candidates, samples)
    a_e = ok[:, err].mean(axis=1) if err.any() else np.zeros(len(cands))
    a_c = ok[:, ~err].mean(axis=1) if (~err).any() else np.zeros(len(cands))
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(a_e + a_c > 0, 2 * a_e * a_c / (a_e + a_c), 0.0)
    i = int(np.argmax(f1))
    return float(cands[i]), float(f1[i])


def best_threshold(labels: Sequence[int], step_scores: Sequence[Sequence[float]]) -> tuple[float, float]:
    """The threshold that maximises ProcessBench F1 on this data, and that F1 (optimistic).

    >>> best_threshold([1, -1], [[0.9, 0.6], [0.8, 0.7]])
    (0.7, 1.0)
    """
    return _best_of(*_intervals(labels, step_scores))


def _crossfit_hits(lo: np.ndarray, hi: np.ndarray, err: np.ndarray, fold: np.ndarray, k: int) -> tuple[np.ndarray, list[float]]:
    """Per sample, whether its prediction is right at the threshold chosen on the other folds."""
    right = np.zeros(len(lo), dtype=bool)
    thresholds = []
    for f in range(k):
        test, train = fold == f, fold != f
        if not test.any():
            thresholds.append(math.nan)
            continue
        t, _ = _best_of(lo[train], hi[train], err[train]) if train.any() else (0.5, 0.0)
        thresholds.append(t)
        right[test] = (lo[test] < t) & (t <= hi[test])
    return right, thresholds


def _members(groups: Sequence[str]) -> tuple[list[str], list[list[int]]]:
    """The sorted group names and, per name, the indices of its samples."""
    names = sorted(set(groups))
    gid = {g: i for i, g in enumerate(names)}
    members: list[list[int]] = [[] for _ in names]
    for i, g in enumerate(groups):
        members[gid[g]].append(i)
    return names, members


def _resampled_f1(members: list[list[int]], err: np.ndarray, right_in: Any, n_boot: int,
                  rng: np.random.Generator) -> np.ndarray:
    """F1 over `n_boot` resamples of whole groups; `right_in(idx)` says which of the resampled
    samples are predicted right (it redoes whatever set the threshold)."""
    vals = []
    for _ in range(n_boot):
        idx = np.array([i for p in rng.integers(0, len(members), len(members)) for i in members[p]], dtype=int)
        r, e = right_in(idx), err[idx]
        if e.any() and (~e).any():
            vals.append(harmonic(float(r[e].mean()), float(r[~e].mean())))
    return np.array(vals)


def _hits(right: np.ndarray, err: np.ndarray, resampled: np.ndarray) -> dict[str, Any]:
    """Accuracies (Wilson CIs), F1 and its bootstrap CI from per-sample right/wrong."""
    ke, ne = int(right[err].sum()), int(err.sum())
    kc, nc = int(right[~err].sum()), int((~err).sum())
    a_e, a_c = (ke / ne if ne else math.nan), (kc / nc if nc else math.nan)
    return {"f1": harmonic(a_e, a_c) if ne and nc else math.nan, "f1_ci": _percentile_ci(resampled),
            "acc_error": a_e, "acc_error_ci": wilson(ke, ne), "acc_correct": a_c, "acc_correct_ci": wilson(kc, nc),
            "hits_error": ke, "n_error": ne, "hits_correct": kc, "n_correct": nc}


def crossfit_f1(labels: Sequence[int], step_scores: Sequence[Sequence[float]], groups: Sequence[str], *,
                k: int = 5, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """ProcessBench F1 with the threshold *cross-fitted*: the groups (problems) are dealt into
    `k` seeded folds, and each fold is predicted at the F1-best threshold of the other folds, so
    no sample's own label sets its threshold. The 95% CI is a bootstrap over groups that redoes
    the cross-fitting in every replicate (the threshold's own noise is in the interval).

    It answers "how well does the scorer find first errors once a threshold is set on labelled
    data of this kind?", the same question for every scorer compared, and unlike the tuned
    sweep it is not optimistic.

    Errors scoring 0.2 and right steps 0.8: every fold's threshold lands between them.

    >>> labels = [1, -1] * 10
    >>> scores = [[0.8, 0.2], [0.8, 0.8]] * 10
    >>> r = crossfit_f1(labels, scores, [str(i) for i in range(20)], k=5, n_boot=20)
    >>> r["f1"], r["hits_error"], r["hits_correct"], all(0.2 < t <= 0.8 for t in r["fold_thresholds"])
    (1.0, 10, 10, True)
    """
    lo, hi, err = _intervals(labels, step_scores)
    names, members = _members(groups)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(names))
    fold_of = {names[j]: i % k for i, j in enumerate(order)}
    fold = np.array([fold_of[g] for g in groups])
    right, thresholds = _crossfit_hits(lo, hi, err, fold, k)
    resampled = _resampled_f1(members, err, lambda idx: _crossfit_hits(lo[idx], hi[idx], err[idx], fold[idx], k)[0],
                              n_boot, rng)
    return {"k": k, **_hits(right, err, resampled), "fold_thresholds": thresholds, "n_groups": len(names)}


def rule_f1(labels: Sequence[int], step_scores: Sequence[Sequence[float]], groups: Sequence[str],
            rule: Any, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """ProcessBench F1 at the threshold `rule` sets on these traces, with a 95% CI from a
    bootstrap over groups (problems) that sets the threshold again inside every replicate, so
    the rule's own noise is in the interval.

    >>> from prm.threshold_rules import ThresholdRule
    >>> r = rule_f1([1, -1] * 10, [[0.8, 0.2], [0.8, 0.8]] * 10, [str(i) for i in range(20)],
    ...             ThresholdRule("trace-rate", 0.5, 0.5), n_boot=20)
    >>> r["f1"], r["hits_error"], r["hits_correct"], 0.2 < r["threshold"] <= 0.8
    (1.0, 10, 10, True)
    """
    from prm.threshold_rules import threshold_for

    lo, hi, err = _intervals(labels, step_scores)
    names, members = _members(groups)

    def right_in(idx: np.ndarray) -> np.ndarray:
        t = threshold_for(rule, [step_scores[i] for i in idx])
        return (lo[idx] < t) & (t <= hi[idx])

    t = threshold_for(rule, step_scores)
    right = (lo < t) & (t <= hi)
    resampled = _resampled_f1(members, err, right_in, n_boot, np.random.default_rng(seed))
    return {"rule": rule.to_dict(), "threshold": t, **_hits(right, err, resampled), "n_groups": len(names)}


def threshold_report(labels: Sequence[int], step_scores: Sequence[Sequence[float]], groups: Sequence[str],
                     threshold: float, rule: Any = None, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """`processbench_metrics` at `threshold`, as a dict. When a threshold `rule` set that
    threshold from these scores, F1's interval comes from `rule_f1` instead (over `groups`,
    the threshold set again in every replicate)."""
    report = processbench_metrics(labels, step_scores, threshold, n_boot=n_boot, seed=seed).to_dict()
    if rule is not None:
        report["f1_ci"] = rule_f1(labels, step_scores, groups, rule, n_boot=n_boot, seed=seed)["f1_ci"]
    return report


def scorer_threshold(scorer: Any, step_scores: Sequence[Sequence[float]]) -> tuple[float, str, Any]:
    """(threshold, where it comes from, rule or None) for a scorer's predictions on these
    scores: its threshold rule applied to them (set from the unlabelled scores), else its own
    threshold, else 0.5.

    >>> from prm.scorers import CheckedScorer
    >>> scorer_threshold(CheckedScorer(lambda q, s: [0.5] * len(s)), [[0.2, 0.9]])
    (0.5, 'default', None)
    """
    from prm.threshold_rules import threshold_for

    rule = getattr(scorer, "threshold_rule", None)
    if rule is not None:
        return threshold_for(rule, step_scores), f"the PRM's {rule.kind} rule", rule
    if getattr(scorer, "threshold", None) is not None:
        return scorer.threshold, "the PRM's own", None
    return 0.5, "default", None


def evaluate_processbench(data: str | Path, scorer: Any, *, threshold: float | None = None, sweep: bool = False,
                          batch_size: int = 16, records: str | Path | None = None, n_boot: int = 1000,
                          seed: int = 0, progress: bool = True, limit: int | None = None,
                          crossfit: int = 0) -> dict[str, Any]:
    """Score every ProcessBench sample in `data` with `scorer` and compute the metrics.

    Writes one JSONL record per sample to `records` first (id, label, pred, step_scores),
    `threshold` None means the scorer's own: its threshold rule if it has one (the threshold set
    from these samples' unlabelled scores, `prm.threshold_rules`; F1's CI then re-thresholds in
    every bootstrap replicate), else its threshold (a trained PRM's, chosen on its validation
    data), else 0.5; "threshold_source" in the result says which ("given", "the PRM's step-rate
    rule", "the PRM's own", "default") and "threshold_rule" holds the rule (or None).
    Then returns {"data", "n", "scorer", "forward_tokens", "report", "tuned", "crossfit", "threshold_source",
    "threshold_rule"};
    "tuned" is the sweep's report (threshold tuned on this data) or None; "crossfit" is
    `crossfit_f1` with `crossfit` folds over problems (0: None).

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
    labels, all_scores, groups, ids = [], [], [], []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        scores = checked.score_batch([(q, steps) for _, _, q, steps, _ in chunk])
        for (line, rid, q, steps, label), s in zip(chunk, scores):
            labels.append(label)
            groups.append(q)
            ids.append(rid)
            all_scores.append(s)
        if progress:
            progress_line(f"scored {start + len(chunk)}/{len(rows)} samples", start + len(chunk), len(rows),
                          prev=start)
    rule, source = None, "given"
    if threshold is None:
        threshold, source, rule = scorer_threshold(checked, all_scores)
    if records is not None:  # one atomic replace at the end: never unlinks what the path is (/dev/stdout)
        write_jsonl_atomic(records, [{"id": i, "label": y, "pred": first_error(s, threshold), "step_scores": s}
                                     for i, y, s in zip(ids, labels, all_scores)])
    report = threshold_report(labels, all_scores, groups, threshold, rule, n_boot=n_boot, seed=seed)
    tuned = None
    if sweep:
        t, _ = best_threshold(labels, all_scores)
        tuned = processbench_metrics(labels, all_scores, t, n_boot=n_boot, seed=seed, tuned_on_test=True).to_dict()
    cross = crossfit_f1(labels, all_scores, groups, k=crossfit, n_boot=n_boot, seed=seed) if crossfit else None
    return {"data": str(data), "n": len(rows), "scorer": getattr(checked, "name", repr(checked)),
            "forward_tokens": int(getattr(checked, "forward_tokens", 0)),
            "report": report, "tuned": tuned, "crossfit": cross, "threshold_source": source,
            "threshold_rule": None if rule is None else rule.to_dict()}


def recorded_scores(records: str | Path, rows: Sequence[tuple], data: str | Path) -> list[list[float]]:
    """The step scores that `evaluate_processbench(records=...)` wrote, in the order of `rows`
    (from `iter_processbench` of the evaluated file `data`). `InputError` naming the records file for a
    record without id and step_scores (with its line) or a row without a record."""
    from verify.errors import InputError
    from verify.records.io import iter_jsonl

    scores = {}
    for line, rec in iter_jsonl(records):
        if "id" not in rec or not isinstance(rec.get("step_scores"), list):
            raise InputError("not a verify prm eval record (needs id and step_scores)", path=str(records), line=line)
        scores[rec["id"]] = rec["step_scores"]
    missing = [r[1] for r in rows if r[1] not in scores]
    if missing:
        raise InputError(f"no record for {len(missing)} of {len(rows)} samples of {data} (first: {missing[0]})",
                         path=str(records))
    return [scores[r[1]] for r in rows]


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
