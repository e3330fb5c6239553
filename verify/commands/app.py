"""The `verify` command line: a typer app that wires commands to library functions.

Run as `verify ...` (console script), `python -m verify` or `python cli.py ...`. Exit codes
and error messages follow one policy (see `verify.commands._shell`).
"""
from __future__ import annotations

import typer

from verify.commands import analyze, check, convert, eval_cmd, prm, sample, serve
from verify.commands._shell import DashArgsCommand, quiet_third_party

app = typer.Typer(
    help="Test-time-compute verification of LLM reasoning: sample, score, aggregate, check.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain click help: flags show no '<bool>' type, errors are one plain line
)


def _print_version(value: bool) -> None:
    if value:
        from verify import __version__
        typer.echo(f"verify {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the version and exit."),
    verbose: bool = typer.Option(False, "--verbose",
                                 help="Show third-party warnings, progress bars and load reports (hidden by default)."),
) -> None:
    """Test-time-compute verification of LLM reasoning: sample, score, aggregate, check."""
    from verify.commands._terminal import escape_streams
    escape_streams()  # file names, answers and messages cannot drive the terminal (escape sequences)
    if not verbose:
        quiet_third_party()


app.command("check", cls=DashArgsCommand)(check.command)
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
