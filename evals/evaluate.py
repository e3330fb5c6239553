"""Evaluate selection methods on recorded samples: the library side of `verify eval --samples`.

Pipeline: read samples (`evals.importers`) -> answer classes and verdicts per problem
(`verify.select.grading`) -> per-problem expected accuracy of each method at each k
(`verify.select.estimators`, exact over all k-subsets; or the aggregator on the first k samples
with `subsets="first"`) -> mean over problems with a seeded 95% percentile-bootstrap CI.

Cost multiplier: generated tokens charged to the method relative to one sample. With
`subsets="exact"` a random k-subset costs k times the mean sample, so it is k; with
`subsets="first"` it is (tokens of the first k samples) / (mean tokens per sample), averaged
over problems (k when token counts are unknown).
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from evals.cost import Prices, add_costs
from evals.results import EvalResults, MethodResult
from verify.errors import InputError
from verify.progress import StageBar
from verify.select.aggregate import REDUCTIONS, TIE_RULES
from verify.select.estimators import bootstrap_ci
from verify.select.grading import GRADINGS, GROUPINGS, GradedProblem, grade_traces
from verify.select.methods import MethodSpec, parse_method, score_first_k, scores_for
from verify.records.types import Trace

SUBSETS = ("exact", "first")


EvalReport = EvalResults  # the name `evaluate_samples` returned before run mode and --samples shared one type


def problem_values(gp: GradedProblem, spec: MethodSpec, ks: Sequence[int], *, subsets: str = "exact",
                   tie: str = "first", mc_trials: int = 2000, max_enum: int = 20_000,
                   rng: np.random.Generator | None = None) -> dict:
    """Per-problem expected correctness of `spec` at each k: arrays `value`, `var` (MC
    variance, 0 when exact), `random_ties`, `tied` and `estimator` (a name per k).

    `subsets="exact"` asks the method's exact estimator, `"first"` its first-k scoring
    (`verify.select.methods`).

    >>> gp = GradedProblem("p", "4", np.array([0, 1, 0]), np.array([True, False]), ("4", "5"),
    ...                    np.full(3, np.nan), np.full(3, np.nan), np.zeros(3, int))
    >>> problem_values(gp, parse_method("maj@2"), [1, 2, 3])["value"].round(4).tolist()
    [0.6667, 0.6667, 1.0]
    """
    ks = np.asarray(ks, dtype=np.int64)
    scores = scores_for(spec, gp)
    rt = np.full(len(ks), np.nan)
    tied = np.zeros(len(ks), dtype=bool)
    if subsets == "exact":
        e = spec.method.exact(gp, scores, ks, max_enum=max_enum, trials=mc_trials, rng=rng)
        return {"value": np.asarray(e.value, dtype=float), "var": np.asarray(e.var, dtype=float),
                "random_ties": rt, "tied": tied, "estimator": list(e.estimator)}
    value = np.zeros(len(ks))
    for i, k in enumerate(ks):
        f = score_first_k(spec, gp, scores, int(k), tie=tie, rng=rng)
        value[i], tied[i] = f.value, f.tied
        rt[i] = np.nan if f.random_ties is None else f.random_ties
    return {"value": value, "var": np.zeros(len(ks)), "random_ties": rt, "tied": tied,
            "estimator": ["first-k"] * len(ks)}


def _cost(problems: list[GradedProblem], k: int, subsets: str) -> float:
    tok = [gp.num_tokens for gp in problems]
    if subsets == "exact" or any((t <= 0).any() for t in tok):
        return float(k)
    return float(np.mean([t[:k].sum() for t in tok]) / np.mean([t.mean() for t in tok]))


def _k_grid(n: int) -> list[int]:
    if n <= 32:
        return list(range(1, n + 1))
    grid = sorted({1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512} | {n})
    return [k for k in grid if k <= n]


def evaluate_samples(samples: Sequence[Trace], methods: Sequence[str | MethodSpec], *, reduce: str = "prod",
                     subsets: str = "exact", groups: Sequence[str] = ("equivalence",), grade: str = "checker",
                     tie: str = "first", drop_unfinished: bool = False, seed: int = 0, n_boot: int = 2000,
                     mc_trials: int = 2000, curves: bool = False, prices: Prices = Prices(),
                     progress: Callable[[str, bool], None] | None = None, bar: bool = False) -> EvalResults:
    """Accuracy with 95% CI of each method on recorded samples (see module docstring), with
    cost columns (`evals.cost.add_costs`: tokens, money at `prices`, the frontier). `bar`: show
    the grading stage's progress bar (verify.progress.StageBar) on stderr.

    >>> ts = [Trace("p1", i, answer=a, gold="4", score=s) for i, (a, s) in enumerate([("4", .2), ("5", .9), ("4", .5)])]
    >>> r = evaluate_samples(ts, ["maj@3", "best-of-3", "pass@1"], groups=["string"]).results
    >>> [(x.method, round(x.accuracy, 3), x.k) for x in r]
    [('majority@3', 1.0, 3), ('best-of-3', 0.0, 3), ('pass@1', 0.667, 1)]
    """
    for name, value, known in (("subsets", subsets, SUBSETS), ("reduce", reduce, REDUCTIONS),
                               ("tie", tie, TIE_RULES), ("grade", grade, GRADINGS)):
        if value not in known:
            raise ValueError(f"unknown {name} {value!r}; known: {', '.join(known)}")
    for g in groups:
        if g not in GROUPINGS:
            raise ValueError(f"unknown group {g!r}; known: {', '.join(GROUPINGS)}")
    specs = [parse_method(m) for m in methods]  # parsed once here (a MethodSpec passes through)
    if not specs:
        raise ValueError("give at least one method, e.g. majority@8")
    rng = np.random.default_rng(seed)
    report = EvalResults([], {}, {}, {"reduce": reduce, "subsets": subsets, "grade": grade, "tie": tie,
                                     "drop_unfinished": drop_unfinished, "seed": seed, "n_boot": n_boot,
                                     "mc_trials": mc_trials, "methods": [s.spec for s in specs]})
    for group in groups:
        bars: dict[str, StageBar] = {}

        def prog(done: int, total: int, _g=group) -> None:
            if bar:
                b = bars.setdefault(_g, StageBar(f"grading ({_g})", total, unit="problems"))
                b.update(done - b.done)
            if progress is not None and (done == total or done % 10 == 0):
                progress(f"grading ({_g}) {done}/{total} problems", done == total)
        problems, stats = grade_traces(samples, group=group, grade=grade, reduce=reduce,
                                       drop_unfinished=drop_unfinished, progress=prog)
        for b in bars.values():
            b.close()
        report.grading[group] = stats.to_dict()
        if not problems:
            raise InputError("no problems with samples left to evaluate")
        n_min = min(gp.n for gp in problems)
        done: set[str] = set()  # maj@8, majority@8 and maj@n (n = 8) are one method: report it once
        for spec in specs:
            _check_spec(spec, problems, n_min)
            k = n_min if spec.k is None else spec.k
            if spec.with_k(k).spec in done:
                continue
            done.add(spec.with_k(k).spec)
            ks = [k]
            if curves:
                ks = sorted(set(_k_grid(n_min)) | {k}) if spec.method.curve == "curve" else [1]
            per = [problem_values(gp, spec, ks, subsets=subsets, tie=tie, mc_trials=mc_trials, rng=rng)
                   for gp in problems]
            if progress is not None:
                progress(f"{spec.with_k(k).spec} ({group}) done", False)
            vals = np.stack([p["value"] for p in per])          # (problems, len(ks))
            var = np.stack([p["var"] for p in per])
            for col, kk in enumerate(ks):
                lo, hi = bootstrap_ci(vals[:, col], n_boot=n_boot, seed=seed)
                acc = float(vals[:, col].mean())
                point = {"k": int(kk), "accuracy": acc, "ci_low": lo, "ci_high": hi,
                         "mc_se": float(math.sqrt(var[:, col].sum()) / len(problems))}
                curve = report.curves.setdefault(f"{spec.name}|{group}", []) if curves else None
                if curve is not None and all(q["k"] != kk for q in curve):  # maj@4 and maj@8 share one curve
                    curve.append(point)
                    curve.sort(key=lambda q: q["k"])
                if kk != k:
                    continue
                rt = np.stack([p["random_ties"] for p in per])[:, col]
                ests = {p["estimator"][col] for p in per}
                est = "monte-carlo" if "monte-carlo" in ests else sorted(ests)[0]
                report.results.append(MethodResult(
                    method=spec.with_k(k).spec, accuracy=acc, ci_low=lo, ci_high=hi,
                    n_problems=len(problems), k=int(k), cost_multiplier=_cost(problems, int(k), subsets),
                    n_samples=n_min, group=group, grade=grade, subsets=subsets, estimator=est,
                    mc_se=point["mc_se"], correct=float(vals[:, col].sum()),
                    accuracy_random_ties=None if np.isnan(rt).all() else float(rt.mean()),
                    ties=int(np.stack([p["tied"] for p in per])[:, col].sum())))
                spec_k = spec.with_k(k).spec
                for gp, p in zip(problems, per):
                    report.per_problem.append({
                        "problem_id": gp.problem_id, "method": spec_k, "group": group, "k": int(k),
                        "value": float(p["value"][col]), "n": gp.n, "gold": gp.gold,
                        "n_classes": len(gp.class_answers), "votes": gp.counts.tolist(),
                        "class_correct": gp.class_correct.tolist(), "answers": list(gp.class_answers)})
    add_costs(report.results, samples, prices)
    return report


def _check_spec(spec: MethodSpec, problems: list[GradedProblem], n_min: int) -> None:
    if spec.k is not None and spec.k > n_min:
        worst = min(problems, key=lambda gp: gp.n)
        raise InputError(f"method {spec.spec} needs k={spec.k} samples per problem, but problem "
                         f"{worst.problem_id!r} has only {worst.n}; use k <= {n_min}")
    if spec.method.reads != "none":
        field_ = {"outcome": "score", "confidence": "confidence (token logprobs)"}.get(spec.method.reads,
                                                                                  "step_scores or score")
        if all(np.isnan(scores_for(spec, gp)).all() for gp in problems):
            raise InputError(f"method {spec.spec} needs scores, but no sample has {field_}", field=field_)
