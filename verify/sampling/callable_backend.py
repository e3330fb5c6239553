"""Wrap any Python function `fn(prompt, n) -> list[str]` as a Generator.

The function may also return `Completion` objects or dicts with Completion's fields
(`text`, `num_tokens`, `finish_reason`, `logprob`). If it accepts a `params` keyword it
receives the `SamplingParams`, so it can honour the seed or max_tokens.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

from verify.errors import InputError
from verify.sampling.base import Completion, Prompt, SamplingParams


class CallableGenerator:
    """Generator around `fn(prompt, n)`.

    >>> g = CallableGenerator(lambda prompt, n: [f"\\\\boxed{{{i}}}" for i in range(n)])
    >>> [c.text for c in g.generate(["q"], 3, SamplingParams())[0]]
    ['\\\\boxed{0}', '\\\\boxed{1}', '\\\\boxed{2}']
    """

    def __init__(self, fn: Callable[..., Sequence[Any]] | str, name: str | None = None):
        if isinstance(fn, str):  # "module:function" from the command line
            from verify.sampling.base import resolve

            fn = resolve(fn)
        if not callable(fn):
            raise InputError(f"expected a callable, got {type(fn).__name__}", field="generator")
        self.fn = fn
        self.name = name or getattr(fn, "__qualname__", None) or type(fn).__name__
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):  # builtins without a signature
            sig = None
        self._takes_params = sig is not None and "params" in sig.parameters
        try:
            if sig is not None:
                # `--model os:system` must fail here, not with a TypeError mid-run
                sig.bind("prompt", 1, **({"params": None} if self._takes_params else {}))
        except TypeError:
            raise InputError(f"{self.name}{sig} cannot be called as fn(prompt, n)", field="model") from None

    def generate(self, prompts: Sequence[Prompt], n: int, params: SamplingParams) -> list[list[Completion]]:
        out = []
        for prompt in prompts:
            got = self.fn(prompt, n, params=params) if self._takes_params else self.fn(prompt, n)
            if isinstance(got, (str, bytes)) or not hasattr(got, "__iter__"):
                raise InputError(f"the generator function returned {type(got).__name__}, expected a list of "
                                 f"n={n} completions", field="generator")
            got = list(got)
            if len(got) != n:
                raise InputError(f"the generator function returned {len(got)} completions, expected n={n}",
                                 field="generator")
            out.append([_to_completion(x) for x in got])
        return out


def _to_completion(x: Any) -> Completion:
    if isinstance(x, Completion):
        return x
    if isinstance(x, str):
        return Completion(text=x)
    if isinstance(x, dict) and isinstance(x.get("text"), str):
        known = Completion.__dataclass_fields__
        return Completion(**{k: v for k, v in x.items() if k in known})
    raise InputError(f"the generator function returned a {type(x).__name__}; expected str, dict or Completion",
                     field="generator")
