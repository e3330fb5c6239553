"""benchmarks/learned_prm.py on hand-built data: held-out step AUROC, ProcessBench F1, the main
job's methods per reduction with PRM tokens charged, and the decision file the main job reads."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from evals.runner import main_job_prm

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("learned_prm_bench", ROOT / "benchmarks" / "learned_prm.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


class ConstantPRM:
    """A stand-in model PRM: 0.5 for every step, charging one forward token per word."""

    def __init__(self):
        self.forward_tokens = 0

    def __call__(self, question, steps):
        self.forward_tokens += len(question.split()) + sum(len(s.split()) for s in steps)
        return [0.5] * len(steps)


STANDIN = ConstantPRM()
RIGHT = ["2 + 2 = 4.", "The answer is \\boxed{4}."]
WRONG = ["2 + 2 = 5.", "The answer is \\boxed{5}."]
SIX = ["3 + 3 = 6.", "The answer is \\boxed{6}."]


@pytest.fixture
def files(tmp_path):
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in [
        {"question": "What is 2 + 2?", "steps": RIGHT, "labels": [1, 1], "hard_labels": [1, 1]},
        {"question": "What is 2 + 2?", "steps": WRONG, "labels": [0, 0], "hard_labels": [0, 0]},
        {"question": "What is 3 + 3 + 1?", "steps": ["3 + 3 = 6.", "6 + 1 = 8.", "So \\boxed{8}."],
         "labels": [1, 0, 0], "hard_labels": [1, 0, 0]}]))
    pb = tmp_path / "pb"
    pb.mkdir()
    (pb / "gsm8k.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "a", "problem": "What is 2 + 2?", "steps": RIGHT, "label": -1},
        {"id": "b", "problem": "What is 2 + 2?", "steps": WRONG, "label": 0}]))
    traces = tmp_path / "traces.jsonl"
    rows = [(("p1", "4"), WRONG if i < 5 else RIGHT) for i in range(8)] + [(("p2", "6"), SIX)] * 8
    traces.write_text("".join(json.dumps({
        "problem_id": pid, "sample_index": i % 8, "text": "\n\n".join(steps), "steps": steps,
        "answer": steps[-1][-3], "gold": gold, "num_tokens": 10, "prompt_tokens": 20}) + "\n"
        for i, ((pid, gold), steps) in enumerate(rows)))
    problems = tmp_path / "problems.jsonl"
    problems.write_text('{"id": "p1", "question": "What is 2 + 2?", "answer": "4"}\n'
                        '{"id": "p2", "question": "What is 3 + 3?", "answer": "6"}\n')
    return labels, pb, traces, problems


def test_arith_against_a_stand_in(files, tmp_path, capsys):
    labels, pb, traces, problems = files
    decision = tmp_path / "heldout.json"
    res = bench.main(["--prm", "arith", "--prm", "python:tests.test_learned_prm_bench:STANDIN",
                      "--heldout-labels", str(labels), "--processbench-dir", str(pb), "--splits", "gsm8k,math", "--sweep",
                      "--traces", str(traces), "--dataset", str(problems), "--n-boot", "200", "--out", str(tmp_path / "r.json"),
                      "--write-decision", str(decision)])
    assert json.loads((tmp_path / "r.json").read_text())["prms"].keys() == res["prms"].keys()
    assert res["skipped_splits"] == ["math"]  # no such file: skipped and said, not an error
    arith, stand = res["prms"]["arith"], res["prms"]["python:tests.test_learned_prm_bench:STANDIN"]
    # held out: positives 0.95, 0.7, 0.95 against negatives 0.05, 0.05; every first error found
    assert arith["heldout"]["report"]["auroc"] == 1.0 and arith["heldout"]["report"]["f1"] == 1.0
    assert (arith["heldout"]["report"]["n_pos_steps"], arith["heldout"]["report"]["n_neg_steps"]) == (3, 2)
    assert stand["heldout"]["report"]["auroc"] == 0.5 and stand["heldout"]["report"]["f1"] == 0.0
    # the first two labelled traces are main-job traces, already scored: only the third is run (7 + 12 words)
    assert stand["heldout"]["forward_tokens"] == 19 and stand["heldout"]["n_problems"] == 3
    assert arith["processbench"]["gsm8k"]["report"]["f1"] == 1.0
    assert stand["processbench"]["gsm8k"]["report"]["f1"] == 0.0
    # the swept threshold is reported apart and marked as tuned on the test data
    assert stand["processbench"]["gsm8k"]["tuned"]["tuned_on_test"] is True

    def row(part, method, reduce="prod"):
        return next(r for r in part["main_job"]["rows"] if r["method"] == method and r["reduce"] == reduce)
    # p1: 5 wrong traces against 3 right ones; p2: all right
    assert row(arith, "majority@8")["accuracy"] == 0.5
    assert row(arith, "prm-best-of-8")["accuracy"] == 1.0 and row(arith, "weighted-vote@8")["accuracy"] == 1.0
    assert row(stand, "prm-best-of-8")["accuracy"] == pytest.approx((3 / 8 + 1) / 2)  # ties: expected value
    # PRM tokens are charged to the methods that read step scores, and only for a model PRM
    assert row(arith, "prm-best-of-8")["prm_tokens_per_problem"] == 0
    assert row(stand, "majority@8")["prm_tokens_per_problem"] == 0
    # the stand-in charges a word a token: question (5 words) + steps (9 words), 8 traces per problem
    assert row(stand, "prm-best-of-8")["prm_tokens_per_problem"] == 8 * 14
    assert {r["reduce"] for r in stand["main_job"]["rows"]} == {"prod", "min", "last", "mean"}
    out = capsys.readouterr().out
    assert "held-out arith steps" in out and "ProcessBench" in out and "TUNED ON THIS TEST SET" in out
    assert [line.split()[:3] for line in out.splitlines() if line.startswith("weighted-vote@8")] == [
        ["weighted-vote@8", r, ["1.000", "1.000", "0.500", "1.000"][i]] for i, r in enumerate(bench.REDUCTIONS)]
    d = json.loads(decision.read_text())
    assert (d["learned"], d["arith"], d["n"]) == (pytest.approx(11 / 16), 1.0, 2)
    assert d["paired_difference"]["diff"] == pytest.approx(11 / 16 - 1)
    assert main_job_prm(decision)[0] == "arith"


@pytest.mark.parametrize("which", ["--out", "--write-decision"])
def test_a_foreign_output_file_is_refused_before_any_scoring(files, tmp_path, capsys, which):
    labels, pb, traces, problems = files
    foreign = tmp_path / "mine.json"
    foreign.write_text('{"not": "a result"}\n')
    outs = {"--out": str(tmp_path / "r.json"), "--write-decision": str(tmp_path / "d.json"), which: str(foreign)}
    with pytest.raises(SystemExit) as err:
        bench.main(["--prm", "arith", "--prm", "python:tests.test_learned_prm_bench:STANDIN",
                    "--heldout-labels", str(labels), "--splits", "", "--traces", str(traces),
                    "--dataset", str(problems), "--n-boot", "20", *[x for kv in outs.items() for x in kv]])
    assert err.value.code == 2
    assert capsys.readouterr().err.startswith(f"error: {foreign}: exists and is not a ")
    assert foreign.read_text() == '{"not": "a result"}\n'
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "d.json").exists()
