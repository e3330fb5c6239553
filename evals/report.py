"""`report.md` of an eval run: the table with 95% CIs and cost columns, what ran, and how
to read every column."""
from __future__ import annotations

import json
from typing import Any, Sequence

from evals.table import format_table

COLUMNS = """\
Columns:
- **method**: the selection method and its k (samples per problem it uses); `single` is the
  one-sample reference.
- **accuracy**: mean over problems of the method's expected correctness; for k < n it is the
  exact mean over all k-subsets of the n samples (not the first k), ties split evenly.
- **95% CI**: percentile bootstrap over problems.
- **correct/problems**: expected number of problems solved, out of the sample size.
- **gen tok/problem**: generated tokens charged to the method (k samples' worth).
- **PRM tok/problem**: PRM forward tokens charged (only methods that read step scores).
- **cost x**: generated tokens relative to one sample.
- **cost/problem**, **cost/correct**: from `--price-in/--price-out/--prm-price` (per million
  tokens); `-` when no prices were given.
- **frontier**: `*` on the accuracy-versus-cost Pareto frontier; `<` the cheapest method whose
  accuracy lies within the 95% CI of the most accurate one.
"""


def _money(x: Any) -> str:
    if x is None:
        return "-"
    if x == float("inf"):
        return "inf"
    return f"{x:.6f}"


def table(methods: Sequence[Any]) -> str:
    """The results table with cost columns as fixed-width text (rows: `MethodResult`s)."""
    headers = ["method", "accuracy", "95% CI", "correct/problems", "gen tok/problem", "PRM tok/problem",
               "cost x", "cost/problem", "cost/correct", "frontier"]
    rows = []
    for m in methods:
        mark = ("*" if m.pareto else "") + ("<" if m.cheapest_within_ci_of_best else "")
        rows.append([m.method, f"{m.accuracy:.3f}", f"[{m.ci_low:.3f}, {m.ci_high:.3f}]",
                     f"{m.correct:.1f}/{m.n_problems}", f"{m.gen_tokens_per_problem:.0f}",
                     f"{m.prm_tokens_per_problem:.0f}", f"{m.cost_multiplier:.2f}",
                     _money(m.cost_per_problem), _money(m.cost_per_correct), mark or "-"])
    return format_table(headers, rows, align="lrrrrrrrrl")


def render_report(res: Any) -> str:
    """Markdown text of report.md for a run's `EvalResults`."""
    run = res.run
    cfg = res.config
    lines = ["# verify eval report", ""]
    if run.get("demo"):
        lines += [f"> {run['demo_note']}", ""]
    lines += [f"Dataset `{cfg['dataset']}` ({res.results[0].n_problems if res.results else 0} problems), "
              f"model `{cfg['model']}` via `{cfg['backend']}`, PRM `{cfg['prm']}`, n = {cfg['n']} samples "
              f"per problem, T = {cfg['temperature']}, top-p = {cfg['top_p']}, max tokens = {cfg['max_tokens']}, "
              f"seed = {cfg['seed']}, step-score reduction `{cfg['reduce']}`.", "",
              "```", table(res.results), "```", "", COLUMNS]
    st = res.grading.get("equivalence")
    if st:
        lines += [f"Grading: {st['n_samples']} samples; {st['no_answer']} without an extractable answer; "
                  f"{st['unfinished']} cut at max tokens; {st['undecided_gold']} answer classes undecided "
                  "against gold (counted wrong).", ""]
    lines += ["Stages (this invocation): `" + json.dumps(run["stages"]) + "`", "",
              f"Command: `{run.get('command') or '(Python API)'}`", "",
              "Versions: " + ", ".join(f"{k} {v}" for k, v in run["versions"].items()), "",
              "Files: `samples.jsonl` (traces), `scored.jsonl` (with step scores), `results.json` "
              "(these figures), `curves.png` (accuracy against N).", ""]
    return "\n".join(lines)
