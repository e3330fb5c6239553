"""One result schema (evals.results): `verify eval --samples` and run mode write the same
versioned results.json and return the same Python type, `EvalResults`."""
import json
from dataclasses import fields

import pytest
from typer.testing import CliRunner

from cli import app
from evals.results import SCHEMA_VERSION, EvalResults, MethodResult, read_results
from verify.errors import InputError

TOP = ["schema_version", "mode", "results", "curves", "grading", "config", "run", "files"]
ROW = [f.name for f in fields(MethodResult)]


def _samples(tmp_path):
    rows = [{"problem_id": pid, "gold": "4", "answer": a, "score": s, "num_tokens": 10, "prompt_tokens": 5}
            for pid, ans in (("a", [("4", .9), ("5", .2)]), ("b", [("5", .8), ("4", .3)])) for a, s in ans]
    p = tmp_path / "s.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return p


def _replay(tmp_path):
    data = tmp_path / "problems.jsonl"
    data.write_text(json.dumps({"id": "p0", "question": "What is 2 + 2?", "answer": "4"}) + "\n")
    rec = tmp_path / "recorded.jsonl"
    rec.write_text(json.dumps({"id": "p0", "question": "What is 2 + 2?", "completions": [
        "2 + 2 = 4.\n\n\\boxed{4}", "2 + 2 = 5.\n\n\\boxed{5}"]}) + "\n")
    return ["--backend", "replay", "--model", str(rec), "--data-file", str(data)]


def test_both_modes_write_one_schema(tmp_path):
    out = tmp_path / "samples.json"
    r = CliRunner().invoke(app, ["eval", "--samples", str(_samples(tmp_path)), "--method", "maj@2",
                                 "--json", str(out), "--n-boot", "50"])
    assert r.exit_code == 0, r.output
    a = json.loads(out.read_text())
    r = CliRunner().invoke(app, ["eval", *_replay(tmp_path), "--method", "majority@2", "--out-dir",
                                 str(tmp_path / "run"), "--n-boot", "50"])
    assert r.exit_code == 0, r.output
    b = json.loads((tmp_path / "run" / "results.json").read_text())
    assert list(a) == list(b) == TOP
    assert (a["schema_version"], b["schema_version"]) == (SCHEMA_VERSION, SCHEMA_VERSION) == (1, 1)
    assert (a["mode"], b["mode"]) == ("samples", "run")
    assert [list(x) for x in a["results"]] == [ROW]
    assert [list(x) for x in b["results"]] == [ROW, ROW]
    assert a["run"] == {} and a["files"] == {} and set(b["run"]) == {
        "stages", "versions", "command", "seconds", "demo", "demo_note", "prm_note"}
    # cost columns on recorded samples too: 10 generated tokens per sample, k = 2
    assert a["results"][0]["gen_tokens_per_problem"] == 20.0 and a["results"][0]["prompt_tokens_per_problem"] == 5.0
    assert a["config"]["methods"] == ["majority@2"] and b["config"]["methods"] == ["single", "majority@2"]
    assert b["config"]["n"] == 2 and b["grading"]["equivalence"]["n_samples"] == 2


def test_read_results_round_trip_and_one_type(tmp_path):
    from evals.evaluate import EvalReport, evaluate_samples
    from evals.importers import load_samples
    from evals.runner import RunResults

    assert EvalReport is EvalResults and RunResults is EvalResults
    res = evaluate_samples(load_samples(_samples(tmp_path), "verify"), ["maj@2", "pass@2"], n_boot=50)
    p = tmp_path / "r.json"
    p.write_text(json.dumps(res.to_dict()))
    back = read_results(p)
    assert back.to_dict() == res.to_dict()
    assert back.method("majority@2") == res.results[0] and back.method("pass@2").accuracy == 1.0
    assert res.results[0]["accuracy"] == res.results[0].accuracy  # rows read as mappings too
    with pytest.raises(KeyError, match="no method 'weighted-vote@2'"):
        back.method("weighted-vote@2")


def test_read_results_reads_the_old_run_layout(tmp_path):
    row = {"method": "majority@2", "accuracy": 0.5, "ci_low": 0.0, "ci_high": 1.0, "n_problems": 2, "k": 2,
           "cost_multiplier": 2.0, "n_samples": 2, "gen_tokens_per_problem": 20.0, "pareto": True}
    old = {"methods": [row], "curves": {}, "run": {"config": {"n": 2}, "grading": {"equivalence": {}}},
           "files": {"results": "r.json"}}
    p = tmp_path / "old.json"
    p.write_text(json.dumps(old))
    res = read_results(p)
    assert res.mode == "run" and res.config == {"n": 2} and res.results[0].pareto is True
    assert res.results[0].gen_tokens_per_problem == 20.0 and res.results[0].cost_per_problem is None


@pytest.mark.parametrize("content,message", [
    ("{", "r.json:1: not JSON (Expecting property name enclosed in double quotes)"),
    ("[1]", "r.json: expected a JSON object"),
    ('{"schema_version": 99, "results": []}',
     "r.json: field 'schema_version': results schema_version 99 is newer than this verify reads (1); upgrade verify"),
])
def test_read_results_errors_name_file_and_field(tmp_path, content, message):
    p = tmp_path / "r.json"
    p.write_text(content)
    with pytest.raises(InputError) as e:
        read_results(p)
    assert str(e.value) == f"{tmp_path}/{message}"


def test_deprecated_methods_view_warns():
    res = EvalResults([MethodResult("single", 0.5, 0.1, 0.9, 2, 1, 1.0, 2)])
    with pytest.warns(DeprecationWarning, match="use .results"):
        assert res.methods[0]["method"] == "single"
