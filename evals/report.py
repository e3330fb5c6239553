"""`report.md` of an eval run: the table with 95% CIs and cost columns, what ran, and how
to read every column."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Sequence

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
              "(these figures), `curves.png` (accuracy against k); each evaluation's own copies stay "
              "under `results/`.", ""]
    return "\n".join(lines)


def history_name(methods: Sequence[str], when: float | None = None) -> str:
    """The folder name of one evaluation under `results/`: UTC time, then the methods.

    >>> history_name(["single", "majority@16"], when=0.0)
    '19700101T000000Z_single+majority@16'
    """
    import time

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if when is None else when))
    slug = "+".join(methods)[:120]
    return f"{stamp}_{slug}"


def write_run_outputs(res: Any, out_dir: Path, *, title: str, note: Callable[[str], None] = print) -> dict:
    """Write one evaluation of a run folder: `results/<time>_<methods>/` gets results.json,
    report.md and curves.png, and the folder's top-level copies are replaced by these (the
    latest evaluation). Earlier evaluations stay under `results/`. Returns `res.files`.
    """
    from evals.plots import plot_accuracy_vs_k
    from verify.records.io import write_json_atomic
    from verify.records.outputs import write_bytes_replacing

    hist = out_dir / "results" / history_name(res.config.get("methods", [r.method for r in res.results]))
    i = 1
    while hist.exists():  # two evaluations in the same second: keep both
        i += 1
        hist = hist.with_name(hist.name.split("~")[0] + f"~{i}")
    hist.mkdir(parents=True)
    files = res.files
    files.update({"history": str(hist), "results": str(out_dir / "results.json"),
                  "report": str(out_dir / "report.md"), "curves": str(out_dir / "curves.png")})
    try:
        plot_accuracy_vs_k(res.curves, hist / "curves.png", title=title)
        write_bytes_replacing(out_dir / "curves.png", (hist / "curves.png").read_bytes())
    except ImportError as exc:  # matplotlib is an extra
        files["curves"] = None
        note(f"no curves.png: {exc}")
    text = render_report(res).encode()
    for folder in (hist, out_dir):
        write_bytes_replacing(folder / "report.md", text)
    for folder in (hist, out_dir):  # results.json last: it names the files above
        write_json_atomic(folder / "results.json", res.to_dict())
    return files
