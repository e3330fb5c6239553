"""`verify sample`: N traces per problem into a resumable JSONL file (see verify/sampling/run.py)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from verify.commands import _options as opt
from verify.commands import check_range
from verify.commands._shell import fail, refuse_unused
from verify.errors import VerifyError


def command(
    ctx: typer.Context,
    dataset: str = typer.Option(..., "--dataset", "-d", help="aime24, aime25, amc23, math500, gsm8k, arith; "
                                "a hub id (owner/name); or a local file or dataset folder"),
    out: Path = typer.Option(..., "--out", "-o", help="samples JSONL (appended to; reruns resume)"),
    data_file: Optional[Path] = typer.Option(None, "--data-file", help="local JSONL/Parquet instead of the hub"),
    split: Optional[str] = opt.split(),
    question_field: Optional[str] = opt.question_field(),
    answer_field: Optional[str] = opt.answer_field(),
    id_field: Optional[str] = opt.id_field(),
    model: Optional[str] = typer.Option(None, "--model", "-m",
                                        help="model path/id ('smollm2' default for transformers); served model "
                                             "name (openai); module:function (callable); samples file (replay)"),
    backend: str = typer.Option("transformers", "--backend", "-b",
                                help="transformers, vllm, openai, callable, replay"),
    n: int = typer.Option(8, "-n", help="samples per problem (the budget with --adaptive)"),
    limit: Optional[int] = typer.Option(None, "--limit", help="first L problems only"),
    temperature: Optional[float] = opt.temperature(),
    top_p: Optional[float] = opt.top_p(),
    max_tokens: Optional[int] = opt.max_tokens(),
    seed: int = typer.Option(0, "--seed"),
    stop: List[str] = typer.Option([], "--stop", help="stop string (repeatable)"),
    batch_size: int = typer.Option(8, "--batch-size", help="prompts per generate call"),
    step_sep: str = typer.Option("\\n\\n", "--step-sep", help="step separator, with \\n escapes"),
    prompt: str = typer.Option("auto", "--prompt", help="prompt family: auto, chat, qwen-math, fewshot-boxed, base"),
    adaptive: bool = typer.Option(False, "--adaptive", help="sample in rounds; stop problems early"),
    adaptive_rule: str = typer.Option("beta", "--adaptive-rule", help="beta, esc, overtake or confidence"),
    round_size: int = typer.Option(2, "--round-size", help="samples per problem per adaptive round"),
    confidence: float = typer.Option(0.95, "--confidence", help="beta rule threshold"),
    dtype: str = typer.Option("auto", "--dtype", help="model dtype (transformers, vllm)"),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible server, e.g. http://host:8000/v1"),
    tensor_parallel_size: int = typer.Option(1, "--tensor-parallel-size"),
    data_parallel_size: int = typer.Option(1, "--data-parallel-size"),
    threads: Optional[int] = opt.threads(),
    engine: str = typer.Option("local", "--engine", help="local (this process) or ray (a Ray cluster)"),
    ray_address: Optional[str] = typer.Option(None, "--ray-address",
                                              help="Ray cluster to join (default: start one here)"),
    ray_workers: Optional[int] = typer.Option(None, "--ray-workers", min=1,
                                              help="Ray workers, one generator each (default: fill the cluster)"),
    quiet: bool = opt.quiet(),
) -> None:
    """Sample N reasoning traces per problem into OUT (one trace per line, resumable)."""
    if not adaptive:
        refuse_unused(ctx, ["adaptive_rule", "round_size", "confidence"], "applies with --adaptive only")
    opt.refuse_backend_options(ctx, backend)
    temperature, top_p, max_tokens = opt.sampling_values(dataset, temperature, top_p, max_tokens)
    check_range("--temperature", temperature, low=0)
    check_range("--top-p", top_p, low=0, high=1, low_open=True)
    check_range("--max-tokens", max_tokens, low=1)
    check_range("--confidence", confidence, low=0, high=1, low_open=True)
    from evals.benchmarks import Fields, load_problems
    from evals.prompts import build_prompt, family_for_model
    from verify.sampling.adaptive import AdaptiveRule
    from verify.sampling.base import SamplingParams
    from verify.sampling.factory import build_generator
    from verify.sampling.run import sample_to_file
    from verify.records.steps import parse_sep

    try:
        problems = load_problems(dataset, data_file, limit, split=split,
                                 fields=Fields(question_field, answer_field, id_field))
        family = family_for_model(model if backend in ("transformers", "vllm", "openai") else None) \
            if prompt == "auto" else prompt
        build_prompt(problems[0], family)  # unknown family: fail before loading a model
        params = SamplingParams(temperature=temperature, top_p=top_p, max_tokens=max_tokens, stop=tuple(stop),
                                seed=seed)
        rule = AdaptiveRule(budget=n, round_size=round_size, rule=adaptive_rule, confidence=confidence) \
            if adaptive else None
        if engine not in ("local", "ray"):
            raise ValueError(f"--engine must be local or ray, not {engine!r}")
        build_kw = dict(problems=problems, dtype=dtype, base_url=base_url, tensor_parallel_size=tensor_parallel_size,
                        data_parallel_size=data_parallel_size, seed=seed, threads=threads)
        gen = executor = None
        if engine == "ray":  # each Ray worker builds its own generator; this process only writes
            from verify.sampling.ray_engine import generator_executor
            executor = generator_executor(backend, model, address=ray_address, workers=ray_workers, **build_kw)
        else:
            gen = build_generator(backend, model, **build_kw)
        report = sample_to_file(problems, gen, out, n=n, params=params, batch_size=batch_size,
                                prompt=lambda p: build_prompt(p, family), step_sep=parse_sep(step_sep),
                                backend=backend, model=model or getattr(gen, "name", None), adaptive=rule,
                                progress=not quiet, executor=executor,
                                inputs=(data_file, model if backend == "replay" else None))
    except (VerifyError, ValueError) as exc:
        fail(exc)
    typer.echo(report.summary())
