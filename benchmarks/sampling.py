"""N=8 samples per prompt with transformers, side by side on the same model:

* `shared` (verify's default): prefill each prompt once, repeat its KV cache 8 times;
* `num_return_seq`: `generate(num_return_sequences=8)` as is (HF copies the input ids 8
  times before the forward pass, so the prompt is computed 8 times; `share_prompt=False`);
* `duplicated`: each prompt repeated 8 times in one batch (`prompts * N`, n=1);
* `separate`: N separate `generate` calls per prompt (batch 1, prompt encoded N times).

    python benchmarks/sampling.py                 # tiny random-init Llama (seconds)
    python benchmarks/sampling.py --smollm2       # also SmolLM2-135M-Instruct (minutes on 2 cores)
    python benchmarks/sampling.py --engines       # SmolLM2 engines, see below (minutes)

`--engines` compares ways to run SmolLM2-135M-Instruct on CPU, same prompts (the main job's
fewshot-boxed arith prompts), same N, max_tokens and seed, rounds interleaved:
transformers fp32 (the baseline: what the main job used before), transformers bf16, a static
KV cache, torch.compile (with the static cache; compile time reported apart), and
CTranslate2 int8 (verify.sampling.ct2_backend, when `ctranslate2` is installed). It prints
load seconds, tokens/s and the ratio of each engine's tokens/s to the fp32 baseline.
`ctranslate2 int8 one call` is the ct2 backend before parts and static prompts (one
`generate_batch` per chunk on one engine with all threads): the baseline of the current one.
The backend tells glibc's malloc to keep freed memory, process-wide, as soon as one ct2 engine
is built, so both ct2 rows run with it; `--malloc-default` skips that for the whole run (run
the benchmark once with and once without to see its effect).

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


ENGINES = {  # name -> (backend, options); the first is the baseline
    "transformers fp32": ("transformers", {}),
    "transformers bf16": ("transformers", {"dtype": "bfloat16"}),
    "transformers static cache": ("transformers", {"generate_kwargs": {"cache_implementation": "static"}}),
    "transformers compile+static": ("transformers", {"generate_kwargs": {"cache_implementation": "static"},
                                                     "compile": True}),
    "ctranslate2 int8 one call": ("ct2-one-call", {"compute_type": "int8"}),
    "ctranslate2 int8": ("ct2", {"compute_type": "int8"}),
}


def one_call_ct2(**kw):
    """The ct2 backend as it was before parts (the baseline of `ctranslate2 int8`): one
    `generate_batch` per chunk on one engine with all threads, rebuilt for each seeded call,
    the whole prompts as start tokens (no static prompt, no sorting by length)."""
    import ctranslate2

    from verify.sampling.base import Completion, trim_at_stop
    from verify.sampling.ct2_backend import CT2Generator

    class OneCall(CT2Generator):
        def _generate_chunk(self, texts, n, params, seed):
            encs = self.tok.encode_batch(texts, add_special_tokens=not self.chat)
            rows = 1 if params.greedy else n
            ids = [[] for _ in range(len(encs) * rows)]

            def step(r):
                ids[r.batch_id * rows + r.hypothesis_id].append(r.token_id)
                return r.token_id in self.eos_ids
            kw = dict(max_length=params.max_tokens, include_prompt_in_result=False, callback=step,
                      end_token=sorted(self.eos_ids) or None, return_scores=True)
            kw.update(sampling_topk=1) if params.greedy else kw.update(
                sampling_topk=0, sampling_topp=params.top_p, sampling_temperature=params.temperature, num_hypotheses=n)
            if seed is not None:
                ctranslate2.set_random_seed(seed)
            engine = ctranslate2.Generator(self._folder, device=self._device, compute_type=self._compute,
                                           intra_threads=self._intra * self.workers)
            engine.generate_batch([e.tokens for e in encs], **kw)
            return [[Completion(text=trim_at_stop(self.tok.decode(ids[i * rows + j]), ())[0],
                                num_tokens=len(ids[i * rows + j])) for j in range(n)] for i in range(len(encs))]

    return OneCall("smollm2", **kw)


def build_engine(name, threads, shared):
    """The generator for one engine; transformers variants copy one fp32 model loaded from the
    GGUF once (`shared`), so the GGUF is dequantised once per run, not once per variant."""
    import copy

    backend, opts = ENGINES[name]
    if backend == "ct2-one-call":
        return one_call_ct2(threads=threads, **opts)
    if backend != "transformers":
        from verify.sampling.base import get_generator

        return get_generator(backend, model="smollm2", threads=threads, **opts)
    import torch

    from verify.sampling.transformers_backend import load_model

    if "lm" not in shared:
        shared["lm"], shared["tok"], _ = load_model("smollm2")
    opts = dict(opts)
    lm = shared["lm"]
    if opts.pop("dtype", None) == "bfloat16":
        lm = copy.deepcopy(lm).to(torch.bfloat16)
    elif opts.get("compile"):
        lm = copy.deepcopy(lm)
    return TransformersGenerator(lm, shared["tok"], threads=threads, **opts)


def compare_engines(names, prompts, n, params, rounds, threads):
    """Load each engine, warm it up, then time interleaved rounds of the same batch."""
    gens, load, warm, shared = {}, {}, {}, {}
    for name in names:
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            gens[name] = build_engine(name, threads, shared)
            load[name] = (time.perf_counter() - t0, time.process_time() - c0)
        except Exception as exc:  # an engine that cannot load here is reported, not fatal
            print(f"{name}: not run ({type(exc).__name__}: {str(exc)[:120]})")
            continue
        t0 = time.perf_counter()
        if ENGINES[name][1].get("compile"):  # compiles for the shapes of the timed batch
            gens[name].generate(prompts, n, params)
        else:
            gens[name].generate(prompts[:1], 2, params.replace(max_tokens=8))
        warm[name] = time.perf_counter() - t0
    res = {m: [] for m in gens}
    for _ in range(rounds):
        for m, g in gens.items():
            t0, c0 = time.perf_counter(), time.process_time()
            rows = g.generate(prompts, n, params)
            res[m].append((time.perf_counter() - t0, sum(c.num_tokens for r in rows for c in r),
                           time.process_time() - c0))
    base = next(iter(res))
    rate = {m: sum(r[1] for r in rs) / sum(r[0] for r in rs) for m, rs in res.items()}
    cpu_rate = {m: sum(r[1] for r in rs) / sum(r[2] for r in rs) for m, rs in res.items()}
    print(f"\nSmolLM2-135M-Instruct: {len(prompts)} prompts x N={n}, max_tokens={params.max_tokens}, "
          f"seed={params.seed}, {rounds} interleaved rounds (tokens/s = all tokens / all seconds)")
    print("load: wall s / CPU s; the GGUF is dequantised once for all transformers rows (the first pays it).")
    print("tok/CPU-s counts the CPU time of all the process's threads: on a machine shared with other work")
    print("it is the steadier measure; on a quiet machine with T threads, tok/s is up to T times it.")
    print(f"{'engine':<30}{'load s':>13}{'warm-up s':>10}{'tokens':>8}{'tok/s':>8}{'tok/CPU-s':>10}"
          f"{'x base tok/s':>13}{'x base tok/CPU-s':>17}")
    for m, rs in res.items():
        tok = sum(r[1] for r in rs)
        ld = f"{load[m][0]:.1f}/{load[m][1]:.1f}"
        print(f"{m:<30}{ld:>13}{warm[m]:>10.1f}{tok:>8d}{rate[m]:>8.1f}{cpu_rate[m]:>10.1f}"
              f"{rate[m] / rate[base]:>12.2f}x{cpu_rate[m] / cpu_rate[base]:>16.2f}x")
    print(f"(base: {base})")


def makespan(prompts, n, params, batches):
    """How the ct2 backend cuts a chunk into parts, measured: each part sampled alone on one
    single-threaded engine (CPU seconds), then the time two cores need when the parts are
    given out longest prompts first, as the backend's workers take them. 2 parts (one per
    core) against 4 (two per core), on the same 8-prompt chunks."""
    from verify.sampling.base import derive_seed
    from verify.sampling.ct2_backend import CT2Generator, split_parts

    g = CT2Generator("smollm2", workers=1, threads=1)  # one part at a time, one thread
    print(f"\nct2 int8 parts, one at a time on 1 thread; N={n}, max_tokens={params.max_tokens}")
    print(f"{'chunk':>6}{'parts':>6}  {'CPU s per part':<28}{'sum':>6}{'2 cores':>8}{'tokens':>7}{'tok/s on 2 cores':>17}")
    for b in range(batches):
        texts = [g.render(p) for p in prompts[8 * b:8 * b + 8]]
        lengths = [len(e.ids) for e in g.tok.encode_batch(texts, add_special_tokens=not g.chat)]
        for parts in (2, 4):
            cpu, tokens = [], 0
            for k, part in enumerate(split_parts(lengths, parts)):
                c0 = time.process_time()
                rows = g._generate_chunk([texts[i] for i in part], n, params, derive_seed(params.seed, "part", k))
                cpu.append(time.process_time() - c0)
                tokens += sum(c.num_tokens for r in rows for c in r)
            free = [0.0, 0.0]
            for t in reversed(cpu):  # parts are sorted by prompt length: the workers take the last first
                free[free.index(min(free))] += t
            print(f"{b:>6}{parts:>6}  {' '.join(f'{t:.1f}' for t in cpu):<28}{sum(cpu):>6.1f}{max(free):>8.1f}"
                  f"{tokens:>7d}{tokens / max(free):>17.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smollm2", action="store_true", help="also run SmolLM2-135M-Instruct (slow)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-tiny", action="store_true")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--engines", nargs="*", default=None, metavar="NAME",
                    help=f"compare SmolLM2 engines (default all: {', '.join(ENGINES)})")
    ap.add_argument("--problems", type=int, default=8, help="--engines: arith problems per round")
    ap.add_argument("--max-tokens", type=int, default=160, help="--engines: as the main job")
    ap.add_argument("--makespan", type=int, default=0, metavar="CHUNKS",
                    help="ct2 parts: 2 against 4 per 8-prompt chunk, on this many chunks (see makespan())")
    ap.add_argument("--malloc-default", action="store_true",
                    help="--engines: leave glibc's malloc settings alone (ct2_backend.keep_freed_memory)")
    args = ap.parse_args()
    if args.malloc_default:
        import verify.sampling.ct2_backend as ct2_backend

        ct2_backend.keep_freed_memory = lambda: False
    from evals.benchmarks import load_problems
    from evals.prompts import build_prompt

    if args.makespan:
        prompts = [build_prompt(p, "fewshot-boxed") for p in load_problems("arith", limit=8 * args.makespan)]
        makespan(prompts, 8, SamplingParams(temperature=0.7, top_p=1.0, max_tokens=args.max_tokens, seed=0),
                 args.makespan)
        return
    if args.engines is not None:
        prompts = [build_prompt(p, "fewshot-boxed") for p in load_problems("arith", limit=args.problems)]
        compare_engines(args.engines or list(ENGINES), prompts, 8,
                        SamplingParams(temperature=0.7, top_p=1.0, max_tokens=args.max_tokens, seed=0),
                        args.rounds, args.threads)
        return

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
