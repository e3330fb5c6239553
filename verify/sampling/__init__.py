"""Generator protocol and backends (vllm is imported in exactly one module, vllm_backend.py).

    >>> from verify.sampling import SamplingParams, get_generator
    >>> gen = get_generator("callable", fn=lambda prompt, n: ["\\\\boxed{4}"] * n)
    >>> [c.text for c in gen.generate(["2+2?"], 2, SamplingParams())[0]]
    ['\\\\boxed{4}', '\\\\boxed{4}']

Backends: transformers, vllm, openai, callable, replay (see `BACKENDS`). `sample_to_file`
(run.py) writes resumable samples files; `AdaptiveRule` (adaptive.py) stops early.
"""
from verify.sampling.adaptive import AdaptiveRule
from verify.sampling.base import BACKENDS, Completion, Generator, SamplingParams, get_generator
from verify.sampling.run import SampleReport, sample_to_file

__all__ = ["AdaptiveRule", "BACKENDS", "Completion", "Generator", "SampleReport", "SamplingParams",
           "get_generator", "sample_to_file"]
