"""Sampling through any OpenAI-compatible HTTP server (vLLM serve, SGLang, llama.cpp server).

Uses only the standard library (`urllib`, threads). Requests run with bounded concurrency
(`max_concurrency` threads). A request that fails with 429, 5xx, a connection error or a
timeout is retried with exponential backoff and full jitter (delay ~ U(0, base * 2^attempt),
capped), and a `Retry-After` header, when present, is honoured as a lower bound. Other 4xx
answers are not retried: they name the status and the server's message.

Endpoints: Endpoints: `/completions` for string prompts (`chat=False`) and `/chat/completions` for
chat messages. `n` is sent as is; a server that returns fewer choices than asked (some do
not implement `n`) is asked again for the rest.

Seeds: sample j of a prompt is meant to be drawn with `seeds[j]` (`per_sample_seeds`; the runner
passes `sample_seed(seed, problem id, index)`, consecutive per problem). A prompt whose seeds run
s, s + 1, ... is one request with `n` and `"seed": s`, which on a vLLM server (child j of a
request seeded s is seeded s + j) draws exactly those samples; the rest of a short answer is
asked for with the seed of the first missing sample. Other seeds go one request per sample
(n=1). How a non-vLLM server uses `seed` with `n > 1` is up to that server.
"""
from __future__ import annotations

import json
import os
import random
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

from verify.errors import VerifyError
from verify.sampling.base import Completion, Prompt, SamplingParams, as_messages, call_seeds, consecutive, token_ends

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class ServerError(VerifyError):
    """The server kept failing (after retries) or refused the request."""


class OpenAIGenerator:
    """Generator over an OpenAI-compatible endpoint.

    >>> g = OpenAIGenerator(model="Qwen/Qwen2.5-Math-1.5B-Instruct",
    ...                     base_url="http://127.0.0.1:8000/v1")        # doctest: +SKIP
    >>> g.generate([[{"role": "user", "content": "1+1?"}]], 4, SamplingParams())  # doctest: +SKIP
    """

    per_sample_seeds = True  # sample j of a prompt asks for seeds[j] (see the module docstring)

    def __init__(self, model: str, base_url: str | None = None, *, api_key: str | None = None,
                 chat: bool = True, max_concurrency: int = 8, timeout: float = 120.0, max_retries: int = 6,
                 backoff_base: float = 0.5, backoff_max: float = 30.0, logprobs: bool = False,
                 extra_body: dict[str, Any] | None = None):
        self.name = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "http://127.0.0.1:8000/v1").rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        self.chat = chat
        self.max_concurrency = max(1, max_concurrency)
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.logprobs = logprobs
        self.extra_body = dict(extra_body or {})
        self.retries = 0  # retried requests so far (for logs and tests)

    def generate(self, prompts: Sequence[Prompt], n: int, params: SamplingParams,
                 seeds: Sequence[Sequence[int | None]] | None = None) -> list[list[Completion]]:
        seeds = seeds if seeds is not None else call_seeds(params.seed, len(prompts), n)
        jobs = []  # (prompt, its seeds): one request (and its asks for the rest) each
        for i, row in enumerate(seeds):
            jobs.extend([(i, list(row))] if consecutive(row) else [(i, [s]) for s in row])
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, max(1, len(jobs)))) as pool:
            results = list(pool.map(lambda job: self._one_prompt(prompts[job[0]], params, job[1]), jobs))
        got: list[list[Completion]] = [[] for _ in prompts]
        for (i, _), row in zip(jobs, results):  # a prompt's jobs are in sample order
            got[i].extend(row)
        return got

    def _one_prompt(self, prompt: Prompt, params: SamplingParams, seeds: list[int | None]) -> list[Completion]:
        got: list[Completion] = []
        while len(got) < len(seeds):  # a short answer: ask for the rest, from the first missing sample's seed
            got += self._request(prompt, len(seeds) - len(got), params, seeds[len(got)])
        return got[:len(seeds)]

    def _payload(self, prompt: Prompt, n: int, params: SamplingParams, seed: int | None) -> tuple[str, dict]:
        body: dict[str, Any] = {"model": self.name, "n": n, "max_tokens": params.max_tokens,
                                "temperature": params.temperature, "top_p": params.top_p}
        if params.stop:
            body["stop"] = list(params.stop)
        if seed is not None:
            body["seed"] = seed
        if self.chat or not isinstance(prompt, str):
            body["messages"] = as_messages(prompt)
            if self.logprobs:
                body["logprobs"] = True
            path = "/chat/completions"
        else:
            body["prompt"] = prompt
            if self.logprobs:
                body["logprobs"] = 0
            path = "/completions"
        body.update(self.extra_body)
        return path, body

    def _request(self, prompt: Prompt, n: int, params: SamplingParams, seed: int | None) -> list[Completion]:
        path, body = self._payload(prompt, n, params, seed)
        data = self._post(path, body)
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ServerError(f"{self.base_url}{path}: response has no 'choices': {str(data)[:200]}")
        usage = data.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        out = []
        for ch in sorted(choices, key=lambda c: c.get("index", 0)):
            text, ntok, lp, tokens = _parse_choice(ch)
            if ntok == 0 and len(choices) == 1:
                ntok = int(usage.get("completion_tokens") or 0)
            reason = "length" if ch.get("finish_reason") == "length" else "stop"
            out.append(Completion(text=text, num_tokens=ntok, finish_reason=reason, logprob=lp,
                                  prompt_tokens=prompt_tokens, **tokens))
        return out

    def _post(self, path: str, body: dict) -> dict:
        url = self.base_url + path
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = ""
        for attempt in range(self.max_retries + 1):
            retry_after = None
            try:
                req = urllib.request.Request(url, data=raw, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                msg = exc.read()[:300].decode(errors="replace")
                if exc.code not in RETRY_STATUS:
                    raise ServerError(f"{url}: HTTP {exc.code}: {msg}") from None
                last, retry_after = f"HTTP {exc.code}: {msg}", _retry_after(exc.headers.get("Retry-After"))
            except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as exc:
                last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            except json.JSONDecodeError as exc:
                last = f"invalid JSON in response ({exc})"
            if attempt == self.max_retries:
                break
            self.retries += 1
            delay = random.uniform(0, min(self.backoff_max, self.backoff_base * 2 ** attempt))
            if retry_after is not None:
                delay = max(delay, min(retry_after, self.backoff_max))
            time.sleep(delay)
        raise ServerError(f"{url}: giving up after {self.max_retries + 1} attempts; last error: {last}")


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form; HTTP dates are ignored)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _parse_choice(ch: dict) -> tuple[str, int, float | None, dict]:
    """(text, generated tokens or 0, summed logprob or None, token fields) for one choice.

    The token fields are `Completion`'s `token_logprobs`, `token_ends` (cumulative lengths of
    the returned token strings, capped at the text) and, when the server returned top
    alternatives, `token_confidence` (DeepConf: minus the mean log-probability of the top
    tokens). Empty when the server sent no per-token logprobs.

    >>> ch = {"message": {"content": "ab"}, "logprobs": {"content": [
    ...     {"token": "a", "logprob": -0.5, "top_logprobs": [{"token": "a", "logprob": -0.5}, {"token": "x", "logprob": -1.5}]},
    ...     {"token": "b", "logprob": -0.25, "top_logprobs": []}]}}
    >>> _parse_choice(ch)
    ('ab', 2, -0.75, {'token_logprobs': (-0.5, -0.25), 'token_ends': (1, 2)})
    """
    tokens: list = []
    tops: list = []
    if "message" in ch:
        text = (ch.get("message") or {}).get("content") or ""
        content = ((ch.get("logprobs") or {}).get("content")) or []
        items = [t for t in content if isinstance(t, dict) and isinstance(t.get("logprob"), (int, float))]
        lps = [t["logprob"] for t in items]
        tokens = [t.get("token") for t in items]
        tops = [[x.get("logprob") for x in (t.get("top_logprobs") or []) if isinstance(x, dict)] for t in items]
    else:
        text = ch.get("text")
        if not isinstance(text, str):
            raise ServerError(f"choice has no string 'text': {str(ch)[:200]}")
        lp = ch.get("logprobs") or {}
        raw = list(lp.get("token_logprobs") or [])
        keep = [i for i, x in enumerate(raw) if isinstance(x, (int, float))]
        lps = [raw[i] for i in keep]
        toks, top = list(lp.get("tokens") or []), list(lp.get("top_logprobs") or [])
        tokens = [toks[i] if i < len(toks) else None for i in keep]
        tops = [list((top[i] or {}).values()) if i < len(top) and isinstance(top[i], dict) else [] for i in keep]
    fields: dict = {}
    if lps:
        fields["token_logprobs"] = tuple(float(x) for x in lps)
        if all(isinstance(t, str) for t in tokens):
            fields["token_ends"] = token_ends(tokens, len(text))
        conf = [[x for x in t if isinstance(x, (int, float))] for t in tops]
        if conf and all(len(c) >= 2 for c in conf):  # the sampled token alone is no top-k confidence
            fields["token_confidence"] = tuple(-sum(c) / len(c) for c in conf)
    return text, len(lps), (float(sum(lps)) if lps else None), fields
