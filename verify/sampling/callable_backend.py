"""Wrap any Python function `fn(prompt, n) -> list[str]` as a Generator.

The function may also return `Completion` objects or dicts with Completion's fields
(`text`, `num_tokens`, `finish_reason`, `logprob`). If it accepts a `params` keyword it
receives the `SamplingParams`, so it can honour max_tokens or the seed.

Seeds: a function that accepts a `seeds` keyword receives n seeds, one per completion to
return (`sample_seed(seed, problem id, i)` for sample i when run by `verify sample`); drawing
completion j from its own stream seeded with `seeds[j]` makes every sample depend only on
(problem, sample index), so the runner asks it for missing samples only. A function without
`seeds` gets one seed per prompt in `params.seed`: the seed of the prompt's first sample
(`seeds[0]`, which in a `verify sample` run depends only on the problem). Its samples then do not
depend on the order, batching or subset of problems either, and `--extend` gives what one
run with the larger n gives when its first k samples do not depend on n (draws in sequence
from one `random.Random(seed)`, say).
"""
from __future__ import annotations

import inspect
from dataclasses import replace
from typing import Any, Callable, Sequence

from verify.errors import InputError
from verify.sampling.base import Completion, Prompt, SamplingParams, call_seeds


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
        # a function taking `seeds` draws each completion from its own seed (see the module docstring)
        self.per_sample_seeds = sig is not None and "seeds" in sig.parameters
        try:
            if sig is not None:
                # `--model os:system` must fail here, not with a TypeError mid-run
                sig.bind("prompt", 1, **self._extra(None, [0]))
        except TypeError:
            raise InputError(f"{self.name}{sig} cannot be called as fn(prompt, n)", field="model") from None

    def _extra(self, params: SamplingParams | None, seeds: list[int | None]) -> dict[str, Any]:
        kw: dict[str, Any] = {}
        if self._takes_params:
            kw["params"] = params
        if self.per_sample_seeds:
            kw["seeds"] = seeds
        return kw

    def generate(self, prompts: Sequence[Prompt], n: int, params: SamplingParams,
                 seeds: Sequence[Sequence[int | None]] | None = None) -> list[list[Completion]]:
        """n completions per prompt; `seeds[i]` are prompt i's per-sample seeds (given none,
        a function without `seeds` gets `params` as is, as before seeds existed)."""
        given = seeds is not None
        seeds = seeds if given else call_seeds(params.seed, len(prompts), n)
        out = []
        for prompt, row in zip(prompts, seeds):
            own = None if self.per_sample_seeds or not given else row[0]  # one seed for the prompt's n samples
            got = self.fn(prompt, n, **self._extra(params if own is None else params.replace(seed=own), list(row)))
            if isinstance(got, (str, bytes)) or not hasattr(got, "__iter__"):
                raise InputError(f"the generator function returned {type(got).__name__}, expected a list of "
                                 f"n={n} completions", field="generator")
            got = list(got)
            if len(got) != n:
                raise InputError(f"the generator function returned {len(got)} completions, expected n={n}",
                                 field="generator")
            done = [_to_completion(x) for x in got]
            out.append(done if own is None else [c if c.seed is not None else replace(c, seed=own) for c in done])
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
