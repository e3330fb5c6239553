"""Fitting the heterogeneity/plurality vote model (`verify.analytic.model`) to data, by maximum
likelihood, and checking it against published AIME 2024 results.

Two parameters are fitted, each by maximum likelihood from what is available:

- the Beta prior of per-problem accuracy p_i (mean and concentration phi):
  from per-problem sample counts, the beta-binomial likelihood
  prod_i BetaBinom(correct_i; seen_i, a, b) (`fit_beta`);
- the spread of wrong answers, as m equally likely wrong answers: from the partition of each
  problem's wrong samples into distinct answers (`fit_spread`); the probability of seeing
  d distinct wrong answers with counts n_1..n_d among w wrong samples is
  m!/(m-d)! * w!/prod n_j! * m^-w / (symmetry factor), so the m-dependent log-likelihood is
  sum_i [log m!/(m-d_i)! - w_i log m].

With only published (pass@1, cons@N) pairs (`fit_pairs`), each model's Beta mean is its
pass@1 and the shared (phi, m) maximise the binomial likelihood of the reported cons@N as
a fraction of `n_problems` problems: sum_j n_problems * [y_j log q_j + (1-y_j) log(1-q_j)].

`aime_table` evaluates that fit leave-one-model-out (the row predicted never takes part in
the fit) on the DeepSeek-R1 report's AIME 2024 table (arXiv:2501.12948, Table 2 and Table 5),
shipped as `data/aime24_r1_report.json`.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import gammaln
from scipy.stats import betabinom

from verify.analytic.model import heterogeneous_accuracy, majority_accuracy, sampling_se
from verify.errors import InputError
from verify.paths import data_path

REPORT_PATH = data_path("aime24_r1_report.json")
WRONG_GRID = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, math.inf)
_CONC_BOUNDS = (0.02, 1000.0)


def fit_beta(correct: Sequence[int], seen: Sequence[int]) -> tuple[float, float]:
    """Maximum-likelihood Beta(a, b) prior of per-problem accuracy from sample counts.

    >>> rng = np.random.default_rng(0); p = rng.beta(0.5, 0.5, 400)
    >>> a, b = fit_beta(rng.binomial(16, p), [16] * 400)
    >>> round(a + b, 1) < 2.0
    True
    """
    k = np.asarray(correct, dtype=float)
    n = np.asarray(seen, dtype=float)
    if k.shape != n.shape or k.size == 0 or np.any(k < 0) or np.any(k > n) or np.any(n < 1):
        raise ValueError("need matching, non-empty counts with 0 <= correct <= seen, seen >= 1")
    mean0 = float(np.clip(k.sum() / n.sum(), 0.01, 0.99))

    def nll(x):
        mu = 1.0 / (1.0 + math.exp(-x[0]))
        phi = math.exp(x[1])
        return -betabinom.logpmf(k, n, mu * phi, (1 - mu) * phi).sum()

    lo, hi = math.log(_CONC_BOUNDS[0]), math.log(_CONC_BOUNDS[1])
    starts = [(math.log(mean0 / (1 - mean0)), s) for s in (math.log(0.5), math.log(5.0), math.log(50.0))]
    best = min((minimize(nll, x0, method="L-BFGS-B", bounds=[(-9, 9), (lo, hi)]) for x0 in starts),
               key=lambda r: r.fun)
    mu = 1.0 / (1.0 + math.exp(-best.x[0]))
    phi = math.exp(best.x[1])
    return mu * phi, (1 - mu) * phi


def spread_loglik(wrong_counts: Sequence[Sequence[int]], m: float) -> float:
    """Log-likelihood (up to an m-free constant) of the wrong-answer partitions under m answers.

    `wrong_counts[i]` lists the vote counts of the distinct wrong answers of problem i.

    >>> spread_loglik([[1, 1], [2]], 2) > spread_loglik([[1, 1], [2]], 1)
    True
    """
    total = 0.0
    for counts in wrong_counts:
        d = sum(1 for x in counts if x > 0)
        w = sum(counts)
        if d == 0:
            continue
        if d > m:
            return -math.inf
        if math.isinf(m):
            if w > d:
                return -math.inf
            continue                      # all distinct: probability 1 in the limit
        total += float(gammaln(m + 1) - gammaln(m - d + 1)) - w * math.log(m)
    return total


def fit_spread(wrong_counts: Sequence[Sequence[int]], max_m: int = 4096) -> float:
    """Maximum-likelihood number of equally likely wrong answers (`math.inf`: all distinct).

    >>> fit_spread([[1, 1, 1], [1, 1], [1]])
    inf
    >>> fit_spread([[3, 2], [4, 1], [2, 2]])
    2
    """
    dmax = max((sum(1 for x in c if x > 0) for c in wrong_counts), default=0)
    if dmax == 0:
        return 1                          # no wrong samples: the spread cannot be told
    if spread_loglik(wrong_counts, math.inf) == 0.0:
        return math.inf
    ms = np.arange(max(dmax, 1), max_m + 1)
    ll = np.zeros(ms.size)
    for counts in wrong_counts:
        d = sum(1 for x in counts if x > 0)
        if d:
            ll += gammaln(ms + 1) - gammaln(ms - d + 1) - sum(counts) * np.log(ms)
    return int(ms[int(np.argmax(ll))])


@dataclass(frozen=True)
class PairFit:
    """Shared parameters fitted to (pass@1, cons@N) pairs: Beta concentration and wrong answers."""

    concentration: float
    wrong: float
    loglik: float


def _pairs_loglik(pass1: np.ndarray, cons: np.ndarray, n: int, n_problems: int, conc: float,
                  wrong: float) -> float:
    q = np.clip(heterogeneous_accuracy(pass1, conc, n, wrong=wrong), 1e-9, 1 - 1e-9)
    return float((n_problems * (cons * np.log(q) + (1 - cons) * np.log(1 - q))).sum())


def fit_pairs(pass1: Sequence[float], cons: Sequence[float], n: int, *, n_problems: int = 30,
              wrong_grid: Sequence[float] = WRONG_GRID) -> PairFit:
    """ML fit of the shared (concentration, wrong answers) from pass@1 and cons@n fractions.

    >>> f = fit_pairs([0.3, 0.5, 0.7], [0.5, 0.8, 0.87], 64)
    >>> f.concentration < 2 and f.wrong >= 8
    True
    """
    p1 = np.asarray(pass1, dtype=float)
    y = np.asarray(cons, dtype=float)
    if p1.shape != y.shape or p1.size == 0 or np.any((p1 < 0) | (p1 > 1)) or np.any((y < 0) | (y > 1)):
        raise ValueError("pass@1 and cons@n must be matching fractions in [0, 1]")
    lo, hi = math.log(_CONC_BOUNDS[0]), math.log(_CONC_BOUNDS[1])
    grid = np.linspace(lo, hi, 40)
    best = PairFit(math.inf, 1, -math.inf)
    for m in wrong_grid:
        lls = [_pairs_loglik(p1, y, n, n_problems, math.exp(x), m) for x in grid]
        i = int(np.argmax(lls))
        res = minimize_scalar(lambda x: -_pairs_loglik(p1, y, n, n_problems, math.exp(x), m),
                              bounds=(grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]),
                              method="bounded", options={"xatol": 1e-3})
        cand = PairFit(math.exp(res.x), m, -res.fun) if -res.fun > lls[i] else PairFit(math.exp(grid[i]), m, lls[i])
        if cand.loglik > best.loglik:
            best = cand
    return best


# --------------------------------------------------------------------------- the AIME check

@dataclass(frozen=True)
class ReportRow:
    """One published result: pass@1 and cons@n in percent, on `n_problems` problems."""

    model: str
    group: str
    pass1: float
    cons: float
    source: str


def load_report(path: str | Path = REPORT_PATH) -> tuple[dict, list[ReportRow]]:
    """Read a published-figures file (`data/aime24_r1_report.json` schema).

    Returns the header (benchmark, n_problems, n_samples, citations) and the rows.

    >>> doc, rows = load_report(); doc["n_problems"], rows[-1].model, rows[-1].cons
    (30, 'DeepSeek-R1-Zero', 86.7)
    """
    p = str(path)
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError("file not found", path=p) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc})", path=p, line=exc.lineno) from None
    for key, typ in (("n_problems", int), ("n_samples", int), ("rows", list)):
        if not isinstance(doc.get(key), typ):
            raise InputError(f"expected {typ.__name__}", path=p, field=key)
    rows = []
    for i, r in enumerate(doc["rows"]):
        where = f"rows[{i}]"
        for key in ("model", "pass@1", f"cons@{doc['n_samples']}"):
            if key not in r:
                raise InputError("missing required field", path=p, field=f"{where}.{key}")
        vals = (r["pass@1"], r[f"cons@{doc['n_samples']}"])
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 100 for v in vals):
            raise InputError("pass@1 and cons@N must be percentages in [0, 100]", path=p, field=where)
        rows.append(ReportRow(str(r["model"]), str(r.get("group", "")), float(vals[0]), float(vals[1]),
                              str(r.get("source", ""))))
    if len(rows) < 3:
        raise InputError("need at least 3 rows for a leave-one-out fit", path=p, field="rows")
    return doc, rows


def aime_table(rows: Sequence[ReportRow], n: int = 64, n_problems: int = 30,
               wrong_grid: Sequence[float] = WRONG_GRID) -> dict:
    """Predict each row's cons@n from its pass@1, fitting shared parameters leave-one-model-out.

    Predictors: `binomial` (every problem has p = pass@1, one wrong answer), `heterogeneity`
    (Beta p_i, one wrong answer), `plurality` (p = pass@1, m wrong answers) and `model`
    (Beta p_i and m wrong answers). Returns {"rows": [...], "mae": {...}, "fit_all": {...}}.

    >>> t = aime_table(load_report()[1][4:8])
    >>> round(t["mae"]["binomial"], 1), t["mae"]["model"] < t["mae"]["binomial"]
    (22.9, True)
    """
    p1 = np.array([r.pass1 for r in rows]) / 100
    y = np.array([r.cons for r in rows]) / 100
    out_rows = []
    for i, r in enumerate(rows):
        keep = np.arange(len(rows)) != i
        full = fit_pairs(p1[keep], y[keep], n, n_problems=n_problems, wrong_grid=wrong_grid)
        het = fit_pairs(p1[keep], y[keep], n, n_problems=n_problems, wrong_grid=(1,))
        plu = _fit_wrong_only(p1[keep], y[keep], n, n_problems, wrong_grid)
        pred = {
            "binomial": majority_accuracy(p1[i], n),
            "heterogeneity": heterogeneous_accuracy(p1[i], het.concentration, n, wrong=1),
            "plurality": heterogeneous_accuracy(p1[i], math.inf, n, wrong=plu),
            "model": heterogeneous_accuracy(p1[i], full.concentration, n, wrong=full.wrong),
        }
        se = sampling_se(y[i], n_problems)
        out_rows.append({
            "model": r.model, "group": r.group, "pass@1": r.pass1, f"cons@{n}": r.cons,
            "se": 100 * se,
            **{f"pred_{k}": 100 * v for k, v in pred.items()},
            **{f"err_{k}": 100 * (v - y[i]) for k, v in pred.items()},
            "within_noise": {k: bool(abs(v - y[i]) <= 1.96 * se) for k, v in pred.items()},
            "fit": {"concentration": full.concentration, "wrong": _jsonable(full.wrong),
                    "het_concentration": het.concentration, "plu_wrong": _jsonable(plu)},
        })
    preds = ("binomial", "heterogeneity", "plurality", "model")
    mae = {k: float(np.mean([abs(r[f"err_{k}"]) for r in out_rows])) for k in preds}
    groups = sorted({r["group"] for r in out_rows})
    mae_group = {g: {k: float(np.mean([abs(r[f"err_{k}"]) for r in out_rows if r["group"] == g]))
                     for k in preds} for g in groups}
    everything = fit_pairs(p1, y, n, n_problems=n_problems, wrong_grid=wrong_grid)
    return {"rows": out_rows, "mae": mae, "mae_by_group": mae_group,
            "fit_all": {"concentration": everything.concentration, "wrong": _jsonable(everything.wrong)},
            "n": n, "n_problems": n_problems}


def _fit_wrong_only(p1, y, n, n_problems, wrong_grid) -> float:
    lls = [_pairs_loglik(p1, y, n, n_problems, math.inf, m) for m in wrong_grid]
    return wrong_grid[int(np.argmax(lls))]


def _jsonable(m: float):
    return "inf" if math.isinf(m) else int(m)


def design_notes_check(notes: dict, fit_all: dict) -> list[dict]:
    """Compare illustrative maj@k figures ({"pass@1": 71, "maj@4": 82, ...}, percent) with the
    binomial and with the model fitted on the AIME rows (`aime_table(...)["fit_all"]`).

    >>> [round(d["binomial"], 1) for d in design_notes_check({"pass@1": 71, "maj@8": 87},
    ...                                                       {"concentration": 0.3, "wrong": "inf"})]
    [88.7]
    """
    p = float(notes["pass@1"]) / 100
    wrong = math.inf if fit_all["wrong"] == "inf" else fit_all["wrong"]
    out = []
    for key, val in notes.items():
        if not str(key).startswith("maj@"):
            continue
        k = int(str(key)[4:])
        out.append({"k": k, "stated": float(val), "binomial": 100 * majority_accuracy(p, k),
                    "model": 100 * heterogeneous_accuracy(p, fit_all["concentration"], k, wrong=wrong)})
    return out
