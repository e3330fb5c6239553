"""Thin typer commands: parse options, call one library function, print.

Each module here imports its heavy dependencies inside the command function so that
`verify --help` and `verify check` never import torch or vllm.
"""
from __future__ import annotations

import math

import typer


def check_range(option: str, value: float | None, *, low: float | None = None, high: float | None = None,
                low_open: bool = False) -> None:
    """Exit 2 with a one-line error if a numeric option is nan or outside its range (None passes).

    typer's own `min`/`max` let nan through and cannot say "greater than 0".
    """
    if value is None:
        return
    bad = math.isnan(value) or (low is not None and (value <= low if low_open else value < low)) \
        or (high is not None and value > high)
    if bad:
        lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
        hi = "" if high is None else f"<= {high:g}"
        typer.echo(f"error: {option} must be {' and '.join(x for x in (lo, hi) if x)}, got {value}", err=True)
        raise typer.Exit(2)
