"""`verify eval` run mode: options -> `evals.runner.run_eval` -> table and file list."""
from __future__ import annotations

import shlex
import sys
from typing import Any

import typer

from verify.errors import VerifyError


def run_mode(options: dict[str, Any], *, prices: tuple, pareto: bool, outputs: dict | None = None) -> None:
    """Run, print the table, write the extra outputs asked for (`--json`, `--plot`, `--per-problem`)."""
    from evals.cost import Prices
    from evals.report import table
    from evals.table import pareto_lines
    from evals.runner import RunConfig, run_eval

    cfg = RunConfig(**options, prices=Prices(*prices), command="verify " + shlex.join(sys.argv[1:]))
    try:
        res = run_eval(cfg)
    except (VerifyError, ValueError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    if res.run.get("prm_note"):  # the main job says which PRM it used, and why, first
        typer.echo(res.run["prm_note"])
    if res.run["demo"]:
        typer.echo(res.run["demo_note"])
    typer.echo(table(res.results))
    st = res.grading.get("equivalence", {})
    if st:
        typer.echo(f"{st['n_samples']} samples over {st['n_problems']} problems; {st['no_answer']} without an "
                   f"answer; {st['unfinished']} cut at max tokens; accuracies are exact expectations with "
                   "95% bootstrap CIs over problems")
    if pareto:
        for line in pareto_lines(res.results):
            typer.echo(line)
    for name in ("samples", "scored", "results", "report", "curves", "history"):
        if res.files.get(name):
            typer.echo(f"{name}: {res.files[name]}")
    try:
        for line in write_extra_outputs(res, outputs or {}, title=f"{res.config.get('dataset', '')}: accuracy against k"):
            typer.echo(line)
    except VerifyError as exc:  # an output path that cannot be written
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)


def write_extra_outputs(res: Any, outputs: dict, *, title: str) -> list[str]:
    """`--json` (results.json's content), `--plot` (the curves), `--per-problem` (JSONL); one
    line naming each file written."""
    from verify.records.io import write_json_atomic, write_jsonl_atomic

    lines = []
    if outputs.get("per_problem") is not None:
        write_jsonl_atomic(outputs["per_problem"], res.per_problem)
        lines.append(f"per-problem: {outputs['per_problem']}")
    if outputs.get("json") is not None:
        write_json_atomic(outputs["json"], res.to_dict())
        lines.append(f"json: {outputs['json']}")
    if outputs.get("plot") is not None:
        from evals.plots import plot_accuracy_vs_k
        plot_accuracy_vs_k(res.curves, outputs["plot"], title=title)
        lines.append(f"plot: {outputs['plot']}")
    return lines
