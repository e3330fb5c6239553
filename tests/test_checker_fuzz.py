"""Fuzz: 10,000 random LaTeX-ish inputs never crash the checker or exceed the timeout."""
from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify.checker.equivalence import DEFAULT_TIMEOUT, check, compare_answers
from verify.checker.extract import extract_answer
from verify.records.types import Verdict

TOKENS = [
    "1", "2", "0", "10", "999999999", "3.14", ".5", "-", "+", "*", "/", "^", "_", "!", "'", "%", "\\%",
    "x", "y", "e", "i", "I", "\\pi", "\\infty", "(", ")", "[", "]", "{", "}", "\\{", "\\}", "|", ",", "=",
    "<", ">", "\\le", "\\ge", "\\ne", "\\frac", "\\dfrac", "\\sqrt", "\\sin", "\\cos", "\\log_", "\\ln",
    "\\cdot", "\\times", "\\pm", "\\circ", "\\cup", "\\in", "\\text{", "\\mathrm{", "\\boxed{", "\\left(",
    "\\right)", "\\begin{pmatrix}", "\\end{pmatrix}", "&", "\\\\", "$", " ", "\\!", "\\,", "\\binom",
    "units", "and", "the answer is", "####", "Answer:", "(B)", ":", ".", "\\", "\u2212", "\u00b0", "\x00",
    "10^{10^{10}}", "!", "\\approx", "\\$", "x=", "f(x)", "\\fbox{", "\n",
]
texts = st.lists(st.sampled_from(TOKENS), max_size=24).map("".join)
LIMIT = min(DEFAULT_TIMEOUT, 1.0)


@settings(max_examples=10_000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(texts, texts)
def test_fuzz_in_process(gold, pred):
    """The in-process layers (fast paths plus the structural layer without a worker) on random input."""
    t = time.thread_time()  # CPU time of this thread, so other jobs on a busy machine do not count
    v = compare_answers(extract_answer(gold), extract_answer(pred), timeout=None)
    assert time.thread_time() - t < LIMIT
    assert isinstance(v, Verdict) and v.equal in (True, False, None)
    if v.equal is None:
        assert v.reason
    assert v.method != "internal-error", v


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(texts, texts)
def test_fuzz_through_worker(gold, pred):
    """The same inputs through `check` and the worker process, under the hard timeout."""
    t = time.perf_counter()
    v = check(gold, pred)
    assert time.perf_counter() - t < DEFAULT_TIMEOUT + 5.0  # + start-up of a fresh worker, if one is needed
    assert v.method not in ("crash", "internal-error"), v


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.text(max_size=200), st.text(max_size=200))
def test_fuzz_arbitrary_unicode(gold, pred):
    v = compare_answers(extract_answer(gold), extract_answer(pred), timeout=None)
    assert v.equal in (True, False, None) and v.method != "internal-error", v
