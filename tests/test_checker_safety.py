"""Safety: injection attempts do nothing, size bombs return quickly, the hard timeout works
from threads, asyncio tasks and process-pool workers."""
from __future__ import annotations

import asyncio
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import pytest

from verify.checker.equivalence import DEFAULT_TIMEOUT, check, compare_answers

# A fresh worker process may have to start (python + imports) before a check is sent to it; that
# start-up is not part of the per-check timeout, and on a busy machine it can take a few seconds.
SPAWN_MARGIN = 5.0

INJECTIONS = [
    "__import__('os').system('touch {m}')",
    "__import__(\"os\").system(\"touch {m}\")",
    "\\boxed{{__import__('os').system('touch {m}')}}",
    "eval(\"__import__('os').system('touch {m}')\")",
    "exec('open(\"{m}\", \"w\")')",
    "(lambda: __import__('os').system('touch {m}'))()",
    "x + __import__('subprocess').call(['touch', '{m}'])",
    "\\input{{{m}}}",
    "open('{m}', 'w').write('x')",
    "getattr(__builtins__, 'exec')('open(\"{m}\",\"w\")')",
]


@pytest.mark.parametrize("template", INJECTIONS)
def test_injection_does_nothing(tmp_path, template, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "PWNED"
    text = template.format(m=marker)
    for gold, pred in ((text, "7.25"), ("7.25", text), (text, text + " ")):
        v = check(gold, pred)
        assert v.equal is not True or gold.strip() == pred.strip()
        compare_answers(gold, pred, timeout=None)
    assert not marker.exists()


MATH_TRUE = {("(" * 1000 + "1" + ")" * 1000, "1"), ("{" * 1000 + "1" + "}" * 1000, "1")}
BOMBS = [
    ("10^{10^{10}}", "1"),
    ("(10^{100})!", "1"),
    ("9^{9^{9^{9}}}", "9^{9^{9^{9}}}+1"),
    ("2^{2^{2^{2^{2^{2}}}}}", "0"),
    ("10^{400}", "10^{400}+1"),
    ("(" * 1000 + "1" + ")" * 1000, "1"),
    ("{" * 1000 + "1" + "}" * 1000, "1"),
    ("\\frac{" * 1000 + "1", "1"),
    ("\\sqrt{" * 1000 + "2" + "}" * 1000, "2"),
    ("x^{" * 500 + "2" + "}" * 500, "x"),
    ("1" * 100_000, "1"),
    ("1" * 5000, "1" * 4999 + "2"),
    ("x+" * 50_000 + "x", "x"),
    (", ".join(["1"] * 20_000), "1"),
    ("\\{" + ", ".join(f"x^{i}" for i in range(300)) + "\\}", "\\{1\\}"),
    ("1e999999999", "1"),
    ("1.5\\times10^{99999999}", "1"),
    ("\\boxed{" * 20_000, "1"),
    ("$" * 50_000, "1"),
    ("\\begin{pmatrix}" + "1&" * 3000 + "1\\end{pmatrix}", "1"),
    ("a" * 100_000, "b"),
]


@pytest.mark.parametrize("gold,pred", BOMBS, ids=[f"bomb{i}" for i in range(len(BOMBS))])
def test_bombs_return_quickly(gold, pred):
    for g, p in ((gold, pred), (pred, gold)):
        t = time.perf_counter()
        v = check(g, p)
        elapsed = time.perf_counter() - t
        assert elapsed < DEFAULT_TIMEOUT + SPAWN_MARGIN, (elapsed, v)
        assert v.equal is not True or (gold, pred) in MATH_TRUE, v
        t = time.thread_time()  # CPU time of this thread: other jobs on the machine do not count
        compare_answers(g, p, timeout=None)  # the in-process layers are bounded on their own
        assert time.thread_time() - t < DEFAULT_TIMEOUT


STRUCTURAL = ("x^2+2x+1", "(x+1)^2")  # decided only by the structural layer (in the worker)


def _timed_out_and_recovers() -> tuple:
    """A worker request that sleeps 30 s is cut off at 0.3 s; the next check works."""
    from verify.checker.worker import POOL, WorkerTimeout

    t = time.perf_counter()
    try:
        POOL.run({"sleep": 30}, timeout=0.3)
        slow = "answered"
    except WorkerTimeout:
        slow = "timeout"
    fast_enough = time.perf_counter() - t < 15.0  # far below the 30 s the request would take
    ok = check(*STRUCTURAL, isolate=True)  # through a (new) worker process
    inproc = check(*STRUCTURAL)  # in-process under the budget
    return slow, fast_enough, ok.equal, ok.method, inproc.equal


WANT = ("timeout", True, True, "structural", True)


def test_timeout_on_main_thread():
    assert _timed_out_and_recovers() == WANT


def test_timeout_from_threads():
    results = []
    threads = [threading.Thread(target=lambda: results.append(_timed_out_and_recovers())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [WANT] * 4


def test_timeout_from_asyncio_tasks():
    async def one():
        return await asyncio.to_thread(_timed_out_and_recovers)

    async def main():
        plain = _timed_out_and_recovers()  # also directly inside the running event loop
        return [plain] + list(await asyncio.gather(one(), one()))

    assert asyncio.run(main()) == [WANT] * 3


def _call_in_pool(_: int) -> tuple:
    return _timed_out_and_recovers()


def test_timeout_from_process_pool_workers():
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_call_in_pool, range(3)))
    assert results == [WANT] * 3


def test_check_reports_timeout_as_undecided(monkeypatch):
    from verify.checker.worker import POOL

    run = POOL.run
    monkeypatch.setattr(POOL, "run", lambda payload, timeout: run({"sleep": 30}, timeout))
    t = time.perf_counter()
    v = check(*STRUCTURAL, timeout=0.5, isolate=True)
    assert time.perf_counter() - t < 0.5 + SPAWN_MARGIN
    assert (v.equal, v.method, v.reason) == (None, "timeout", "timeout after 0.5s")


def test_over_budget_cases_move_to_the_worker(monkeypatch):
    import verify.checker.equivalence as eq
    from verify.checker.worker import POOL

    calls = []
    run = POOL.run
    monkeypatch.setattr(POOL, "run", lambda payload, timeout: calls.append(payload) or run(payload, timeout))
    assert check(*STRUCTURAL).method == "structural" and calls == []  # fits the in-process budget
    monkeypatch.setattr(eq, "IN_PROCESS_BUDGET", 0.0)
    v = check(*STRUCTURAL)
    assert (v.equal, v.method) == (True, "structural")
    assert calls == [{"gold": "x^2+2x+1", "pred": "(x+1)^2", "budget": 0.7 * DEFAULT_TIMEOUT - 0.05}]  # sympy's share


def test_deadline_interrupts_big_structures():
    """A 400-item set against a permutation needs 160,000 comparisons: the deadline stops it."""
    from verify.checker.compare import BudgetExceeded
    from verify.checker.equivalence import structural_compare

    a = "\\{" + ",".join(f"x+{i}" for i in range(400)) + "\\}"
    b = "\\{" + ",".join(f"x+{i}" for i in reversed(range(400))) + "\\}"
    t = time.perf_counter()
    with pytest.raises(BudgetExceeded):
        structural_compare(a, b, budget=0.05)
    assert time.perf_counter() - t < 3.0
    # Through check() the case moves to the worker with a 0.3 s limit. Whether the worker
    # finishes in time depends on the machine, so either outcome may happen, but never a wrong
    # verdict and never a wait past the limit (plus worker start-up).
    t = time.perf_counter()
    v = check(a, b, timeout=0.3)
    assert time.perf_counter() - t < 3.0
    assert v.equal is True or (v.equal is None and v.method == "timeout")


def test_timed_out_worker_is_killed():
    from verify.checker.worker import POOL, WorkerTimeout

    check(*STRUCTURAL, isolate=True)
    w = POOL._acquire()
    POOL._release(w)
    with pytest.raises(WorkerTimeout):
        POOL.run({"sleep": 30}, timeout=0.2)  # takes the same idle worker
    assert w.proc.poll() is not None  # killed and reaped
    assert w not in POOL.idle


def test_concurrent_checks_match_serial():
    """8 threads checking a mixed batch at once get the serial answers (per-thread deadlines, pool)."""
    from test_equivalence import EXPRESSIONS, NUMERIC, STRUCTURES  # tests/ is on sys.path under pytest

    cases = NUMERIC + EXPRESSIONS + STRUCTURES
    serial = [check(g, p).equal for g, p, _ in cases]
    results: dict[int, list] = {}

    def work(k: int) -> None:
        results[k] = [check(g, p, isolate=(k % 2 == 1)).equal for g, p, _ in cases]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(results[k] == serial for k in range(8))


# Near-equal constants reach the exact layer (sympy in the worker); expanding this power is
# far too slow for sympy, so only the worker's alarm and the caller's hard timeout end it.
SYMPY_BOMB = ("(\\sqrt2+\\sqrt3+\\sqrt5+\\sqrt7)^{200}",
              "(17+2\\sqrt6+2\\sqrt{10}+2\\sqrt{14}+2\\sqrt{15}+2\\sqrt{21}+2\\sqrt{35})^{100}")


@pytest.mark.parametrize("timeout", [0.5, 2.0])
def test_bomb_through_the_exact_layer_keeps_the_timeout(timeout):
    check(*STRUCTURAL, isolate=True)  # a worker is running, so the start-up is not timed below
    for g, p in (SYMPY_BOMB, SYMPY_BOMB[::-1]):
        t = time.perf_counter()
        v = check(g, p, timeout=timeout)
        elapsed = time.perf_counter() - t
        assert elapsed < timeout + SPAWN_MARGIN, (elapsed, v)
        assert v.equal is not False, v  # the two sides are equal: never refuted
        assert v.method in ("exact", "timeout"), v


def test_exact_layer_decides_near_equal_constants():
    cases = [("1", "\\sqrt{2}\\cdot10^{20}+1-\\sqrt{2}\\cdot10^{20}", True, "exact"),
             ("10^{20}\\sqrt2", "10^{20}\\sqrt2+1", False, "exact"),
             ("\\sqrt{8}", "2\\sqrt2", True, "structural")]  # small and well-conditioned: no escalation
    for g, p, want, method in cases:
        v = check(g, p)
        assert (v.equal, v.method) == (want, method), v
        assert compare_answers(g, p, timeout=None).equal in (want, None)  # no worker: never the wrong answer


def test_check_many_in_order_from_threads():
    from test_equivalence import EXPRESSIONS, NUMERIC, STRUCTURES

    from verify.checker import check_many

    cases = [(g, p) for g, p, _ in NUMERIC + EXPRESSIONS + STRUCTURES]
    serial = [check(g, p).equal for g, p in cases]
    results: dict[int, list] = {}

    def work(k: int) -> None:
        results[k] = check_many(cases, jobs=1 + k % 3, timeout=DEFAULT_TIMEOUT)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    for k in range(3):
        assert [r.verdict.equal for r in results[k]] == serial
        assert all(0 <= r.seconds < DEFAULT_TIMEOUT + SPAWN_MARGIN for r in results[k])
    with pytest.raises(ValueError):
        check_many(cases, jobs=0)


def test_a_reused_worker_that_died_idle_is_replaced():
    """An idle worker killed between two checks (its parent-death signal fires when the thread
    that started it ends) costs a fresh worker, not a 'crashed' verdict."""
    from verify.checker.worker import POOL

    check(*STRUCTURAL, isolate=True)
    w = POOL._acquire()
    POOL._release(w)
    w.proc.kill()
    w.proc.wait(5)
    w.proc.poll = lambda: None  # the race: it looked alive when the pool handed it out
    v = check(*STRUCTURAL, isolate=True)
    assert (v.equal, v.method) == (True, "structural"), v
