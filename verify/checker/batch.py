"""Batch checking of (gold, pred) pairs from JSONL, on all cores, with a summary.

Each input object needs ``gold`` and ``pred`` (strings, numbers or null, as in NeMo-Skills'
tests); other fields are kept. Each output line is the input object plus ``equal``
(true/false/null), ``reason``, ``method``, ``gold_answer`` and ``pred_answer``. When a line has an
``expected`` (or ``expected_equivalent``) boolean, the summary reports agreement with it.
Shares carry their sample size and a 95% Wilson score interval (Wilson, 1927).
Results are appended to ``--out`` in input order, chunk by chunk, so a bad line stops the run
after every result before it has been written; when ``--out`` already exists (and the input is a
regular file) the input is validated in full first, so a bad line leaves that file untouched. ``--out`` is held with
`verify.records.outputs.claim_output` (not the input, not a foreign file, one writer). Pool
processes and their checker workers die with this process (`verify.checker.worker.die_with_parent`)
and leave Ctrl-C to it, so an interrupted run prints no worker tracebacks and leaves no orphans.
"""
from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from verify.errors import InputError
from verify.intervals import wilson
from verify.records.io import append_jsonl, iter_jsonl
from verify.records.outputs import PAIRS, claim_output

CHUNK = 256
_SCALARS = (str, int, float)


@dataclass
class Summary:
    """Counts of a batch run; `agree`/`with_expected` count lines that carried an expected label."""

    n: int = 0
    equal: int = 0
    not_equal: int = 0
    undecided: int = 0
    with_expected: int = 0
    agree: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def share_equal(self) -> float:
        return self.equal / self.n if self.n else 0.0

    def lines(self) -> list[str]:
        lo, hi = wilson(self.equal, self.n)
        out = [f"pairs: {self.n}   equal: {self.equal}   not equal: {self.not_equal}   "
               f"undecided: {self.undecided}",
               f"share equal: {self.share_equal():.4f} (n={self.n}, 95% CI {lo:.4f}-{hi:.4f})"]
        if self.with_expected:
            lo, hi = wilson(self.agree, self.with_expected)
            out.append(f"agreement with expected: {self.agree}/{self.with_expected} = "
                       f"{self.agree / self.with_expected:.4f} (95% CI {lo:.4f}-{hi:.4f}; undecided counts "
                       f"as disagreement)")
        if self.undecided:
            top = sorted(self.reasons.items(), key=lambda kv: -kv[1])[:3]
            out.append("undecided reasons: " + "; ".join(f"{r} ({c})" for r, c in top))
        return out


def _value(obj: dict, name: str, path: str, line: int):
    if name not in obj:
        raise InputError("missing required field", path=path, line=line, field=name)
    v = obj[name]
    if v is not None and (not isinstance(v, _SCALARS) or isinstance(v, bool)):
        raise InputError(f"expected a string, number or null, got {type(v).__name__}", path=path,
                         line=line, field=name)
    if isinstance(v, float) and not math.isfinite(v):
        raise InputError(f"expected a finite number, got {v!r}", path=path, line=line, field=name)
    return v


def _expected(obj: dict, path: str, line: int) -> bool | None:
    for name in ("expected", "expected_equivalent"):
        if name in obj and obj[name] is not None:
            if not isinstance(obj[name], bool):
                raise InputError(f"expected true/false, got {obj[name]!r:.40}", path=path, line=line, field=name)
            return obj[name]
    return None


def _check_chunk(args: tuple[list[tuple], float | None, bool]) -> list[dict]:
    from verify.checker.equivalence import check

    pairs, timeout, isolate = args
    out = []
    for gold, pred in pairs:
        v = check(gold, pred, timeout=timeout, isolate=isolate)
        out.append({"equal": v.equal, "reason": v.reason, "method": v.method,
                    "gold_answer": v.gold_answer, "pred_answer": v.pred_answer})
    return out


def _chunks(path: str) -> Iterator[tuple[list[dict], InputError | None]]:
    """Validated objects in chunks; a bad line ends the stream with its error."""
    chunk: list[dict] = []
    try:
        for line, obj in iter_jsonl(path):
            _value(obj, "gold", path, line)
            _value(obj, "pred", path, line)
            _expected(obj, path, line)
            chunk.append(obj)
            if len(chunk) >= CHUNK:
                yield chunk, None
                chunk = []
    except InputError as err:
        yield chunk, err
        return
    yield chunk, None


def check_pairs(path: str | os.PathLike, *, out: str | os.PathLike | None = None, jobs: int = 0,
                timeout: float | None = 5.0, isolate: bool = False,
                progress: Callable[[int], None] | None = None) -> Summary:
    """Check every pair in a JSONL file; append results to `out`; return the summary.

    Raises `InputError` (file:line: field) on the first bad line, after writing all results
    before it. `jobs=0` uses every core; `timeout`/`isolate` are passed to `check`.

    >>> import tempfile, json; p = tempfile.mktemp(suffix=".jsonl")
    >>> _ = open(p, "w").write(json.dumps({"gold": "1/2", "pred": "0.5", "expected": True}) + "\\n")
    >>> check_pairs(p, jobs=1).agree
    1
    """
    path = str(path)
    jobs = jobs or os.cpu_count() or 1
    summary = Summary()
    if out is not None and os.path.exists(out) and os.path.isfile(path):
        # a bad line must leave an existing --out as it was: validate the whole file first (parsing is
        # cheap next to checking). A new --out keeps the results before the bad line, as does a pipe.
        for _, err in _chunks(path):
            if err is not None:
                raise err
    with ExitStack() as stack:
        if out is not None:  # checked, locked; a FIFO or /dev/stdout is written directly
            stack.enter_context(claim_output(out, kind=PAIRS, inputs=[path], resumable=False))
        pool = _start_pool(jobs) if jobs > 1 else None
        try:
            for objs, err in _chunks(path):
                results = _run(objs, timeout, isolate, pool, jobs)
                records = []
                for obj, res in zip(objs, results):
                    _tally(summary, obj, res)
                    records.append({**obj, **res})
                if out is not None:
                    append_jsonl(out, records)
                if progress is not None and err is None:  # a bad line: its error is the line printed
                    progress(summary.n)
                if err is not None:
                    raise err
        except BaseException:
            if pool is not None:
                pool.terminate()  # Ctrl-C or an error: stop the workers now, not after their chunk
            raise
        if pool is not None:
            pool.close()
            pool.join()
    return summary


def _start_pool(jobs: int):
    import multiprocessing

    return multiprocessing.Pool(jobs, initializer=_pool_init, initargs=(os.getpid(),))


def _pool_init(parent: int) -> None:
    """In each pool process: die with the parent, leave Ctrl-C to the parent (no worker tracebacks)."""
    import signal

    from verify.checker.worker import die_with_parent
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run(objs: list[dict], timeout: float | None, isolate: bool, pool: Any,
         jobs: int) -> list[dict]:
    pairs = [(o["gold"], o["pred"]) for o in objs]
    if pool is None or len(pairs) < 16:
        return _check_chunk((pairs, timeout, isolate))
    size = max(1, math.ceil(len(pairs) / jobs))
    parts = [(pairs[i:i + size], timeout, isolate) for i in range(0, len(pairs), size)]
    return [r for part in pool.map(_check_chunk, parts) for r in part]


def _tally(s: Summary, obj: dict, res: dict) -> None:
    s.n += 1
    eq = res["equal"]
    if eq is True:
        s.equal += 1
    elif eq is False:
        s.not_equal += 1
    else:
        s.undecided += 1
        s.reasons[res["reason"]] = s.reasons.get(res["reason"], 0) + 1
    exp = _expected(obj, "", 0)  # the reader that validated the line: same precedence, never raises here
    if exp is not None:
        s.with_expected += 1
        s.agree += eq is exp


def stderr_progress(n: int) -> None:
    """One progress line on stderr (overwritten on a terminal)."""
    end = "\r" if sys.stderr.isatty() else "\n"
    print(f"checked {n} pairs", end=end, file=sys.stderr, flush=True)
