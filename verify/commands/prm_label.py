"""`verify prm label`: Math-Shepherd-style step labels for a samples file (see prm/label.py)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from verify.commands import check_range
from verify.errors import VerifyError


def label_command(
    samples: Path = typer.Option(..., "--samples", help="samples JSONL to label (from `verify sample`)"),
    dataset: str = typer.Option(..., "--dataset", "-d", help="the problems the samples answer (gold answers, prompts)"),
    out: Path = typer.Option(..., "--out", "-o", help="labels JSONL in the `plain` step format (appended; reruns resume)"),
    data_file: Optional[Path] = typer.Option(None, "--data-file", help="local JSONL/Parquet instead of the hub"),
    k: int = typer.Option(4, "-k", help="rollouts per labelled step"),
    mode: str = typer.Option("full", "--mode", help="full (K rollouts from every step) or decisive (binary search "
                                                     "for the first dead step of wrong traces only)"),
    labels: str = typer.Option("soft", "--labels", help="what `labels` holds: soft (share reaching gold) or hard"),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="the generator that rolls out (as in `verify sample`)"),
    backend: str = typer.Option("transformers", "--backend", "-b", help="transformers, vllm, openai, callable, replay"),
    prompt: str = typer.Option("auto", "--prompt", help="prompt family the samples were drawn with"),
    temperature: float = typer.Option(0.7, "--temperature"),
    top_p: float = typer.Option(0.95, "--top-p"),
    max_tokens: int = typer.Option(256, "--max-tokens", help="per rollout"),
    seed: int = typer.Option(0, "--seed"),
    step_sep: str = typer.Option("\\n\\n", "--step-sep", help="step separator, with \\n escapes"),
    dtype: str = typer.Option("auto", "--dtype"),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible server"),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch CPU threads (transformers backend)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress line"),
) -> None:
    """Label every step of a samples file by rolling out K continuations and checking them."""
    check_range("--temperature", temperature, low=0)
    check_range("--top-p", top_p, low=0, high=1, low_open=True)
    check_range("--max-tokens", max_tokens, low=1)
    check_range("-k", k, low=1, high=1024)
    from evals.benchmarks import load_problems
    from evals.prompts import build_prompt, family_for_model
    from prm.label import LABEL_KINDS, MODES, label_samples
    from verify.records.steps import parse_sep
    from verify.sampling.base import SamplingParams
    from verify.sampling.factory import build_generator

    for name, value, known in (("--mode", mode, MODES), ("--labels", labels, LABEL_KINDS)):
        if value not in known:
            typer.echo(f"error: {name} must be one of {', '.join(known)}, got {value!r}", err=True)
            raise typer.Exit(2)
    try:
        problems = load_problems(dataset, data_file, None)
        by_id = {p.id: p for p in problems}
        family = family_for_model(model if backend in ("transformers", "vllm", "openai") else None) \
            if prompt == "auto" else prompt
        build_prompt(problems[0], family)  # unknown family: fail before loading a model
        params = SamplingParams(temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed)
        gen = build_generator(backend, model, problems=problems, dtype=dtype, base_url=base_url, seed=seed,
                              threads=threads)

        def progress(stats, todo: int) -> None:
            if not quiet:
                print(f"\rlabelled {stats.labelled}/{todo} traces, {stats.rollouts} rollouts", end="",
                      file=sys.stderr, flush=True)

        stats = label_samples(samples, out, gen, prompts=lambda pid: build_prompt(by_id[pid], family),
                              questions={p.id: p.question for p in problems}, golds={p.id: p.gold for p in problems},
                              k=k, params=params, mode=mode, labels=labels, step_sep=parse_sep(step_sep),
                              progress=progress)
        if not quiet:
            print(file=sys.stderr)
    except (VerifyError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{out}: {stats.summary()}")
