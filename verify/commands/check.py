"""`verify check`: one (gold, pred) pair, or a JSONL file of pairs, for CI pipelines.

Exit codes: 0 equal (or batch share >= --min-accuracy), 1 not equal (or share below it),
2 undecided or bad input. GOLD and PRED may start with a minus (`verify check -3 -3`): the
command sorts its arguments itself (`verify.commands._shell.DashArgsCommand`).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from verify.commands._shell import EXIT_NOT_MET, fail, printable, refuse_unused


def command(
    ctx: typer.Context,
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
        fail(f"--timeout must be a positive number of seconds, got {timeout}")
    if pairs is None:
        if gold is None or pred is None:
            fail("give GOLD and PRED, or --pairs FILE.jsonl")
        refuse_unused(ctx, ["out", "min_accuracy", "jobs"], "applies to --pairs only")
        from verify.checker.equivalence import check

        v = check(gold, pred, timeout=timeout, isolate=isolate)
        word = {True: "equal", False: "not equal", None: "undecided"}[v.equal]
        typer.echo(printable(f"{word} [{v.method}]: gold {v.gold_answer} | pred {v.pred_answer} | {v.reason}"))
        raise typer.Exit({True: 0, False: EXIT_NOT_MET, None: 2}[v.equal])
    if gold is not None:
        fail("use either GOLD PRED or --pairs, not both")
    if min_accuracy is not None and not 0.0 <= min_accuracy <= 1.0:  # also rejects nan
        fail(f"--min-accuracy must lie in [0, 1], got {min_accuracy}")
    from verify.checker.batch import check_pairs, stderr_progress

    try:
        summary = check_pairs(pairs, out=out, jobs=jobs, timeout=timeout, isolate=isolate,
                              progress=stderr_progress)
    except (VerifyError, OSError) as exc:
        fail(exc)
    if summary.n == 0:  # an empty file must not pass a CI gate with "share equal 0.0000"
        fail(f"{pairs}: no pairs in file")
    for line in summary.lines():
        typer.echo(line)
    if out is not None:
        typer.echo(f"results: {out}")
    if min_accuracy is not None and summary.share_equal() < min_accuracy:
        typer.echo(f"FAIL: share equal {summary.share_equal():.4f} < --min-accuracy {min_accuracy}", err=True)
        raise typer.Exit(EXIT_NOT_MET)
    if sys.stderr.isatty():
        print(file=sys.stderr)
