"""VLLMStepScorer against a fake `vllm` module: the arguments it sends and the scores it reads.

The fake LLM runs the same tiny HF model on the token ids it receives, the way vLLM's STEP
pooler would (softmax over the label tokens' lm_head rows of a causal LM converted into a
token classifier, or over the 2-class head), so the
vLLM scorer must agree with the HF one-pass scorer. No GPU and no vllm install needed.
"""
from __future__ import annotations

import sys
import types

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from prm.hf_scorer import HFStepScorer, load_prm_model
from prm.specs import get_spec, with_head
from prm.synthetic import save_tiny_model

TRACES = [("Compute 3+4, 9-2.", ["3+4=7", "9-2=6"]), ("Q?", ["1+1=2", "2+2=5", "so 5"]),
          ("empty", [])]


class FakeLLM:
    calls: list = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.mode = "all"  # "all": a row per token; "tags": only rows at tag positions; "raw": logits
        FakeLLM.calls.append(("init", kwargs))
        head = "lm" if kwargs.get("convert") == "classify" else "cls"
        self.model = load_prm_model(kwargs["model"], with_head(get_spec("token-cls"), head))
        if head == "lm":  # vLLM builds the 2-class head from these lm_head rows
            from transformers import AutoTokenizer
            tok = AutoTokenizer.from_pretrained(kwargs["model"])
            self.label_ids = tok.convert_tokens_to_ids(kwargs["hf_overrides"]["classifier_from_token"])

    def encode(self, prompts, pooling_task=None, use_tqdm=True):
        FakeLLM.calls.append(("encode", prompts, pooling_task))
        outs = []
        for p in prompts:
            ids = torch.tensor([p["prompt_token_ids"]])
            with torch.no_grad():
                logits = self.model(input_ids=ids).logits[0]          # (seq, vocab or 2)
            if self.kwargs.get("convert") == "classify":
                logits = logits[:, self.label_ids]
            data = logits if self.mode == "raw" else torch.softmax(logits, -1)
            if self.mode == "tags":
                data = data[self.tag_rows.pop(0)]
            outs.append(types.SimpleNamespace(outputs=types.SimpleNamespace(data=data)))
        return outs


@pytest.fixture
def fake_vllm(monkeypatch):
    mod = types.ModuleType("vllm")
    mod.LLM = FakeLLM
    FakeLLM.calls = []
    monkeypatch.setitem(sys.modules, "vllm", mod)
    return mod


@pytest.mark.parametrize("spec,kind,head", [("math-shepherd", "llama", "lm"),
                                            ("qwen-prm", "qwen2", "cls"),
                                            ("rlhflow", "llama", "lm")])
def test_vllm_scorer_sends_pooling_arguments_and_matches_hf(fake_vllm, tmp_path, spec, kind, head):
    from prm.vllm_scorer import VLLMStepScorer

    d = save_tiny_model(tmp_path, kind=kind, head=head, hidden=32, spec=spec, init_range=0.3)
    scorer = VLLMStepScorer(str(d), dtype="bfloat16", max_length=256, enforce_eager=True)
    hf = HFStepScorer.from_pretrained(str(d))
    got = scorer.score_batch([(q, s) for q, s in TRACES])

    (_, init), (_, prompts, task) = FakeLLM.calls
    assert init["model"] == str(d) and init["runner"] == "pooling"
    assert init["dtype"] == "bfloat16" and init["max_model_len"] == 256
    assert init["enforce_eager"] is True
    assert init["pooler_config"] == {"pooling_type": "STEP"}
    if head == "lm":
        plus, minus = hf.label_ids
        assert init["convert"] == "classify"
        assert init["hf_overrides"] == {"classifier_from_token": hf.tokenizer.convert_ids_to_tokens([plus, minus]),
                                        "method": "no_post_processing"}
    else:
        assert "convert" not in init and "hf_overrides" not in init
    assert task == "token_classify"
    assert prompts == [{"prompt_token_ids": list(hf.encode(q, s).input_ids)}
                       for q, s in TRACES if s]  # the empty trace is not sent
    want = hf.score_batch([(q, s) for q, s in TRACES])
    for g, w in zip(got, want):
        assert g == pytest.approx(w, abs=1e-5)
    assert got[2] == []
    assert scorer.forward_tokens == sum(len(p["prompt_token_ids"]) for p in prompts)


def test_vllm_scorer_accepts_tag_rows_and_raw_logits(fake_vllm, tmp_path):
    from prm.vllm_scorer import VLLMStepScorer

    d = save_tiny_model(tmp_path, kind="qwen2", head="cls", hidden=32, spec="qwen-prm",
                        init_range=0.3)
    scorer = VLLMStepScorer(str(d))
    hf = HFStepScorer.from_pretrained(str(d))
    q, steps = TRACES[1]
    want = hf(q, steps)
    scorer.llm.mode = "tags"  # a pooler with a fixed step_tag_id returns one row per tag
    scorer.llm.tag_rows = [list(hf.encode(q, steps).tag_positions)]
    assert scorer(q, steps) == pytest.approx(want, abs=1e-5)
    scorer.llm.mode = "raw"  # activation off: logits come back, the scorer applies the softmax
    assert scorer(q, steps) == pytest.approx(want, abs=1e-5)


def test_vllm_scorer_refuses_truncation_and_missing_spec(fake_vllm, tmp_path):
    from prm.vllm_scorer import VLLMStepScorer

    d = save_tiny_model(tmp_path / "a", kind="llama", head="lm", hidden=32, spec="math-shepherd")
    scorer = VLLMStepScorer(str(d), max_length=12)
    with pytest.raises(ValueError, match="step tags fit in max_length=12"):
        scorer("Compute 3+4, 9-2.", ["3+4=7", "9-2=6"])
    bare = save_tiny_model(tmp_path / "b", kind="llama", head="lm", hidden=32)
    with pytest.raises(ValueError, match="no prm_spec.json"):
        VLLMStepScorer(str(bare))
    assert VLLMStepScorer(str(bare), spec="token-cls").spec.name == "token-cls"


def test_prm_modules_do_not_import_vllm():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    importers = []
    for path in list((root / "prm").glob("*.py")) + list((root / "verify").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "vllm" or n.startswith("vllm.") for n in names):
                importers.append(path.relative_to(root).as_posix())
    assert sorted(set(importers)) == ["prm/vllm_scorer.py", "verify/sampling/vllm_backend.py"]
