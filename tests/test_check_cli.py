"""`verify check` through typer's CliRunner: exit codes, exact output, --pairs files, bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, ["check", *args])


def test_equal_exit_0():
    r = _run("\\frac{1}{2}", "so the answer is $0.5$.")
    assert r.exit_code == 0
    assert r.output == "equal [numeric]: gold \\frac{1}{2} | pred 0.5 | 0.5 == 0.5\n"


def test_not_equal_exit_1():
    r = _run("3", "x = 4")
    assert r.exit_code == 1
    assert r.output == "not equal [structural]: gold 3 | pred x = 4 | structurally different\n"


def test_undecided_exit_2():
    r = _run("\\foo{1}", "\\bar{1}")
    assert r.exit_code == 2
    assert r.output == "undecided [parse-error]: gold \\foo{1} | pred \\bar{1} | cannot parse gold answer: unknown command \\foo\n"


def test_isolate_gives_the_same_verdicts(tmp_path):
    assert _run("x^2+2x+1", "(x+1)^2", "--isolate").output == _run("x^2+2x+1", "(x+1)^2").output
    src = _write(tmp_path / "pairs.jsonl", ROWS)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert _run("--pairs", str(src), "--out", str(a), "--jobs", "1", "--isolate").exit_code == 0
    assert _run("--pairs", str(src), "--out", str(b), "--jobs", "1").exit_code == 0
    assert a.read_text() == b.read_text()


def test_missing_arguments_exit_2():
    r = _run("3")
    assert r.exit_code == 2
    assert "give GOLD and PRED" in r.output


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


ROWS = [
    {"id": "a", "gold": "1/2", "pred": "0.5", "expected": True},
    {"id": "b", "gold": 5, "pred": 5.0, "expected_equivalent": True},
    {"id": "c", "gold": "x^2", "pred": "x^3", "expected": True},
    {"id": "d", "gold": 0, "pred": None, "expected": False},
    {"id": "e", "gold": "\\foo", "pred": "1"},
]


def test_pairs_file(tmp_path):
    src = _write(tmp_path / "pairs.jsonl", ROWS)
    out = tmp_path / "out.jsonl"
    r = _run("--pairs", str(src), "--out", str(out), "--jobs", "1")
    assert r.exit_code == 0, r.output
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [x["id"] for x in results] == ["a", "b", "c", "d", "e"]
    assert [x["equal"] for x in results] == [True, True, False, False, None]
    assert results[0]["gold"] == "1/2" and results[0]["expected"] is True  # input fields kept
    assert all(isinstance(x["reason"], str) and x["reason"] for x in results)
    lines = r.stdout.splitlines()
    assert lines[0] == "pairs: 5   equal: 2   not equal: 2   undecided: 1"
    assert lines[1] == "share equal: 0.4000 (n=5, 95% CI 0.1176-0.7693)"
    assert lines[2].startswith("agreement with expected: 3/4 = 0.7500 (95% CI 0.3006-0.9544")


def test_min_accuracy(tmp_path):
    src = _write(tmp_path / "pairs.jsonl", ROWS)
    assert _run("--pairs", str(src), "--min-accuracy", "0.4", "--jobs", "1").exit_code == 0
    r = _run("--pairs", str(src), "--min-accuracy", "0.5", "--jobs", "1")
    assert r.exit_code == 1
    assert "FAIL: share equal 0.4000 < --min-accuracy 0.5" in r.output


def test_bad_line_reports_file_line_field_and_keeps_written_results(tmp_path):
    src = tmp_path / "pairs.jsonl"
    src.write_text(json.dumps({"gold": "1", "pred": "1"}) + "\n" + json.dumps({"gold": "2"}) + "\n")
    out = tmp_path / "out.jsonl"
    r = _run("--pairs", str(src), "--out", str(out), "--jobs", "1")
    assert r.exit_code == 2
    assert f"error: {src}:2: field 'pred': missing required field" in r.output
    assert "Traceback" not in r.output
    assert [json.loads(x)["equal"] for x in out.read_text().splitlines()] == [True]


@pytest.mark.parametrize("line,message", [
    ('{"gold": [1], "pred": "1"}', "field 'gold': expected a string, number or null, got list"),
    ('{"gold": "1", "pred": "1", "expected": "yes"}', "field 'expected': expected true/false"),
    ('not json', ":1: not valid JSON"),
    ('[1, 2]', ":1: expected a JSON object"),
])
def test_bad_values(tmp_path, line, message):
    src = tmp_path / "pairs.jsonl"
    src.write_text(line + "\n")
    r = _run("--pairs", str(src), "--jobs", "1")
    assert r.exit_code == 2
    assert message in r.output


def test_missing_file(tmp_path):
    r = _run("--pairs", str(tmp_path / "nope.jsonl"))
    assert r.exit_code == 2 and "file not found" in r.output


def test_parallel_matches_serial(tmp_path):
    rows = [{"gold": f"{i}/{i + 1}", "pred": f"\\frac{{{i}}}{{{i + 1}}}" if i % 3 else "x^2", "i": i}
            for i in range(1, 301)]
    src = _write(tmp_path / "pairs.jsonl", rows)
    serial, parallel = tmp_path / "s.jsonl", tmp_path / "p.jsonl"
    assert _run("--pairs", str(src), "--out", str(serial), "--jobs", "1").exit_code == 0
    assert _run("--pairs", str(src), "--out", str(parallel), "--jobs", "2").exit_code == 0
    assert serial.read_text() == parallel.read_text()
    assert sum(json.loads(x)["equal"] is True for x in serial.read_text().splitlines()) == 200


def test_shared_cases_through_cli(shared_data, tmp_path):
    src = tmp_path / "all.jsonl"
    src.write_text("".join(f.read_text() for f in sorted((shared_data / "answer_equivalence").glob("*.jsonl"))))
    r = _run("--pairs", str(src), "--jobs", "2")
    assert r.exit_code == 0
    assert "agreement with expected: 104/106" in r.output


def test_console_script_entry_point():
    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, "cli.py", "check", "1,000", "1000"], capture_output=True, text=True,
                       cwd=str(root))
    assert r.returncode == 0 and r.stdout == "equal [numeric]: gold 1,000 | pred 1000 | 1000 == 1000\n"
