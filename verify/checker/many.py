"""`check_many`: grade many (gold, pred) pairs at once, in order, with the time of each.

    >>> from verify.checker import check_many
    >>> [(r.verdict.equal, r.seconds >= 0) for r in check_many([("1/2", "0.5"), ("2", "3")])]
    [(True, True), (False, True)]

``jobs > 1`` runs the pairs on that many threads; each thread's structural work then goes to
its own hard-timeout worker process (`verify.checker.worker`, ``isolate=True``), so the slow
cases run in parallel on separate cores and a bomb costs at most `timeout` seconds of one
thread. It is safe to call from any thread (the worker pool is locked; nothing global changes).
For JSONL files use ``verify check --pairs`` (`verify.checker.batch`).
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from verify.checker.equivalence import DEFAULT_TIMEOUT, check
from verify.records.types import Verdict

MAX_JOBS = 64


class Checked(NamedTuple):
    """One graded pair: the tri-state verdict and the seconds its check took."""

    verdict: Verdict
    seconds: float


def _one(pair, timeout: float | None, isolate: bool) -> Checked:
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise TypeError(f"each pair must be (gold, pred), got {type(pair).__name__}")
    t0 = time.perf_counter()
    v = check(pair[0], pair[1], timeout=timeout, isolate=isolate)
    return Checked(v, time.perf_counter() - t0)


def check_many(pairs: Iterable, *, jobs: int = 1, timeout: float | None = DEFAULT_TIMEOUT) -> list[Checked]:
    """`check` each (gold, pred) pair; results in input order, each with its wall time.

    `timeout` bounds every single check (hard, from any thread); `jobs` is the number of
    threads (1 = in the calling thread). Undecided stays undecided (``equal=None``).
    """
    if not isinstance(jobs, int) or isinstance(jobs, bool) or not 1 <= jobs <= MAX_JOBS:
        raise ValueError(f"jobs must be an integer from 1 to {MAX_JOBS}, got {jobs!r}")
    pairs = list(pairs)
    if jobs == 1 or len(pairs) < 2:
        return [_one(p, timeout, False) for p in pairs]
    with ThreadPoolExecutor(max_workers=min(jobs, len(pairs)), thread_name_prefix="verify-check") as pool:
        return list(pool.map(lambda p: _one(p, timeout, True), pairs))
