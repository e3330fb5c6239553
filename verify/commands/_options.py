"""Options shared by `verify sample` and `verify eval`: one name, one meaning, one default.

Sampling defaults live in `verify.sampling.base.SamplingParams`; the options default to None
and `sampling_params` fills them in, so the two commands cannot drift apart. The numbers in
the help texts are checked against SamplingParams by tests/test_cli_vocabulary.py (the help
is built without importing verify.sampling, which `verify --help` should not pay for).
"""
from __future__ import annotations

from typing import Any, Optional

import typer

from verify.commands._shell import fail, given

# backend -> the options it reads; any other backend given one of them is refused
BACKEND_OPTIONS = {
    "dtype": ("transformers", "vllm", "auto"),
    "threads": ("transformers", "ct2", "auto"),
    "tensor_parallel_size": ("vllm",),
    "data_parallel_size": ("vllm",),
    "base_url": ("openai",),
}
KNOWN_BACKENDS = ("auto", "transformers", "ct2", "vllm", "openai", "callable", "replay")


def temperature(prefix: str = "") -> Any:
    return typer.Option(None, "--temperature", help=f"{prefix}Sampling temperature; 0 is greedy. [default: 0.7]")


def top_p(prefix: str = "") -> Any:
    return typer.Option(None, "--top-p", help=f"{prefix}Nucleus sampling mass. [default: 1.0]")


def max_tokens(prefix: str = "") -> Any:
    return typer.Option(None, "--max-tokens",
                        help=f"{prefix}Generated tokens per sample at most. [default: the benchmark's own "
                             "(arith: 160), else 512]")


def split(prefix: str = "") -> Any:
    return typer.Option(None, "--split", help=f"{prefix}Split of a hub id or dataset folder. [default: the benchmark's own, else test]")


def question_field(prefix: str = "") -> Any:
    return typer.Option(None, "--question-field", help=f"{prefix}Row field holding the question "
                        "(default: problem, question or query).")


def answer_field(prefix: str = "") -> Any:
    return typer.Option(None, "--answer-field", help=f"{prefix}Row field holding the gold answer "
                        "(default: answer, gt, final_answer or gold).")


def id_field(prefix: str = "") -> Any:
    return typer.Option(None, "--id-field", help=f"{prefix}Row field holding the problem id "
                        "(default: id, idx, unique_id, problem_idx or problem_id; else the row number).")


def threads(prefix: str = "") -> Any:
    return typer.Option(None, "--threads", min=1, help=f"{prefix}torch CPU threads (transformers backend).")


def quiet() -> Any:
    return typer.Option(False, "--quiet", "-q", help="No progress line.")


def sampling_values(dataset: Optional[str], temperature: Optional[float], top_p: Optional[float],
                    max_tokens: Optional[int]) -> tuple[float, float, int]:
    """(temperature, top_p, max_tokens): the given values, else the benchmark's and SamplingParams' defaults."""
    from evals.benchmarks import default_max_tokens
    from verify.sampling.base import SamplingParams

    d = SamplingParams()
    return (d.temperature if temperature is None else temperature,
            d.top_p if top_p is None else top_p,
            max_tokens if max_tokens is not None else (default_max_tokens(dataset) or d.max_tokens))


def refuse_backend_options(ctx: typer.Context, backend: str) -> None:
    """Exit 2 if an option the chosen backend would ignore was given (e.g. --base-url with transformers)."""
    if backend not in KNOWN_BACKENDS:  # a plugin backend by import string: its options are its own business
        return
    for name, backends in BACKEND_OPTIONS.items():
        if any(p.name == name for p in ctx.command.params) and given(ctx, name) and backend not in backends:
            flag = "--" + name.replace("_", "-")
            names = backends[0] if len(backends) == 1 else f"{', '.join(backends[:-1])} or {backends[-1]}"
            fail(f"{flag} applies to --backend {names} only, not {backend}")
