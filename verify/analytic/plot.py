"""PNG plots for `verify analyze`: predicted vs empirical majority-vote accuracy.

matplotlib is imported inside each function (optional dependency `ttc-verify[plot]`).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np

from verify.analytic.model import heterogeneous_accuracy, majority_accuracy


def _pyplot():
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - depends on the install
        raise RuntimeError("plotting needs matplotlib: pip install 'ttc-verify[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, out: str | Path) -> Path:
    from verify.records.outputs import write_figure
    fig.tight_layout()
    write_figure(fig, out, dpi=120, metadata={"Software": None})  # exactly `out`; never replaces a device
    return Path(out)


def plot_aime(table: dict, out: str | Path) -> Path:
    """Reported cons@n against pass@1, with the binomial curve and the fitted model's curve."""
    plt = _pyplot()
    n = table["n"]
    rows = table["rows"]
    fit = table["fit_all"]
    wrong = math.inf if fit["wrong"] == "inf" else fit["wrong"]
    p = np.linspace(0.001, 0.999, 300)
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.plot(100 * p, 100 * p, color="0.7", lw=1, ls=":", label="single sample (maj@1 = pass@1)")
    ax.plot(100 * p, 100 * majority_accuracy(p, n), color="tab:red", lw=1.5,
            label=f"binomial majority, every problem at p = pass@1")
    spread = "all distinct" if math.isinf(wrong) else f"{wrong} wrong answers"
    ax.plot(100 * p, 100 * heterogeneous_accuracy(p, fit["concentration"], n, wrong=wrong),
            color="tab:blue", lw=1.5,
            label=f"model fitted on all rows: Beta phi={fit['concentration']:.2f}, {spread}")
    x = np.array([r["pass@1"] for r in rows])
    y = np.array([r[f"cons@{n}"] for r in rows])
    ax.errorbar(x, y, yerr=1.96 * np.array([r["se"] for r in rows]), fmt="o", color="black", ms=4,
                capsize=2, lw=0.8, label=f"reported cons@{n} (±95% noise of {table['n_problems']} problems)")
    ax.scatter(x, [r["pred_model"] for r in rows], marker="x", color="tab:blue", zorder=3,
               label="model, leave-one-model-out prediction")
    ax.set_xlabel("pass@1 (%)")
    ax.set_ylabel(f"cons@{n} (%)")
    ax.set_xlim(0, 100)
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    ax.set_title(f"AIME 2024: majority of {n} vs pass@1 (DeepSeek-R1 report)")
    ax.legend(fontsize=7.5, loc="lower right")
    return _save(fig, out)


def plot_binomial(ps: Sequence[float], ns: Sequence[int], values: np.ndarray, out: str | Path,
                  label: str = "binomial", *, binomial: np.ndarray | None = None, ties: str = "random",
                  wrong: float = 1, concentration: float = math.inf, trials: int = 2000, seed: int = 0) -> Path:
    """maj@n against n (log axis) for each p: the formula's curve (`values`, shape (len(ps),
    len(ns)); `label` names it), the plain binomial curve beside a model's (`binomial`), and
    the points of a seeded simulation of the real vote (`simulate_majority`: `trials` problems
    per point, with 95% Wilson intervals), so the formula is checked on the picture itself."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, p in enumerate(ps):
        c = colors[i % len(colors)]
        ax.plot(ns, 100 * np.asarray(values)[i], color=c, lw=1.6, label=f"p = {p:g}: {label} formula")
        if binomial is not None:
            ax.plot(ns, 100 * np.asarray(binomial)[i], color=c, lw=1, ls="--", label=f"p = {p:g}: plain binomial")
        sim = [simulate_majority(p, k, ties=ties, wrong=wrong, concentration=concentration, trials=trials,
                                 seed=seed + 7919 * i + k) for k in ns]
        lo = np.array([100 * s["ci_low"] for s in sim])
        hi = np.array([100 * s["ci_high"] for s in sim])
        mid = np.array([100 * s["accuracy"] for s in sim])
        ax.errorbar(ns, mid, yerr=[mid - lo, hi - mid], fmt="o", color=c, mfc="white", ms=5, capsize=3, lw=1,
                    label=f"p = {p:g}: simulated vote ({trials} problems, 95% CI)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(ns), [str(k) for k in ns])
    ax.set_xlim(min(ns) * 2 ** -0.3, max(ns) * 2 ** 0.3)  # no clipped end marker
    ax.set_xlabel("n (samples voted)")
    ax.set_ylabel("maj@n (%)")
    ax.set_title(f"Majority-vote accuracy against n ({label}, ties {ties})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="best")
    return _save(fig, out)


def simulate_majority(p: float, n: int, *, ties: str = "random", wrong: float = 1,
                      concentration: float = math.inf, trials: int = 2000, seed: int = 0) -> dict:
    """maj@n measured by voting: `trials` seeded problems, each with n sampled answers voted by
    `verify.select.aggregate.majority_vote`. A problem's accuracy is p (or drawn from
    Beta(p·c, (1-p)·c) for a finite concentration c); a wrong answer is one of `wrong` equally
    likely wrong answers (inf: all distinct). A tie that includes the right answer counts 1/m
    among m tied answers (`random`), 0 (`strict`) or 1 (`at-least-half`).

    >>> r = simulate_majority(0.7, 8)            # the binomial formula gives 0.874
    >>> r["trials"], r["accuracy"], r["ci_low"] < 0.874 < r["ci_high"]
    (2000, 0.877, True)
    """
    from verify.intervals import wilson
    from verify.select.aggregate import majority_vote

    rng = np.random.default_rng(seed)
    if math.isinf(concentration):
        pt = np.full(trials, float(p))
    else:
        pt = rng.beta(p * concentration, (1 - p) * concentration, size=trials)
    right = rng.random((trials, n)) < pt[:, None]                  # (trials, n)
    if math.isinf(wrong):
        labels = np.where(right, 0, 1 + np.arange(n)[None, :])      # every wrong answer distinct
    else:
        labels = np.where(right, 0, 1 + rng.integers(0, int(wrong), size=(trials, n)))
    score = 0.0
    for row in labels.tolist():
        v = majority_vote(row)
        if 0 in v.tied:
            share = 1.0 / len(v.tied) if ties == "random" else (0.0 if ties == "strict" else 1.0)
            share = 1.0 if len(v.tied) == 1 else share
            score += share
    lo, hi = wilson(int(round(score)), trials)
    return {"p": p, "n": n, "trials": trials, "accuracy": score / trials, "ci_low": lo, "ci_high": hi}


def plot_samples(result: dict, out: str | Path) -> Path:
    """Predicted (model from the first fit_k samples, pooled binomial) vs measured maj@k."""
    plt = _pyplot()
    curve = result["curve"]
    ks = [r["k"] for r in curve]
    fig, ax = plt.subplots(figsize=(6, 4))
    meas = [(r["k"], 100 * r["measured"], 100 * r["ci_low"], 100 * r["ci_high"])
            for r in curve if r["measured"] is not None]
    if meas:
        k, m, lo, hi = map(np.array, zip(*meas))
        ax.errorbar(k, m, yerr=[m - lo, hi - m], fmt="o", color="black", capsize=2,
                    label=f"measured (all samples, {result['n_problems']} problems, 95% CI)")
    ax.plot(ks, [100 * r["predicted"] for r in curve], color="tab:blue", marker="x",
            label=f"model fitted on first {result['fit']['fit_k']} samples")
    ax.plot(ks, [100 * r["binomial"] for r in curve], color="tab:red", ls="--", label="pooled binomial")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xlabel("k (samples voted)")
    ax.set_ylabel("maj@k (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, out)
