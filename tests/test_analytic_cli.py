"""`verify analyze binomial | aime | pays` through typer's CliRunner: exit codes and exact output."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def test_binomial_table_exact():
    r = runner.invoke(app, ["analyze", "binomial", "--p", "0.71", "--n", "1,4,8,64"])
    assert r.exit_code == 0, r.output
    assert r.output == (
        "majority-vote accuracy, ties=random\n"
        "     p     n  binomial\n"
        " 0.710     1     71.0%\n"
        " 0.710     4     79.6%\n"
        " 0.710     8     88.7%\n"
        " 0.710    64    100.0%\n")


def test_binomial_json_ties_model_column_and_plot(tmp_path):
    r = runner.invoke(app, ["analyze", "binomial", "--p", "0.5", "--n", "2", "--ties", "strict", "--json", "-"])
    assert r.exit_code == 0
    assert json.loads(r.output) == [{"p": 0.5, "n": 2, "ties": "strict", "binomial": 0.25}]
    r = runner.invoke(app, ["analyze", "binomial", "--p", "0.3", "--n", "1,8", "--wrong", "inf",
                            "--plot", str(tmp_path / "b.png")])
    assert r.exit_code == 0, r.output
    assert " 0.300     8     12.6%   76.9%" in r.output
    assert "(wrong answers: all distinct, concentration: inf)" in r.output
    assert (tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"


def test_binomial_bad_options_exit_nonzero_without_traceback():
    for args in (["--n", "0"], ["--n", "a,b"], ["--p", "1.5"], ["--ties", "coin"], ["--wrong", "0"]):
        r = runner.invoke(app, ["analyze", "binomial", *args])
        assert r.exit_code == 2, args
        assert "Traceback" not in r.output


def test_aime_table_and_outputs(tmp_path):
    r = runner.invoke(app, ["analyze", "aime", "--out", str(tmp_path / "aime.jsonl")])
    assert r.exit_code == 0, r.output
    out = r.output
    assert "AIME 2024: cons@64 predicted from pass@1, 11 models, 30 problems each" in out
    assert ("DeepSeek-R1-Distill-Qwen-1.5B    28.9     52.7  17.9       0.0  -52.7    45.5   -7.2*"
            in out)
    assert ("mean absolute error over 11 models (points): binomial 19.5 | heterogeneity only 16.7 | "
            "plurality only 19.5 | model (leave-one-model-out) 5.3") in out
    assert "  distilled (6): binomial 22.0, model 6.5" in out
    assert "within sampling noise: binomial 2/11, model 11/11" in out
    assert "design notes: pass@1 71 -> maj@8 stated 87, binomial 88.7, model 78.5" in out
    rows = [json.loads(x) for x in (tmp_path / "aime.jsonl").read_text().splitlines()]
    assert len(rows) == 11 and rows[-1]["model"] == "DeepSeek-R1-Zero"


def test_aime_json_and_bad_data(tmp_path):
    r = runner.invoke(app, ["analyze", "aime", "--json", "-"])
    assert r.exit_code == 0
    doc = json.loads(r.output)
    assert doc["mae"]["model"] <= 6.0 and doc["fit_all"]["wrong"] == "inf"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"n_problems": 30, "n_samples": 64,
                               "rows": [{"model": "x", "pass@1": 120, "cons@64": 50}] * 3}))
    r = runner.invoke(app, ["analyze", "aime", "--data", str(bad)])
    assert r.exit_code == 2
    assert r.output == f"error: {bad}: field 'rows[0]': pass@1 and cons@N must be percentages in [0, 100]\n"


def test_pays_table():
    r = runner.invoke(app, ["analyze", "pays", "--n", "8", "--p", "0.3,0.6", "--wrong", "1,inf"])
    assert r.exit_code == 0, r.output
    assert r.output == (
        "gain of maj@8 over one sample, accuracy points (all problems equally hard; columns: distinct wrong answers)\n"
        "    p             1  all distinct\n"
        " 0.30         -17.4         +46.9\n"
        " 0.60         +11.0         +39.2\n"
        "voting pays (gain >= 5 points for 8x the cost) when:\n"
        "  wrong answers            1: 0.54 <= p <= 0.95\n"
        "  wrong answers all distinct: 0.06 <= p <= 0.95\n")
    r = runner.invoke(app, ["analyze", "pays", "--n", "64", "--concentration", "0.3", "--wrong", "1,inf",
                            "--json", "-"])
    doc = json.loads(r.output)
    assert doc["pays"]["1"] is None and doc["pays"]["all distinct"][0] < 0.1
