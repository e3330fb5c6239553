"""Training loop of the mostly frozen PRM (prm/frozen.py): cached lower states -> top K + head.

`train_frozen` is what ``verify prm train --train-layers K`` runs: encode the data with the
same :func:`prm.specs.encode` as the scorer, compute (or read from the cache) the frozen
states once, then train the top layers, norm and head on them with the loss of prm/train.py
at the step positions. With ``balance`` the rare class is reweighted: a negative step's loss
counts ``#positive / #negative`` times (PRM800K has about 28 positive steps per negative), and
the saved head has that weight folded back out (`fold_prior`), so its scores are
probabilities under the training data's own mix.
Batches are drawn from a seeded permutation per epoch (``seed + epoch``) and sorted by length
within windows of 32 batches, so padding stays small.

>>> from prm.train import TrainConfig, train  # doctest: +SKIP
>>> train(TrainConfig(data="d.jsonl", base_model="smollm2", out_dir="out", train_layers=2))  # doctest: +SKIP
"""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from prm.frozen import INT8_DIFF, FrozenPRM, base_identity, load_base, lower_states, pad_states, save_delta, states_key
from prm.specs import get_spec, label_token_ids, with_head
from verify.errors import InputError


def negative_weight(encoded: Sequence[Any], balance: bool) -> float:
    """Loss weight of a negative step: #positive / #negative labelled steps when balancing, else 1."""
    if not balance:
        return 1.0
    ys = [y for e in encoded for y in e.labels if not math.isnan(y)]
    neg = sum(1 for y in ys if y < 0.5)
    return (len(ys) - neg) / neg if neg else 1.0


def fold_prior(prm: FrozenPRM, neg_weight: float) -> None:
    """Undo the class reweighting in the head: with negatives weighted w, the trained odds of
    "correct" are the data's odds / w, so log(w) is added to the correct logit's bias. Scores
    are then probabilities under the training mix; their order (AUROC) is unchanged.

    >>> import math  # doctest: +SKIP
    >>> fold_prior(prm, 4.0)  # head.bias[1] grows by log 4  # doctest: +SKIP
    """
    import torch

    with torch.no_grad():
        prm.head.bias[1] += math.log(neg_weight)


def _batches(lengths: Sequence[int], batch_size: int, seed: int) -> list[list[int]]:
    """A seeded permutation cut into batches, sorted by length within windows of 32 batches."""
    import torch

    order = torch.randperm(len(lengths), generator=torch.Generator().manual_seed(seed)).tolist()
    window = 32 * batch_size
    out = []
    for w in range(0, len(order), window):
        part = sorted(order[w: w + window], key=lambda i: lengths[i])
        out += [part[i: i + batch_size] for i in range(0, len(part), batch_size)]
    perm = torch.randperm(len(out), generator=torch.Generator().manual_seed(seed + 10_000)).tolist()
    return [out[i] for i in perm]


def fit(prm: FrozenPRM, states: Sequence[Any], encoded: Sequence[Any], *, epochs: int = 1, batch_size: int = 8,
        lr: float = 1e-4, weight_decay: float = 0.0, max_grad_norm: float | None = 1.0,
        max_steps: int | None = None, neg_weight: float = 1.0, seed: int = 0, log_every: int = 10,
        progress: bool = True, on_step: Callable[[dict], None] | None = None) -> list[dict]:
    """Train `prm`'s top layers, norm and head on cached lower `states`; one record per step."""
    import torch

    from prm.train import _progress, step_loss

    params = list(prm.trainable().values())
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    lengths = [s.shape[0] for s in states]
    per_epoch = math.ceil(len(states) / batch_size)
    total = per_epoch * epochs if max_steps is None else min(per_epoch * epochs, max_steps)
    history: list[dict] = []
    prm.train()
    step, t0 = 0, time.perf_counter()
    for epoch in range(epochs):
        for b in _batches(lengths, batch_size, seed + epoch):
            if step >= total:
                break
            x, mask = pad_states([states[i] for i in b], max(lengths[i] for i in b))
            rows, cols, ys = [], [], []
            for r, i in enumerate(b):
                for p, y in zip(encoded[i].tag_positions, encoded[i].labels):
                    if not math.isnan(y):
                        rows.append(r), cols.append(p), ys.append(y)
            y = torch.tensor(ys)
            w = 1.0 + (neg_weight - 1.0) * (1.0 - y)                  # (n,) negatives weigh more
            logits = prm.upper(x, mask)[torch.tensor(rows), torch.tensor(cols)]   # (n, 2)
            loss = step_loss(logits, y, w) / w.sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if max_grad_norm:
                torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
            optimizer.step()
            step += 1
            rec = {"step": step, "epoch": epoch, "loss": float(loss.detach()), "tags": len(ys),
                   "seconds": round(time.perf_counter() - t0, 3)}
            history.append(rec)
            if on_step is not None:
                on_step(rec)
            if progress and (step % log_every == 0 or step == total):
                recent = [h["loss"] for h in history[-log_every:]]
                _progress(f"step {step}/{total}  epoch {epoch + 1}/{epochs}  loss {sum(recent) / len(recent):.4f}")
    prm.eval()
    return history


def predict(prm: FrozenPRM, states: Sequence[Any], encoded: Sequence[Any], batch_size: int = 16) -> list[list[float]]:
    """P(step correct) at every tag position of each example, from cached lower states."""
    import torch

    out: list[list[float]] = [[] for _ in states]
    order = sorted(range(len(states)), key=lambda i: states[i].shape[0])
    with torch.no_grad():
        for k in range(0, len(order), batch_size):
            b = order[k: k + batch_size]
            x, mask = pad_states([states[i] for i in b], max(states[i].shape[0] for i in b))
            probs = torch.softmax(prm.upper(x, mask), dim=-1)[..., 1]   # (batch, seq)
            for r, i in enumerate(b):
                out[i] = probs[r, list(encoded[i].tag_positions)].tolist()
    return out


def train_frozen(cfg: Any, on_step: Callable[[dict], None] | None = None) -> Any:
    """`prm.train.train` with ``cfg.train_layers`` set: see the module docstring."""
    import torch

    from prm.train import LOG_FILE, TrainResult, _load_examples, _prepare_tokenizer, _progress, encode_examples
    from verify.records.io import append_jsonl
    from verify.sampling.ct2_backend import cache_dir

    if cfg.lora:
        raise InputError("--train-layers and --lora are two different ways to train; choose one")
    if cfg.resume:
        raise InputError("--resume does not apply with --train-layers: run again (the frozen states are cached)")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    out_dir = Path(cfg.out_dir)
    spec = with_head(get_spec(cfg.spec), cfg.head)
    t0 = time.perf_counter()
    lm, tokenizer = load_base(cfg.base_model)
    if _prepare_tokenizer(tokenizer, spec):
        raise InputError(f"spec {spec.name!r} needs the token {spec.step_tag!r}, which this base model's "
                         "vocabulary lacks; a frozen embedding cannot learn it: choose another --spec")
    label_ids = label_token_ids(spec, tokenizer) if spec.head == "lm" else None
    encoded, dropped = encode_examples(_load_examples(cfg), spec, tokenizer, cfg.max_length, cfg.soft_labels)
    if not encoded:
        raise InputError("no example has a labelled step", path=cfg.data)
    prm = FrozenPRM(lm, cfg.train_layers, head=spec.head, label_ids=label_ids,
                    frozen_dtype=cfg.frozen_dtype, seed=cfg.seed)
    reference = prm.reference() if cfg.save_dtype == INT8_DIFF else None  # the base's own matrices
    load_s = time.perf_counter() - t0
    _, sha = base_identity(cfg.base_model)
    ids = [e.input_ids for e in encoded]
    key = states_key(sha, prm.n_layers - prm.train_layers, cfg.frozen_dtype, ids)
    cache = cache_dir() / "prm-states" / f"{key}.safetensors" if cfg.cache_states else None
    neg_w = negative_weight(encoded, cfg.balance)
    if cfg.progress:
        _progress(f"prm train: {len(encoded)} examples ({dropped} without a labelled step dropped), "
                  f"{sum(map(len, ids))} tokens; layers {prm.n_layers - prm.train_layers} frozen "
                  f"({cfg.frozen_dtype}), {prm.train_layers} trained; negative-step weight {neg_w:.2f}")
    t1 = time.perf_counter()
    states = lower_states(prm, ids, tokenizer.pad_token_id, cache=cache, progress=cfg.progress)
    states_s = time.perf_counter() - t1
    log_path = out_dir / LOG_FILE
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path.unlink(missing_ok=True)

    def record(rec: dict) -> None:
        append_jsonl(log_path, [rec], fsync=False)
        if on_step is not None:
            on_step(rec)

    t2 = time.perf_counter()
    history = fit(prm, states, encoded, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                  weight_decay=cfg.weight_decay, max_grad_norm=cfg.max_grad_norm, max_steps=cfg.max_steps,
                  neg_weight=neg_w, seed=cfg.seed, log_every=cfg.log_every, progress=cfg.progress,
                  on_step=record)
    train_s = time.perf_counter() - t2
    fold_prior(prm, neg_w)
    base = cfg.base_model if cfg.base_model in ("smollm2", "default") else str(Path(cfg.base_model).resolve())
    timing = {"load_s": round(load_s, 1), "states_s": round(states_s, 1), "train_s": round(train_s, 1),
              "tokens": sum(map(len, ids)), "examples": len(encoded)}
    save_delta(prm, out_dir, base=base, base_sha=sha, spec=with_head(spec, "cls"),
               save_dtype=cfg.save_dtype, reference=reference,
               extra={"head_init": spec.head, "neg_weight": neg_w, "prior_folded": True, "timing": timing})
    conf = {k: v for k, v in asdict(cfg).items() if k != "examples"}
    (out_dir / "train_config.json").write_text(json.dumps(conf, indent=2) + "\n", encoding="utf-8")
    recent = [h["loss"] for h in history[-cfg.log_every:]]
    return TrainResult(str(out_dir), len(history), sum(recent) / len(recent) if recent else float("nan"), history)
