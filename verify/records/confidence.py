"""Token confidence of a trace, summarised compactly (DeepConf, Fu et al. 2025, arXiv 2508.15260).

DeepConf's token confidence at position i is the negative mean log-probability of the top-k
candidate tokens, C_i = -(1/k) * sum_{j<=k} log P_i(j): high when the distribution is peaked.
Its group confidence is the mean C_i over a sliding window of tokens, and a trace's
"lowest group confidence" is the minimum over all windows: one confused stretch marks the
whole trace. What a backend can give decides the kind:

- `"top{k}"` (transformers; vLLM / OpenAI-compatible servers with top logprobs): DeepConf's
  C_i as above. Weight = the lowest group confidence itself (positive).
- `"sampled"` (CTranslate2, or a server that returns only the chosen token's logprob): the
  sampled token's log-probability log p_i (<= 0, higher is more confident). The group
  confidence is the mean log p_i over the window; weight = exp(lowest group mean), the
  geometric-mean token probability of the worst window, in (0, 1].

A trace keeps only the summary (`Trace.confidence`), not the per-token arrays:
`{"kind", "window", "tokens", "mean", "lowest_group", "step_logprob"}` where `step_logprob`
is the mean sampled-token logprob of each step (tokens assigned to steps by their text offsets).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

WINDOW = 32   # tokens per group; DeepConf uses 2048 for long traces, our arith traces are ~100 tokens
TOP_K = 20    # candidates per position for "top{k}" confidence (DeepConf's logprobs=20)


def group_min(values: Sequence[float], window: int = WINDOW) -> float:
    """Minimum over sliding windows of the window mean (the whole mean when shorter).

    >>> group_min([1.0, 1.0, 0.0, 0.0, 1.0], window=2)
    0.0
    >>> group_min([2.0, 4.0], window=8)
    3.0
    """
    xs = [float(v) for v in values]
    if not xs:
        return float("nan")
    w = min(window, len(xs))
    run = sum(xs[:w])
    best = run
    for i in range(w, len(xs)):
        run += xs[i] - xs[i - w]
        best = min(best, run)
    return best / w


def step_spans(text: str, steps: Sequence[str]) -> list[int]:
    """Start offset of each step in `text` (steps are stripped pieces, found in order)."""
    starts, pos = [], 0
    for s in steps:
        i = text.find(s, pos)
        i = pos if i < 0 else i
        starts.append(i)
        pos = i + len(s)
    return starts


def step_means(values: Sequence[float], ends: Sequence[int] | None, text: str, steps: Sequence[str]) -> list[float]:
    """Mean of `values` over the tokens of each step: token t belongs to the last step that
    starts before its end offset (tokens before the first step go to the first)."""
    if not steps:
        return []
    if ends is None or len(ends) != len(values):
        return [round(sum(values) / len(values), 4)] * len(steps) if values else []
    starts = step_spans(text, steps)
    sums, counts = [0.0] * len(steps), [0] * len(steps)
    j = 0
    for v, e in zip(values, ends):
        while j + 1 < len(starts) and starts[j + 1] < e:
            j += 1
        sums[j] += v
        counts[j] += 1
    return [round(s / c, 4) if c else float("nan") for s, c in zip(sums, counts)]


def summarize(text: str, steps: Sequence[str], token_logprobs: Sequence[float] | None,
              token_confidence: Sequence[float] | None = None, token_ends: Sequence[int] | None = None,
              *, window: int = WINDOW, top_k: int = TOP_K) -> dict[str, Any] | None:
    """The compact confidence record of one trace, or None when the backend gave no logprobs.

    >>> c = summarize("a\\n\\nb", ("a", "b"), [-0.1, -0.5, -2.0], token_ends=[1, 3, 4], window=2)
    >>> c["kind"], c["step_logprob"], c["lowest_group"]
    ('sampled', [-0.3, -2.0], -1.25)
    """
    if not token_logprobs:
        return None
    per_token = token_confidence if token_confidence else token_logprobs
    kind = f"top{top_k}" if token_confidence else "sampled"
    return {"kind": kind, "window": window, "tokens": len(token_logprobs),
            "mean": round(sum(per_token) / len(per_token), 4),
            "lowest_group": round(group_min(per_token, window), 4),
            "step_logprob": step_means(list(token_logprobs), token_ends, text, steps)}


def trace_confidence(confidence: dict[str, Any] | None) -> float | None:
    """A trace's positive confidence weight from its summary (see the module docstring).

    >>> trace_confidence({"kind": "sampled", "lowest_group": 0.0})
    1.0
    >>> trace_confidence({"kind": "top20", "lowest_group": 7.5})
    7.5
    >>> trace_confidence(None) is None
    True
    """
    if not confidence or confidence.get("lowest_group") is None:
        return None
    g = float(confidence["lowest_group"])
    if math.isnan(g):
        return None
    return math.exp(g) if confidence.get("kind") == "sampled" else g


def topk_confidence(logprobs_topk: Sequence[Sequence[float]]) -> list[float]:
    """DeepConf token confidence from each position's top-k logprobs: -mean(top-k logprobs).

    >>> topk_confidence([[-0.01, -5.0, -7.0]])
    [4.0033]
    """
    return [round(-sum(row) / len(row), 4) for row in logprobs_topk]
