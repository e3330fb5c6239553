"""What every trainer adapter shares: verdict -> reward value, and batch checking.

A verdict is one of four outcomes, each with its own reward value (`RewardValues`):
correct (``equal`` True), wrong (False with an extracted answer), no answer (False because no
answer could be extracted from the completion) and undecided (``equal`` None: timeout, parse
error, no answer in the gold). Undecided is never read as wrong silently; TRL skips a sample
whose reward is None, trainers that need a number get the value you choose.

`check_batch` checks pairs in the calling thread (``jobs=1``) or across ``jobs`` child
processes (`verify.rewards.pool`); either way each check has the checker's hard timeout, so it
is safe from any thread, asyncio task, process or Ray actor.

    >>> v = check_batch([("72", "so \\\\boxed{72}"), ("72", "it is 71")])
    >>> [score(x) for x in v]
    [1.0, 0.0]
"""
from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from verify.checker.equivalence import DEFAULT_TIMEOUT, check
from verify.records.types import Verdict

# end-of-turn and padding tokens a decoder left at the end (OpenRLHF decodes with skip_special_tokens=False)
_SPECIAL_AT_END = re.compile(r"(?:<\|[^<>|\s]{1,40}\|>|<\uff5c[^<>\s]{1,40}\uff5c>|</s>|<eos>|<pad>|<end_of_turn>)\Z")
IN_PROCESS_BELOW = 8  # smaller batches are checked in the calling thread: a worker round trip costs more


@dataclass(frozen=True)
class RewardValues:
    """The reward of each outcome; None (TRL: skip the sample) is allowed for any of them.

    >>> RewardValues(wrong=-1.0).of(Verdict(False, "x", "2", "3"))
    -1.0
    """

    correct: float | None = 1.0
    wrong: float | None = 0.0
    no_answer: float | None = 0.0
    undecided: float | None = None   # the checker could not decide: skip rather than punish

    def of(self, v: Verdict) -> float | None:
        return self.correct if v.equal is True else self.undecided if v.equal is None else (
            self.no_answer if v.pred_answer is None else self.wrong)


def outcome(v: Verdict) -> str:
    """"correct", "wrong", "no_answer" or "undecided"."""
    if v.equal is None:
        return "undecided"
    if v.equal:
        return "correct"
    return "no_answer" if v.pred_answer is None else "wrong"


def strip_special_tail(text: str) -> str:
    """`text` without trailing special tokens such as ``<|im_end|>``, ``</s>``, ``<pad>``.

    >>> strip_special_tail("so it is 2.<|im_end|><|endoftext|>")
    'so it is 2.'
    """
    end = len(text)
    while True:  # one token at a time, each searched in the 64 characters before `end`: linear, no copies
        while end and text[end - 1].isspace():
            end -= 1
        m = _SPECIAL_AT_END.search(text, max(0, end - 64), end)
        if m is None:
            return text[:end]
        end = m.start()


def score(v: Verdict, values: RewardValues = RewardValues()) -> float | None:
    return values.of(v)


def check_batch(pairs: Sequence[tuple], *, jobs: int = 1, timeout: float | None = DEFAULT_TIMEOUT,
                deadline: float | None = None) -> list[Verdict]:
    """Check (gold, pred) pairs; in order. `jobs` > 1 uses that many child processes.

    `deadline` (a `time.monotonic()` value) bounds the whole batch: pairs not reached by then
    are undecided with reason "request deadline passed".
    """
    pairs = list(pairs)
    if jobs > 1 and len(pairs) >= IN_PROCESS_BELOW:
        from verify.rewards.pool import shared_pool

        return shared_pool(jobs).check(pairs, timeout, deadline)
    out = []
    for gold, pred in pairs:
        if deadline is not None and time.monotonic() >= deadline:
            out.append(Verdict(None, "request deadline passed", None, None, "timeout"))
            continue
        t = timeout
        if deadline is not None and t is not None:
            t = max(0.01, min(t, deadline - time.monotonic()))
        out.append(check(gold, pred, timeout=t))
    return out


def verdict_fields(v: Verdict) -> dict:
    """The verdict as a JSON-able dict, with its outcome name."""
    return {"equal": v.equal, "outcome": outcome(v), "reason": v.reason, "method": v.method,
            "gold_answer": v.gold_answer, "pred_answer": v.pred_answer}
