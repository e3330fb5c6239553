"""verl custom reward functions: `compute_score` (one sample) and `compute_score_batch`.

verl loads a custom reward by file path and function name (``custom_reward_function.path`` /
``.name``) and calls ``compute_score(data_source, solution_str, ground_truth, extra_info)``;
``custom_reward_function.reward_kwargs`` are passed as extra keyword arguments. Its batch
reward manager (``reward_model.reward_manager=batch``) calls ``compute_score(data_sources=,
solution_strs=, ground_truths=, extra_infos=)`` once per batch: name `compute_score_batch`
then, and the batch is checked across `jobs` processes. This file is loaded by path, so it
uses absolute imports only.

    >>> compute_score("openai/gsm8k", "... so the answer is \\\\boxed{72}.", "72")
    1.0
    >>> d = compute_score("math", "so the answer is 5", "4", details=True)
    >>> d["score"], d["acc"], d["outcome"], d["pred_answer"]
    (0.0, 0.0, 'wrong', '5')
"""
from __future__ import annotations

from verify.checker.equivalence import DEFAULT_TIMEOUT
from verify.rewards.core import RewardValues, check_batch, outcome, strip_special_tail


def _result(v, values: RewardValues, details: bool):
    s = values.of(v)
    s = 0.0 if s is None else float(s)  # verl needs a number for every sample
    if not details:
        return s
    # numbers first (verl averages numeric extra fields into validation metrics), then the verdict's text
    return {"score": s, "acc": 1.0 if v.equal is True else 0.0, "undecided": 1.0 if v.equal is None else 0.0,
            "outcome": outcome(v), "reason": v.reason, "method": v.method,
            "gold_answer": v.gold_answer or "", "pred_answer": v.pred_answer or ""}


def compute_score(data_source, solution_str, ground_truth, extra_info=None, *, details: bool = False,
                  correct: float = 1.0, wrong: float = 0.0, no_answer: float = 0.0, undecided: float = 0.0,
                  timeout: float | None = DEFAULT_TIMEOUT, **_ignored):
    """Score one response: a float, or with ``details=True`` a dict with ``score`` and the verdict."""
    (v,) = check_batch([(ground_truth, strip_special_tail(str(solution_str)))], jobs=1, timeout=timeout)
    return _result(v, RewardValues(correct, wrong, no_answer, undecided), details)


def compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos=None, *, jobs: int = 2,
                        details: bool = False, correct: float = 1.0, wrong: float = 0.0, no_answer: float = 0.0,
                        undecided: float = 0.0, timeout: float | None = DEFAULT_TIMEOUT, **_ignored) -> list:
    """Score a batch across `jobs` processes (verl's ``batch`` reward manager calls this)."""
    if len(solution_strs) != len(ground_truths):
        raise ValueError(f"{len(solution_strs)} responses but {len(ground_truths)} ground truths")
    values = RewardValues(correct, wrong, no_answer, undecided)
    texts = [strip_special_tail(str(t)) for t in solution_strs]
    verdicts = check_batch(list(zip(ground_truths, texts)), jobs=jobs, timeout=timeout)
    return [_result(v, values, details) for v in verdicts]
