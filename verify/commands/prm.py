"""`verify prm ...`: train a PRM, add step scores to a samples file, evaluate on ProcessBench.

Thin commands: options -> one library call -> print. torch is imported only when a model
directory is loaded (or by `train`), never by `verify --help`. Exit codes follow the shell's
policy (`verify.commands._shell`): 0 success, 2 bad input data, scorer or usage (the message
names file, line and field).
"""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Any, Optional

import typer

from verify.commands import _options as opt
from verify.commands._shell import fail, refuse_unused
from verify.errors import InputError, UnknownSpecError, VerifyError

app = typer.Typer(help="Process reward models: train, score, evaluate.", no_args_is_help=True,
                  rich_markup_mode=None)

PRM_HELP = "Scorer: 'arith', 'python:module:function', or a trained PRM directory."


def _refuse_model_options(ctx: typer.Context, prm: str) -> None:
    """--device/--dtype/--spec configure a model directory; 'arith' and python: scorers would ignore them."""
    if prm == "arith" or prm.startswith("python:"):
        refuse_unused(ctx, ["device", "dtype", "spec"], "applies to a PRM model directory only, not --prm " + prm)


@app.command("eval")
def eval_command(
    ctx: typer.Context,
    data: Path = typer.Option(..., "--data", help="ProcessBench JSONL (id, problem, steps, label)."),
    prm: str = typer.Option(..., "--prm", help=PRM_HELP),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="A step scored below this is an error "
                                              "[default: the PRM's own threshold rule or threshold if it has one, "
                                              "else 0.5]."),
    sweep: bool = typer.Option(False, "--sweep", help="Also report the F1-best threshold (tuned on this data)."),
    crossfit: int = typer.Option(0, "--crossfit", min=0, help="Also report F1 with the threshold cross-fitted over "
                                 "K folds of problems (each fold at the other folds' F1-best threshold); 0: off."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the summary as JSON here."),
    records: Optional[Path] = typer.Option(None, "--records", help="Write per-sample predictions (JSONL) here."),
    batch_size: int = typer.Option(16, "--batch-size", min=1),
    device: str = typer.Option("cpu", "--device", help="Model scorers: torch device."),
    dtype: str = typer.Option("float32", "--dtype", help="Model scorers: float32, bfloat16, float16, auto."),
    spec: Optional[str] = typer.Option(None, "--spec", help="Model scorers: step-tag spec if the directory has none."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N samples."),
    n_boot: int = typer.Option(1000, "--n-boot", min=10, help="Bootstrap resamples for the 95% CIs."),
    seed: int = typer.Option(0, "--seed"),
    quiet: bool = opt.quiet(),
) -> None:
    """ProcessBench: accuracy on erroneous and on correct samples, F1, step AUROC (95% CIs)."""
    _refuse_model_options(ctx, prm)
    from verify.commands import check_range
    if threshold is not None:
        check_range("--threshold", threshold, low=0, high=1)  # nan was accepted and printed F1 0.000
    from prm.processbench import evaluate_processbench
    from prm.scorers import load_scorer
    from verify.records.outputs import refuse_overlap
    try:
        refuse_overlap({"--json": json_out, "--records": records}, {"--data": data})
        scorer = load_scorer(prm, device=device, dtype=dtype, batch_size=batch_size, prm_spec=spec)
        result = evaluate_processbench(data, scorer, threshold=threshold, sweep=sweep, batch_size=batch_size,
                                       records=records, n_boot=n_boot, seed=seed, progress=not quiet,
                                       limit=limit, crossfit=crossfit)
        if result["n"] == 0:  # an empty file must not print a report of nothing with exit 0
            raise InputError("no samples in file", path=str(data))
        if json_out is not None:
            from verify.records.io import write_json_atomic
            write_json_atomic(json_out, _json_safe(result))
    except VerifyError as exc:
        fail(exc)
    typer.echo(format_eval(result))


def format_eval(result: dict[str, Any]) -> str:
    """The text table `verify prm eval` prints."""
    r = result["report"]
    lines = [f"ProcessBench {Path(result['data']).name}: n={result['n']} "
             f"({r['n_error']} with an error, {r['n_correct']} fully correct), scorer {result['scorer']}"]
    own = " (the PRM's own, chosen on its validation data)" if result.get("threshold_source") == "the PRM's own" else ""
    rule = result.get("threshold_rule")
    if rule:
        what = "steps" if rule["kind"] == "step-rate" else "solutions"
        own = (f" (the PRM's {rule['kind']} rule: {100 * rule['rate']:.1f}% of the {what} here score below it, the share "
               f"below its F1-best {rule['threshold']:.3g} on its validation data; set from scores, not labels)")
    lines += _report_lines(r, f"threshold {r['threshold']:.4g}{own}",
                           f1_note="bootstrap over problems, threshold set again in each; 95% CI" if rule else None)
    lines.append(f"  forward tokens                {result['forward_tokens']}")
    if result.get("tuned"):
        lines += _report_lines(result["tuned"], f"threshold {result['tuned']['threshold']:.4g} "
                                                "TUNED ON THIS TEST SET (optimistic)")
    c = result.get("crossfit")
    if c:
        ts = [t for t in c["fold_thresholds"] if math.isfinite(t)]
        lines += [f"  threshold cross-fitted over {c['k']} folds of {c['n_groups']} problems "
                  f"(fold thresholds {min(ts):.3g} to {max(ts):.3g}; no sample's own label sets its threshold)",
                  f"  accuracy, erroneous samples   {_ci(c['acc_error'], c['acc_error_ci'])}  "
                  f"({c['hits_error']}/{c['n_error']}, Wilson 95% CI)",
                  f"  accuracy, correct samples     {_ci(c['acc_correct'], c['acc_correct_ci'])}  "
                  f"({c['hits_correct']}/{c['n_correct']}, Wilson 95% CI)",
                  f"  F1 (harmonic mean)            {_ci(c['f1'], c['f1_ci'])}  "
                  "(bootstrap over problems, cross-fitting redone in each; 95% CI)"]
    return "\n".join(lines)


def _ci(v: Any, lo_hi: Any) -> str:
    if v is None or lo_hi is None or not math.isfinite(v):  # e.g. F1 with no correct samples
        return "n/a"
    return f"{v:.3f} [{lo_hi[0]:.3f}, {lo_hi[1]:.3f}]"


def _report_lines(r: dict[str, Any], title: str, f1_note: str | None = None) -> list[str]:
    return [
        f"  {title}",
        f"  accuracy, erroneous samples   {_ci(r['acc_error'], r['acc_error_ci'])}  "
        f"({r['hits_error']}/{r['n_error']}, Wilson 95% CI)",
        f"  accuracy, correct samples     {_ci(r['acc_correct'], r['acc_correct_ci'])}  "
        f"({r['hits_correct']}/{r['n_correct']}, Wilson 95% CI)",
        f"  F1 (harmonic mean)            {_ci(r['f1'], r['f1_ci'])}  ({f1_note or 'bootstrap 95% CI'})",
        f"  step AUROC                    {_ci(r['auroc'], r['auroc_ci'])}  "
        f"({r['n_pos_steps']} correct steps, {r['n_neg_steps']} first-error steps; bootstrap 95% CI)",
    ]


@app.command("score")
def score_command(
    ctx: typer.Context,
    samples: Path = typer.Option(..., "--samples", help="Samples JSONL (the schema `verify sample` writes)."),
    prm: str = typer.Option(..., "--prm", help=PRM_HELP),
    out: Path = typer.Option(..., "--out", help="Output JSONL; an existing file is resumed."),
    questions: Optional[Path] = typer.Option(None, "--questions", help="Data JSONL giving each problem's question."),
    batch_size: int = typer.Option(16, "--batch-size", min=1),
    device: str = typer.Option("cpu", "--device"),
    dtype: str = typer.Option("float32", "--dtype"),
    spec: Optional[str] = typer.Option(None, "--spec", help="Step-tag spec for a model directory without one."),
    step_sep: str = typer.Option("\\n\\n", "--step-sep",
                                 help="Split traces without `steps` on this (as `verify sample` does)."),
    engine: str = typer.Option("local", "--engine", help="local (this process) or ray (a Ray cluster)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster to join (default: start one)."),
    ray_workers: Optional[int] = typer.Option(None, "--ray-workers", min=1, help="Ray workers, one scorer each."),
    quiet: bool = opt.quiet(),
) -> None:
    """Add `step_scores` to every trace of a samples file (resumable)."""
    _refuse_model_options(ctx, prm)
    from prm.score_file import load_questions, score_samples
    from prm.scorers import load_scorer
    from verify.records.steps import parse_sep
    try:
        qs = load_questions(questions) if questions is not None else None
        kw = dict(device=device, dtype=dtype, batch_size=batch_size, prm_spec=spec)
        if engine not in ("local", "ray"):
            raise UnknownSpecError(f"--engine must be local or ray, not {engine!r}")
        executor = None
        if engine == "ray":  # each Ray worker loads its own scorer; this process only writes
            from prm.ray_scoring import RayScoreExecutor
            scorer = executor = RayScoreExecutor(prm, address=ray_address, workers=ray_workers,
                                                 gpus_per_worker=1.0 if device.startswith("cuda") else 0.0, **kw)
        else:
            scorer = load_scorer(prm, **kw)
        stats = score_samples(samples, out, scorer, questions=qs, batch_size=batch_size, progress=not quiet,
                              step_sep=parse_sep(step_sep), executor=executor)
    except VerifyError as exc:
        fail(exc)
    typer.echo(f"scored {stats['scored']} traces, {stats['skipped']} already in {out} "
               f"({stats['total']} in {samples}); forward tokens {scorer.forward_tokens}")
    if stats["no_question"] and prm != "arith":
        typer.echo(f"warning: {stats['no_question']} traces had no question (pass --questions)", err=True)


def _json_safe(obj: Any) -> Any:
    """NaN and infinities -> None, tuples -> lists, so the summary is strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _register_train() -> None:
    # verify/commands/prm_train.py is the trainer side's thin command; it must not import torch at import time
    if importlib.util.find_spec("verify.commands.prm_train") is not None:
        from verify.commands.prm_train import train_command
        app.command("train")(train_command)


_register_train()

from verify.commands.prm_label import label_command  # noqa: E402  (imports nothing heavy)

app.command("label")(label_command)
