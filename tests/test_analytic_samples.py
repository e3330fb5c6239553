"""Fit the vote model on a few samples per problem and predict the measured maj@k curve:
a synthetic samples file drawn from a known model, and the real Qwen2.5-Math samples."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import app
from verify.analytic.model import heterogeneous_accuracy
from verify.analytic.samples import analyze_samples
from verify.select.grading import grade_traces
from verify.records.io import read_traces

runner = CliRunner()


def _synthetic(path, *, problems=80, samples=32, a=0.8, b=0.8, wrong=4, abstain=0.1, seed=3):
    """A samples file in the `verify eval` schema drawn from Beta(a, b) x m wrong answers."""
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(problems):
        p = rng.beta(a, b)
        gold = str(100 + i)
        for j in range(samples):
            u = rng.random()
            if u < p:
                ans = gold
            elif rng.random() < abstain:
                ans = None
            else:
                ans = str(1000 + int(rng.integers(wrong)))
            rec = {"problem_id": f"q{i}", "sample_index": j, "gold": gold, "answer": ans}
            if ans is None and j % 2:                            # abstains by running out of tokens
                rec.update(answer=str(1000 + int(rng.integers(wrong))), finish_reason="length")
            lines.append(json.dumps(rec))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_fit_on_four_samples_predicts_the_measured_curve(tmp_path):
    path = _synthetic(tmp_path / "s.jsonl")
    problems, _ = grade_traces(read_traces(path), group="string")
    res = analyze_samples(problems, fit_k=4, ks=[1, 2, 4, 8, 16, 32])
    fit = res["fit"]
    assert fit["wrong"] == 4                                     # seeded data made with 4 wrong answers
    assert fit["abstain"] == pytest.approx(17 / 151)              # made with 0.1
    truth = heterogeneous_accuracy(0.5, 1.6, 32, wrong=4, abstain=0.1)
    last = res["curve"][-1]
    assert last["ci_low"] <= last["measured"] <= last["ci_high"]
    assert abs(last["measured"] - truth) < 0.08                   # 80 problems: sampling noise
    assert res["mae_model"] < 0.04 < res["mae_binomial"]
    # maj@32 of 32 recorded samples is one realised vote per problem: compare within its CI
    assert all(c["ci_low"] <= c["predicted"] <= c["ci_high"] for c in res["curve"])
    assert not all(c["ci_low"] <= c["binomial"] <= c["ci_high"] for c in res["curve"])


def test_samples_cli_table_json_and_plot(tmp_path):
    path = _synthetic(tmp_path / "s.jsonl", problems=30, samples=16)
    r = runner.invoke(app, ["analyze", "samples", str(path), "--fit-k", "4", "--k", "1,4,16",
                            "--group", "string", "--plot", str(tmp_path / "c.png"),
                            "--out", str(tmp_path / "c.jsonl")])
    assert r.exit_code == 0, r.output
    assert "s.jsonl: 30 problems, up to 16 samples each" in r.output
    assert "fit on first 4 samples: mean accuracy" in r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip().startswith(("1 ", "4 ", "16 "))]
    assert len(lines) == 3 and all("%" in ln and "[" in ln for ln in lines)
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len((tmp_path / "c.jsonl").read_text().splitlines()) == 3
    r = runner.invoke(app, ["analyze", "samples", str(path), "--k", "2,8", "--group", "string", "--json", "-"])
    assert r.exit_code == 0
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert [c["k"] for c in res["curve"]] == [2, 8] and res["fit"]["fit_k"] == 4


def test_samples_cli_bad_input_names_file_line_field(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"problem_id": "a", "answer": "1", "gold": "1"}\n{"problem_id": "a", "answer": [1], "gold": "1"}\n')
    r = runner.invoke(app, ["analyze", "samples", str(bad)])
    assert r.exit_code == 2
    assert f"{bad}:2: field 'answer'" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["analyze", "samples", str(tmp_path / "missing.jsonl")])
    assert r.exit_code == 2 and "file not found" in r.output


def test_qwen25math_samples_predicted_from_four(shared_data, tmp_path):
    src = shared_data / "qwen25math_rm_maj_example" / "math_cot_100.jsonl"
    out = tmp_path / "qwen.jsonl"
    with open(src) as fh, open(out, "w") as fo:                  # convert on the fly: idx, gt, pred
        for line in fh:
            obj = json.loads(line)
            for j, pred in enumerate(obj["pred"]):
                fo.write(json.dumps({"problem_id": str(obj["idx"]), "sample_index": j,
                                     "gold": str(obj["gt"]), "answer": pred}) + "\n")
    r = runner.invoke(app, ["analyze", "samples", str(out), "--fit-k", "4", "--k", "1,2,4,8", "--json", "-"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["n_problems"] == 100 and res["max_samples"] == 8
    by_k = {c["k"]: c for c in res["curve"]}
    assert by_k[1]["measured"] == pytest.approx(0.91125)          # mean pass@1 of the 800 samples
    assert abs(by_k[8]["predicted"] - by_k[8]["measured"]) < 0.02
    assert by_k[8]["binomial"] - by_k[8]["measured"] > 0.04      # the pooled binomial overshoots
    assert res["mae_model"] < res["mae_binomial"]
    assert not math.isnan(res["fit"]["concentration"])
