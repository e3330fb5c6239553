"""A small pool of batch-checking child processes, usable from any thread.

RL trainers score thousands of answers per step from worker threads, processes and Ray
actors. `multiprocessing` pools are awkward there: "fork" after threads may deadlock, "spawn"
re-imports the caller's ``__main__``, and their workers cannot start the checker's own
hard-timeout children when daemonic. So, as the checker's worker does (`verify.checker.worker`),
each worker here is a plain ``python -m verify.rewards._batchworker`` child speaking one JSON
line per request. A call takes up to `jobs` idle workers (at least one, waiting if all are
busy), deals the pairs out round-robin, and reads the answers under a deadline; a worker that
misses it is killed and its pairs come back undecided. Workers are kept for the next call, and
a forked process never reuses its parent's.
"""
from __future__ import annotations

import atexit
import json
import os
import threading
import time

from verify.checker.worker import STARTUP_LIMIT_S, JsonLineChild, WorkerCrashed, WorkerTimeout
from verify.records.types import Verdict

SLACK_S = 2.0  # per pair on top of the check timeout: extraction and pipe time on a busy machine


class _BatchWorker(JsonLineChild):
    def __init__(self) -> None:
        super().__init__("verify.rewards._batchworker")

    def send(self, pairs: list, timeout: float | None) -> None:
        try:
            self.proc.stdin.write((json.dumps({"pairs": pairs, "timeout": timeout}) + "\n").encode())
        except (BrokenPipeError, OSError) as e:
            raise WorkerCrashed(str(e)) from None

    def receive(self, deadline: float) -> list:
        return json.loads(self._read_line(deadline))["verdicts"]

class BatchPool:
    """At most `jobs` batch workers shared by every thread of this process."""

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, int(jobs))
        self.cond = threading.Condition()
        self.idle: list[_BatchWorker] = []
        self.live = 0
        self.pid = os.getpid()

    def _forked(self) -> None:
        if self.pid != os.getpid():  # the children belong to the parent
            self.idle, self.live, self.pid = [], 0, os.getpid()

    def _acquire(self, want: int, deadline: float | None) -> list[_BatchWorker]:
        """Up to `want` workers (at least one); [] when `deadline` passes while all are busy."""
        got: list[_BatchWorker] = []
        new = 0
        with self.cond:
            self._forked()
            while True:
                while self.idle and len(got) < want:
                    got.append(self.idle.pop())
                while len(got) + new < want and self.live < self.jobs:
                    self.live += 1
                    new += 1
                if got or new:
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return []
                self.cond.wait(left)
        for _ in range(new):
            try:
                got.append(_BatchWorker())
            except (WorkerCrashed, WorkerTimeout, OSError):
                self._discard(None)
        if not got:
            raise WorkerCrashed("no batch worker could be started")
        return got

    def _release(self, w: _BatchWorker) -> None:
        with self.cond:
            if self.pid == os.getpid():
                self.idle.append(w)
                self.cond.notify()
                return
        w.kill()

    def _discard(self, w: _BatchWorker | None) -> None:
        if w is not None:
            w.kill()
        with self.cond:
            if self.pid == os.getpid():
                self.live -= 1
                self.cond.notify()

    def check(self, pairs: list[tuple], timeout: float | None, deadline: float | None = None) -> list[Verdict]:
        """Verdicts for `pairs` in order; pairs a worker could not finish by `deadline` are undecided."""
        if not pairs:
            return []
        per = (timeout or 60.0) + SLACK_S
        workers = self._acquire(min(self.jobs, len(pairs)), deadline)
        if not workers:
            return [_undecided(p, "request deadline passed", "timeout") for p in pairs]
        k = len(workers)
        parts = [[list(p) for p in pairs[i::k]] for i in range(k)]  # round-robin: slow items spread out
        start = time.monotonic()
        sent = []
        for w, part in zip(workers, parts):
            try:
                w.send(part, timeout)
                sent.append(True)
            except WorkerCrashed:
                sent.append(False)
        results: list[list[Verdict]] = []
        for w, part, ok in zip(workers, parts, sent):
            limit = start + len(part) * per + STARTUP_LIMIT_S
            if deadline is not None:
                limit = min(limit, deadline)
            if not ok:
                self._discard(w)
                results.append([_undecided(p, "checker worker crashed", "crash") for p in part])
                continue
            try:
                rows = w.receive(limit)
            except WorkerTimeout:
                self._discard(w)
                results.append([_undecided(p, "request deadline passed", "timeout") for p in part])
                continue
            except (WorkerCrashed, ValueError, KeyError) as e:
                self._discard(w)
                results.append([_undecided(p, f"checker worker crashed: {e}", "crash") for p in part])
                continue
            self._release(w)
            results.append([Verdict(r[0], r[1], r[3], r[4], r[2]) for r in rows])
        out: list[Verdict] = [None] * len(pairs)  # type: ignore[list-item]
        for i, res in enumerate(results):
            out[i::k] = res
        return out

    def close(self) -> None:
        """Kill the idle workers (busy ones are killed by their callers or end with stdin)."""
        with self.cond:
            idle, self.idle = self.idle, []
            mine = self.pid == os.getpid()
            if mine:
                self.live -= len(idle)
        if mine:
            for w in idle:
                w.kill()


def _undecided(pair, reason: str, method: str) -> Verdict:
    return Verdict(None, reason, None, None, method)


_POOLS: dict[int, BatchPool] = {}
_LOCK = threading.Lock()


def shared_pool(jobs: int) -> BatchPool:
    """The process-wide pool with `jobs` workers (one per distinct `jobs` value)."""
    with _LOCK:
        pool = _POOLS.get(jobs)
        if pool is None:
            pool = _POOLS[jobs] = BatchPool(jobs)
        return pool


def close_pools() -> None:
    """Stop every batch worker of this process (also run at exit)."""
    with _LOCK:
        pools = list(_POOLS.values())
    for pool in pools:
        pool.close()


atexit.register(close_pools)
