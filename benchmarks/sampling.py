"""N=8 samples per prompt with transformers, side by side on the same model:

* `shared` (verify's default): prefill each prompt once, repeat its KV cache 8 times;
* `num_return_seq`: `generate(num_return_sequences=8)` as is (HF copies the input ids 8
  times before the forward pass, so the prompt is computed 8 times; `share_prompt=False`);
* `duplicated`: each prompt repeated 8 times in one batch (`prompts * N`, n=1);
* `separate`: N separate `generate` calls per prompt (batch 1, prompt encoded N times).

    python benchmarks/sampling.py                 # tiny random-init Llama (seconds)
    python benchmarks/sampling.py --smollm2       # also SmolLM2-135M-Instruct (minutes on 2 cores)

Prints wall time, generated tokens and tokens/s for each, and the speed ratio of the shared
encoding against each baseline. Rounds are interleaved (A, B, C, A, B, C, ...) so that load
from other processes hits all three alike; the median round is reported.
"""
from __future__ import annotations

import argparse
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from verify.sampling.base import SamplingParams  # noqa: E402
from verify.sampling.transformers_backend import TransformersGenerator  # noqa: E402


def tiny_generator(threads: int | None):
    import torch
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    chars = list(string.printable)
    vocab = {"<pad>": 0, "<unk>": 1, **{c: i + 2 for i, c in enumerate(chars)}}
    vocab["<eos>"] = len(vocab)  # outside the model's output layer: never sampled, every row runs to max_tokens
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tk.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")
    cfg = LlamaConfig(vocab_size=len(vocab) - 1, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                      pad_token_id=0, eos_token_id=None, bos_token_id=None)
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg).eval()
    return TransformersGenerator(model, tok, chat=False, threads=threads)


def run(gen, prompts, n, params, mode):
    t0 = time.perf_counter()
    if mode == "shared":
        gen.share_prompt = True
        rows = gen.generate(prompts, n, params)
    elif mode == "num_return_seq":
        gen.share_prompt = False
        rows = gen.generate(prompts, n, params)
        gen.share_prompt = True
    elif mode == "duplicated":
        flat = gen.generate([p for p in prompts for _ in range(n)], 1, params)
        rows = [[r[0] for r in flat[i * n:(i + 1) * n]] for i in range(len(prompts))]
    else:
        rows = [[gen.generate([p], 1, params.replace(seed=params.seed + j))[0][0] for j in range(n)] for p in prompts]
    dt = time.perf_counter() - t0
    assert [len(r) for r in rows] == [n] * len(prompts)
    return dt, sum(c.num_tokens for r in rows for c in r)


def compare(name, gen, prompts, n, params, rounds):
    modes = ["shared", "num_return_seq", "duplicated", "separate"]
    res = {m: [] for m in modes}
    run(gen, prompts[:1], 1, params.replace(max_tokens=4), "shared")  # warm-up
    for _ in range(rounds):
        for m in modes:
            res[m].append(run(gen, prompts, n, params, m))
    print(f"\n{name}: {len(prompts)} prompts x N={n}, max_tokens={params.max_tokens}, "
          f"median of {rounds} interleaved rounds")
    print(f"{'mode':<16}{'wall s':>9}{'tokens':>9}{'tok/s':>9}{'shared is x faster':>21}")
    med = {m: sorted(res[m])[len(res[m]) // 2] for m in modes}  # median round by wall time
    for m in modes:
        dt, tok = med[m]
        ratio = med[m][0] / med["shared"][0]
        print(f"{m:<16}{dt:>9.2f}{tok:>9d}{tok / dt:>9.1f}{ratio:>20.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smollm2", action="store_true", help="also run SmolLM2-135M-Instruct (slow)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-tiny", action="store_true")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = ap.parse_args()
    from evals.benchmarks import load_problems
    from evals.prompts import build_prompt

    problems = load_problems("arith", limit=4)
    gen = tiny_generator(args.threads)
    prompts = [build_prompt(p, "base") for p in problems]  # few-shot text prompt, ~300 tokens (chars)
    if not args.skip_tiny:
        compare("tiny random-init Llama (hidden 64, 2 layers)", gen, prompts, 8,
                SamplingParams(max_tokens=48, seed=0), args.rounds)
    if args.smollm2:
        gen = TransformersGenerator("smollm2", threads=args.threads)
        print(f"\nSmolLM2-135M-Instruct GGUF loaded (dequantised to fp32) in {gen.load_seconds:.1f}s")
        prompts = [build_prompt(p, "fewshot-boxed") for p in problems[:2]]
        compare("SmolLM2-135M-Instruct", gen, prompts, 8, SamplingParams(max_tokens=48, seed=0),
                max(1, args.rounds - 2))


if __name__ == "__main__":
    main()
