"""Prompt templates per model family, all asking for the final answer in `\\boxed{}`.

A template turns a `Problem` into either a plain string (base models, completions
endpoints) or a list of chat messages (instruct models; the backend applies the model's
own chat template). Small instruct models (SmolLM2-135M) only end with `\\boxed{}` when
shown worked examples, so the `fewshot-boxed` family puts two of them in as earlier chat
turns. The Qwen2.5-Math system prompt is the one its evaluation scripts use.
"""
from __future__ import annotations

from typing import Callable, Union

from verify.errors import UnknownSpecError
from verify.records.types import Problem

Messages = list[dict[str, str]]
Prompt = Union[str, Messages]

BOXED_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."

# Two worked examples, written for this project: short steps, one blank line between steps,
# answer boxed at the end (the shape the step splitter and the extractor expect).
FEW_SHOT = [
    ("What is 2 + 6?",
     "2 + 6 = 8.\n\nThe answer is \\boxed{8}."),
    ("Kim has 5 cups and buys 4 more cups. How many cups does Kim have now?",
     "Kim starts with 5 cups and buys 4 more.\n\n5 + 4 = 9.\n\nThe answer is \\boxed{9}."),
]


def _chat(p: Problem) -> Messages:
    return [{"role": "user", "content": f"{p.question}\n{BOXED_INSTRUCTION}"}]


def _qwen_math(p: Problem) -> Messages:
    return [{"role": "system", "content": BOXED_INSTRUCTION}, {"role": "user", "content": p.question}]


def _fewshot_boxed(p: Problem) -> Messages:
    msgs: Messages = []
    for q, a in FEW_SHOT:
        msgs += [{"role": "user", "content": f"{q}\n{BOXED_INSTRUCTION}"}, {"role": "assistant", "content": a}]
    return msgs + [{"role": "user", "content": f"{p.question}\n{BOXED_INSTRUCTION}"}]


def _base(p: Problem) -> str:
    shots = "".join(f"Question: {q}\nAnswer: {a}\n\n" for q, a in FEW_SHOT)
    return f"{shots}Question: {p.question}\nAnswer:"


TEMPLATES: dict[str, Callable[[Problem], Prompt]] = {
    "chat": _chat,
    "qwen-math": _qwen_math,
    "fewshot-boxed": _fewshot_boxed,
    "base": _base,
}


def family_for_model(model: str | None) -> str:
    """Guess the template family from a model name or path.

    >>> family_for_model("Qwen/Qwen2.5-Math-7B-Instruct"), family_for_model("smollm2")
    ('qwen-math', 'fewshot-boxed')
    """
    name = (model or "").lower()
    if "qwen" in name and "math" in name:
        return "qwen-math"
    if "smollm" in name or name in ("", "default"):
        return "fewshot-boxed"
    if "instruct" in name or "chat" in name or "-it" in name:
        return "chat"
    return "chat"


def build_prompt(problem: Problem, family: str = "chat") -> Prompt:
    """The prompt for one problem in the given family.

    >>> build_prompt(Problem("p", "What is 1 + 1?", "2"), "base").endswith("Question: What is 1 + 1?\\nAnswer:")
    True
    """
    try:
        return TEMPLATES[family](problem)
    except KeyError:
        raise UnknownSpecError(f"unknown prompt family {family!r}; known: {', '.join(TEMPLATES)}") from None
