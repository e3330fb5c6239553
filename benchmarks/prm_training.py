"""How to train a PRM on SmolLM2-135M on two CPU cores: frozen-backbone options and LoRA side by side.

    nice -n 5 python3 benchmarks/prm_training.py [--train-tokens 16000] [--val-tokens 8000] [--lora-steps 4]

On one PRM800K subset (../shared/data; problems split by question, seeded; the problems that
prm.build_smollm2_prm holds out for the shipped model's card are left out here entirely, and
the validation problems below come from its training side), it prints for each option:

* the one-off cost: the frozen layers run once (bf16; fp32 measured on a few traces for the ratio);
* seconds per epoch over the training subset, and the ratio to K=2;
* validation step AUROC with a 95% CI (bootstrap over problems), next to the arithmetic scorer
  (prm/arith_scorer.py) on the same steps;
* the trainable parameters and the size of the shipped delta in float16.

Options: K = 0 (head only: a linear probe on the final hidden state), K = 1, 2 top layers
(+ final norm + head; prm/frozen.py), and LoRA r=8 on all linear layers (prm/train.py, full
forward and backward every step: timed on --lora-steps optimizer steps, its epoch time
projected from them and its AUROC measured after those steps only).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prm.build_smollm2_prm import PRM800K, _encode, _fmt, draw, grouped_auroc, split_problems  # noqa: E402
from verify.records.outputs import json_with_keys  # noqa: E402

JSON_OURS = (json_with_keys("rows", "arith", "speed"), "a prm_training.py result")  # what --json may replace


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=PRM800K)
    ap.add_argument("--train-tokens", type=int, default=16_000)
    ap.add_argument("--val-tokens", type=int, default=8_000)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lora-steps", type=int, default=4, help="0: skip LoRA")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None, help="write the rows here")
    ap.add_argument("--score-speed", type=int, default=0, metavar="N",
                    help="only measure scoring: N ProcessBench GSM8K traces through data/smollm2-prm, "
                         "frozen layers in bf16 (shipped) against fp32 (baseline)")
    args = ap.parse_args()
    if args.json:  # before minutes of training: never replace someone else's file
        from verify.errors import InputError
        from verify.records.outputs import check_own_document

        try:
            check_own_document(args.json, *JSON_OURS)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.score_speed:
        return score_speed(args.score_speed, args.threads)

    import torch

    from prm.formats import load_step_examples
    from prm.frozen import FrozenPRM, advance_states, base_folder, load_base, lower_states
    from prm.frozen_train import fit, negative_weight, predict
    from prm.scorers import load_scorer
    from prm.specs import get_spec, label_token_ids, with_head

    torch.set_num_threads(args.threads)
    spec = with_head(get_spec("token-cls"), "lm")
    lm, tok = load_base("smollm2")
    tok.pad_token = tok.pad_token or tok.eos_token
    raw = load_step_examples(args.data, "prm800k-stepwise", neutral="positive")
    train_side, _ = split_problems(raw, 0.2, args.seed)          # the build's held-out problems: never used here
    tr, va = split_problems(train_side, 0.25, args.seed + 1)
    tr_enc, va_enc = _encode(spec, tok, tr, args.max_length), _encode(spec, tok, va, args.max_length)
    tr_items = [tr_enc[i] for i in draw([e for _, e in tr_enc], args.train_tokens, args.seed, True)]
    va_items = [va_enc[i] for i in draw([e for _, e in va_enc], args.val_tokens, args.seed, True)]
    tr_e, va_e = [e for _, e in tr_items], [e for _, e in va_items]
    n_tr, n_va = sum(len(e.input_ids) for e in tr_e), sum(len(e.input_ids) for e in va_e)
    print(f"PRM800K subset: train {len(tr_e)} traces / {n_tr} tokens, validation {len(va_e)} traces / "
          f"{n_va} tokens ({len({ex.question for ex, _ in va_items})} problems)", flush=True)
    label_ids = label_token_ids(spec, tok)

    # one-off: the frozen pass, bf16 (used) against fp32 on the same few traces
    probe = [e.input_ids for e in tr_e[:6]]
    speed = {}
    for dt in ("float32", "bfloat16"):
        p = FrozenPRM(lm, 2, frozen_dtype=dt)
        t = time.perf_counter()
        lower_states(p, probe, tok.pad_token_id)
        speed[dt] = sum(map(len, probe)) / (time.perf_counter() - t)
    print(f"frozen pass (28 layers): bf16 {speed['bfloat16']:.0f} tok/s, fp32 {speed['float32']:.0f} tok/s "
          f"(bf16/fp32 = {speed['bfloat16'] / speed['float32']:.2f}x)", flush=True)
    prm2 = FrozenPRM(lm, 2, frozen_dtype="bfloat16")
    t = time.perf_counter()
    s28 = {"train": lower_states(prm2, [e.input_ids for e in tr_e], tok.pad_token_id),
           "val": lower_states(prm2, [e.input_ids for e in va_e], tok.pad_token_id)}
    cache_s = time.perf_counter() - t
    states = {2: s28}
    for k in (1, 0):
        states[k] = {side: advance_states(lm, s28[side], 28, 30 - k) for side in s28}
    neg_w = negative_weight(tr_e, True)
    labels = [list(e.labels) for e in va_e]
    groups = [ex.question for ex, _ in va_items]
    rows = []
    for k, lr in ((0, 1e-3), (1, 1e-4), (2, 1e-4)):
        prm = FrozenPRM(lm, k, head="lm", label_ids=label_ids, frozen_dtype="bfloat16", seed=args.seed)
        t = time.perf_counter()
        fit(prm, states[k]["train"], tr_e, epochs=args.epochs, batch_size=8, lr=lr, neg_weight=neg_w,
            seed=args.seed, progress=False)
        per_epoch = (time.perf_counter() - t) / args.epochs
        m = grouped_auroc(predict(prm, states[k]["val"], va_e), labels, groups, seed=args.seed)
        n_par = sum(v.numel() for v in prm.trainable().values())
        rows.append({"option": f"K={k}" + (" (head only)" if k == 0 else ""), "lr": lr, "epoch_s": per_epoch,
                     "oneoff_s": cache_s, "auroc": m, "params": n_par, "delta_mb": n_par * 2 / 1e6})
        print(f"  {rows[-1]['option']}: {per_epoch:.1f} s/epoch, val AUROC {_fmt(m)}", flush=True)
    if args.lora_steps:
        rows.append(_lora(args, base_folder("smollm2"), tr_items, va_items, labels, groups, spec))
    arith = load_scorer("arith")
    m_arith = grouped_auroc([arith(ex.question, list(ex.steps)) for ex, _ in va_items], labels, groups, seed=args.seed)
    ref = next(r for r in rows if r["option"] == "K=2")["epoch_s"]
    print(f"\n{'option':<16} {'one-off s':>9} {'s/epoch':>8} {'vs K=2':>7} {'params':>10} {'fp16 MB':>8}  "
          f"val step AUROC [95% CI] ({m_arith['n_steps']} steps, {m_arith['n_neg']} wrong, "
          f"{m_arith['n_groups']} problems)")
    for r in rows:
        print(f"{r['option']:<16} {r['oneoff_s']:>9.0f} {r['epoch_s']:>8.1f} {r['epoch_s'] / ref:>6.2f}x "
              f"{r['params']:>10,} {r['delta_mb']:>8.1f}  {_fmt(r['auroc'])}{r.get('note', '')}")
    print(f"{'arith scorer':<16} {'-':>9} {'-':>8} {'-':>7} {'-':>10} {'-':>8}  {_fmt(m_arith)}")
    if args.json:
        from verify.records.outputs import replace_own_document

        replace_own_document(args.json, (json.dumps({"rows": rows, "arith": m_arith, "speed": speed,
                                                     "args": vars(args)}, indent=2) + "\n").encode(), *JSON_OURS)
    return 0


def score_speed(n: int, threads: int) -> int:
    """Scoring tokens/s of the shipped PRM, bf16 frozen layers against fp32, on the same traces."""
    import torch

    from prm.formats import iter_processbench
    from prm.frozen import load_frozen_prm
    from prm.scorers import SHIPPED

    torch.set_num_threads(threads)
    path = Path(__file__).resolve().parents[1] / "../shared/data/processbench/gsm8k.jsonl"
    items = [(q, steps) for _, _, q, steps, _ in iter_processbench(path)][:n]
    speed = {}
    for dt in ("float32", "bfloat16"):
        scorer = load_frozen_prm(SHIPPED["smollm2-prm"], frozen_dtype=dt, batch_size=8)
        scorer.score_batch(items[:2])  # warm-up
        scorer.forward_tokens = 0
        t = time.perf_counter()
        scorer.score_batch(items)
        speed[dt] = scorer.forward_tokens / (time.perf_counter() - t)
        print(f"smollm2-prm, frozen layers {dt}: {scorer.forward_tokens} tokens, {speed[dt]:.0f} tok/s", flush=True)
    print(f"bf16 / fp32 = {speed['bfloat16'] / speed['float32']:.2f}x ({n} ProcessBench GSM8K traces, "
          f"{threads} threads)")
    return 0


def _lora(args, base_dir, tr_items, va_items, labels, groups, spec) -> dict:
    """LoRA through prm.train (full forward + backward per step) for a few steps, projected to an epoch."""
    from prm.hf_scorer import HFStepScorer
    from prm.train import TrainConfig, train

    with tempfile.TemporaryDirectory() as tmp:
        examples = [ex for ex, _ in tr_items]
        stamps = [time.perf_counter()]  # then one stamp after each optimizer step
        cfg = TrainConfig(examples=examples, base_model=str(base_dir), out_dir=tmp, spec="token-cls", head="cls",
                          lora=True, lora_r=8, lr=2e-4, batch_size=4, max_steps=args.lora_steps, save_every=0,
                          seed=args.seed, threads=args.threads, progress=True, max_length=args.max_length)
        train(cfg, on_step=lambda rec: stamps.append(time.perf_counter()))
        # steps 2..N (the first also pays for loading and warm-up); with one step, that step with its load
        per_step = (stamps[-1] - stamps[1]) / (len(stamps) - 2) if len(stamps) > 2 else stamps[1] - stamps[0]
        per_epoch = per_step * math.ceil(len(examples) / 4)
        scorer = HFStepScorer.from_pretrained(tmp, batch_size=8)
        scores = scorer.score_batch([(ex.question, list(ex.steps)) for ex, _ in va_items])
    m = grouped_auroc(scores, labels, groups, seed=args.seed)
    # r * (in + out) per linear layer (q, o: 576-576; k, v: 576-192; gate, up, down: 576-1536), 30 layers, + head
    n_par = 8 * 30 * (2 * (576 + 576) + 2 * (576 + 192) + 3 * (576 + 1536)) + 2 * 576
    print(f"  LoRA r=8: {per_epoch:.1f} s/epoch (projected from {args.lora_steps} steps), val AUROC {_fmt(m)}",
          flush=True)
    return {"option": "LoRA r=8", "lr": 2e-4, "epoch_s": per_epoch, "oneoff_s": 0.0, "auroc": m, "params": n_par,
            "delta_mb": n_par * 2 / 1e6, "note": f"  (after {args.lora_steps} steps only)"}


if __name__ == "__main__":
    raise SystemExit(main())
