"""`verify eval`: accuracy of selection methods, on recorded samples (`--samples`) or end to
end (sample, score, select, grade; `--dataset/--model/--prm`, the default when no
`--samples` is given).

Thin: options -> `evals.evaluate.evaluate_samples` or `evals.runner.run_eval` -> print.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from verify.commands import _options as opt
from verify.commands import check_range
from verify.commands._shell import refuse_unused
from verify.errors import VerifyError

# options that only run mode reads: given with --samples they are refused, not ignored
RUN_MODE_ONLY = ["dataset", "data_file", "split", "question_field", "answer_field", "id_field", "model", "backend",
                 "prm", "n", "out_dir", "limit", "temperature", "top_p", "max_tokens", "batch_size", "device",
                 "dtype", "base_url", "tensor_parallel_size", "threads", "engine", "ray_address", "ray_workers",
                 "extend", "quiet"]
# options that only --samples reads: given in run mode they are refused
SAMPLES_ONLY = ["fmt"]


def command(
    ctx: typer.Context,
    samples: Optional[Path] = typer.Option(None, "--samples",
                                           help="Samples JSONL to evaluate (one trace per line, or --format). "
                                                "Without it, eval samples and scores first (run mode)."),
    method: List[str] = typer.Option(["majority@n"], "--method",
                                     help="Method spec, repeatable: single, pass@k, majority@k (maj@k), "
                                          "weighted-vote@k, prm-best-of-k, best-of-k; k may be n (all)."),
    reduce: str = typer.Option("prod", "--reduce", help="Step-score reduction: prod | min | last | mean."),
    subsets: str = typer.Option("exact", "--subsets",
                                help="exact: expectation over all k-subsets; first: the first k samples."),
    group: List[str] = typer.Option(["equivalence"], "--group",
                                    help="Answer grouping for votes, repeatable: equivalence | string."),
    grade: str = typer.Option("checker", "--grade",
                              help="checker: compare answers with gold; source: the file's per-sample "
                                   "'correct' labels."),
    tie: str = typer.Option("first", "--tie", help="Tie rule for --subsets first: first | score | random."),
    drop_unfinished: bool = typer.Option(False, "--drop-unfinished",
                                         help="Remove finish_reason=length traces (default: they abstain)."),
    fmt: str = typer.Option("verify", "--format", help="Input format: verify | qwen-rm-maj | prm-scored | sal."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write results (and curves) as JSON."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="PNG: accuracy against k with 95% CI bands."),
    per_problem: Optional[Path] = typer.Option(None, "--per-problem",
                                               help="JSONL: one line per problem and method (value, votes, classes)."),
    seed: int = typer.Option(0, "--seed", help="Seed for bootstrap, Monte-Carlo and random ties."),
    n_boot: int = typer.Option(2000, "--n-boot", min=1, help="Bootstrap resamples for the 95% CI."),
    mc_trials: int = typer.Option(2000, "--mc-trials", min=1, help="Monte-Carlo subsets where exact is infeasible."),
    dataset: Optional[str] = typer.Option(None, "--dataset", "-d",
                                          help="Run mode: benchmark (arith, gsm8k, math500, aime24, aime25, "
                                               "amc23), a hub id (owner/name) or a local file or dataset folder; "
                                               "default: the project's arithmetic set."),
    data_file: Optional[Path] = typer.Option(None, "--data-file", help="Run mode: local JSONL/Parquet problems."),
    split: Optional[str] = opt.split("Run mode: "),
    question_field: Optional[str] = opt.question_field("Run mode: "),
    answer_field: Optional[str] = opt.answer_field("Run mode: "),
    id_field: Optional[str] = opt.id_field("Run mode: "),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Run mode: model path/id; default SmolLM2-135M."),
    backend: str = typer.Option("auto", "--backend", "-b",
                                help="Run mode: auto (ct2 if installed, else transformers) | ct2 | transformers "
                                     "| vllm | openai | callable | replay."),
    prm: Optional[str] = typer.Option(None, "--prm",
                                      help="Run mode: PRM directory, 'arith' or python:module:function; "
                                           "default arith."),
    n: Optional[int] = typer.Option(None, "-n", help="Run mode: samples per problem (default: largest k)."),
    out_dir: Path = typer.Option(Path("runs/default"), "--out-dir", help="Run mode: run folder (resumed)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Run mode: first L problems only."),
    temperature: Optional[float] = opt.temperature("Run mode: "),
    top_p: Optional[float] = opt.top_p("Run mode: "),
    max_tokens: Optional[int] = opt.max_tokens("Run mode: "),
    batch_size: int = typer.Option(8, "--batch-size", help="Run mode: prompts per generate call."),
    device: Optional[str] = typer.Option(None, "--device", help="Run mode: cpu | cuda (transformers, PRM)."),
    dtype: str = typer.Option("auto", "--dtype", help="Run mode: model dtype (auto, float32, bfloat16)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="Run mode: OpenAI-compatible server URL."),
    tensor_parallel_size: int = typer.Option(1, "--tensor-parallel-size", help="Run mode: vLLM GPUs per model."),
    threads: Optional[int] = opt.threads("Run mode: "),
    engine: str = typer.Option("local", "--engine", help="Run mode: local, or ray (sample and score on Ray)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Run mode: Ray cluster to join."),
    ray_workers: Optional[int] = typer.Option(None, "--ray-workers", min=1, help="Run mode: Ray workers."),
    price_in: Optional[float] = typer.Option(None, "--price-in", help="Prompt price per million tokens."),
    price_out: Optional[float] = typer.Option(None, "--price-out", help="Generated-token price per million."),
    prm_price: Optional[float] = typer.Option(None, "--prm-price", help="PRM forward-token price per million."),
    pareto: bool = typer.Option(False, "--pareto", help="Print the accuracy-versus-cost frontier."),
    extend: bool = typer.Option(False, "--extend",
                                help="Run mode: sample more per problem than the run folder holds (a method "
                                     "with a larger k); without it that is refused, saying what it would sample."),
    quiet: bool = opt.quiet(),
) -> None:
    """Evaluate aggregation methods: on a samples file (--samples), or end to end."""
    if samples is not None:
        refuse_unused(ctx, RUN_MODE_ONLY, "applies to run mode only (without --samples)")
    for name, price in (("--price-in", price_in), ("--price-out", price_out), ("--prm-price", prm_price)):
        check_range(name, price, low=0)
    if samples is None:
        refuse_unused(ctx, SAMPLES_ONLY, "applies to --samples only")
        opt.refuse_backend_options(ctx, backend)
        temperature, top_p, max_tokens = opt.sampling_values(dataset or "arith", temperature, top_p, max_tokens)
        if engine not in ("local", "ray"):
            raise typer.BadParameter(f"must be local or ray, not {engine!r}", param_hint="--engine")
        check_range("--temperature", temperature, low=0)
        check_range("--top-p", top_p, low=0, high=1, low_open=True)
        check_range("--max-tokens", max_tokens, low=1)
        from verify.commands.eval_run import run_mode
        run_mode(dict(methods=method, dataset=dataset, data_file=None if data_file is None else str(data_file),
                      model=model, backend=backend, prm=prm, n=n, out_dir=str(out_dir), limit=limit,
                      seed=seed, temperature=temperature, top_p=top_p, max_tokens=max_tokens,
                      batch_size=batch_size, reduce=reduce, dtype=dtype, device=device, base_url=base_url,
                      tensor_parallel_size=tensor_parallel_size, n_boot=n_boot, engine=engine,
                      split=split, question_field=question_field, answer_field=answer_field, id_field=id_field,
                      threads=threads, progress=not quiet,
                      ray_address=ray_address, ray_workers=ray_workers, extend=extend, subsets=subsets,
                      groups=tuple(group), grade=grade, tie=tie, drop_unfinished=drop_unfinished,
                      mc_trials=mc_trials),
                 prices=(price_in, price_out, prm_price), pareto=pareto,
                 outputs={"json": json_out, "plot": plot, "per_problem": per_problem})
        return
    from evals.cost import Prices
    from evals.evaluate import evaluate_samples
    from evals.table import notes_lines, pareto_lines, results_table
    from evals.importers import load_samples
    from verify.records.io import write_json_atomic, write_jsonl_atomic

    def progress(msg: str, milestone: bool) -> None:
        if sys.stderr.isatty():
            print(f"\r\033[K{msg}", end="", file=sys.stderr, flush=True)
        elif milestone:  # logs and pipes get one line per stage, not a moving counter
            print(msg, file=sys.stderr, flush=True)

    from verify.records.outputs import refuse_overlap
    try:
        refuse_overlap({"--json": json_out, "--per-problem": per_problem, "--plot": plot}, {"--samples": samples})
        traces = load_samples(samples, fmt)
        report = evaluate_samples(traces, method, reduce=reduce, subsets=subsets, groups=group, grade=grade,
                                  tie=tie, drop_unfinished=drop_unfinished, seed=seed, n_boot=n_boot,
                                  mc_trials=mc_trials, curves=plot is not None, progress=progress,
                                  prices=Prices(price_in, price_out, prm_price))
    except (VerifyError, ValueError) as exc:
        if sys.stderr.isatty():
            print(file=sys.stderr)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr)
    report.config["samples"] = str(samples)
    report.config["format"] = fmt
    try:
        if per_problem is not None:
            write_jsonl_atomic(per_problem, report.per_problem)
        if json_out is not None:
            write_json_atomic(json_out, report.to_dict())
        typer.echo(results_table(report.results))
        for line in notes_lines(report) + (pareto_lines(report.results) if pareto else []):
            typer.echo(line)
        if plot is not None:
            from evals.plots import plot_accuracy_vs_k
            plot_accuracy_vs_k(report.curves, plot, title=f"{samples.name}: accuracy against k ({subsets} subsets)")
            typer.echo(f"plot: {plot}")
    except VerifyError as exc:  # an output path that cannot be written
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    if json_out is not None:
        typer.echo(f"json: {json_out}")
    if per_problem is not None:
        typer.echo(f"per-problem: {per_problem}")
