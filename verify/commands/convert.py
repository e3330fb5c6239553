"""`verify convert`: a recorded-samples file in a public format -> our samples JSONL."""
from __future__ import annotations

from pathlib import Path

import typer

from verify.commands._shell import fail
from verify.errors import VerifyError


def command(
    in_path: Path = typer.Argument(..., help="Input file."),
    fmt: str = typer.Option(..., "--format", help="Input format: qwen-rm-maj | prm-scored | sal | verify."),
    out: Path = typer.Option(..., "--out", help="Output samples JSONL (one trace per line)."),
    force: bool = typer.Option(False, "--force", help="Replace OUT if it exists."),
) -> None:
    """Convert recorded samples to the `verify` samples format (what `verify eval --samples` reads)."""
    from evals.importers import convert

    try:
        n = convert(in_path, fmt, out, force=force)
    except (VerifyError, ValueError) as exc:
        fail(exc)
    typer.echo(f"wrote {n} traces to {out}")
