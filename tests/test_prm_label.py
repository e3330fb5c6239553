"""`verify prm label`: Math-Shepherd rollout labels on a scripted world whose step labels are known."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import app
from prm.label import label_trace, rollout_prompt
from prm.synthetic import chain_rollout, make_chain_problems, make_chain_traces
from verify.sampling.callable_backend import CallableGenerator

runner = CliRunner()


@pytest.fixture
def world(tmp_path):
    problems = make_chain_problems(12, seed=3)
    rows, labels = make_chain_traces(problems, 3, seed=4, error_rate=0.3)
    data = tmp_path / "problems.jsonl"
    data.write_text("".join(json.dumps(p) + "\n" for p in problems))
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return data, samples, labels


def _label(data, samples, out, *extra):
    return runner.invoke(app, ["prm", "label", "--samples", str(samples), "--dataset", "arith", "--data-file",
                               str(data), "--out", str(out), "--backend", "callable", "--model",
                               "prm.synthetic:chain_rollout", "--prompt", "base", "-k", "2", "--quiet", *extra])


def test_full_mode_recovers_the_known_labels(world, tmp_path):
    data, samples, labels = world
    out = tmp_path / "labels.jsonl"
    res = _label(data, samples, out)
    assert res.exit_code == 0, res.output
    got = [json.loads(x) for x in out.read_text().splitlines()]
    assert [g["hard_labels"] for g in got] == labels
    assert [g["labels"] for g in got] == [[float(x) for x in lab] for lab in labels]  # deterministic rollouts
    steps = sum(len(lab) for lab in labels)
    assert sum(g["rollouts"] for g in got) == 2 * (steps - len(labels))  # K from every step but the last
    assert res.stdout.startswith(f"{out}: labelled 36 traces (0 already done), {steps} steps, ")
    # the output is the `plain` format that `verify prm train` reads
    from prm.formats import load_step_examples
    assert len(load_step_examples(out, "plain")) == 36


def test_decisive_mode_agrees_with_full_at_fewer_rollouts(world, tmp_path):
    data, samples, labels = world
    full, dec = tmp_path / "full.jsonl", tmp_path / "dec.jsonl"
    assert _label(data, samples, full).exit_code == 0
    assert _label(data, samples, dec, "--mode", "decisive").exit_code == 0
    f = [json.loads(x) for x in full.read_text().splitlines()]
    d = [json.loads(x) for x in dec.read_text().splitlines()]
    assert [x["hard_labels"] for x in d] == [x["hard_labels"] for x in f] == labels
    assert sum(x["rollouts"] for x in d) < 0.6 * sum(x["rollouts"] for x in f)  # 118 vs 210 here
    assert all(x["rollouts"] == 0 for x in d if x["outcome"] == 1)  # a right trace is its own witness


def test_resume_skips_labelled_traces_and_repairs_a_torn_tail(world, tmp_path):
    data, samples, labels = world
    out = tmp_path / "labels.jsonl"
    assert _label(data, samples, out).exit_code == 0
    whole = out.read_bytes()
    lines = whole.splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:20]) + lines[20][:15])  # a kill -9 mid-write
    res = _label(data, samples, out)
    assert res.exit_code == 0, res.output
    assert "(20 already done)" in res.stdout
    assert out.read_bytes() == whole


def test_foreign_output_is_refused_and_left_byte_identical(world, tmp_path):
    data, samples, _ = world
    out = tmp_path / "notes.txt"
    out.write_bytes(b'{"note": 1}\nline 2')
    res = _label(data, samples, out)
    assert res.exit_code == 2
    assert f"{out}:1: field 'problem_id'" in res.stderr and "Traceback" not in res.output
    assert out.read_bytes() == b'{"note": 1}\nline 2'


def test_missing_gold_and_bad_options(world, tmp_path):
    data, samples, _ = world
    data.write_text(json.dumps({"id": "other", "question": "Add 1, 2.", "answer": "3"}) + "\n")
    res = _label(data, samples, tmp_path / "o.jsonl")
    assert res.exit_code == 2 and f"{samples}:1: field 'problem_id'" in res.stderr
    res = _label(data, samples, tmp_path / "o.jsonl", "--mode", "cheap")
    assert res.exit_code == 2 and "--mode must be one of full, decisive" in res.stderr


def test_label_trace_soft_labels_count_rollouts_and_last_step_is_the_outcome():
    calls = []

    def half(prompt, n):  # half the rollouts reach 7 while the prefix holds "6+1 = 7"
        calls.append(prompt)
        return (["\\boxed{7}", "\\boxed{5}"] * n)[:n] if "6+1 = 8" not in prompt else ["\\boxed{8}"] * n

    r = label_trace(CallableGenerator(half), "Q ", ["2*3 = 6", "6+1 = 8", "\\boxed{8}"], "7", False, k=4)
    assert r["soft_labels"] == [0.5, 0.0, 0.0] and r["hard_labels"] == [1, 0, 0]
    assert calls == ["Q 2*3 = 6\n\n", "Q 2*3 = 6\n\n6+1 = 8\n\n"]
    assert rollout_prompt([{"role": "user", "content": "q"}], "a\n\n")[-1] == {"role": "assistant", "content": "a\n\n"}
    assert chain_rollout("Add 2, 2.\n\n", 1) == ["2+2=4\n\n\\boxed{4}"]


@pytest.mark.usefixtures("torch_one_thread")
def test_label_then_train_a_tiny_prm_end_to_end(tmp_path):
    """Scripted generator -> `verify prm label` -> `verify prm train` -> held-out step AUROC >= 0.9.

    In this world a wrong step is 10-12 too high, so a one-layer model can learn the labels;
    what is tested is the pipeline: rollout labels are right and the trainer learns from them.
    """
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from prm.hf_scorer import HFStepScorer
    from prm.processbench import auroc
    from prm.synthetic import save_tiny_model

    kw = dict(min_terms=3, max_terms=4, max_term=3)
    problems = make_chain_problems(200, seed=1, **kw)
    rows, _ = make_chain_traces(problems, 2, seed=2, error_rate=0.3, shifts=(10, 11, 12))
    data, samples = tmp_path / "problems.jsonl", tmp_path / "samples.jsonl"
    data.write_text("".join(json.dumps(p) + "\n" for p in problems))
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    labels = tmp_path / "labels.jsonl"
    assert _label(data, samples, labels).exit_code == 0
    base = save_tiny_model(tmp_path / "base", kind="llama", head="lm", hidden=32, layers=1, heads=4, seed=0)
    res = runner.invoke(app, ["prm", "train", "--data", str(labels), "--format", "plain", "--base-model",
                              str(base), "--out", str(tmp_path / "prm"), "--spec", "token-cls", "--epochs", "8",
                              "--lr", "5e-3", "--batch-size", "32", "--warmup-steps", "10", "--schedule",
                              "cosine", "--seed", "1", "--save-every", "0", "--quiet"])
    assert res.exit_code == 0, res.output
    held = make_chain_problems(100, seed=99, **kw)
    hrows, hlabels = make_chain_traces(held, 2, seed=98, error_rate=0.3, shifts=(10, 11, 12))
    q = {p["id"]: p["question"] for p in held}
    scores = HFStepScorer.from_pretrained(str(tmp_path / "prm"), batch_size=64).score_batch(
        [(q[r["problem_id"]], r["text"].split("\n\n")) for r in hrows])
    flat = [s for ss in scores for s in ss]
    good = [y == 1 for lab in hlabels for y in lab]
    assert 0 < sum(good) < len(good)
    assert auroc(flat, good) >= 0.9
