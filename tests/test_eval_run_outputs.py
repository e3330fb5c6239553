"""`verify eval` run mode honours --json, --plot, --per-problem and --subsets (it ignored them),
refuses --format, never grows a run folder without --extend, and keeps every evaluation's
results under results/ (issue 10.4, 16.3)."""
import json

import pytest
from typer.testing import CliRunner

from cli import app

QUESTIONS = {"p0": ("What is 2 + 2?", "4", ["4", "5", "4", "4"]), "p1": ("What is 1 + 2?", "3", ["3", "3", "6", "6"])}


@pytest.fixture
def replay(tmp_path):
    data = tmp_path / "problems.jsonl"
    rec = tmp_path / "recorded.jsonl"
    data.write_text("".join(json.dumps({"id": i, "question": q, "answer": a}) + "\n" for i, (q, a, _) in QUESTIONS.items()))
    rec.write_text("".join(json.dumps({"id": i, "question": q, "completions": [f"so \\boxed{{{x}}}" for x in xs]}) + "\n"
                           for i, (q, _, xs) in QUESTIONS.items()))
    return ["eval", "--backend", "replay", "--model", str(rec), "--data-file", str(data), "--n-boot", "50"]


def invoke(args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_run_mode_writes_json_plot_per_problem_with_subsets(replay, tmp_path):
    out = tmp_path / "run"
    r = invoke(replay + ["--method", "majority@2", "--out-dir", out, "--subsets", "first", "--json", tmp_path / "r.json",
                         "--plot", tmp_path / "p.png", "--per-problem", tmp_path / "pp.jsonl"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[-3:] == [f"per-problem: {tmp_path / 'pp.jsonl'}", f"json: {tmp_path / 'r.json'}",
                                          f"plot: {tmp_path / 'p.png'}"]
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc == json.loads((out / "results.json").read_text())
    # first-k: p0's first two answers 4, 5 tie -> "first" rule picks 4 (right); p1: 3, 3 (right)
    assert [(x["method"], x["subsets"], x["accuracy"]) for x in doc["results"]] == [
        ("single", "first", 1.0), ("majority@2", "first", 1.0)]
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = [json.loads(x) for x in (tmp_path / "pp.jsonl").read_text().splitlines()]
    assert [(x["problem_id"], x["method"]) for x in rows] == [("p0", "single"), ("p1", "single"),
                                                               ("p0", "majority@2"), ("p1", "majority@2")]


def test_run_mode_refuses_format(replay, tmp_path):
    r = invoke(replay + ["--method", "majority@2", "--out-dir", tmp_path / "run", "--format", "sal"])
    assert r.exit_code == 2 and r.stderr == "error: --format applies to --samples only\n"
    assert not (tmp_path / "run" / "samples.jsonl").exists()


def test_growing_n_needs_extend_and_keeps_earlier_results(replay, tmp_path):
    out = tmp_path / "run"
    r = invoke(replay + ["--method", "majority@2", "--out-dir", out])
    assert r.exit_code == 0, r.output
    assert "sampling 4 traces for 2 problems (2 per problem) into" in r.stderr
    before = (out / "samples.jsonl").read_text()
    r = invoke(replay + ["--method", "majority@4", "--out-dir", out])
    assert r.exit_code == 2
    assert r.stderr == (f"error: {out / 'samples.jsonl'}: holds 2 samples per problem and the methods need 4; "
                        "nothing sampled. --extend (extend=True) would sample 4 more traces for 2 problems\n")
    assert (out / "samples.jsonl").read_text() == before
    assert json.loads((out / "results.json").read_text())["config"]["methods"] == ["single", "majority@2"]
    r = invoke(replay + ["--method", "majority@4", "--out-dir", out, "--extend"])
    assert r.exit_code == 0, r.output
    assert f"sampling 4 traces for 2 problems (4 per problem; 4 already in {out / 'samples.jsonl'})" in r.stderr
    assert len((out / "samples.jsonl").read_text().splitlines()) == 8
    latest = json.loads((out / "results.json").read_text())
    assert [x["method"] for x in latest["results"]] == ["single", "majority@4"]
    # every evaluation keeps its own folder; the top-level files are the latest one's
    kept = sorted((out / "results").iterdir())
    assert [p.name.split("_", 1)[1] for p in kept] == ["single+majority@2", "single+majority@4"]
    assert sorted(f.name for f in kept[0].iterdir()) == ["curves.png", "report.md", "results.json"]
    assert json.loads((kept[0] / "results.json").read_text())["results"][1]["method"] == "majority@2"
    assert (kept[1] / "results.json").read_text() == (out / "results.json").read_text()
    assert (kept[1] / "report.md").read_text() == (out / "report.md").read_text()
    assert latest["files"]["history"] == str(kept[1])


def test_resuming_an_interrupted_run_is_not_a_growth(replay, tmp_path):
    out = tmp_path / "run"
    assert invoke(replay + ["--method", "majority@4", "--out-dir", out]).exit_code == 0
    lines = (out / "samples.jsonl").read_text().splitlines(keepends=True)
    (out / "samples.jsonl").write_text("".join(lines[:6]))  # p1 lost 2 of its 4 samples
    r = invoke(replay + ["--method", "majority@4", "--out-dir", out])
    assert r.exit_code == 0, r.output
    assert "sampling 2 traces for 1 problem (4 per problem; 6 already in" in r.stderr
    assert len((out / "samples.jsonl").read_text().splitlines()) == 8


def test_python_api_extend(tmp_path):
    from evals.runner import RunConfig, run_eval
    from verify.errors import InputError
    from verify.records.types import Problem
    from verify.sampling.callable_backend import CallableGenerator

    gen = CallableGenerator(lambda prompt, n: ["\\boxed{4}"] * n)
    probs = [Problem("a", "What is 2 + 2?", "4")]
    cfg = dict(out_dir=str(tmp_path / "run"), progress=False, n_boot=20)
    run_eval(RunConfig(methods=["majority@2"], **cfg), generator=gen, problems=probs)
    with pytest.raises(InputError, match="would sample 2 more traces for 1 problem$"):
        run_eval(RunConfig(methods=["majority@4"], **cfg), generator=gen, problems=probs)
    res = run_eval(RunConfig(methods=["majority@4"], extend=True, **cfg), generator=gen, problems=probs)
    assert res.method("majority@4").accuracy == 1.0 and res.run["stages"]["sample"]["sampled"] == 2
