"""`verify prm train` through the CLI, and the synthetic task learned to a held-out AUROC >= 0.9."""
from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from typer.testing import CliRunner

from cli import app
from prm.processbench import auroc
from prm.hf_scorer import HFStepScorer
from prm.synthetic import make_arith_examples, save_tiny_model, write_plain_jsonl

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    # 8 heads of width 8: the sum check needs heads that each look at one of a, b and c
    return save_tiny_model(tmp_path_factory.mktemp("base"), kind="llama", head="lm", hidden=64,
                           layers=2, heads=8, seed=0)


def test_cli_trains_the_synthetic_task_to_high_step_auroc(base, tmp_path):
    data = write_plain_jsonl(tmp_path / "train.jsonl", make_arith_examples(3000, seed=1))
    out = tmp_path / "prm"
    res = runner.invoke(app, ["prm", "train", "--data", str(data), "--format", "plain",
                              "--base-model", str(base), "--out", str(out), "--spec", "token-cls",
                              "--epochs", "15", "--lr", "5e-3", "--batch-size", "64",
                              "--warmup-steps", "100", "--schedule", "cosine", "--seed", "1",
                              "--save-every", "0", "--quiet"])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(f"saved PRM to {out}: 705 optimizer steps, final loss ")
    log = [json.loads(x) for x in (out / "train_log.jsonl").read_text().splitlines()]
    assert len(log) == 705
    first = sum(r["loss"] for r in log[:20]) / 20
    last = sum(r["loss"] for r in log[-20:]) / 20
    assert last < 0.6 * first

    held = make_arith_examples(400, seed=999)  # unseen examples
    scores = HFStepScorer.from_pretrained(str(out), batch_size=64).score_batch(
        [(e.question, e.steps) for e in held])
    flat = [s for ss in scores for s in ss]
    good = [y == 1.0 for e in held for y in e.labels]
    assert auroc(flat, good) >= 0.9


def test_cli_bad_input_exits_1_naming_file_and_line(base, tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"question": "q", "steps": ["a"], "labels": [1]}\n'
                    '{"question": "q", "steps": ["a", "b"], "labels": [1]}\n')
    res = runner.invoke(app, ["prm", "train", "--data", str(data), "--base-model", str(base),
                              "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"error: {data}:2: ")
    assert "Traceback" not in res.output


def test_cli_bad_options(base, tmp_path):
    data = write_plain_jsonl(tmp_path / "d.jsonl", make_arith_examples(4))
    res = runner.invoke(app, ["prm", "train", "--data", str(data), "--base-model", str(base),
                              "--out", str(tmp_path / "o"), "--head", "regression"])
    assert res.exit_code == 2
    assert "--head must be token-cls or lm" in res.output
    res = runner.invoke(app, ["prm", "train", "--data", str(data), "--base-model", str(base),
                              "--out", str(tmp_path / "o"), "--spec", "qwen_prm", "--quiet"])
    assert res.exit_code == 2
    assert "unknown PRM spec 'qwen_prm'" in res.output and "did you mean 'qwen-prm'" in res.output
    res = runner.invoke(app, ["prm", "train", "--data", str(data), "--base-model", str(base),
                              "--out", str(tmp_path / "o2"), "--resume", "--quiet"])
    assert res.exit_code == 2
    assert "no checkpoint to resume from" in res.output


@pytest.mark.parametrize("frozen", [False, True], ids=["full", "train-layers"])
@pytest.mark.parametrize("files,message", [
    ({"notes.txt": "my notes\n"}, "holds files that are not a PRM training run's output (notes.txt)"),
    ({"train_log.jsonl": "my own log line\n", "train_config.json": '{"base_model": "b", "out_dir": "o", '
      '"spec": "s"}'}, "holds a train_log.jsonl that is not a training log of ours"),
])
def test_cli_refuses_an_out_folder_holding_other_files_and_changes_nothing(base, tmp_path, frozen, files, message):
    data = tmp_path / "d.jsonl"
    write_plain_jsonl(data, make_arith_examples(8, seed=1))
    out = tmp_path / "mine"
    out.mkdir()
    for name, text in files.items():
        (out / name).write_text(text)
    res = runner.invoke(app, ["prm", "train", "--data", str(data), "--base-model", str(base), "--out", str(out),
                              "--quiet"] + (["--train-layers", "1"] if frozen else []))
    assert res.exit_code == 2 and message in res.stderr and res.stderr.count("\n") == 1
    assert {p.name: p.read_text() for p in out.iterdir()} == files


def test_cli_trains_again_into_its_own_earlier_output(base, tmp_path):
    data = tmp_path / "d.jsonl"
    write_plain_jsonl(data, make_arith_examples(8, seed=1))
    out = tmp_path / "prm"
    args = ["prm", "train", "--data", str(data), "--base-model", str(base), "--out", str(out), "--quiet",
            "--train-layers", "1", "--epochs", "1"]
    assert runner.invoke(app, args).exit_code == 0
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert len((out / "train_log.jsonl").read_text().splitlines()) == 1  # the log starts afresh
