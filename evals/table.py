"""Plain-text tables of evaluation results (fixed-width, no dependencies), for the terminal
and the README.
"""
from __future__ import annotations

from typing import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, align: str | None = None) -> str:
    """Fixed-width table; `align` has one char per column, `l` or `r` (default: first left).

    >>> print(format_table(["a", "bb"], [["x", "1"], ["yy", "22"]]))
    a   bb
    --  --
    x    1
    yy  22
    """
    align = align or "l" + "r" * (len(headers) - 1)
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        out = [str(c).ljust(w) if a == "l" else str(c).rjust(w) for c, w, a in zip(cells, widths, align)]
        return "  ".join(out).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def results_table(results: Sequence, *, show_group: bool | None = None) -> str:
    """The `verify eval` table: method, accuracy, 95% CI, problems, samples per problem, cost.

    `results` are `evals.evaluate.MethodResult`s (or dicts with the same fields).
    """
    rs = [r if isinstance(r, dict) else r.to_dict() for r in results]
    if show_group is None:
        show_group = len({r["group"] for r in rs}) > 1
    headers = ["method"] + (["group"] if show_group else []) + [
        "accuracy", "95% CI", "correct", "problems", "samples/problem", "cost x", "estimator"]
    rows = []
    for r in rs:
        est = r["estimator"]
        if r.get("mc_se"):
            est += f" (se {r['mc_se']:.4f})"
        correct = f"{r['correct']:.1f}" if abs(r["correct"] - round(r["correct"])) > 1e-9 else f"{round(r['correct'])}"
        rows.append([r["method"]] + ([r["group"]] if show_group else []) + [
            f"{r['accuracy']:.4f}", f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]",
            f"{correct}/{r['n_problems']}", str(r["n_problems"]), str(r["n_samples"]),
            f"{r['cost_multiplier']:.2f}", est])
    return format_table(headers, rows, align="l" + ("l" if show_group else "") + "rrrrrrl")


def pareto_lines(results: Sequence) -> list[str]:
    """`--pareto`: the accuracy-versus-cost frontier and the cheapest row within the CI of the best."""
    out = [f"frontier (accuracy vs cost): {', '.join(r.method for r in results if r.pareto)}"]
    pick = [r.method for r in results if r.cheapest_within_ci_of_best]
    if pick:
        out.append(f"cheapest within the 95% CI of the best: {pick[0]}")
    return out


def notes_lines(report) -> list[str]:
    """Footnotes under the table: ties, undecided verdicts, abstentions (nothing hidden)."""
    out = []
    for group, st in report.grading.items():
        parts = [f"{st['n_samples']} samples over {st['n_problems']} problems"]
        if st["no_answer"]:
            parts.append(f"{st['no_answer']} without an answer")
        if st["unfinished"]:
            verb = "dropped" if st["dropped_unfinished"] else "abstaining"
            parts.append(f"{st['unfinished']} unfinished ({verb})")
        if group == "equivalence":
            parts.append(f"{st['comparisons']} answer comparisons, {st['undecided_pairs']} undecided (not merged)")
        parts.append(f"{st['undecided_gold']} answer classes undecided vs gold (counted wrong)")
        out.append(f"[{group}] " + "; ".join(parts))
    if any(r.subsets == "exact" and r.spec.method.splits_ties for r in report.results):
        out.append("exact: mean over all k-subsets; tied votes and tied top scores count as split evenly "
                   "(the expected accuracy under random tie-breaking)")
    for r in report.results:
        if r.accuracy_random_ties is not None and r.ties:
            out.append(f"{r.method} [{r.group}]: tie rule decided {r.ties} problem(s); "
                       f"expected accuracy under random tie-breaking {r.accuracy_random_ties:.4f}")
    return out
