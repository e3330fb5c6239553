"""One-pass HF scorer: equals per-prefix scoring, is padding-invariant, counts tokens, refuses truncation."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from prm.hf_scorer import HFStepScorer
from prm.synthetic import save_tiny_model

TRACES = [
    ("Compute 3+4, 9-2.", ["3+4=7", "9-2=6"]),
    ("Compute 1+1, 2+2, 5-3, 8+1.", ["1+1=2", "2+2=5", "5-3=2", "8+1=9"]),
    ("Add.", ["Let x = 2 + 2.", "Then x = 4, so the answer is 4."]),
    ("One step only?", ["7+7=14"]),
]

CASES = [("math-shepherd", "llama", "lm"), ("token-cls", "qwen2", "cls"),
         ("qwen-prm", "qwen2", "cls"), ("rlhflow", "llama", "lm")]


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    out = {}
    for spec, kind, head in CASES:
        d = tmp_path_factory.mktemp(spec)
        save_tiny_model(d, kind=kind, head=head, hidden=32, layers=2, seed=1, spec=spec,
                        init_range=0.3)
        out[spec] = d
    return out


@pytest.mark.parametrize("spec", [c[0] for c in CASES])
def test_one_pass_equals_per_prefix(model_dirs, spec):
    scorer = HFStepScorer.from_pretrained(str(model_dirs[spec]), batch_size=3)
    assert scorer.spec.name == spec  # read from prm_spec.json
    batch = scorer.score_batch(TRACES)
    spread = []
    for (q, steps), scores in zip(TRACES, batch):
        assert len(scores) == len(steps)
        assert all(0.0 <= s <= 1.0 for s in scores)
        slow = scorer.score_per_prefix(q, steps)
        assert scores == pytest.approx(slow, abs=1e-5)
        spread += scores
    # random-init scores must differ by far more than the tolerance, or the check proves nothing
    assert max(spread) - min(spread) > 1e-2


def test_padding_and_batch_composition_do_not_change_scores(model_dirs):
    scorer = HFStepScorer.from_pretrained(str(model_dirs["math-shepherd"]), batch_size=8)
    together = scorer.score_batch(TRACES)
    alone = [scorer(q, s) for q, s in TRACES]
    for a, b in zip(together, alone):
        assert a == pytest.approx(b, abs=1e-5)


def test_forward_token_accounting(model_dirs):
    scorer = HFStepScorer.from_pretrained(str(model_dirs["token-cls"]), batch_size=2)
    q, steps = TRACES[1]
    n_full = len(scorer.encode(q, steps).input_ids)
    scorer(q, steps)
    assert scorer.forward_tokens == n_full and scorer.forward_calls == 1
    scorer.forward_tokens = scorer.forward_calls = 0
    scorer.score_per_prefix(q, steps)
    assert scorer.forward_calls == len(steps)
    assert scorer.forward_tokens == sum(len(scorer.encode(q, steps[:k]).input_ids)
                                        for k in range(1, len(steps) + 1))
    assert scorer.forward_tokens > 2 * n_full


def test_truncated_trace_is_refused(model_dirs):
    scorer = HFStepScorer.from_pretrained(str(model_dirs["token-cls"]), max_length=30)
    with pytest.raises(ValueError, match="only 1 step tags fit in max_length=30"):
        scorer("Compute 1+1, 2+2, 5-3.", ["1+1=2", "2+2=4", "5-3=2"])


def test_empty_trace_and_spec_override(model_dirs, tmp_path):
    scorer = HFStepScorer.from_pretrained(str(model_dirs["math-shepherd"]))
    assert scorer.score_batch([("q", []), ("q", ["1+1=2"])])[0] == []
    plain = save_tiny_model(tmp_path / "nospec", kind="llama", head="lm", hidden=32)
    with pytest.raises(ValueError, match="no prm_spec.json"):
        HFStepScorer.from_pretrained(str(plain))
    s = HFStepScorer.from_pretrained(str(plain), spec="math-shepherd", dtype="bfloat16")
    assert next(s.model.parameters()).dtype == torch.bfloat16
    assert len(s("q", ["1+1=2", "2+2=4"])) == 2
