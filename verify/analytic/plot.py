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
                  label: str = "binomial") -> Path:
    """maj@n against n (log axis) for each p; `values` has shape (len(ps), len(ns))."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, p in enumerate(ps):
        ax.plot(ns, 100 * np.asarray(values)[i], marker="o", label=f"p = {p:g}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(ns), [str(k) for k in ns])
    ax.set_xlabel("samples voted (n)")
    ax.set_ylabel("maj@n (%)")
    ax.set_title(f"Majority-vote accuracy ({label})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, out)


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
