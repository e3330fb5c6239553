"""PRM trainer: loss only at step-tag positions, lm or token-classification head, resumable.

For each step i with label y_i in [0, 1] (NaN: no loss), the model gives two logits
(wrong, correct) at the step's read position (prm/specs.py) and the loss is the binary
cross-entropy of the 2-way softmax,

    L = - sum_i [ y_i log p_i + (1 - y_i) log (1 - p_i) ] / #labelled steps,

which is the usual cross-entropy for hard labels and its soft-target form for Monte-Carlo
labels (Math-Shepherd, OmegaPRM). Hard-label runs round labels at 0.5. The lm head uses the
``+``/``-`` token logits (Math-Shepherd, RLHFlow); the cls head a 2-label token classifier
(TRL's PRMTrainer, Qwen2.5-Math-PRM). The same :func:`prm.specs.encode` builds the inputs
here and in the scorer, so training and scoring cannot split steps differently.

Checkpoints (every ``save_every`` optimizer steps and at the end) hold the trainable weights,
the optimizer, the RNG states and the data position, in formats that cannot run code when read
(safetensors, JSON, and ``torch.load(weights_only=True)`` for the optimizer; see
:func:`save_checkpoint`); the data order of epoch e is a
permutation seeded by ``seed + e``. A resumed run therefore ends with the same weights as an
uninterrupted one. After an optional linear warmup the learning rate is constant (the
default: ``max_steps`` can then extend a finished run without changing its schedule) or
decays linearly or on a cosine to 0 at the last step.

>>> from prm.train import TrainConfig, train  # doctest: +SKIP
>>> train(TrainConfig(data="d.jsonl", format="plain", base_model="base", out_dir="out"))  # doctest: +SKIP
"""
from __future__ import annotations

import json
import math
import os
import pickle
import random
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from prm.hf_scorer import load_tokenizer, pad_batch, step_logits, torch_dtype
from prm.specs import Encoded, encode, get_spec, label_token_ids, save_spec, with_head
from prm.train_dir import LOG_FILE, check_train_dir
from verify.errors import InputError
from verify.records.io import append_jsonl

CHECKPOINT = "checkpoint"


@dataclass
class TrainConfig:
    """Everything one training run needs (``verify prm train`` options map one to one)."""

    data: str | None = None        # step-labelled JSONL (see prm.formats)
    format: str = "plain"          # plain, processbench, math-shepherd, prm800k, prm800k-stepwise, math-aps
    base_model: str = ""           # HF model directory to start from
    out_dir: str = ""
    spec: str = "token-cls"        # step-tag spec (prm.specs.SPECS)
    head: str | None = None        # "lm" or "cls"; None: the spec's own head
    neutral: str = "positive"      # PRM800K rating 0: positive, negative or skip
    soft_labels: bool = False      # False: labels rounded at 0.5
    lora: bool = False
    lora_r: int = 8
    lora_alpha: int = 16
    epochs: int = 1
    max_steps: int | None = None   # stop after this many optimizer steps (all epochs together)
    lr: float = 2e-5
    warmup_steps: int = 0
    schedule: str = "constant"     # after warmup: "constant", "linear" or "cosine" decay to 0
    weight_decay: float = 0.0
    max_grad_norm: float | None = 1.0  # gradient clipping; None: off
    batch_size: int = 8
    grad_accum: int = 1
    max_length: int = 1024
    seed: int = 0
    resume: bool = False
    save_every: int = 50           # optimizer steps between checkpoints
    log_every: int = 10
    device: str = "cpu"
    dtype: str = "float32"
    threads: int = 0               # torch CPU threads; 0: torch's default
    progress: bool = True          # a progress line with the loss on stderr
    train_layers: int | None = None  # set: freeze the rest, train the top K layers + head (prm/frozen.py)
    balance: bool = False          # train_layers: weigh negative steps by #positive / #negative
    frozen_dtype: str = "bfloat16"  # train_layers: dtype of the frozen layers (computed once, cached)
    save_dtype: str = "float32"    # train_layers: dtype of the saved delta
    cache_states: bool = True      # train_layers: keep the frozen states in verify's cache folder
    examples: Sequence[Any] | None = field(default=None, repr=False)  # StepExamples instead of `data`


@dataclass(frozen=True)
class TrainResult:
    out_dir: str
    steps: int                      # optimizer steps taken in total (including before a resume)
    final_loss: float               # mean loss of the last `log_every` optimizer steps
    history: list[dict] = field(default_factory=list)  # one record per optimizer step


def _load_examples(cfg: TrainConfig) -> list[Any]:
    if cfg.examples is not None:
        return list(cfg.examples)
    if not cfg.data:
        raise InputError("no training data: pass --data")
    from prm.formats import load_step_examples

    return load_step_examples(cfg.data, cfg.format, neutral=cfg.neutral)


def _targets(labels: Sequence[float], soft: bool) -> list[float]:
    """Labels as loss targets: NaN stays NaN (no loss), hard runs round at 0.5."""
    return [x if (soft or math.isnan(x)) else float(x >= 0.5) for x in labels]


def encode_examples(examples: Sequence[Any], spec: Any, tokenizer: Any, max_length: int,
                    soft: bool) -> tuple[list[Encoded], int]:
    """Encode examples with their targets; drop those left with no labelled step.

    Returns (encoded, number dropped).
    """
    out, dropped = [], 0
    for ex in examples:
        e = encode(spec, tokenizer, ex.question, ex.steps, labels=_targets(ex.labels, soft),
                   max_length=max_length)
        if not any(not math.isnan(y) for y in e.labels):
            dropped += 1
            continue
        out.append(e)
    return out, dropped


def step_loss(logits2: Any, targets: Any, weights: Any = None) -> Any:
    """Summed BCE of the 2-way softmax; ``logits2`` (n, 2) as (wrong, correct), ``targets`` (n,),
    each step's term times ``weights`` (n,) when given (the frozen trainer's class weights)."""
    import torch

    logp = torch.log_softmax(logits2, dim=-1)                      # (n, 2)
    terms = targets * logp[:, 1] + (1 - targets) * logp[:, 0]
    return -(terms if weights is None else weights * terms).sum()


def lr_factor(step: int, warmup: int, total: int, schedule: str) -> float:
    """Learning-rate multiplier at optimizer step `step` (0-based): linear warmup, then decay.

    >>> [round(lr_factor(s, 2, 6, "linear"), 2) for s in range(6)]
    [0.5, 1.0, 1.0, 0.75, 0.5, 0.25]
    """
    if warmup and step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    frac = (step - warmup) / max(1, total - warmup)
    if schedule == "linear":
        return max(0.0, 1.0 - frac)
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, frac)))
    raise ValueError(f"schedule must be constant, linear or cosine, not {schedule!r}")


def _prepare_tokenizer(tokenizer: Any, spec: Any) -> bool:
    """Give the tokenizer a pad token and the spec's special tag (e.g. <extra_0>) if missing."""
    added = False
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tag = spec.step_tag
    if tag.startswith("<") and tag.endswith(">") and tag not in tokenizer.get_vocab():
        tokenizer.add_special_tokens({"additional_special_tokens": [tag]},
                                     replace_extra_special_tokens=False)
        added = True
    return added


def _load_model(cfg: TrainConfig, spec: Any, tokenizer: Any, resize: bool) -> Any:
    from transformers import AutoModelForCausalLM, AutoModelForTokenClassification

    kw = {"dtype": torch_dtype(cfg.dtype)}
    if spec.head == "lm":
        model = AutoModelForCausalLM.from_pretrained(cfg.base_model, **kw)
    else:
        model = AutoModelForTokenClassification.from_pretrained(cfg.base_model, num_labels=2, **kw)
    if resize:
        model.resize_token_embeddings(len(tokenizer))
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if cfg.lora:
        from peft import LoraConfig, TaskType, get_peft_model

        head = [n for n in ("score", "classifier") if hasattr(model, n)]
        lcfg = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, target_modules="all-linear",
                          task_type=TaskType.CAUSAL_LM if spec.head == "lm" else TaskType.TOKEN_CLS,
                          modules_to_save=head if spec.head == "cls" else None)
        model = get_peft_model(model, lcfg)
    return model.to(cfg.device)


def _rng_state() -> tuple[dict, Any]:
    """(JSON-safe python and numpy RNG states, torch RNG state tensor)."""
    import torch

    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return ({"python": [version, list(internal), gauss],
             "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)]},
            torch.get_rng_state())


def _set_rng_state(state: dict, torch_state: Any) -> None:
    import torch

    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(torch_state)


def _trainable_state(model: Any) -> dict:
    return {k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad}


STATE_FILE = "state.json"   # counters, history, RNG states, and the names of the two files below


def save_checkpoint(out_dir: Path, model: Any, optimizer: Any, position: dict, history: list) -> Path:
    """Write model, optimizer, RNG and data position in safe formats; return the state file.

    Trainable tensors and the torch RNG state go to ``model-<step>.safetensors``, the optimizer
    state to ``optimizer-<step>.pt`` (tensors and numbers only, read back with
    ``torch.load(weights_only=True)``), everything else to ``state.json``, which is replaced
    last and atomically and names the two files: a crash at any point leaves the previous
    checkpoint whole. Nothing is pickled, so loading a checkpoint can never run code.
    """
    import torch
    from safetensors.torch import save_file

    ckpt = out_dir / CHECKPOINT
    ckpt.mkdir(parents=True, exist_ok=True)
    step = int(position["step"])
    rng, torch_rng = _rng_state()
    tensors = {f"model.{k}": v.contiguous() for k, v in _trainable_state(model).items()}
    tensors["rng.torch"] = torch_rng
    names = {"tensors": f"model-{step}.safetensors", "optimizer": f"optimizer-{step}.pt"}
    save_file(tensors, str(ckpt / names["tensors"]))
    torch.save(optimizer.state_dict(), ckpt / names["optimizer"])
    state = {"format": 2, "files": names, "rng": rng, "position": dict(position), "history": list(history)}
    tmp = ckpt / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    os.replace(tmp, ckpt / STATE_FILE)
    for old in ckpt.iterdir():  # files of earlier checkpoints (and a pre-safetensors state.pt)
        if old.name not in (STATE_FILE, *names.values()) and (old.suffix in (".safetensors", ".pt")):
            old.unlink()
    return ckpt / STATE_FILE


def find_checkpoint(out_dir: Path) -> Path:
    """The state file of the checkpoint in `out_dir`; `InputError` if there is none, or only an
    old pickled ``state.pt`` (never loaded: unpickling can run code). Cheap: call before loading a model."""
    ckpt = Path(out_dir) / CHECKPOINT
    path = ckpt / STATE_FILE
    if not path.is_file():
        if (ckpt / "state.pt").exists():
            raise InputError("checkpoint is in the old pickle format (state.pt), which is never loaded "
                             "because unpickling can run code; start a fresh run", path=str(ckpt / "state.pt"))
        raise InputError("--resume given but there is no checkpoint to resume from", path=str(path))
    return path


def load_checkpoint(out_dir: Path) -> dict:
    """Read a checkpoint written by `save_checkpoint`; never unpickles anything.

    Returns ``{"model", "optimizer", "rng", "torch_rng", "position", "history"}``. A
    checkpoint in the old pickle format (``state.pt``), a missing or damaged file, or a
    state file naming a path outside the checkpoint folder is an `InputError`.
    """
    import torch
    from safetensors.torch import load_file

    ckpt = out_dir / CHECKPOINT
    path = find_checkpoint(out_dir)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        files = {k: state["files"][k] for k in ("tensors", "optimizer")}
        for name in files.values():
            if not isinstance(name, str) or Path(name).name != name:
                raise InputError(f"names a file outside the checkpoint folder: {name!r:.80}", path=str(path),
                                 field="files")
        tensors = load_file(str(ckpt / files["tensors"]))
        optim = torch.load(ckpt / files["optimizer"], weights_only=True)  # tensors and numbers only
        position, history, rng = dict(state["position"]), list(state["history"]), state["rng"]
    except InputError:
        raise
    except pickle.UnpicklingError:  # weights_only refused a global: a planted pickle, never run
        raise InputError("holds objects other than tensors and numbers; refused, loading it could run code",
                         path=str(ckpt / files["optimizer"])) from None
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise InputError(f"cannot read checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})",
                         path=str(ckpt)) from None
    model = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    return {"model": model, "optimizer": optim, "rng": rng, "torch_rng": tensors.get("rng.torch"),
            "position": position, "history": history}


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def train(cfg: TrainConfig, on_step: Callable[[dict], None] | None = None) -> TrainResult:
    """Train a PRM and save it (weights, tokenizer, prm_spec.json) to ``cfg.out_dir``.

    >>> train(TrainConfig(examples=make_arith_examples(500), base_model="tiny",  # doctest: +SKIP
    ...                   out_dir="out", lr=3e-3, batch_size=32, epochs=2))
    """
    import torch

    if not cfg.base_model:
        raise InputError("no base model: pass --base-model PATH")
    if not cfg.out_dir:
        raise InputError("no output directory: pass --out DIR")
    if cfg.batch_size < 1 or cfg.grad_accum < 1 or cfg.epochs < 1:
        raise ValueError("batch_size, grad_accum and epochs must be at least 1")
    lr_factor(0, 0, 1, cfg.schedule)  # an unknown schedule fails before any work
    if not cfg.resume:  # a resumed run needs our checkpoint there, which find_checkpoint checks below
        check_train_dir(cfg.out_dir)  # never replace or delete files that are not ours
    if cfg.train_layers is not None:
        from prm.frozen_train import train_frozen

        return train_frozen(cfg, on_step)
    out_dir = Path(cfg.out_dir)
    if cfg.resume:
        find_checkpoint(out_dir)  # no checkpoint, or a pickled one: fail before loading a model
    out_dir.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)

    spec = with_head(get_spec(cfg.spec), cfg.head)
    tokenizer = load_tokenizer(cfg.base_model)
    resize = _prepare_tokenizer(tokenizer, spec)
    label_ids = label_token_ids(spec, tokenizer) if spec.head == "lm" else None
    encoded, dropped = encode_examples(_load_examples(cfg), spec, tokenizer, cfg.max_length,
                                       cfg.soft_labels)
    if not encoded:
        raise InputError("no example has a labelled step", path=cfg.data)
    model = _load_model(cfg, spec, tokenizer, resize)
    core = model.get_base_model() if cfg.lora else model    # LoRA layers are injected in place
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    n_batches = math.ceil(len(encoded) / cfg.batch_size)
    steps_per_epoch = math.ceil(n_batches / cfg.grad_accum)
    total = steps_per_epoch * cfg.epochs
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, cfg.warmup_steps, total, cfg.schedule))
    position = {"epoch": 0, "batch": 0, "step": 0}
    history: list[dict] = []
    log_path = out_dir / LOG_FILE
    if cfg.resume:
        state = load_checkpoint(out_dir)
        missing = set(_trainable_state(model)) - set(state["model"])
        if missing:
            raise InputError(f"checkpoint does not match this model ({len(missing)} tensors "
                             "missing): same --base-model, --head and --lora as the first run?",
                             path=str(out_dir / CHECKPOINT))
        named = dict(model.named_parameters())
        with torch.no_grad():
            for k, v in state["model"].items():
                named[k].copy_(v)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.last_epoch = state["position"]["step"]
        position = dict(state["position"])
        history = list(state["history"])
        _set_rng_state(state["rng"], state["torch_rng"])
        log_path.write_text("".join(json.dumps(h) + "\n" for h in history), encoding="utf-8")
    elif log_path.exists():
        log_path.unlink()
    if cfg.progress:
        _progress(f"prm train: {len(encoded)} examples ({dropped} without a labelled step "
                  f"dropped), {total} optimizer steps, spec {spec.name}, head {spec.head}"
                  + (f", resuming at step {position['step']}" if position["step"] else ""))

    model.train()
    done = position["step"] >= total
    while not done and position["epoch"] < cfg.epochs:
        gen = torch.Generator().manual_seed(cfg.seed + position["epoch"])
        order = torch.randperm(len(encoded), generator=gen).tolist()
        batches = [order[i: i + cfg.batch_size] for i in range(0, len(order), cfg.batch_size)]
        while position["batch"] < len(batches):
            group = batches[position["batch"]: position["batch"] + cfg.grad_accum]
            n_tags = sum(1 for b in group for i in b for y in encoded[i].labels if not math.isnan(y))
            optimizer.zero_grad(set_to_none=True)
            total_loss = 0.0
            for b in group:
                batch = [encoded[i] for i in b]
                ids, mask = pad_batch(batch, tokenizer.pad_token_id, cfg.device)
                rows, cols, ys = [], [], []
                for r, e in enumerate(batch):
                    for p, y in zip(e.tag_positions, e.labels):
                        if not math.isnan(y):
                            rows.append(r), cols.append(p), ys.append(y)
                logits2 = step_logits(core, spec, label_ids, ids, mask,
                                      torch.tensor(rows, device=cfg.device),
                                      torch.tensor(cols, device=cfg.device))
                loss = step_loss(logits2, torch.tensor(ys, device=cfg.device)) / n_tags
                loss.backward()
                total_loss += float(loss.detach())
            if cfg.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
            scheduler.step()
            position["batch"] += len(group)
            position["step"] += 1
            rec = {"step": position["step"], "epoch": position["epoch"], "loss": total_loss,
                   "tags": n_tags, "lr": optimizer.param_groups[0]["lr"]}
            history.append(rec)
            append_jsonl(log_path, [rec], fsync=False)
            if on_step is not None:
                on_step(rec)
            if cfg.progress and (position["step"] % cfg.log_every == 0 or position["step"] == total):
                recent = [h["loss"] for h in history[-cfg.log_every:]]
                _progress(f"step {position['step']}/{total}  epoch {position['epoch'] + 1}/"
                          f"{cfg.epochs}  loss {sum(recent) / len(recent):.4f}")
            if position["step"] >= total:
                done = True
                break
            if cfg.save_every and position["step"] % cfg.save_every == 0:
                save_checkpoint(out_dir, model, optimizer, position, history)
        if position["batch"] >= len(batches):
            position["epoch"] += 1
            position["batch"] = 0
    save_checkpoint(out_dir, model, optimizer, position, history)

    model.eval()
    final = model.merge_and_unload() if cfg.lora else model
    final.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    save_spec(spec, out_dir)
    conf = {k: v for k, v in asdict(cfg).items() if k != "examples"}
    (out_dir / "train_config.json").write_text(json.dumps(conf, indent=2) + "\n", encoding="utf-8")
    recent = [h["loss"] for h in history[-cfg.log_every:]]
    return TrainResult(str(out_dir), position["step"],
                       sum(recent) / len(recent) if recent else float("nan"), history)
