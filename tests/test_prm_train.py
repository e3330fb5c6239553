"""PRM trainer: resume == uninterrupted, neutral-step policy, hard/soft labels, LoRA, CLI."""
from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from prm.formats import StepExample
from prm.hf_scorer import HFStepScorer
from prm.synthetic import make_arith_examples, save_tiny_model, write_plain_jsonl
from prm.train import TrainConfig, _targets, encode_examples, lr_factor, step_loss, train


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def base_lm(tmp_path_factory):
    d = save_tiny_model(tmp_path_factory.mktemp("base_lm"), kind="llama", head="lm", hidden=32)
    cfg = json.loads((d / "config.json").read_text())
    cfg["attention_dropout"] = 0.1  # dropout draws random numbers: resume must restore the RNG
    (d / "config.json").write_text(json.dumps(cfg))
    return d


def _weights(model_dir):
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def test_resume_after_a_crash_ends_with_the_same_weights(base_lm, tmp_path):
    examples = make_arith_examples(40, seed=5)
    common = dict(examples=examples, base_model=str(base_lm), spec="token-cls", head="cls",
                  lr=1e-3, batch_size=8, grad_accum=2, epochs=3, save_every=2, seed=7,
                  progress=False)
    full = train(TrainConfig(out_dir=str(tmp_path / "full"), **common))
    assert full.steps == 9  # 5 batches -> 3 optimizer steps per epoch, 3 epochs

    def crash(rec):
        if rec["step"] == 5:
            raise KeyboardInterrupt  # killed mid-epoch; the last checkpoint is at step 4

    with pytest.raises(KeyboardInterrupt):
        train(TrainConfig(out_dir=str(tmp_path / "cut"), **common), on_step=crash)
    resumed = train(TrainConfig(out_dir=str(tmp_path / "cut"), resume=True, **common))
    assert resumed.steps == 9
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "cut")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6, rtol=0), k
    assert [h["loss"] for h in resumed.history] == pytest.approx([h["loss"] for h in full.history])
    log = [json.loads(x) for x in (tmp_path / "cut" / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(1, 10))  # the crashed step 5 is not doubled


def test_extending_a_finished_run_with_max_steps_matches_one_long_run(base_lm, tmp_path):
    common = dict(examples=make_arith_examples(30, seed=2), base_model=str(base_lm),
                  spec="math-shepherd", lr=1e-3, batch_size=8, epochs=5, seed=3, progress=False)
    train(TrainConfig(out_dir=str(tmp_path / "long"), max_steps=8, **common))
    train(TrainConfig(out_dir=str(tmp_path / "two"), max_steps=3, **common))
    train(TrainConfig(out_dir=str(tmp_path / "two"), max_steps=8, resume=True, **common))
    a, b = _weights(tmp_path / "long"), _weights(tmp_path / "two")
    assert all(torch.allclose(a[k], b[k], atol=1e-6, rtol=0) for k in a)


def test_resume_without_checkpoint_is_an_input_error(base_lm, tmp_path):
    from verify.errors import InputError

    with pytest.raises(InputError, match="no checkpoint"):
        train(TrainConfig(examples=make_arith_examples(4), base_model=str(base_lm),
                          out_dir=str(tmp_path), resume=True, progress=False))


def _stepwise_file(path, n=24):
    """PRM800K stepwise rows: 'good' steps rated 1, 'bad' -1, and 'meh' neutral (0)."""
    rows = []
    for i in range(n):
        for text, rating in (("good", 1), ("bad", -1), ("meh", 0)):
            rows.append({"instruction": f"Q{i % 3}?", "responses": [f"s{i}"],
                         "next_response": text, "rating": rating})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("policy", ["positive", "negative", "skip"])
def test_neutral_policy_decides_what_neutral_steps_learn(base_lm, tmp_path, policy):
    data = _stepwise_file(tmp_path / "stepwise.jsonl")
    res = train(TrainConfig(data=str(data), format="prm800k-stepwise", neutral=policy,
                            base_model=str(base_lm), out_dir=str(tmp_path / policy),
                            spec="math-shepherd", lr=1e-2, batch_size=12, epochs=12,
                            progress=False))
    labelled = sum(h["tags"] for h in res.history) / 12  # per epoch
    # each example is prefix "s{i}" (chosen, rated 1 by default) + candidate: 2 steps
    assert labelled == (24 * 3 * 2 - 24 if policy == "skip" else 24 * 3 * 2)
    scorer = HFStepScorer.from_pretrained(str(tmp_path / policy))
    good, bad, meh = (scorer("Q1?", ["s5", t])[1] for t in ("good", "bad", "meh"))
    assert good > 0.8 and bad < 0.2  # the model learned the rated steps under every policy
    if policy == "positive":
        assert meh > 0.8
    elif policy == "negative":
        assert meh < 0.2


def test_hard_labels_round_and_soft_labels_are_kept(base_lm, tmp_path):
    assert _targets([0.3, 0.5, 1.0, math.nan], soft=False)[:3] == [0.0, 1.0, 1.0]
    assert math.isnan(_targets([math.nan], soft=False)[0])
    assert _targets([0.3], soft=True) == [0.3]
    logits = torch.tensor([[0.2, 1.5], [1.0, -1.0]])
    y = torch.tensor([0.3, 1.0])
    p = torch.softmax(logits, -1)[:, 1]
    manual = -(y * p.log() + (1 - y) * (1 - p).log()).sum()
    assert float(step_loss(logits, y)) == pytest.approx(float(manual), rel=1e-6)

    # steps "x" carry a Monte-Carlo value 0.3, steps "y" 1.0: soft training predicts ~0.3
    ex = [StepExample(f"q{i}", ("x", "y"), (0.3, 1.0)) for i in range(32)]
    probs = {}
    for soft in (True, False):
        out = tmp_path / f"soft{soft}"
        train(TrainConfig(examples=ex, base_model=str(base_lm), out_dir=str(out), spec="token-cls",
                          soft_labels=soft, lr=1e-2, batch_size=16, epochs=25, progress=False))
        probs[soft] = HFStepScorer.from_pretrained(str(out))("q1", ["x", "y"])
    assert probs[True][0] == pytest.approx(0.3, abs=0.1)
    assert probs[False][0] < 0.1
    assert probs[True][1] > 0.9 and probs[False][1] > 0.9


def test_all_nan_examples_are_dropped(base_lm):
    from prm.hf_scorer import load_tokenizer

    tok = load_tokenizer(str(base_lm))
    ex = [StepExample("q", ("a", "b"), (math.nan, math.nan)), StepExample("q", ("a",), (1.0,))]
    enc, dropped = encode_examples(ex, "token-cls", tok, 64, soft=False)
    assert dropped == 1 and len(enc) == 1


def test_lr_schedules():
    assert [lr_factor(s, 0, 4, "constant") for s in range(4)] == [1.0] * 4
    assert lr_factor(0, 0, 4, "cosine") == 1.0 and lr_factor(4, 0, 4, "cosine") == pytest.approx(0)
    with pytest.raises(ValueError):
        lr_factor(0, 0, 4, "exp")


def test_lora_trains_adapters_and_saves_a_merged_model(base_lm, tmp_path):
    ex = [StepExample(f"q{i}", ("good", "bad"), (1.0, 0.0)) for i in range(16)]
    res = train(TrainConfig(examples=ex, base_model=str(base_lm), out_dir=str(tmp_path),
                            spec="token-cls", lora=True, lora_r=4, lr=2e-2, batch_size=8,
                            epochs=15, progress=False))
    losses = [h["loss"] for h in res.history]
    assert sum(losses[-3:]) / 3 < 0.5 * sum(losses[:3]) / 3
    w = _weights(tmp_path)
    assert not any("lora" in k for k in w)  # merged: loads as a plain model
    base = _weights(base_lm)
    changed = [k for k in base if k in w and not torch.equal(base[k], w[k])]
    assert changed and all("proj" in k for k in changed)  # LoRA touched linear layers only
    good, bad = HFStepScorer.from_pretrained(str(tmp_path))("q1", ["good", "bad"])
    assert good > bad


def test_qwen_prm_spec_adds_its_missing_tag_token(tmp_path):
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

    from prm.synthetic import tiny_config

    chars = "<>|/_-+=?:,.\n abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789{}\\"
    vocab = {"<pad>": 0, "<unk>": 1, "<s>": 2, **{c: i + 3 for i, c in enumerate(chars)}}
    t = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    t.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), "isolated")
    tok = PreTrainedTokenizerFast(tokenizer_object=t, pad_token="<pad>", unk_token="<unk>",
                                  bos_token="<s>")
    assert "<extra_0>" not in tok.get_vocab()
    base = tmp_path / "base"
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(tiny_config("qwen2", len(tok), hidden=32)).save_pretrained(base)
    tok.save_pretrained(base)
    ex = [StepExample(f"q{i}", ("good", "bad"), (1.0, 0.0)) for i in range(16)]
    out = tmp_path / "prm"
    train(TrainConfig(examples=ex, base_model=str(base), out_dir=str(out), spec="qwen-prm",
                      lr=1e-2, batch_size=8, epochs=40, progress=False))
    scorer = HFStepScorer.from_pretrained(str(out))
    assert scorer.tokenizer.convert_tokens_to_ids("<extra_0>") == len(tok)
    assert scorer.model.get_input_embeddings().weight.shape[0] == len(tok) + 1
    enc = scorer.encode("q1", ["good", "bad"])
    assert [enc.input_ids[p] for p in enc.tag_positions] == [len(tok)] * 2
    good, bad = scorer("q1", ["good", "bad"])
    assert good > 0.8 and bad < 0.2
