"""Importers for recorded-sample formats, and `verify convert`."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import app
from verify.errors import InputError, UnknownSpecError
from evals.importers import convert, load_samples
from verify.records.io import read_traces


def write(tmp_path, name, rows):
    p = tmp_path / name
    p.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return p


QWEN = {"idx": 7, "gt": "\\frac{1}{2}", "pred": ["\\frac{1}{2}", "0.5", "3"], "score": [True, True, False],
        "pred_score": [[2.0], [0.0], [-1.5]], "response": ["a \\boxed{\\frac{1}{2}}", "b", "c"]}


def test_qwen_rm_maj(tmp_path):
    ts = load_samples(write(tmp_path, "q.jsonl", [QWEN]), "qwen-rm-maj")
    assert [(t.problem_id, t.sample_index, t.answer, t.gold) for t in ts] == [
        ("7", 0, "\\frac{1}{2}", "\\frac{1}{2}"), ("7", 1, "0.5", "\\frac{1}{2}"), ("7", 2, "3", "\\frac{1}{2}")]
    assert [t.meta["correct"] for t in ts] == [True, True, False]
    assert [t.meta["rm_logit"] for t in ts] == [2.0, 0.0, -1.5]
    assert ts[1].score == 0.5 and ts[0].score > ts[1].score > ts[2].score   # sigmoid keeps the order
    assert ts[0].text == "a \\boxed{\\frac{1}{2}}"


@pytest.mark.parametrize("row,field,msg", [
    ({**QWEN, "pred_score": [[1.0], [2.0]]}, "pred_score", "has 2 entries, expected 3"),
    ({**QWEN, "score": [True, 1, False]}, "score", "score[1] is not a bool"),
    ({**QWEN, "pred_score": [[1.0], ["x"], [2.0]]}, "pred_score", "pred_score[1] is not a finite number"),
    ({k: v for k, v in QWEN.items() if k != "gt"}, "gt", "missing required field"),
])
def test_qwen_bad_input_names_file_line_field(tmp_path, row, field, msg):
    p = write(tmp_path, "q.jsonl", [QWEN, row])
    with pytest.raises(InputError) as ei:
        load_samples(p, "qwen-rm-maj")
    assert ei.value.line == 2 and ei.value.field == field and msg in str(ei.value)
    assert str(ei.value).startswith(f"{p}:2: field '{field}': ")


def test_prm_scored_per_sample_lines(tmp_path):
    rows = [{"idx": 1, "gt": "4", "response": "2+2 = 4. \\boxed{4}", "step_scores": [0.9, 0.8]},
            {"idx": 1, "gt": "4", "response": "no idea", "pred": "5", "scores": [0.3], "completion_tokens": 12,
             "finish_reason": "length", "correct": False},
            {"problem_id": "b", "ground_truth": 2, "text": "so 2"}]
    ts = load_samples(write(tmp_path, "s.jsonl", rows), "prm-scored")
    assert [(t.problem_id, t.sample_index, t.answer, t.gold) for t in ts] == [
        ("1", 0, "4", "4"), ("1", 1, "5", "4"), ("b", 0, "2", "2")]
    assert ts[0].step_scores == (0.9, 0.8) and ts[1].step_scores == (0.3,) and ts[2].step_scores is None
    assert ts[1].num_tokens == 12 and ts[1].finish_reason == "length" and ts[1].meta["correct"] is False
    with pytest.raises(InputError) as ei:
        load_samples(write(tmp_path, "t.jsonl", [rows[0], {"idx": 1, "response": "x"}]), "prm-scored")
    assert (ei.value.line, ei.value.field) == (2, "gold")
    with pytest.raises(InputError) as ei:
        load_samples(write(tmp_path, "u.jsonl", [{"idx": 1, "gt": "1", "response": "x", "step_scores": [0.1, None]}]),
                     "prm-scored")
    assert (ei.value.line, ei.value.field) == (1, "step_scores")


def test_search_and_learn_rows(tmp_path):
    row = {"problem": "1+1?", "answer": "2", "unique_id": "test/algebra/1.json",
           "completions": ["so \\boxed{2}", "maybe \\boxed{3}"], "scores": [[0.9, 0.7], [0.2]],
           "completion_tokens": [40, 55], "pred": "so \\boxed{2}"}
    ts = load_samples(write(tmp_path, "sal.jsonl", [row]), "sal")
    assert [(t.problem_id, t.answer, t.step_scores, t.num_tokens) for t in ts] == [
        ("test/algebra/1.json", "2", (0.9, 0.7), 40), ("test/algebra/1.json", "3", (0.2,), 55)]
    with pytest.raises(InputError) as ei:
        load_samples(write(tmp_path, "bad.jsonl", [{**row, "completion_tokens": [1]}]), "sal")
    assert (ei.value.line, ei.value.field) == (1, "completion_tokens")


def test_verify_format_requires_gold_and_unknown_format(tmp_path):
    p = write(tmp_path, "v.jsonl", [{"problem_id": "a", "answer": "1", "gold": "1"}, {"problem_id": "a", "answer": "2"}])
    with pytest.raises(InputError) as ei:
        load_samples(p)
    assert (ei.value.line, ei.value.field) == (2, "gold")
    with pytest.raises(UnknownSpecError, match="Did you mean 'qwen-rm-maj'"):
        load_samples(p, "qwen-rm-mj")


def test_convert_round_trip_and_cli(tmp_path):
    src = write(tmp_path, "q.jsonl", [QWEN, {**QWEN, "idx": 8}])
    out = tmp_path / "out.jsonl"
    assert convert(src, "qwen-rm-maj", out) == 6
    back = read_traces(out)
    assert back == load_samples(src, "qwen-rm-maj")
    assert load_samples(out) == back                         # the converted file is a valid samples file
    with pytest.raises(InputError, match="output exists"):
        convert(src, "qwen-rm-maj", out)
    r = CliRunner().invoke(app, ["convert", str(src), "--format", "qwen-rm-maj", "--out", str(out), "--force"])
    assert r.exit_code == 0 and r.output == f"wrote 6 traces to {out}\n"
    r = CliRunner().invoke(app, ["convert", str(src), "--format", "nope", "--out", str(tmp_path / "x.jsonl")])
    assert r.exit_code == 2 and "unknown format 'nope'" in r.output and "Traceback" not in r.output


def test_real_qwen_file(shared_data):
    ts = load_samples(shared_data / "qwen25math_rm_maj_example" / "math_cot_100.jsonl", "qwen-rm-maj")
    assert len(ts) == 800 and len({t.problem_id for t in ts}) == 100
    assert sum(t.meta["correct"] for t in ts) == 728          # mean pass@1 0.91
    assert all(t.score is not None and 0 < t.score < 1 for t in ts)
