"""`verify eval`: accuracy of selection methods on recorded samples (`--samples`).

Thin: options -> `evals.evaluate.evaluate_samples` -> JSON, table, plot.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from verify.errors import VerifyError


def command(
    samples: Path = typer.Option(..., "--samples", help="Samples JSONL (one trace per line, or --format)."),
    method: List[str] = typer.Option(["majority@n"], "--method", "-m",
                                     help="Method spec, repeatable: single, pass@k, majority@k (maj@k), "
                                          "weighted-vote@k, prm-best-of-k, best-of-k; k may be n (all)."),
    reduce: str = typer.Option("prod", "--reduce", help="Step-score reduction: prod | min | last | mean."),
    subsets: str = typer.Option("exact", "--subsets",
                                help="exact: expectation over all k-subsets; first: the first k samples."),
    group: List[str] = typer.Option(["equivalence"], "--group",
                                    help="Answer grouping for votes, repeatable: equivalence | string."),
    grade: str = typer.Option("checker", "--grade",
                              help="checker: compare answers with gold; source: the file's per-sample "
                                   "'correct' labels."),
    tie: str = typer.Option("first", "--tie", help="Tie rule for --subsets first: first | score | random."),
    drop_unfinished: bool = typer.Option(False, "--drop-unfinished",
                                         help="Remove finish_reason=length traces (default: they abstain)."),
    fmt: str = typer.Option("verify", "--format", help="Input format: verify | qwen-rm-maj | prm-scored | sal."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write results (and curves) as JSON."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="PNG: accuracy against k with 95% CI bands."),
    per_problem: Optional[Path] = typer.Option(None, "--per-problem",
                                               help="JSONL: one line per problem and method (value, votes, classes)."),
    seed: int = typer.Option(0, "--seed", help="Seed for bootstrap, Monte-Carlo and random ties."),
    n_boot: int = typer.Option(2000, "--n-boot", help="Bootstrap resamples for the 95% CI."),
    mc_trials: int = typer.Option(2000, "--mc-trials", help="Monte-Carlo subsets where exact is infeasible."),
) -> None:
    """Evaluate aggregation methods on a samples file: table, --json, --plot."""
    from evals.evaluate import evaluate_samples
    from evals.table import notes_lines, results_table
    from verify.importers import load_samples
    from verify.io import append_jsonl, write_json_atomic

    def write_jsonl_fresh(path: Path, rows: list) -> None:
        tmp = path.with_name(path.name + ".part")
        tmp.unlink(missing_ok=True)
        append_jsonl(tmp, rows)
        tmp.replace(path)

    def progress(msg: str, milestone: bool) -> None:
        if sys.stderr.isatty():
            print(f"\r\033[K{msg}", end="", file=sys.stderr, flush=True)
        elif milestone:  # logs and pipes get one line per stage, not a moving counter
            print(msg, file=sys.stderr, flush=True)

    try:
        traces = load_samples(samples, fmt)
        report = evaluate_samples(traces, method, reduce=reduce, subsets=subsets, groups=group, grade=grade,
                                  tie=tie, drop_unfinished=drop_unfinished, seed=seed, n_boot=n_boot,
                                  mc_trials=mc_trials, curves=plot is not None, progress=progress)
    except (VerifyError, ValueError) as exc:
        if sys.stderr.isatty():
            print(file=sys.stderr)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr)
    report.config["samples"] = str(samples)
    report.config["format"] = fmt
    if per_problem is not None:
        write_jsonl_fresh(per_problem, report.per_problem)
    if json_out is not None:
        write_json_atomic(json_out, report.to_dict())
    typer.echo(results_table(report.results))
    for line in notes_lines(report):
        typer.echo(line)
    if plot is not None:
        from evals.plots import plot_accuracy_vs_k
        plot_accuracy_vs_k(report.curves, plot, title=f"{samples.name} ({subsets} subsets)")
        typer.echo(f"plot: {plot}")
    if json_out is not None:
        typer.echo(f"json: {json_out}")
    if per_problem is not None:
        typer.echo(f"per-problem: {per_problem}")
