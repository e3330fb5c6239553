"""One progress line for long loops: redrawn in place on a terminal; on a log or pipe, a new
line at each tenth of the work (so logs show progress without thousands of lines)."""
from __future__ import annotations

import sys
from typing import TextIO


def progress_line(msg: str, done: int, total: int, *, prev: int = -1, stream: TextIO | None = None) -> None:
    """Show `msg` for `done` of `total` items; `prev` is the `done` of the previous call.

    >>> import io; s = io.StringIO()
    >>> for d in (0, 5, 10): progress_line(f"scored {d}/10", d, 10, prev=d - 5, stream=s)
    >>> s.getvalue().splitlines()
    ['scored 0/10', 'scored 5/10', 'scored 10/10']
    """
    stream = stream or sys.stderr
    if getattr(stream, "isatty", lambda: False)():
        stream.write("\r" + msg + ("\n" if done >= total else ""))
    elif total <= 0 or done >= total or prev < 0 or (10 * done) // total > (10 * prev) // total:
        stream.write(msg + "\n")
    stream.flush()
