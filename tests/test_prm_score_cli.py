"""`verify prm eval` and `verify prm score` through typer's CliRunner: exact output and exit codes."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from verify.commands.prm import app
from prm.score_file import load_questions, score_samples
from verify.errors import InputError
from verify.records.io import read_traces

runner = CliRunner()

PB_ROWS = [
    {"id": "a", "problem": "Q1", "steps": ["2 * 3 = 6", "6 + 1 = 8", "So 8."], "label": 1},
    {"id": "b", "problem": "Q2", "steps": ["4 * 5 = 20", "20 - 5 = 15", "So 15."], "label": -1},
    {"id": "c", "problem": "Q3", "steps": ["We need apples.", "3 + 3 = 6", "So 6."], "label": 0},
    {"id": "d", "problem": "Q4", "steps": ["10 / 2 = 5", "So 5."], "label": -1},
]


def jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_eval_prints_metrics_and_writes_json(tmp_path):
    data = jsonl(tmp_path / "pb.jsonl", PB_ROWS)
    res = runner.invoke(app, ["eval", "--data", str(data), "--prm", "arith", "--json", str(tmp_path / "s.json"),
                              "--records", str(tmp_path / "r.jsonl"), "--quiet", "--n-boot", "200"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0] == "ProcessBench pb.jsonl: n=4 (2 with an error, 2 fully correct), scorer arith"
    assert lines[1] == "  threshold 0.5"
    assert lines[2].startswith("  accuracy, erroneous samples   0.500 [0.095, 0.905]  (1/2, Wilson 95% CI)")
    assert lines[3].startswith("  accuracy, correct samples     1.000 [0.342, 1.000]  (2/2, Wilson 95% CI)")
    assert lines[4].startswith("  F1 (harmonic mean)            0.667 [")
    assert lines[6] == "  forward tokens                0"
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["report"]["f1"] == pytest.approx(2 / 3)
    assert summary["tuned"] is None
    assert [json.loads(l)["pred"] for l in (tmp_path / "r.jsonl").read_text().splitlines()] == [1, -1, -1, -1]


def test_eval_sweep_is_labelled_as_tuned(tmp_path):
    data = jsonl(tmp_path / "pb.jsonl", PB_ROWS)
    res = runner.invoke(app, ["eval", "--data", str(data), "--prm", "arith", "--sweep", "--quiet",
                              "--threshold", "0.01", "--n-boot", "50"])
    assert res.exit_code == 0, res.output
    assert "  threshold 0.01" in res.stdout
    assert "TUNED ON THIS TEST SET (optimistic)" in res.stdout


def test_eval_python_scorer(tmp_path, monkeypatch):
    (tmp_path / "cli_prm_mod.py").write_text(
        "def flag_eight(q, steps):\n    return [0.0 if '8' in s else 1.0 for s in steps]\n"
        "def broken(q, steps):\n    return [0.5]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    data = jsonl(tmp_path / "pb.jsonl", PB_ROWS)
    res = runner.invoke(app, ["eval", "--data", str(data), "--prm", "python:cli_prm_mod:flag_eight", "--quiet"])
    assert res.exit_code == 0, res.output
    assert "(1/2, Wilson 95% CI)" in res.stdout and "(2/2, Wilson 95% CI)" in res.stdout
    res = runner.invoke(app, ["eval", "--data", str(data), "--prm", "python:cli_prm_mod:broken", "--quiet"])
    assert res.exit_code == 2
    assert res.stderr == "error: python:cli_prm_mod:broken: returned 1 scores for 3 steps\n"


@pytest.mark.parametrize("args, message", [
    (["--prm", "gpt-9"], "error: unknown scorer 'gpt-9': not 'arith', not 'python:module:function', "
                         "and not an existing directory\n"),
    (["--prm", "python:nope_mod_xyz:f"], "error: scorer 'python:nope_mod_xyz:f': cannot import module "
                                         "'nope_mod_xyz' (No module named 'nope_mod_xyz')\n"),
])
def test_eval_bad_scorer_exit_1(tmp_path, args, message):
    data = jsonl(tmp_path / "pb.jsonl", PB_ROWS)
    res = runner.invoke(app, ["eval", "--data", str(data), "--quiet", *args])
    assert res.exit_code == 2
    assert res.stderr == message


def test_eval_bad_data_exit_1_names_line_and_field(tmp_path):
    data = jsonl(tmp_path / "pb.jsonl", PB_ROWS[:1] + [{"id": "z", "problem": "Q", "steps": "one step", "label": -1}])
    res = runner.invoke(app, ["eval", "--data", str(data), "--prm", "arith", "--quiet"])
    assert res.exit_code == 2
    assert res.stderr == f"error: {data}:2: field 'steps': expected list, got str ('one step')\n"
    res = runner.invoke(app, ["eval", "--data", str(tmp_path / "missing.jsonl"), "--prm", "arith"])
    assert res.exit_code == 2 and res.stderr == f"error: {tmp_path / 'missing.jsonl'}: file not found\n"


def test_eval_usage_error_exit_2(tmp_path):
    res = runner.invoke(app, ["eval", "--prm", "arith"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["eval", "--data", "x", "--prm", "arith", "--threshold", "high"])
    assert res.exit_code == 2


SAMPLES = [
    {"problem_id": "p1", "sample_index": 0, "text": "2 * 3 = 6\n\n6 + 1 = 8\n\nSo 8.", "answer": "8"},
    {"problem_id": "p1", "sample_index": 1, "text": "ignored", "steps": ["2 * 3 = 6", "6 + 1 = 7"], "answer": "7"},
    {"problem_id": "p2", "sample_index": 0, "text": "", "answer": None},
]


def test_score_adds_step_scores_and_resumes(tmp_path):
    src = jsonl(tmp_path / "s.jsonl", SAMPLES)
    qs = jsonl(tmp_path / "q.jsonl", [{"id": "p1", "question": "2*3+1?"}, {"id": "p2", "problem": "?"}])
    out = tmp_path / "o.jsonl"
    res = runner.invoke(app, ["score", "--samples", str(src), "--prm", "arith", "--out", str(out),
                              "--questions", str(qs), "--quiet", "--batch-size", "2"])
    assert res.exit_code == 0, res.output
    assert res.stdout == f"scored 3 traces, 0 already in {out} (3 in {src}); forward tokens 0\n"
    traces = read_traces(out)
    assert [(t.problem_id, t.sample_index) for t in traces] == [("p1", 0), ("p1", 1), ("p2", 0)]
    assert traces[0].steps == ("2 * 3 = 6", "6 + 1 = 8", "So 8.")
    assert traces[0].step_scores == (0.95, 0.05, 0.7)
    assert traces[1].steps == ("2 * 3 = 6", "6 + 1 = 7") and traces[1].step_scores == (0.95, 0.95)
    assert traces[2].steps == () and traces[2].step_scores == ()
    assert traces[0].answer == "8" and traces[1].meta == {"prm_tokens": 0}  # the rest is kept; no model tokens

    res = runner.invoke(app, ["score", "--samples", str(src), "--prm", "arith", "--out", str(out), "--quiet"])
    assert res.exit_code == 0
    assert res.stdout == f"scored 0 traces, 3 already in {out} (3 in {src}); forward tokens 0\n"
    assert len(out.read_text().splitlines()) == 3


def test_score_repairs_torn_tail(tmp_path):
    src = jsonl(tmp_path / "s.jsonl", SAMPLES)
    out = tmp_path / "o.jsonl"
    score_samples(src, out, "arith", progress=False, batch_size=1)
    full = out.read_text()
    lines = full.splitlines(keepends=True)
    out.write_text(lines[0] + lines[1][: len(lines[1]) // 2])  # crash in the middle of line 2
    stats = score_samples(src, out, "arith", progress=False)
    assert stats == {"total": 3, "skipped": 1, "scored": 2, "no_question": 2}
    assert out.read_text() == full


def test_score_custom_separator_and_questions_from_trace(tmp_path):
    src = jsonl(tmp_path / "s.jsonl", [{"problem_id": "p", "text": "1 + 1 = 2 || 2 + 2 = 5", "question": "Q?"}])
    seen = []

    def scorer(q, steps):
        seen.append((q, tuple(steps)))
        return [0.5] * len(steps)

    stats = score_samples(src, tmp_path / "o.jsonl", scorer, progress=False, step_sep="||")
    assert seen == [("Q?", ("1 + 1 = 2", "2 + 2 = 5"))] and stats["no_question"] == 0


def test_score_missing_question_id_exit_1(tmp_path):
    src = jsonl(tmp_path / "s.jsonl", SAMPLES)
    qs = jsonl(tmp_path / "q.jsonl", [{"id": "p1", "question": "2*3+1?"}])
    res = runner.invoke(app, ["score", "--samples", str(src), "--prm", "arith", "--out", str(tmp_path / "o.jsonl"),
                              "--questions", str(qs), "--quiet"])
    assert res.exit_code == 2
    assert res.stderr == f"error: {src}:3: field 'problem_id': 'p2' is not an id in the questions file\n"


def test_score_bad_samples_exit_1(tmp_path):
    src = jsonl(tmp_path / "s.jsonl", [SAMPLES[0], {"problem_id": "p", "text": "x", "step_scores": ["a"]}])
    res = runner.invoke(app, ["score", "--samples", str(src), "--prm", "arith", "--out", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"error: {src}:2: field 'step_scores':")
    assert not (tmp_path / "o.jsonl").exists()


def test_load_questions_forms(tmp_path):
    p = jsonl(tmp_path / "q.jsonl", [{"question": "a?"}, {"question": "b?"}])
    assert load_questions(p) == {"0": "a?", "1": "b?"}  # no id: row number
    p = jsonl(tmp_path / "q2.jsonl", [{"unique_id": "test/x.json", "problem": "c?"}, {"id": 1}])
    with pytest.raises(InputError) as e:
        load_questions(p)
    assert (e.value.line, e.value.field) == (2, "question")


def test_prm_commands_do_not_import_torch():
    code = "import sys, verify.commands.prm; print('torch' in sys.modules, sorted(verify.commands.prm.app.registered_commands and " \
           "[c.name for c in verify.commands.prm.app.registered_commands]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    torch_loaded, names = out.split(" ", 1)
    assert torch_loaded == "False"
    assert "eval" in names and "score" in names


def test_registered_under_verify_prm(tmp_path):
    from cli import app as verify_app
    data = jsonl(tmp_path / "pb.jsonl", PB_ROWS)
    res = runner.invoke(verify_app, ["prm", "eval", "--data", str(data), "--prm", "arith", "--quiet",
                                     "--n-boot", "50"])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("ProcessBench pb.jsonl: n=4 ")


def test_eval_and_score_with_a_model_directory(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from prm.hf_scorer import HFStepScorer
    from prm.synthetic import save_tiny_model

    model_dir = save_tiny_model(tmp_path / "prm", kind="llama", head="lm", spec="math-shepherd", init_range=0.5)
    data = jsonl(tmp_path / "pb.jsonl", PB_ROWS)
    res = runner.invoke(app, ["eval", "--data", str(data), "--prm", str(model_dir), "--quiet", "--n-boot", "50",
                              "--records", str(tmp_path / "r.jsonl"), "--batch-size", "3"])
    assert res.exit_code == 0, res.output
    tokens = int(res.stdout.split("forward tokens")[1].split()[0])
    assert tokens > 0
    direct = HFStepScorer.from_pretrained(str(model_dir))
    records = [json.loads(l) for l in (tmp_path / "r.jsonl").read_text().splitlines()]
    for row, rec in zip(PB_ROWS, records):
        assert rec["step_scores"] == pytest.approx(direct(row["problem"], row["steps"]), abs=1e-5)
    assert tokens == direct.forward_tokens  # one pass per trace: the same tokens as scoring one by one

    src = jsonl(tmp_path / "s.jsonl", SAMPLES)
    qs = jsonl(tmp_path / "q.jsonl", [{"id": "p1", "question": "2*3+1?"}, {"id": "p2", "problem": "?"}])
    res = runner.invoke(app, ["score", "--samples", str(src), "--prm", str(model_dir), "--out",
                              str(tmp_path / "o.jsonl"), "--questions", str(qs), "--quiet", "--batch-size", "2"])
    assert res.exit_code == 0, res.output
    scored = read_traces(tmp_path / "o.jsonl")
    t0 = scored[0]
    assert t0.step_scores == pytest.approx(direct("2*3+1?", list(t0.steps)), abs=1e-5)
    # per-trace PRM tokens (for cost accounting) are each trace's own one-pass tokens and add up
    printed = int(res.stdout.rsplit("forward tokens", 1)[1])
    assert sum(t.meta["prm_tokens"] for t in scored) == printed > 0
    assert t0.meta["prm_tokens"] == len(direct.encode("2*3+1?", list(t0.steps)).input_ids)
    assert scored[2].meta["prm_tokens"] == 0  # no steps, nothing run
