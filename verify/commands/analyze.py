"""PLACEHOLDER: `verify analyze ...` commands are being written."""
from __future__ import annotations

import typer

app = typer.Typer(help="Analytic models of majority voting.", no_args_is_help=True)
