"""Progress for long stages (sampling, scoring, grading): one bar per stage.

On a terminal, a live `rich` progress bar (rich comes with typer, so it is always installed)
with done/total, tokens/s when the stage counts tokens, elapsed time and ETA. On a pipe or a
log file, plain lines: one each time another tenth of the stage is done, so a stage writes at
most 10 lines however long it is (`StageBar`); `progress_line` is the same rule for callers
that format their own message.
"""
from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class StageBar:
    """One stage's progress: `update(n, tokens=...)` after each batch, `close()` at the end.

    >>> import io; s = io.StringIO()
    >>> with StageBar("scoring", 100, unit="traces", stream=s) as bar:
    ...     for _ in range(50): bar.update(2)
    >>> len(s.getvalue().splitlines())
    10
    >>> s.getvalue().splitlines()[-1].split(" |")[0]
    'scoring 100/100 traces'
    """

    def __init__(self, stage: str, total: int, *, unit: str = "items", stream: TextIO | None = None,
                 enabled: bool = True, live: bool | None = None):
        self.stage, self.total, self.unit = stage, max(int(total), 0), unit
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.total > 0
        self.done = self.tokens = 0
        self.t0 = time.perf_counter()
        self._tenth = 0  # tenths already reported on a plain stream
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._rich = None
        if self.enabled and (tty if live is None else live):
            self._rich = _rich_bar(stage, self.total, unit, self.stream)

    def __enter__(self) -> "StageBar":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.t0

    def line(self) -> str:
        """The plain progress line: done/total, tokens and tokens/s (when counted), elapsed, ETA."""
        dt = max(self.seconds, 1e-9)
        eta = (self.total - self.done) * dt / self.done if self.done else 0.0
        parts = [f"{self.stage} {self.done}/{self.total} {self.unit}"]
        if self.tokens:
            parts.append(f"{self.tokens} tok, {self.tokens / dt:.1f} tok/s")
        parts.append(f"{dt:.0f}s elapsed, ~{eta:.0f}s left")
        return " | ".join(parts)

    def update(self, n: int = 1, *, tokens: int = 0) -> None:
        self.done += n
        self.tokens += tokens
        if not self.enabled:
            return
        if self._rich is not None:
            progress, task = self._rich
            rate = self.tokens / max(self.seconds, 1e-9)
            progress.update(task, completed=self.done, rate=f"{rate:.0f} tok/s" if self.tokens else "")
            return
        tenth = min(10, (10 * self.done) // self.total)
        if tenth > self._tenth:  # at most one line per tenth of the stage
            self._tenth = tenth
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self._rich is not None:
            self._rich[0].stop()
            self._rich = None


def _rich_bar(stage: str, total: int, unit: str, stream: TextIO) -> tuple[Any, Any]:
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn(unit), TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                        TextColumn("ETA"), TimeRemainingColumn(), console=Console(file=stream),
                        transient=False)
    task = progress.add_task(stage, total=total, rate="")
    progress.start()
    return progress, task


def progress_line(msg: str, done: int, total: int, *, prev: int = -1, stream: TextIO | None = None) -> None:
    """Show `msg` for `done` of `total` items; `prev` is the `done` of the previous call.
    Redrawn in place on a terminal; on a pipe, a new line at each tenth of the work.

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
