"""Step-labelled data readers: hand-made files with known answers, bad lines, and the real sets."""
from __future__ import annotations

import json
import math
from collections import defaultdict

import pytest

from prm.formats import FORMATS, StepExample, load_step_examples
from verify.errors import InputError, UnknownSpecError


def write(tmp_path, rows, name="d.jsonl"):
    p = tmp_path / name
    p.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return p


def same(a, b):
    return len(a) == len(b) and all((math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b))


# ---------------------------------------------------------------- StepExample, dispatch

def test_step_example_validates():
    with pytest.raises(ValueError):
        StepExample("q", ("a",), (1.0, 0.0))
    with pytest.raises(ValueError):
        StepExample("q", ("a",), (1.5,))
    assert math.isnan(StepExample("q", ("a",), (math.nan,)).labels[0])


def test_unknown_format_and_policy(tmp_path):
    p = write(tmp_path, [{"question": "q", "steps": ["a"], "labels": [1]}])
    with pytest.raises(UnknownSpecError, match="plain"):
        load_step_examples(p, "prm900k")
    with pytest.raises(UnknownSpecError, match="skip"):
        load_step_examples(p, "plain", neutral="maybe")
    assert set(FORMATS) == {"plain", "processbench", "math-shepherd", "prm800k", "prm800k-stepwise", "math-aps"}


# ---------------------------------------------------------------- plain

def test_plain_reads_soft_null_and_bool(tmp_path):
    p = write(tmp_path, [{"question": "q", "steps": ["a", "b", "c", "d"], "labels": [1, 0.25, None, False]}])
    (ex,) = load_step_examples(p, "plain")
    assert ex.steps == ("a", "b", "c", "d")
    assert same(ex.labels, (1.0, 0.25, math.nan, 0.0))


@pytest.mark.parametrize("bad, field", [
    ({"steps": ["a"], "labels": [1]}, "question"),
    ({"question": "q", "steps": ["a", "b"], "labels": [1]}, "labels"),
    ({"question": "q", "steps": ["a"], "labels": [1.5]}, "labels"),
    ({"question": "q", "steps": ["a"], "labels": ["+"]}, "labels"),
    ({"question": "q", "steps": [3], "labels": [1]}, "steps"),
    ({"question": "q", "steps": [], "labels": []}, "steps"),
])
def test_plain_bad_line_names_file_line_field(tmp_path, bad, field):
    p = write(tmp_path, [{"question": "q", "steps": ["a"], "labels": [1]}, bad])
    with pytest.raises(InputError) as e:
        load_step_examples(p, "plain")
    assert (e.value.path, e.value.line, e.value.field) == (str(p), 2, field)
    assert str(e.value).startswith(f"{p}:2: field '{field}':")


def test_not_json_names_line(tmp_path):
    p = write(tmp_path, [{"question": "q", "steps": ["a"], "labels": [1]}, "{oops"])
    with pytest.raises(InputError) as e:
        load_step_examples(p, "plain")
    assert e.value.line == 2


# ---------------------------------------------------------------- processbench

def test_processbench_first_error_policy(tmp_path):
    p = write(tmp_path, [
        {"id": "a", "problem": "q1", "steps": ["s0", "s1", "s2", "s3"], "label": 1},
        {"id": "b", "problem": "q2", "steps": ["s0", "s1"], "label": -1},
        {"id": "c", "problem": "q3", "steps": ["s0", "s1"], "label": 0},
    ])
    a, b, c = load_step_examples(p, "processbench")
    assert same(a.labels, (1.0, 0.0, math.nan, math.nan))
    assert same(b.labels, (1.0, 1.0))
    assert same(c.labels, (0.0, math.nan))
    assert a.question == "q1" and a.steps == ("s0", "s1", "s2", "s3")


@pytest.mark.parametrize("label", [2, -2, "1", None])
def test_processbench_bad_label(tmp_path, label):
    p = write(tmp_path, [{"problem": "q", "steps": ["a", "b"], "label": label}])
    with pytest.raises(InputError) as e:
        load_step_examples(p, "processbench")
    assert (e.value.line, e.value.field) == (1, "label")


def test_processbench_real(shared_data):
    for split, n, n_ok in [("gsm8k", 400, 193), ("math", 1000, 406)]:
        exs = load_step_examples(shared_data / "processbench" / f"{split}.jsonl", "processbench")
        assert len(exs) == n
        all_pos = [e for e in exs if all(y == 1.0 for y in e.labels)]
        assert len(all_pos) == n_ok  # README: label = -1 counts
        for e in exs:
            if e in all_pos:
                continue
            zeros = [i for i, y in enumerate(e.labels) if y == 0.0]
            assert len(zeros) == 1 and all(math.isnan(y) for y in e.labels[zeros[0] + 1:])


# ---------------------------------------------------------------- math-shepherd

def test_math_shepherd_hand_made(tmp_path):
    inp = "What is 2*3+1? Step 1: 2*3 = 6 ки\nStep 2: 6+1 = 8. The answer is: 8 ки"
    lab = "What is 2*3+1? Step 1: 2*3 = 6 +\nStep 2: 6+1 = 8. The answer is: 8 -"
    p = write(tmp_path, [{"input": inp, "label": lab, "task": "GSM8K"}])
    (ex,) = load_step_examples(p, "math-shepherd")
    assert ex.question == "What is 2*3+1?"
    assert ex.steps == ("2*3 = 6", "6+1 = 8. The answer is: 8")
    assert ex.labels == (1.0, 0.0)


@pytest.mark.parametrize("row, field", [
    ({"input": "Q? Step 1: a ки", "label": "Q? Step 1: a *"}, "label"),
    ({"input": "Q? Step 1: a ки", "label": "Q? Step 1: b +"}, "label"),
    ({"input": "Q? Step 1: a", "label": "Q? Step 1: a"}, "input"),
    ({"input": "Q? a ки", "label": "Q? a +"}, "input"),
    ({"input": "Q? Step 1: a ки", "label": None}, "label"),
])
def test_math_shepherd_bad(tmp_path, row, field):
    p = write(tmp_path, [row])
    with pytest.raises(InputError) as e:
        load_step_examples(p, "math-shepherd")
    assert (e.value.line, e.value.field) == (1, field)


def test_math_shepherd_real(shared_data):
    exs = load_step_examples(shared_data / "openr_prm_samples" / "samples_math-shepherd.jsonl", "math-shepherd")
    assert len(exs) == 7
    first = exs[0]
    assert first.question.startswith("Janet pays $40/hour") and first.question.endswith("in a year?")
    assert first.labels == (1.0, 1.0, 1.0, 1.0, 0.0)
    assert first.steps[1] == "She spends 40 * 3 = <<40*3=120>>120 on clarinet lessons per week."
    assert not any(s.startswith("Step") or "ки" in s for e in exs for s in e.steps)


# ---------------------------------------------------------------- PRM800K raw and stepwise

RAW = {
    "labeler": "x", "generation": None, "question": {"problem": "P?", "ground_truth_answer": "4"},
    "label": {"finish_reason": "found_error", "steps": [
        {"completions": [{"text": "A", "rating": 1}], "human_completion": None, "chosen_completion": 0},
        {"completions": [{"text": "B1", "rating": -1}, {"text": "B2", "rating": 0}],
         "human_completion": {"text": "BH", "rating": None}, "chosen_completion": None},
        {"completions": [{"text": "C1", "rating": 0}, {"text": "C2", "rating": 1}], "human_completion": None,
         "chosen_completion": 1},
        {"completions": [{"text": "D1", "rating": -1}], "human_completion": None, "chosen_completion": None},
    ]},
}


def test_prm800k_raw_tree_to_leaves_and_neutral_policy(tmp_path):
    p = write(tmp_path, [RAW])
    got = {e.steps: e.labels for e in load_step_examples(p, "prm800k", neutral="positive")}
    assert got == {
        ("A", "B1"): (1.0, 0.0),
        ("A", "B2"): (1.0, 1.0),
        ("A", "BH", "C1"): (1.0, 1.0, 1.0),
        ("A", "BH", "C2", "D1"): (1.0, 1.0, 1.0, 0.0),
    }
    neg = {e.steps: e.labels for e in load_step_examples(p, "prm800k", neutral="negative")}
    assert neg[("A", "B2")] == (1.0, 0.0) and neg[("A", "BH", "C1")] == (1.0, 1.0, 0.0)
    skip = {e.steps: e.labels for e in load_step_examples(p, "prm800k", neutral="skip")}
    assert same(skip[("A", "B2")], (1.0, math.nan))
    assert skip[("A", "BH", "C2", "D1")] == (1.0, 1.0, 1.0, 0.0)


def test_prm800k_raw_bad_rating_and_chosen(tmp_path):
    bad = json.loads(json.dumps(RAW))
    bad["label"]["steps"][2]["completions"][0]["rating"] = 2
    p = write(tmp_path, [RAW, bad])
    with pytest.raises(InputError) as e:
        load_step_examples(p, "prm800k")
    assert (e.value.line, e.value.field) == (2, "label.steps[2].completions[0].rating")
    bad = json.loads(json.dumps(RAW))
    bad["label"]["steps"][0]["chosen_completion"] = 5
    with pytest.raises(InputError) as e:
        load_step_examples(write(tmp_path, [bad]), "prm800k")
    assert e.value.field == "label.steps[0].chosen_completion"


def stepwise_rows():
    def row(prefix, cand, rating):
        return {"instruction": "P?", "responses": prefix, "next_response": cand, "answer": None,
                "is_human_response": rating is None, "is_solution": False, "is_preferred_response": False,
                "rating": rating}
    return [row([], "A", 1.0), row(["A"], "B1", -1.0), row(["A"], "B2", 0.0), row(["A"], "BH", None),
            row(["A", "BH"], "C1", 0.0), row(["A", "BH"], "C2", 1.0), row(["A", "BH", "C2"], "D1", -1.0),
            row(["A"], "B1", -1.0)]  # a duplicate row (several labellers) is read once


def test_prm800k_stepwise_matches_raw_form(tmp_path):
    p = write(tmp_path, stepwise_rows())
    raw = write(tmp_path, [RAW], name="raw.jsonl")
    for policy in ("positive", "negative", "skip"):
        a = sorted((e.steps, e.labels) for e in load_step_examples(p, "prm800k-stepwise", neutral=policy))
        b = sorted((e.steps, e.labels) for e in load_step_examples(raw, "prm800k", neutral=policy))
        assert [s for s, _ in a] == [s for s, _ in b]
        assert all(same(x, y) for (_, x), (_, y) in zip(a, b))


def test_prm800k_stepwise_bad_rows(tmp_path):
    rows = stepwise_rows()
    rows[3] = dict(rows[3], rating="good")
    with pytest.raises(InputError) as e:
        load_step_examples(write(tmp_path, rows), "prm800k-stepwise")
    assert (e.value.line, e.value.field) == (4, "rating")
    rows = stepwise_rows()
    rows[1] = dict(rows[1], responses="A")
    with pytest.raises(InputError) as e:
        load_step_examples(write(tmp_path, rows), "prm800k-stepwise")
    assert (e.value.line, e.value.field) == (2, "responses")


def test_prm800k_real_both_forms(shared_data):
    stepwise = load_step_examples(
        shared_data / "prm800k_phase1_test_stepwise" / "phase1_test.stepwise-critic.jsonl", "prm800k-stepwise",
        neutral="skip")
    rows = [json.loads(l) for l in open(
        shared_data / "prm800k_phase1_test_stepwise" / "phase1_test.stepwise-critic.jsonl")]
    distinct = {(r["instruction"], tuple(r["responses"]), r["next_response"]) for r in rows}
    rating_of = {(r["instruction"], tuple(r["responses"]), r["next_response"]): r["rating"] for r in rows}
    # every distinct rated (prefix, candidate) is the last step of exactly one example or inside one
    by_q = defaultdict(set)
    for e in stepwise:
        by_q[e.question].add(e.steps)
    for q, seqs in by_q.items():
        assert not any(s[:k] in seqs for s in seqs for k in range(1, len(s)))  # leaves only
    covered = {(e.question, e.steps[:k], e.steps[k]) for e in stepwise for k in range(len(e.steps))}
    assert covered == distinct
    for e in stepwise:  # labels follow the ratings: -1 -> 0, 1 and human -> 1, neutral -> NaN (skip)
        want = [{1.0: 1.0, -1.0: 0.0, 0.0: math.nan, None: 1.0}[rating_of[(e.question, e.steps[:k], e.steps[k])]]
                for k in range(len(e.steps))]
        assert same(e.labels, want)

    raw = load_step_examples(shared_data / "openr_prm_samples" / "samples_prm800k.jsonl", "prm800k", neutral="skip")
    assert len(raw) > 6
    pencil = [e for e in raw if e.question.startswith("Three pencils and a jumbo eraser")]
    index = {(e.question, e.steps): e.labels for e in stepwise}
    # the stepwise conversion moved "# Answer" sections out of the step text into `answer`
    trim = lambda steps: steps[:-1] + (steps[-1].split("\n\n# Answer")[0],)  # noqa: E731
    assert len(pencil) == 10 and all(same(index[(e.question, trim(e.steps))], e.labels) for e in pencil)


# ---------------------------------------------------------------- MATH-APS

def test_math_aps_tree(tmp_path):
    q = "Q?"
    nodes = [(q, 0.5), (q + "\n\nA.", 0.75), (q + "\n\nA. B.", 1.0), (q + "\n\nA. C.", 0.0), (q + "\n\nD.", 0.25)]
    p = write(tmp_path, [{"question": q, "final_answer": "1", "question_id": 0,
                          "reasoning_steps": [{"solution_prefix": t, "mc_value": v} for t, v in nodes]}])
    got = sorted((e.steps, e.labels) for e in load_step_examples(p, "math-aps"))
    assert got == [(("A.", "B."), (0.75, 1.0)), (("A.", "C."), (0.75, 0.0)), (("D.",), (0.25,))]
    bad = write(tmp_path, [{"question": q, "reasoning_steps": [{"solution_prefix": q, "mc_value": 1.5}]}], "b.jsonl")
    with pytest.raises(InputError) as e:
        load_step_examples(bad, "math-aps")
    assert e.value.field == "reasoning_steps[0].mc_value"


def test_math_aps_real(shared_data):
    exs = load_step_examples(shared_data / "openr_prm_samples" / "samples_math-aps.jsonl", "math-aps")
    assert len({e.question for e in exs}) == 3
    labels = [y for e in exs for y in e.labels]
    assert all(0.0 <= y <= 1.0 for y in labels)
    assert any(0.0 < y < 1.0 for y in labels)  # soft Monte-Carlo labels survive
    assert all(s and not s.startswith(e.question) for e in exs for s in e.steps)
