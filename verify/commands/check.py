"""PLACEHOLDER: the `verify check` command is being written."""
from __future__ import annotations

import typer


def command() -> None:
    """Not written yet."""
    raise typer.Exit(2)
