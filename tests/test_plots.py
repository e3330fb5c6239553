"""Plots people can read (issue 16.7): `eval --plot` panels keep CI bands apart, the legend sits
outside the data, the last k is not clipped and the title says k; `analyze binomial --plot`
draws a seeded simulation of the vote beside the formula, and the simulation agrees with it."""
import math

import matplotlib
import pytest
from typer.testing import CliRunner

from cli import app
from evals.plots import draw_curves
from verify.analytic.model import heterogeneous_accuracy, majority_accuracy
from verify.analytic.plot import simulate_majority

matplotlib.use("Agg")


def _curves(families=("pass", "majority", "weighted-vote", "best-of"), ks=(1, 2, 4, 8)):
    out = {"single|equivalence": [{"k": 1, "accuracy": 0.91, "ci_low": 0.86, "ci_high": 0.96}]}
    for i, f in enumerate(families):
        out[f"{f}|equivalence"] = [{"k": k, "accuracy": 0.91 + 0.01 * i * math.log2(k), "ci_low": 0.86,
                                    "ci_high": 0.99} for k in ks]
    return out


def test_eval_plot_one_panel_per_method_legend_outside_k_not_clipped():
    import matplotlib.pyplot as plt

    fig = draw_curves(_curves(), title="demo: accuracy against k")
    try:
        axes = [ax for ax in fig.axes if ax.get_visible()]
        assert [ax.get_title() for ax in axes] == ["pass@k", "majority@k", "weighted-vote@k", "best-of-k"]
        for ax in axes:
            assert ax.get_legend() is None                    # no legend over the data
            lo, hi = ax.get_xlim()
            assert lo < 1 and hi > 8                           # the k = 8 marker is inside the axes
            bands = ax.collections
            assert len(bands) == 1 and bands[0].get_alpha() <= 0.2   # one light band per panel
        assert len(fig.legends) == 1
        assert fig._suptitle.get_text() == "demo: accuracy against k"
        assert axes[-1].get_xlabel() == "k (samples per problem)"
    finally:
        plt.close(fig)


def test_eval_plot_unknown_method_and_groupings_are_drawn():
    import matplotlib.pyplot as plt

    curves = {"mystery|equivalence": [{"k": 1, "accuracy": .5, "ci_low": .4, "ci_high": .6},
                                      {"k": 2, "accuracy": .6, "ci_low": .5, "ci_high": .7}],
              "majority|string": [{"k": 1, "accuracy": .5, "ci_low": .4, "ci_high": .6}]}
    fig = draw_curves(curves)
    try:
        assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["mystery", "majority@k"]
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert labels[:2] == ["equivalence grouping", "string grouping"]
        assert fig._suptitle.get_text() == "accuracy against k"
    finally:
        plt.close(fig)


@pytest.mark.parametrize("p,n,wrong,concentration,ties", [
    (0.71, 8, 1, math.inf, "random"),
    (0.6, 4, 1, math.inf, "strict"),
    (0.6, 4, 1, math.inf, "at-least-half"),
    (0.4, 9, math.inf, math.inf, "random"),
    (0.4, 8, 3, math.inf, "random"),
    (0.71, 8, math.inf, 2.0, "random"),
])
def test_simulated_vote_agrees_with_the_formula(p, n, wrong, concentration, ties):
    """The real aggregator (majority_vote), seeded, against the analytic formula: inside the 95% CI."""
    if wrong == 1 and math.isinf(concentration):
        expected = float(majority_accuracy([[p]], [n], ties)[0][0])
    else:
        expected = float(heterogeneous_accuracy(p, concentration, n, wrong=wrong, ties=ties))
    r = simulate_majority(p, n, ties=ties, wrong=wrong, concentration=concentration, trials=3000, seed=1)
    assert r["ci_low"] <= expected <= r["ci_high"], (r, expected)


def test_analyze_binomial_plot_draws_the_simulation(tmp_path, monkeypatch):
    import verify.analytic.plot as plot_mod

    drawn = {}
    real = plot_mod.simulate_majority

    def spy(p, n, **kw):
        drawn.setdefault(p, []).append(n)
        return real(p, n, **kw)

    monkeypatch.setattr(plot_mod, "simulate_majority", spy)
    out = tmp_path / "b.png"
    r = CliRunner().invoke(app, ["analyze", "binomial", "--p", "0.6,0.71", "--n", "1,4,8", "--plot", str(out)])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[-1] == f"wrote {out}"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert drawn == {0.6: [1, 4, 8], 0.71: [1, 4, 8]}
