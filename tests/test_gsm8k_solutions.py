"""Step labels from OpenAI's graded GSM8K solutions (prm/gsm8k_solutions.py): the value-path rule,
the exclusion of ProcessBench's problems, and the threshold a build takes from its held-out part."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from prm.build_smollm2_prm import choose_threshold, first_errors
from prm.gsm8k_solutions import (computed, examples_from_row, label_stats, load_solutions, processbench_questions,
                                 question_key, split_solution)
from verify.errors import InputError

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SOLUTIONS = SHARED / "gsm8k_model_solutions" / "example_model_solutions.jsonl"
PB_GSM8K = SHARED / "processbench" / "gsm8k.jsonl"

# the first row of OpenAI's file (Janet's ducks; its question, reference and 6b_finetuning solution),
# with the three other solutions written for this test: gold 16 - 3 - 4 = 9 eggs, 9 * 2 = $18
DUCKS = {
    "question": "Janet\u2019s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes "
                "muffins for her friends every day with four. She sells the remainder at the farmers' market "
                "daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?",
    "ground_truth": "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n"
                    "She makes 9 * 2 = $<<9*2=18>>18 every day at the farmer\u2019s market.\nA: 18",
    "6b_finetuning": {"is_correct": False, "solution":
                      "Janet eats 3 ducks eggs for breakfast every morning and she sells the rest so she has "
                      "16 - 3 = <<16-3=13>>13 ducks eggs left\nShe has 13 ducks eggs and she sells 2 each day so "
                      "she makes 13 * 2 = $<<13*2=26>>26\nA: 26"},
    "6b_verification": {"is_correct": True, "solution":
                        "She has 16 - 3 = <<16-3=13>>13 eggs after breakfast.\n"
                        "She has 13 - 4 = <<13-4=9>>9 eggs after baking.\nShe makes 9 * 2 = $<<9*2=18>>18\nA: 18"},
    "175b_finetuning": {"is_correct": False, "solution":
                        "She sells 16 - 3 - 4 = <<16-3-4=9>>9 eggs.\nShe makes 9 * 2 = <<9*2=18>>18 dollars, "
                        "so she keeps 9 dollars.\nA: 9"},
    "175b_verification": {"is_correct": True, "solution": "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n"
                          "She makes 9 * 2 = $<<9*2=18>>18 every day at the farmer\u2019s market.\nA: 18"},
}


def test_each_kind_of_solution_gets_the_rule_s_labels():
    ex = examples_from_row(DUCKS)
    # reference, 6b_finetuning, 6b_verification, 175b_finetuning; 175b_verification repeats the reference
    assert len(ex) == 4
    ref, wrong, right, known_but_wrong = ex
    assert ref.steps == ("Janet sells 16 - 3 - 4 = 9 duck eggs a day.",
                         "She makes 9 * 2 = $18 every day at the farmer\u2019s market. The answer is 18.")
    assert ref.labels == (1.0, 1.0)
    # 13 is computed by a solution graded correct (16 - 3 after breakfast), so it is on a valid path;
    # 26 is not: the second step is the first error, and the trace ends there
    assert wrong.labels == (1.0, 0.0) and wrong.steps[-1].endswith("13 * 2 = $26 The answer is 26.")
    assert right.labels == (1.0, 1.0, 1.0)
    # every computed value is known but the answer is wrong: the step stating it is the error
    assert known_but_wrong.labels == (1.0, 0.0)
    assert all("<<" not in s for e in ex for s in e.steps)


def test_a_value_off_every_valid_path_is_the_first_error():
    row = dict(DUCKS)
    del row["6b_verification"]  # without that correct solution, 13 is off the reference's path
    wrong = examples_from_row(row)[1]
    assert wrong.labels == (0.0,) and wrong.steps[0].startswith("Janet eats 3 ducks eggs")


@pytest.mark.parametrize("text, values", [
    ("1,200 - 200 = <<1200-200=1000>>1,000", [1000.0]),
    ("<<0.5*4=2>>2 and <<2/8=0.25>>0.25", [2.0, 0.25]),
    ("no annotation here: 3 + 4 = 7", []),
    ("<<broken>> and <<=3>>", [3.0]),
])
def test_computed_values_are_read_from_the_calculator_annotations(text, values):
    assert computed(text) == values


def test_the_answer_line_is_split_off_in_both_spellings():
    assert split_solution("a\nb\n#### 1,000") == (["a", "b"], "1,000")
    assert split_solution("a\n\nA: 5\n") == (["a"], "5")
    assert split_solution("just a line") == (["just a line"], None)


def test_a_row_without_a_question_string_names_the_file_line_and_field(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text(json.dumps(DUCKS) + "\n" + json.dumps({"question": 3, "ground_truth": "A: 1"}) + "\n")
    with pytest.raises(InputError, match=r"s\.jsonl:2: field 'question': expected str, got int \(3\)"):
        load_solutions(p)


def test_excluded_questions_are_dropped_whatever_their_punctuation(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text(json.dumps(DUCKS) + "\n")
    assert len(load_solutions(p)) == 4
    assert load_solutions(p, exclude=[DUCKS["question"].replace("\u2019", "'").upper() + "  "]) == []


def test_first_errors_and_the_threshold_chosen_on_validation_traces():
    assert first_errors([[1.0, 1.0, 0.0], [1.0], [0.0, math.nan]]) == [2, -1, 0]
    # the wrong steps score 0.3 and 0.2, every right one at least 0.6: any threshold in (0.3, 0.6] is perfect
    got = choose_threshold([[0.9, 0.6, 0.3], [0.7], [0.2]], [[1.0, 1.0, 0.0], [1.0], [0.0]])
    assert got["f1"] == 1.0 and 0.3 < got["threshold"] <= 0.6 and got["n"] == 3


@pytest.mark.skipif(not (SOLUTIONS.is_file() and PB_GSM8K.is_file()), reason="../shared/data is absent")
def test_no_processbench_gsm8k_problem_reaches_the_training_traces():
    pb = processbench_questions(PB_GSM8K)
    ex = load_solutions(SOLUTIONS, exclude=pb)
    keys = {question_key(e.question) for e in ex}
    assert not keys & {question_key(q) for q in pb}
    stats = label_stats(ex)
    # 1,319 GSM8K test problems, of which ProcessBench's 400 samples use 375
    assert stats["problems"] == 1319 - 375
    assert 0.3 < stats["wrong_traces"] / stats["traces"] < 0.6
    assert all(e.labels[:-1] == (1.0,) * (len(e.labels) - 1) for e in ex)  # an error, if any, ends the trace


def test_build_refuses_processbench_training_data_that_shares_a_problem_with_the_report_split(tmp_path, capsys):
    from prm.build_smollm2_prm import main

    row = {"id": "x-0", "problem": "What is 2 + 2?", "steps": ["2 + 2 = 4"], "label": -1}
    report = tmp_path / "gsm8k.jsonl"
    report.write_text(json.dumps(row) + "\n")
    other = tmp_path / "math.jsonl"
    other.write_text(json.dumps({**row, "id": "y-0", "problem": "what is 2+2 ?"}) + "\n")
    assert main(["--out", str(tmp_path / "out"), "--processbench-train", str(other), "--gsm8k-exclude", str(report)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {other}: --processbench-train shares 1 problems with the evaluation split {report}")
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not PB_GSM8K.is_file(), reason="../shared/data is absent")
def test_the_confirmation_set_holds_only_problems_no_build_trains_on(tmp_path, capsys):
    from prm.build_smollm2_prm import PRM800K, main, split_problems
    from prm.formats import load_step_examples

    others = ",".join(str(SHARED / "processbench" / f"{s}.jsonl") for s in ("math", "olympiadbench", "omnimath"))
    out = tmp_path / "confirm.jsonl"
    assert main(["--write-heldout", str(out), "--processbench-train", others, "--prm800k", PRM800K]) == 0
    assert capsys.readouterr().out == f"{out}: 582 held-out ProcessBench solutions (486 problems)\n"
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    keys = {question_key(r["problem"]) for r in rows}
    raw = [e for p in others.split(",") for e in load_step_examples(p, "processbench")]
    train, _ = split_problems(raw, 0.2, 0)
    p_train, _ = split_problems(load_step_examples(PRM800K, "prm800k-stepwise", neutral="positive"), 0.2, 0)
    assert not keys & {question_key(e.question) for e in train + p_train}
    assert not keys & {question_key(q) for q in processbench_questions(PB_GSM8K)}


def test_write_heldout_never_replaces_a_file_least_of_all_an_input(tmp_path, capsys):
    # (an earlier version of this test wrote the confirmation set over ../shared's math.jsonl:
    # its overlap check kept only the last input file; this one works on copies only)
    from prm.build_smollm2_prm import main

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for p, q in ((a, "What is 1 + 1?"), (b, "What is 2 + 2?")):
        p.write_text(json.dumps({"id": p.stem, "problem": q, "steps": ["x"], "label": -1}) + "\n")
    before = a.read_bytes()
    for target in (a, b, tmp_path / "other.jsonl"):
        target.touch()
        assert main(["--write-heldout", str(target), "--processbench-train", f"{a},{b}"]) == 2
        assert capsys.readouterr().err == f"error: {target}: exists; --write-heldout writes a new file only\n"
    assert a.read_bytes() == before
