"""Sampling with vLLM's offline `LLM` engine: the only module of `verify.sampling` that imports vllm.

It is imported only when the `vllm` backend is chosen (see `BACKENDS` in base.py), and
`vllm` itself is imported inside `VLLMGenerator.__init__`, so this file can be read,
linted and tested (against a fake `vllm` module) on a machine without a GPU.

vLLM API used (current documented offline API):
  `LLM(model=..., seed=..., enable_prefix_caching=True, tensor_parallel_size=...,
       dtype=..., [data_parallel_size=...], **engine_kwargs)`
  `SamplingParams(n=N, seed=..., temperature=..., top_p=..., max_tokens=..., stop=[...],
                  [logprobs=0])`
  `LLM.generate(prompts: list[str], sampling_params: list[SamplingParams])` for text prompts,
  `LLM.chat(messages: list[list[dict]], sampling_params: list[SamplingParams],
            add_generation_prompt=True)` for chat prompts (vLLM applies the chat template);
  each `RequestOutput` has `.prompt_token_ids` and `.outputs`: `CompletionOutput` with
  `.text`, `.token_ids`, `.cumulative_logprob`, `.finish_reason` ("stop" / "length" / "abort").

Seeds: sample j of prompt i is drawn with `seeds[i][j]` (`per_sample_seeds`; the runner passes
`sample_seed(seed, problem id, index)`). A prompt whose seeds run s, s + 1, ..., s + n - 1 (the
runner's always do) is ONE request `SamplingParams(n=n, seed=s)`: vLLM's parallel sampling
gives child j of a seeded request the seed s + j (vllm/v1/engine/parallel_sampling.py, checked
by the contract test) and samples each seeded request with its own generator. Other seeds go
as one request per sample with n=1. So a sample's random stream does not depend on the other
requests of the batch; its logits can, in the last bits, on a GPU unless vLLM runs batch
invariant (`VLLM_BATCH_INVARIANT=1`, compute capability 9.0 or more). Prefix caching lets the N samples of a prompt (and
shared few-shot prefixes) reuse the prompt's KV cache.
"""
from __future__ import annotations

from typing import Any, Sequence

from verify.sampling.base import Completion, Prompt, SamplingParams, as_messages, call_seeds, consecutive, token_ends


class VLLMGenerator:
    """Generator over `vllm.LLM`.

    >>> g = VLLMGenerator("Qwen/Qwen2.5-Math-1.5B-Instruct", tensor_parallel_size=1)  # doctest: +SKIP
    >>> g.generate([[{"role": "user", "content": "1+1?"}]], 8, SamplingParams())       # doctest: +SKIP
    """

    per_sample_seeds = True  # each request is sampled with its own seeded generator

    def __init__(self, model: str, *, seed: int = 0, tensor_parallel_size: int = 1,
                 data_parallel_size: int = 1, dtype: str = "auto", chat: bool = True, logprobs: bool = True,
                 enable_prefix_caching: bool = True, **engine_kwargs: Any):
        import vllm

        self._vllm = vllm
        self.name = model
        self.chat = chat          # apply the chat template to plain-string prompts too
        self.logprobs = logprobs  # logprobs=0 asks vLLM for the sampled token's logprob only
        kw: dict[str, Any] = dict(model=model, seed=seed, enable_prefix_caching=enable_prefix_caching,
                                  tensor_parallel_size=tensor_parallel_size, dtype=dtype)
        if data_parallel_size != 1:  # offline DP also needs one process per rank (see vLLM's data_parallel example)
            kw["data_parallel_size"] = data_parallel_size
        kw.update(engine_kwargs)
        self.llm = vllm.LLM(**kw)

    def _params(self, n: int, params: SamplingParams, seed: int | None) -> Any:
        kw: dict[str, Any] = dict(n=n, seed=seed, temperature=params.temperature, top_p=params.top_p,
                                  max_tokens=params.max_tokens, stop=list(params.stop))
        if self.logprobs:
            kw["logprobs"] = 0
        return self._vllm.SamplingParams(**kw)

    def generate(self, prompts: Sequence[Prompt], n: int, params: SamplingParams,
                 seeds: Sequence[Sequence[int | None]] | None = None) -> list[list[Completion]]:
        seeds = seeds if seeds is not None else call_seeds(params.seed, len(prompts), n)
        reqs: list[tuple[int, int, int]] = []  # (prompt, first sample, samples): one vLLM request each
        for i, row in enumerate(seeds):
            reqs.extend([(i, 0, n)] if consecutive(row) else [(i, j, 1) for j in range(n)])
        sps = [self._params(k, params, seeds[i][j]) for i, j, k in reqs]
        chat_idx = [r for r, (i, _, _) in enumerate(reqs) if self.chat or not isinstance(prompts[i], str)]
        chat_set = set(chat_idx)
        text_idx = [r for r in range(len(reqs)) if r not in chat_set]
        results: dict[int, Any] = {}
        if chat_idx:
            outs = self.llm.chat([as_messages(prompts[reqs[r][0]]) for r in chat_idx], [sps[r] for r in chat_idx],
                                 use_tqdm=False, add_generation_prompt=True)
            results.update(zip(chat_idx, outs))
        if text_idx:
            outs = self.llm.generate([prompts[reqs[r][0]] for r in text_idx], [sps[r] for r in text_idx],
                                     use_tqdm=False)
            results.update(zip(text_idx, outs))
        got: list[list[Completion]] = [[] for _ in prompts]
        for r, (i, _, k) in enumerate(reqs):  # requests of a prompt are in sample order
            got[i].extend(_convert(results[r], k))
        return got


def _convert(req: Any, n: int) -> list[Completion]:
    prompt_tokens = len(getattr(req, "prompt_token_ids", None) or ())
    outs = sorted(req.outputs, key=lambda o: o.index)
    if len(outs) != n:
        raise RuntimeError(f"vLLM returned {len(outs)} outputs for a request with n={n}")
    return [Completion(text=o.text, num_tokens=len(o.token_ids),
                       finish_reason="length" if o.finish_reason == "length" else "stop",
                       logprob=None if o.cumulative_logprob is None else float(o.cumulative_logprob),
                       prompt_tokens=prompt_tokens, **_token_fields(o)) for o in outs]


def _token_fields(o: Any) -> dict[str, Any]:
    """`token_logprobs` / `token_ends` from `CompletionOutput.logprobs` (asked for with logprobs=0).

    vLLM gives one dict per generated token, `{token_id: Logprob(logprob, rank, decoded_token)}`,
    always holding the sampled token; anything else (None, a length mismatch) gives nothing.
    """
    steps = getattr(o, "logprobs", None) or []
    if len(steps) != len(o.token_ids) or not steps:
        return {}
    entries = [d.get(tid) if isinstance(d, dict) else None for tid, d in zip(o.token_ids, steps)]
    if any(e is None or getattr(e, "logprob", None) is None for e in entries):
        return {}
    fields: dict[str, Any] = {"token_logprobs": tuple(float(e.logprob) for e in entries)}
    toks = [getattr(e, "decoded_token", None) for e in entries]
    if all(isinstance(t, str) for t in toks):
        fields["token_ends"] = token_ends(toks, len(o.text))
    return fields
