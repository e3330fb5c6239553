"""A generator's completion becomes a `Trace` here, and only here.

`completion_to_trace` is what `verify sample` (`verify.sampling.run.sample_to_file`), the eval
runner (which samples through it) and `verify.api.Verifier` use, so that the answer
extraction, the step split, token counts, finish reason and the token-confidence summary
cannot differ between the CLI and the Python API.
"""
from __future__ import annotations

from typing import Any

from verify.checker.extract import extract_answer
from verify.records.steps import DEFAULT_SEP, split_steps
from verify.records.types import Problem, Trace
from verify.sampling.base import Completion


def completion_to_trace(problem: Problem, index: int, completion: Completion, *, step_sep: str = DEFAULT_SEP,
                        sampling: dict[str, Any] | None = None) -> Trace:
    """The trace of sample `index` of `problem`: steps split by `step_sep`, the extracted
    answer, the gold answer carried along, token counts and finish reason; the completion's
    logprob goes to `meta`, a token-confidence summary (when the backend gave token
    logprobs) to `confidence`.

    >>> t = completion_to_trace(Problem("p1", "1 + 1?", "2"), 0, Completion("1 + 1 = 2.\\n\\n\\\\boxed{2}", num_tokens=9))
    >>> t.steps, t.answer, t.gold, t.num_tokens
    (('1 + 1 = 2.', '\\\\boxed{2}'), '2', '2', 9)
    """
    text = completion.text
    steps = split_steps(text, step_sep)
    extra: dict[str, Any] = {}
    token_logprobs = getattr(completion, "token_logprobs", None)
    if token_logprobs:  # only backends that return token logprobs carry a confidence summary
        from verify.records.confidence import summarize

        extra["confidence"] = summarize(text, steps, token_logprobs, getattr(completion, "token_confidence", None),
                                        getattr(completion, "token_ends", None))
    return Trace(problem_id=problem.id, sample_index=index, text=text, steps=steps, answer=extract_answer(text),
                 gold=problem.gold or None, num_tokens=completion.num_tokens, prompt_tokens=completion.prompt_tokens,
                 finish_reason=completion.finish_reason, sampling=dict(sampling or {}),
                 meta={} if completion.logprob is None else {"logprob": completion.logprob}, **extra)
