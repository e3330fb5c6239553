"""`verify check`: one (gold, pred) pair, or a JSONL file of pairs, for CI pipelines.

Exit codes: 0 equal (or batch share >= --min-accuracy), 1 not equal (or share below it),
2 undecided or bad input.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer


def command(
    gold: Optional[str] = typer.Argument(None, help="Gold answer (raw text: 9, $9$, \\boxed{9})."),
    pred: Optional[str] = typer.Argument(None, help="Predicted answer or a whole model response."),
    pairs: Optional[Path] = typer.Option(None, "--pairs", help="JSONL with 'gold' and 'pred' per line."),
    out: Optional[Path] = typer.Option(None, "--out", help="Append one result per input line (JSONL)."),
    min_accuracy: Optional[float] = typer.Option(None, "--min-accuracy",
                                                 help="With --pairs: exit 1 if the share of equal pairs is below."),
    jobs: int = typer.Option(0, "--jobs", help="Processes for --pairs (0 = all cores)."),
    timeout: float = typer.Option(5.0, "--timeout", help="Hard limit per check, seconds."),
    isolate: bool = typer.Option(False, "--isolate",
                                 help="Run every structural comparison in a killable worker process "
                                      "(default: in-process first, under a 50 ms budget)."),
) -> None:
    """Check whether answers are mathematically equivalent (exit 0 equal, 1 not, 2 undecided/bad input)."""
    from verify.errors import VerifyError

    if not timeout > 0 or timeout == float("inf"):  # nan, 0 and negatives would decide nothing
        typer.echo(f"error: --timeout must be a positive number of seconds, got {timeout}", err=True)
        raise typer.Exit(2)
    if pairs is None:
        if gold is None or pred is None:
            typer.echo("error: give GOLD and PRED, or --pairs FILE.jsonl", err=True)
            raise typer.Exit(2)
        from verify.checker.equivalence import check

        v = check(gold, pred, timeout=timeout, isolate=isolate)
        word = {True: "equal", False: "not equal", None: "undecided"}[v.equal]
        typer.echo(f"{word} [{v.method}]: gold {v.gold_answer} | pred {v.pred_answer} | {v.reason}")
        raise typer.Exit({True: 0, False: 1, None: 2}[v.equal])
    if gold is not None:
        typer.echo("error: use either GOLD PRED or --pairs, not both", err=True)
        raise typer.Exit(2)
    if min_accuracy is not None and not 0.0 <= min_accuracy <= 1.0:  # also rejects nan
        typer.echo(f"error: --min-accuracy must lie in [0, 1], got {min_accuracy}", err=True)
        raise typer.Exit(2)
    from verify.checker.batch import check_pairs, stderr_progress

    try:
        summary = check_pairs(pairs, out=out, jobs=jobs, timeout=timeout, isolate=isolate,
                              progress=stderr_progress)
    except (VerifyError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    if summary.n == 0:  # an empty file must not pass a CI gate with "share equal 0.0000"
        typer.echo(f"error: {pairs}: no pairs in file", err=True)
        raise typer.Exit(2)
    for line in summary.lines():
        typer.echo(line)
    if out is not None:
        typer.echo(f"results: {out}")
    if min_accuracy is not None and summary.share_equal() < min_accuracy:
        typer.echo(f"FAIL: share equal {summary.share_equal():.4f} < --min-accuracy {min_accuracy}", err=True)
        raise typer.Exit(1)
    if sys.stderr.isatty():
        print(file=sys.stderr)
