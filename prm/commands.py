"""PLACEHOLDER: `verify prm ...` commands are being written."""
from __future__ import annotations

import typer

app = typer.Typer(help="Process reward models: train, score, evaluate.", no_args_is_help=True)
