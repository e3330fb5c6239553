"""One-pass PRM scoring with Hugging Face transformers: one forward pass per trace.

Several PRM wrappers score step k by running the model on the prefix ``question + steps[:k]``,
costing O(n) forward passes and O(n^2) tokens per trace of n steps. With causal attention the
hidden state at step k's tag depends only on the tokens before it, so a single pass over the
whole trace gives the same scores (up to float rounding) at a fraction of the tokens. Traces are
batched with right padding: real tokens keep positions 0..L-1 and never attend to the padding,
so padding changes nothing either. ``score_per_prefix`` keeps the slow baseline for checks and
benchmarks.

Step probabilities follow the spec (prm/specs.py): lm head ``softmax([l+, l-])[0]`` over the two
label-token logits at the read position; cls head ``softmax(logits)[..., 1]``.

>>> scorer = HFStepScorer.from_pretrained("out/prm")  # doctest: +SKIP
>>> scorer("What is 2+3?", ["2+3=5", "The answer is 5"])  # doctest: +SKIP
[0.93, 0.88]
"""
from __future__ import annotations

from typing import Any, Sequence

from prm.specs import Encoded, StepTagSpec, encode, get_spec, label_token_ids, load_spec

_DTYPES = ("float32", "bfloat16", "float16", "auto")


def torch_dtype(name: str) -> Any:
    """Map a dtype option ("float32", "bfloat16", "float16", "auto") to a torch dtype or "auto"."""
    import torch

    if name not in _DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, not {name!r}")
    return name if name == "auto" else getattr(torch, name)


def load_tokenizer(path: str, trust_remote_code: bool = False) -> Any:
    """AutoTokenizer, except that a directory declaring the generic fast backend gets exactly it.

    transformers 5 maps some model types (e.g. qwen2) to their own tokenizer class, which rebuilds
    the pre-tokenizer and would silently change a custom (e.g. char-level) tokenizer's splits.
    """
    import json
    from pathlib import Path

    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    cfg = Path(path) / "tokenizer_config.json"
    if cfg.is_file() and (Path(path) / "tokenizer.json").is_file():
        declared = json.loads(cfg.read_text(encoding="utf-8")).get("tokenizer_class")
        if declared in ("TokenizersBackend", "PreTrainedTokenizerFast"):
            return PreTrainedTokenizerFast.from_pretrained(path)
    return AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)


def load_prm_model(path: str, spec: StepTagSpec, *, dtype: str = "float32",
                   trust_remote_code: bool = False) -> Any:
    """Load the model class a spec needs: causal LM for the lm head, token classifier for cls.

    Qwen2.5-Math-PRM ships its own ``Qwen2ForProcessRewardModel`` class (remote code); it is
    loaded through ``AutoModel`` when ``trust_remote_code`` is set.
    """
    from transformers import (AutoConfig, AutoModel, AutoModelForCausalLM,
                              AutoModelForTokenClassification)

    kw = {"dtype": torch_dtype(dtype)}
    if spec.head == "lm":
        return AutoModelForCausalLM.from_pretrained(path, **kw)
    config = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
    if any("ProcessRewardModel" in a for a in (getattr(config, "architectures", None) or [])):
        if not trust_remote_code:
            raise ValueError(f"{path} is a {config.architectures[0]} (remote code): pass "
                             "trust_remote_code=True to load it")
        return AutoModel.from_pretrained(path, trust_remote_code=True, **kw)
    return AutoModelForTokenClassification.from_pretrained(path, num_labels=2, **kw)


def step_logits(model: Any, spec: StepTagSpec, label_ids: tuple[int, int] | None,
                input_ids: Any, attention_mask: Any, rows: Any, cols: Any) -> Any:
    """Two-way logits at positions ``(rows[i], cols[i])``; column 1 means "step is correct".

    Shared by the scorer and the trainer (same numbers in both). Shapes: ``input_ids``
    (batch, seq); ``rows``, ``cols`` (n,); result (n, 2) ordered as (wrong, correct).
    """
    if spec.head == "cls":
        out = model(input_ids=input_ids, attention_mask=attention_mask)
        logits = out.logits if hasattr(out, "logits") else out[0]   # (batch, seq, 2)
        return logits[rows, cols].float()
    pos_id, neg_id = label_ids
    softcap = getattr(getattr(model, "config", None), "final_logit_softcapping", None)
    head = model.get_output_embeddings()
    base = getattr(model, getattr(model, "base_model_prefix", "model"), None)
    if softcap or base is None or not hasattr(head, "weight"):
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
        return logits[rows, cols][:, [neg_id, pos_id]].float()
    # only the two label rows of the LM head are needed: (n, hidden) @ (hidden, 2)
    hidden = base(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    h = hidden[rows, cols]                                          # (n, hidden)
    w = head.weight[[neg_id, pos_id]]                               # (2, hidden)
    out = h @ w.T
    if getattr(head, "bias", None) is not None:
        out = out + head.bias[[neg_id, pos_id]]
    return out.float()


def pad_batch(encoded: Sequence[Encoded], pad_id: int, device: Any = "cpu") -> tuple[Any, Any]:
    """Right-pad token ids into (batch, seq) ``input_ids`` and ``attention_mask`` tensors."""
    import torch

    width = max(len(e.input_ids) for e in encoded)
    ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for i, e in enumerate(encoded):
        ids[i, : len(e.input_ids)] = torch.tensor(e.input_ids, dtype=torch.long)
        mask[i, : len(e.input_ids)] = 1
    return ids.to(device), mask.to(device)


class HFStepScorer:
    """Scores every step of a trace in one forward pass.

    Callable as ``scorer(question, steps) -> list[float]`` (probability each step is correct).
    ``forward_tokens`` counts the real (non-padding) tokens run through the model.
    """

    def __init__(self, model: Any, tokenizer: Any, spec: "StepTagSpec | str", *,
                 device: str = "cpu", batch_size: int = 8, max_length: int | None = None):
        self.model = model.eval().to(device)
        self.tokenizer = tokenizer
        self.spec = get_spec(spec)
        self.device = device
        self.batch_size = max(1, int(batch_size))
        cfg_max = getattr(getattr(model, "config", None), "max_position_embeddings", None)
        self.max_length = max_length or cfg_max
        self.label_ids = label_token_ids(self.spec, tokenizer) if self.spec.head == "lm" else None
        pad = tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else (tokenizer.eos_token_id or 0)
        self.forward_tokens = 0   # real tokens through the model, for cost accounting
        self.forward_calls = 0

    @classmethod
    def from_pretrained(cls, path: str, spec: "StepTagSpec | str | None" = None,
                        device: str = "cpu", dtype: str = "float32", batch_size: int = 8,
                        max_length: int | None = None,
                        trust_remote_code: bool = False) -> "HFStepScorer":
        """Load a PRM directory; the spec comes from its ``prm_spec.json`` unless given.

        >>> HFStepScorer.from_pretrained("out/prm", device="cpu")  # doctest: +SKIP
        """
        spec = get_spec(spec) if spec is not None else load_spec(path)
        if spec is None:
            raise ValueError(f"{path} has no prm_spec.json: pass spec= (one of math-shepherd, "
                             "qwen-prm, rlhflow, token-cls)")
        tok = load_tokenizer(path, trust_remote_code=trust_remote_code)
        model = load_prm_model(path, spec, dtype=dtype, trust_remote_code=trust_remote_code)
        return cls(model, tok, spec, device=device, batch_size=batch_size, max_length=max_length)

    def encode(self, question: str, steps: Sequence[str]) -> Encoded:
        """Encode one trace, refusing one whose tags do not all fit in ``max_length``."""
        enc = encode(self.spec, self.tokenizer, question, steps, max_length=self.max_length)
        if len(enc.tag_positions) != len(steps):
            raise ValueError(f"trace has {len(steps)} steps but only {len(enc.tag_positions)} "
                             f"step tags fit in max_length={self.max_length}; shorten the trace "
                             "or raise max_length")
        return enc

    def _forward(self, encoded: Sequence[Encoded]) -> list[list[float]]:
        import torch

        ids, mask = pad_batch(encoded, self.pad_id, self.device)
        rows = [i for i, e in enumerate(encoded) for _ in e.tag_positions]
        cols = [p for e in encoded for p in e.tag_positions]
        self.forward_tokens += int(mask.sum())
        self.forward_calls += 1
        with torch.no_grad():
            logits = step_logits(self.model, self.spec, self.label_ids, ids, mask,
                                 torch.tensor(rows, dtype=torch.long, device=self.device),
                                 torch.tensor(cols, dtype=torch.long, device=self.device))
        probs = torch.softmax(logits, dim=-1)[:, 1].tolist()        # (n_tags,)
        out, k = [], 0
        for e in encoded:
            out.append(probs[k: k + len(e.tag_positions)])
            k += len(e.tag_positions)
        return out

    def score_batch(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[list[float]]:
        """Score many ``(question, steps)`` pairs, batching traces of similar length.

        >>> scorer.score_batch([("2+2?", ["2+2=4"]), ("3+3?", ["3+3=7", "so 7"])])  # doctest: +SKIP
        [[0.97], [0.12, 0.08]]
        """
        encoded = [self.encode(q, s) if len(s) else None for q, s in items]
        order = sorted((i for i, e in enumerate(encoded) if e is not None),
                       key=lambda i: -len(encoded[i].input_ids))
        results: list[list[float]] = [[] for _ in items]
        for start in range(0, len(order), self.batch_size):
            chunk = order[start: start + self.batch_size]
            for i, scores in zip(chunk, self._forward([encoded[i] for i in chunk])):
                results[i] = scores
        return results

    def __call__(self, question: str, steps: Sequence[str]) -> list[float]:
        return self.score_batch([(question, steps)])[0]

    def score_per_prefix(self, question: str, steps: Sequence[str]) -> list[float]:
        """The slow baseline: step k is scored by a separate forward pass over ``steps[:k+1]``.

        >>> scorer.score_per_prefix("2+2?", ["2+2=4", "so 4"])  # doctest: +SKIP
        [0.97, 0.95]
        """
        out = []
        for k in range(1, len(steps) + 1):
            out.append(self._forward([self.encode(question, steps[:k])])[0][-1])
        return out
