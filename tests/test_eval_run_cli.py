"""`verify eval` run mode through the real transformers backend with a tiny random-init model
saved to disk (the default path: the project's arithmetic set and the arithmetic scorer)."""
from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from typer.testing import CliRunner  # noqa: E402

from cli import app  # noqa: E402
from tests.test_sampling_transformers import CHAT_TEMPLATE, tiny_model_and_tokenizer  # noqa: E402


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    model, tok = tiny_model_and_tokenizer()
    tok.chat_template = CHAT_TEMPLATE
    d = tmp_path_factory.mktemp("tiny-lm")
    model.save_pretrained(d)
    tok.save_pretrained(d)
    return d


def test_default_path_with_tiny_model(tiny_dir, tmp_path):
    out = tmp_path / "run"
    args = ["eval", "--model", str(tiny_dir), "--method", "prm-best-of-2", "--method", "majority@2",
            "--limit", "3", "--max-tokens", "8", "--out-dir", str(out), "--n-boot", "200", "--pareto"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "prm-best-of-2" in r.output and "frontier (accuracy vs cost)" in r.output
    res = json.loads((out / "results.json").read_text())
    assert [m["method"] for m in res["results"]] == ["single", "prm-best-of-2", "majority@2"]
    assert all(m["n_problems"] == 3 and 0.0 <= m["accuracy"] <= 1.0 for m in res["results"])
    assert res["config"]["dataset"] == "arith" and res["config"]["prm"] == "arith"
    rows = [json.loads(x) for x in (out / "scored.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and all(len(x["step_scores"]) == len(x["steps"]) for x in rows)
    assert all(0 < x["num_tokens"] <= 8 for x in rows)
    # gen tokens per problem charged to a k=2 method = 2 x the mean tokens of one sample
    mean_tok = sum(x["num_tokens"] for x in rows) / len(rows)
    maj = next(m for m in res["results"] if m["method"] == "majority@2")
    assert maj["gen_tokens_per_problem"] == pytest.approx(2 * mean_tok)
    for name in ("samples.jsonl", "report.md", "curves.png"):
        assert (out / name).exists()
    # a second run loads no model and samples nothing
    r2 = CliRunner().invoke(app, args)
    assert r2.exit_code == 0, r2.output
    res2 = json.loads((out / "results.json").read_text())
    assert res2["run"]["stages"]["sample"]["sampled"] == 0
    assert [m["accuracy"] for m in res2["results"]] == [m["accuracy"] for m in res["results"]]


def test_bad_method_exits_2_with_suggestion(tmp_path):
    r = CliRunner().invoke(app, ["eval", "--method", "prm-bst-of-8", "--out-dir", str(tmp_path)])
    assert r.exit_code == 2
    assert "prm-best-of" in r.output
