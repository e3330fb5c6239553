"""`verify eval` run mode: options -> `evals.runner.run_eval` -> table and file list."""
from __future__ import annotations

import shlex
import sys
from typing import Any

import typer

from verify.errors import VerifyError


def run_mode(options: dict[str, Any], *, prices: tuple, pareto: bool) -> None:
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
    for name in ("samples", "scored", "results", "report", "curves"):
        if res.files.get(name):
            typer.echo(f"{name}: {res.files[name]}")
