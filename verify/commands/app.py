"""The `verify` command line: a typer app that wires commands to library functions.

Run as `verify ...` (console script), `python -m verify` or `python cli.py ...`.
"""
from __future__ import annotations

import typer

from verify.commands import analyze, check, convert, eval_cmd, prm, sample, serve

app = typer.Typer(
    help="Test-time-compute verification of LLM reasoning: sample, score, aggregate, check.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("check")(check.command)
app.command("eval")(eval_cmd.command)
app.command("sample")(sample.command)
app.command("convert")(convert.command)
app.command("serve")(serve.command)
app.add_typer(analyze.app, name="analyze")
app.add_typer(prm.app, name="prm")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
