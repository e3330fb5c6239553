"""`verify prm train`: options -> prm.train.train -> one summary line.

Registered by verify/commands/prm.py as ``app.command("train")(train_command)``. torch and
transformers are imported only when the command runs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from verify.commands._shell import fail, refuse_unused
from verify.errors import VerifyError

HEADS = {"token-cls": "cls", "cls": "cls", "lm": "lm"}


def train_command(
    ctx: typer.Context,
    data: Path = typer.Option(..., "--data", help="Step-labelled JSONL file."),
    format: str = typer.Option("plain", "--format", help="plain, processbench, math-shepherd, "
                               "prm800k, prm800k-stepwise or math-aps."),
    base_model: str = typer.Option(..., "--base-model", help="HF model directory to start from "
                                   "('smollm2' or a .gguf file with --train-layers)."),
    out: Path = typer.Option(..., "--out", help="Output directory (model, tokenizer, "
                             "prm_spec.json, train_log.jsonl, checkpoint/)."),
    spec: str = typer.Option("token-cls", "--spec", help="Step-tag spec: math-shepherd, "
                             "qwen-prm, rlhflow or token-cls."),
    head: Optional[str] = typer.Option(None, "--head", help="token-cls or lm (default: the "
                                       "spec's own head)."),
    neutral: str = typer.Option("positive", "--neutral", help="PRM800K neutral steps (rating 0): "
                                "positive, negative or skip."),
    soft_labels: bool = typer.Option(False, "--soft-labels", help="Keep labels in [0, 1] "
                                     "(default: round at 0.5)."),
    train_layers: Optional[int] = typer.Option(None, "--train-layers", min=0, help="Freeze the "
                                               "model but its top K layers, final norm and a 2-logit "
                                               "head; the frozen layers run once and are cached "
                                               "(0: head only). Saves only the trained delta."),
    balance: bool = typer.Option(False, "--balance", help="With --train-layers: weigh negative "
                                 "steps by #positive / #negative."),
    frozen_dtype: str = typer.Option("bfloat16", "--frozen-dtype", help="With --train-layers: "
                                     "dtype of the frozen layers (float32 or bfloat16)."),
    save_dtype: str = typer.Option("float32", "--save-dtype", help="With --train-layers: how the delta "
                                   "is saved (float32, float16, bfloat16, or int8-diff: each trained matrix's "
                                   "change from the base, int8 per row, half of float16)."),
    lora: bool = typer.Option(False, "--lora", help="Train LoRA adapters (merged when saved)."),
    lora_r: int = typer.Option(8, "--lora-r", min=1),
    epochs: int = typer.Option(1, "--epochs", min=1),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1,
                                            help="Stop after this many optimizer steps."),
    lr: float = typer.Option(2e-5, "--lr"),
    warmup_steps: int = typer.Option(0, "--warmup-steps", min=0),
    schedule: str = typer.Option("constant", "--schedule", help="After warmup: constant, linear "
                                 "or cosine decay to 0."),
    batch_size: int = typer.Option(8, "--batch-size", min=1),
    grad_accum: int = typer.Option(1, "--grad-accum", min=1),
    max_length: int = typer.Option(1024, "--max-length", min=8),
    seed: int = typer.Option(0, "--seed"),
    save_every: int = typer.Option(50, "--save-every", min=0,
                                   help="Optimizer steps between checkpoints (0: only at the end)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/checkpoint."),
    device: str = typer.Option("cpu", "--device"),
    dtype: str = typer.Option("float32", "--dtype", help="float32, bfloat16, float16."),
    threads: int = typer.Option(0, "--threads", min=0, help="torch CPU threads (0: default). "
                                "On a busy small machine 1 is often fastest."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress lines."),
) -> None:
    """Train a process reward model (loss only at step tags; checkpoint and --resume)."""
    if not lora:
        refuse_unused(ctx, ["lora_r"], "applies with --lora only")
    if train_layers is None:
        refuse_unused(ctx, ["balance", "frozen_dtype", "save_dtype"], "applies with --train-layers only")
    elif lora:
        fail("--train-layers and --lora are two different ways to train; choose one")
    if train_layers is not None:  # before minutes of training, not at the save
        from prm.frozen import SAVE_DTYPES
        if save_dtype not in SAVE_DTYPES:
            fail(f"--save-dtype must be one of {', '.join(SAVE_DTYPES)}, not {save_dtype!r}")
        if frozen_dtype not in ("float32", "bfloat16"):
            fail(f"--frozen-dtype must be float32 or bfloat16, not {frozen_dtype!r}")
    if head is not None and head not in HEADS:
        fail(f"--head must be token-cls or lm, not {head!r}")
    # cheap checks before a model is loaded (a missing --base-model path went to the network)
    problem = ("file not found" if not data.exists() else "is a directory, not a file" if data.is_dir() else None)
    if problem:
        fail(f"{data}: {problem}")
    if base_model.endswith(".gguf") and train_layers is None:
        fail(f"{base_model}: a GGUF base needs --train-layers (the full trainer reads a model directory)")
    if base_model.startswith(("/", "./", "../", "~")) and not base_model.endswith(".gguf") \
            and not Path(base_model).expanduser().is_dir():
        fail(f"{base_model}: --base-model is not a model directory")
    from prm.train import TrainConfig, train

    cfg = TrainConfig(data=str(data), format=format, base_model=base_model, out_dir=str(out),
                      spec=spec, head=None if head is None else HEADS[head], neutral=neutral,
                      soft_labels=soft_labels, lora=lora, lora_r=lora_r, epochs=epochs,
                      max_steps=max_steps, lr=lr, warmup_steps=warmup_steps,
                      schedule=schedule,
                      batch_size=batch_size, grad_accum=grad_accum, max_length=max_length,
                      seed=seed, save_every=save_every, resume=resume, device=device,
                      dtype=dtype, threads=threads, progress=not quiet, train_layers=train_layers,
                      balance=balance, frozen_dtype=frozen_dtype, save_dtype=save_dtype)
    try:
        result = train(cfg)
    except (VerifyError, ValueError, OSError) as exc:  # OSError: a model id not loadable offline; a full disk
        fail(exc)
    typer.echo(f"saved PRM to {result.out_dir}: {result.steps} optimizer steps, "
               f"final loss {result.final_loss:.4f} (log: {Path(result.out_dir) / 'train_log.jsonl'})")
