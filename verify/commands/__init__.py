"""Thin typer commands: parse options, call one library function, print.

Each module here imports its heavy dependencies inside the command function so that
`verify --help` and `verify check` never import torch or vllm. Exit codes and error
reporting follow one policy, in `verify.commands._shell` (0 success, 1 only where a command
documents it, 2 bad input or usage).
"""
from __future__ import annotations

import math

from verify.commands._shell import fail


def check_range(option: str, value: float | None, *, low: float | None = None, high: float | None = None,
                low_open: bool = False) -> None:
    """Exit 2 with a one-line error if a numeric option is nan, infinite or outside its range (None passes).

    typer's own `min`/`max` let nan through and cannot say "greater than 0".
    """
    if value is None:
        return
    bad = not math.isfinite(value) or (low is not None and (value <= low if low_open else value < low)) \
        or (high is not None and value > high)
    if bad:
        lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
        hi = "" if high is None else f"<= {high:g}"
        fail(f"{option} must be {' and '.join(x for x in (lo, hi) if x)}, got {value}")
