"""The Generator protocol, its small records, and the backend registry.

A generator takes a batch of prompts and N and returns N completions per prompt, each with
its text, token count, finish reason and (when the backend gives it) the summed
log-probability. This mirrors vLLM's `RequestOutput.outputs[i]` (`CompletionOutput`) and
simonw/llm's model protocol. Backends are registered by *import string*, so `vllm` (or
torch) is imported only when that backend is chosen.

A prompt is either a plain string (sent as is) or a list of chat messages
(`[{"role": "user", "content": ...}]`), to which the backend applies the model's chat
template.

Seeds. Sample i of problem p in a run seeded with `seed` has its own seed,
`sample_seed(seed, p.id, i) = derive_seed(seed, p.id) + i`, which depends on nothing else
(not on the problem's place in the list, the batch, or how many samples were asked for). A
backend that accepts `generate(..., seeds=...)` receives these seeds, one per completion to
return; with `per_sample_seeds = True` it promises that completion j of prompt i depends only
on the prompt, the params and `seeds[i][j]`, so the runner may ask it for any subset of
samples in any grouping (verify.sampling.run.run_job). The seeds of a problem's samples are
consecutive because that is vLLM's own rule for the n samples of one request (child j of a
request seeded s is seeded s + j), so one vLLM request with n samples and seed s draws exactly
the samples seeded s, s + 1, ..., s + n - 1.
"""
from __future__ import annotations

import difflib
import hashlib
import importlib
import inspect
from dataclasses import asdict, dataclass
from typing import Any, Callable, Protocol, Sequence, Union, runtime_checkable

from verify.errors import UnknownSpecError

Messages = list[dict[str, str]]
Prompt = Union[str, Messages]


@dataclass(frozen=True)
class SamplingParams:
    """Sampling settings shared by every backend.

    >>> SamplingParams(temperature=0.0).greedy
    True
    """

    # The one set of sampling defaults: `verify sample` and `verify eval` both read these.
    temperature: float = 0.7       # common self-consistency setting; 0 means greedy
    top_p: float = 1.0             # no nucleus cut: samples follow the model's tempered distribution,
                                   # which the vote models and exact estimators assume
    max_tokens: int = 512          # a benchmark may carry its own (evals.benchmarks: arith uses 160)
    stop: tuple[str, ...] = ()     # stop strings; the returned text excludes them
    seed: int | None = 0           # None: not seeded (not reproducible)

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0

    def replace(self, **kw: Any) -> "SamplingParams":
        d = asdict(self)
        d.update(kw)
        d["stop"] = tuple(d["stop"] or ())
        return SamplingParams(**d)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d


@dataclass(frozen=True)
class Completion:
    """One sampled continuation of one prompt."""

    text: str
    num_tokens: int = 0            # generated tokens; 0 means the backend could not say
    finish_reason: str = "stop"    # "stop" (EOS or a stop string) or "length" (hit max_tokens)
    logprob: float | None = None   # sum of the sampled tokens' log-probabilities, if known
    prompt_tokens: int = 0         # prompt length in tokens; 0 means unknown
    # per generated token, when the backend gives them (verify.records.confidence summarises them):
    token_logprobs: tuple[float, ...] | None = None   # log p of the sampled token
    token_confidence: tuple[float, ...] | None = None  # DeepConf: -mean log p of the top-k tokens
    token_ends: tuple[int, ...] | None = None          # end offset of each token in `text`
    # the seed of the random stream this completion was drawn from, set by a backend that draws
    # several samples from one stream (ct2's chunk seed, a callable's per-prompt seed); None: the
    # seed the runner gave it (its per-sample seed, or the call's seed)
    seed: int | None = None


@runtime_checkable
class Generator(Protocol):
    """Anything with `generate(prompts, n, params) -> list[list[Completion]]`.

    The outer list follows `prompts`; each inner list has exactly `n` completions.
    Optional attribute `name` (model name written into each trace). Optional keyword
    `seeds`: `seeds[i][j]` is the seed of completion j of prompt i (see the module docstring);
    a generator without it gets one seed per call in `params.seed`. Optional attribute
    `per_sample_seeds = True`: completion j of prompt i depends only on (prompt i, params,
    seeds[i][j]).
    """

    def generate(self, prompts: Sequence[Prompt], n: int, params: SamplingParams) -> list[list[Completion]]:
        ...


# name -> "module:attribute"; the module is imported only when the backend is chosen
BACKENDS: dict[str, str] = {
    "transformers": "verify.sampling.transformers_backend:TransformersGenerator",
    "vllm": "verify.sampling.vllm_backend:VLLMGenerator",
    "openai": "verify.sampling.openai_backend:OpenAIGenerator",
    "callable": "verify.sampling.callable_backend:CallableGenerator",
    "replay": "verify.sampling.replay_backend:ReplayGenerator",
    "ct2": "verify.sampling.ct2_backend:CT2Generator",
}


def resolve(spec: str) -> Any:
    """Import `"package.module:attr"` and return the attribute."""
    module, _, attr = spec.partition(":")
    try:
        obj = importlib.import_module(module)
        for part in attr.split(".") if attr else ():
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise UnknownSpecError(f"cannot import {spec!r}: {exc}") from None
    return obj


def get_generator(backend: str, **kw: Any) -> Generator:
    """Build a backend by registry name (or `"module:Class"` import string).

    >>> g = get_generator("callable", fn=lambda prompt, n: ["\\\\boxed{2}"] * n)
    >>> g.generate(["1+1?"], 2, SamplingParams())[0][1].text
    '\\\\boxed{2}'
    """
    if backend in BACKENDS:
        spec = BACKENDS[backend]
    elif ":" in backend:
        spec = backend
    else:
        close = difflib.get_close_matches(backend, BACKENDS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownSpecError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}.{hint}")
    return resolve(spec)(**kw)


def derive_seed(seed: int | None, *keys: Any) -> int | None:
    """A 31-bit seed that depends only on `seed` and `keys` (stable across runs and machines).

    >>> derive_seed(0, "batch", 3) == derive_seed(0, "batch", 3) != derive_seed(0, "batch", 4)
    True
    """
    if seed is None:
        return None
    h = hashlib.blake2b(repr((seed,) + keys).encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") % (2**31 - 1)


def sample_seed(seed: int | None, problem_id: str, index: int) -> int | None:
    """The seed of sample `index` of problem `problem_id`: `derive_seed(seed, problem_id) + index`.

    >>> sample_seed(0, "p1", 3) - sample_seed(0, "p1", 0), sample_seed(None, "p1", 0)
    (3, None)
    """
    base = derive_seed(seed, str(problem_id))
    return None if base is None else base + index


def call_seeds(seed: int | None, prompts: int, n: int) -> list[list[int | None]]:
    """Per-sample seeds for a `generate` call given none (a direct call, not through the runner):
    completion j of prompt i gets `derive_seed(seed, i) + j`, so the same call with the same
    seed gives the same texts.

    >>> s = call_seeds(5, 2, 3); s[0][2] - s[0][0], s[0][0] != s[1][0], call_seeds(None, 1, 2)
    (2, True, [[None, None]])
    """
    out = []
    for i in range(prompts):
        base = derive_seed(seed, i)
        out.append([None if base is None else base + j for j in range(n)])
    return out


def joint_seed(seeds: Sequence[Sequence[int | None]]) -> int | None:
    """One seed for a group of samples drawn from a single random stream (ct2's chunk of rows):
    it depends only on their seeds, that is on (run seed, problem ids, sample indices).

    >>> joint_seed([[1, 2], [7, 8]]) == joint_seed([[1, 2], [7, 8]]) != joint_seed([[7, 8], [1, 2]])
    True
    """
    rows = tuple(tuple(r) for r in seeds)
    if any(s is None for r in rows for s in r):
        return None
    return derive_seed(0, "joint", rows)


def consecutive(seeds: Sequence[int | None]) -> bool:
    """Whether these per-sample seeds run s, s + 1, s + 2, ... (or are all None): then one
    request for len(seeds) samples seeded s draws them on vLLM, whose child j of a seeded
    request gets seed s + j.

    >>> consecutive([7, 8, 9]), consecutive([7, 9]), consecutive([None, None])
    (True, False, True)
    """
    if not seeds or seeds[0] is None:
        return all(s is None for s in seeds)
    return all(s == seeds[0] + j for j, s in enumerate(seeds))


def takes_seeds(generator: Any) -> bool:
    """Whether `generator.generate` accepts the `seeds` keyword (third-party generators may not)."""
    try:
        return "seeds" in inspect.signature(generator.generate).parameters
    except (TypeError, ValueError):  # no introspectable signature
        return False


def trim_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut `text` before the earliest stop string; report whether one was found.

    >>> trim_at_stop("a + b\\nQuestion: x", ["Question:"])
    ('a + b\\n', True)
    """
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def generate_in_chunks(prompts: Sequence[Prompt], n: int, seeds: Sequence[Sequence[int | None]], max_rows: int,
                       run: Callable[[Sequence[Prompt], Sequence[Sequence[int | None]]], list[list[Completion]]]
                       ) -> list[list[Completion]]:
    """Call `run(chunk, chunk_seeds)` on slices of at most `max_rows // n` prompts (one at least),
    `chunk_seeds` being the per-sample seeds of the chunk's prompts.

    >>> generate_in_chunks(["a", "b", "c"], 4, [[1], [2], [3]], 8, lambda c, s: [[p, s] for p in c])
    [['a', [[1], [2]]], ['b', [[1], [2]]], ['c', [[3]]]]
    """
    per_call = max(1, max_rows // max(n, 1))
    out: list[list[Completion]] = []
    for start in range(0, len(prompts), per_call):
        out.extend(run(prompts[start:start + per_call], seeds[start:start + per_call]))
    return out


def token_ends(tokens: Sequence[str], text_len: int) -> tuple[int, ...]:
    """End offset of each token in the text, from the token strings a server returned.

    >>> token_ends(["1", " +", " 1"], 4)
    (1, 3, 4)
    """
    ends, at = [], 0
    for t in tokens:
        at += len(t)
        ends.append(min(at, text_len))
    return tuple(ends)


def as_messages(prompt: Prompt) -> Messages:
    """A prompt as chat messages (a plain string becomes one user turn)."""
    return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
