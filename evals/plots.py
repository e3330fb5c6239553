"""PNG plots of evaluation results: accuracy against k per method, with 95% CI bands.

matplotlib is imported inside the function with the Agg backend, so importing this module
costs nothing and works without a display.
"""
from __future__ import annotations

import os

from verify.records.outputs import write_figure


def plot_accuracy_vs_k(curves: dict, out_path: str | os.PathLike, *, title: str = "") -> str:
    """Draw `curves` ({"method|group": [{k, accuracy, ci_low, ci_high}, ...]}) to a PNG.

    Small multiples, so that overlapping 95% CI bands stay readable: one panel per method with
    its line, markers and bootstrap CI band; the other methods' lines repeated thin and grey
    for comparison; a "reference" method (`single`) as a dotted line in every panel. The x axis
    is k on a log2 scale, padded so the end markers are not clipped. Groupings (equivalence,
    string) are line styles, named in one legend under the panels.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "c.png")
    >>> _ = plot_accuracy_vs_k({"majority|equivalence": [{"k": 1, "accuracy": .5, "ci_low": .4, "ci_high": .6},
    ...                          {"k": 4, "accuracy": .7, "ci_low": .6, "ci_high": .8}]}, p)
    >>> os.path.getsize(p) > 1000
    True
    """
    import matplotlib.pyplot as plt

    fig = draw_curves(curves, title=title)
    try:  # exactly out_path (savefig would append .png to "plotdir"); never replaces a device or link
        write_figure(fig, out_path)
    finally:
        plt.close(fig)
    return str(out_path)


def draw_curves(curves: dict, *, title: str = ""):
    """The matplotlib figure `plot_accuracy_vs_k` saves (see there); the caller closes it."""
    import math

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    groups = sorted({key.partition("|")[2] for key in curves}, key=lambda g: (g != "equivalence", g))
    styles = dict(zip(groups, ["-", "--", ":", "-."]))
    refs, lines = [], {}  # lines: family -> [(group, points)]
    for key, pts in curves.items():
        family, _, group = key.partition("|")
        pts = sorted(pts, key=lambda q: q["k"])
        method = _method(family)
        if method is not None and method.curve == "reference":
            refs.append((family, group, pts[0]["accuracy"]))
        else:
            lines.setdefault(family, []).append((group, pts))
    families = list(lines) or ["(no curves)"]
    ncols = min(len(families), 2 if len(families) <= 4 else 3)
    nrows = math.ceil(len(families) / ncols)
    width, height = (6.4, 3.8) if ncols == 1 else (4.2 * ncols, 3.2 * nrows)  # one method: one readable panel
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height + 0.45), dpi=120, squeeze=False,
                             sharex=True, sharey=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    markers = "osD^vP*X"
    max_k = max([q["k"] for series in lines.values() for _, pts in series for q in pts] + [2])
    for i, family in enumerate(families):
        ax = axes[i // ncols][i % ncols]
        for other, series in lines.items():  # the others, thin and grey, for comparison
            if other != family:
                for group, pts in series:
                    ax.plot([q["k"] for q in pts], [q["accuracy"] for q in pts], styles[group], color="0.75", lw=0.8)
        for fam, group, acc in refs:
            ax.axhline(acc, color="0.35", ls=":", lw=1)
        color, marker = colors[i % len(colors)], markers[i % len(markers)]
        for group, pts in lines.get(family, []):
            ks = [q["k"] for q in pts]
            ax.fill_between(ks, [q["ci_low"] for q in pts], [q["ci_high"] for q in pts], color=color,
                            alpha=0.12 if len(groups) > 1 else 0.2, linewidth=0)
            ax.plot(ks, [q["accuracy"] for q in pts], styles[group], color=color, marker=marker, ms=4, lw=1.6)
        method = _method(family)
        ax.set_title(method.display("k") if method is not None else family, fontsize=10, color=color)
        ax.grid(True, alpha=0.3)
    for j in range(len(families), nrows * ncols):  # empty cells of the grid
        axes[j // ncols][j % ncols].set_visible(False)
    ax0 = axes[0][0]
    ax0.set_xscale("log", base=2)
    ax0.set_xlim(2 ** -0.25, max_k * 2 ** 0.25)  # a quarter octave each side: no clipped end marker
    ax0.xaxis.set_major_locator(matplotlib.ticker.LogLocator(base=2))
    ax0.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:g}"))
    for ax in axes[-1]:
        ax.set_xlabel("k (samples per problem)")
    for row in axes:
        row[0].set_ylabel("accuracy")
    handles = [matplotlib.lines.Line2D([], [], color="0.2", ls=styles[g], label=f"{g} grouping") for g in groups
               if len(groups) > 1]
    handles += [matplotlib.patches.Patch(color="0.6", alpha=0.4, label="95% bootstrap CI over problems")]
    handles += [matplotlib.lines.Line2D([], [], color="0.35", ls=":", label=f"{fam} (k = 1)" +
                                        (f", {group}" if len(groups) > 1 else "")) for fam, group, _ in refs]
    handles += [matplotlib.lines.Line2D([], [], color="0.75", lw=0.8, label="the other methods")] if len(lines) > 1 else []
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4), fontsize=8, frameon=False)
    fig.suptitle(title or "accuracy against k", fontsize=11)
    fig.tight_layout(rect=(0, 0.32 / (height + 0.45), 1, 1))  # room for the legend
    return fig


def _method(family: str):
    """The registry entry of a curve's method, or None for one this install does not know."""
    from verify.errors import UnknownSpecError
    from verify.select.methods import get_method

    try:
        return get_method(family)
    except UnknownSpecError:
        return None
