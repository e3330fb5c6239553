"""PNG plots of evaluation results: accuracy against k per method, with 95% CI bands.

matplotlib is imported inside the function with the Agg backend, so importing this module
costs nothing and works without a display.
"""
from __future__ import annotations

import os

from verify.records.outputs import write_figure


def plot_accuracy_vs_k(curves: dict, out_path: str | os.PathLike, *, title: str = "") -> str:
    """Draw `curves` ({"family|group": [{k, accuracy, ci_low, ci_high}, ...]}) to a PNG.

    The x axis is k on a log2 scale; each method is a line with its bootstrap CI band.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "c.png")
    >>> _ = plot_accuracy_vs_k({"majority|equivalence": [{"k": 1, "accuracy": .5, "ci_low": .4, "ci_high": .6},
    ...                          {"k": 4, "accuracy": .7, "ci_low": .6, "ci_high": .8}]}, p)
    >>> os.path.getsize(p) > 1000
    True
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    from verify.errors import UnknownSpecError
    from verify.select.methods import get_method

    groups = {key.split("|")[1] for key in curves if "|" in key}
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    max_k = 2
    for key, pts in curves.items():
        family, _, group = key.partition("|")
        pts = sorted(pts, key=lambda p: p["k"])
        try:
            method = get_method(family)
        except UnknownSpecError:  # a curve from a method this install does not know: draw it plainly
            method = None
        if method is not None and method.curve == "reference":  # one point at k = 1: a reference line
            ax.axhline(pts[0]["accuracy"], color="grey", ls=":", lw=1, label=f"{family} (k = 1)")
            continue
        ks = [p["k"] for p in pts]
        max_k = max(max_k, max(ks))
        name = method.display("k") if method is not None else family
        label = name if len(groups) <= 1 else f"{name} ({group})"
        style = "--" if group == "string" and len(groups) > 1 else "-"
        line, = ax.plot(ks, [p["accuracy"] for p in pts], style, marker="o", ms=3, label=label)
        ax.fill_between(ks, [p["ci_low"] for p in pts], [p["ci_high"] for p in pts],
                        color=line.get_color(), alpha=0.15, linewidth=0)
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:g}"))
    ax.set_xlim(1, max_k)
    ax.set_xlabel("k (samples per problem)")
    ax.set_ylabel("accuracy (95% bootstrap CI over problems)")
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    try:  # exactly out_path (savefig would append .png to "plotdir"); never replaces a device or link
        write_figure(fig, out_path)
    finally:
        plt.close(fig)
    return str(out_path)
