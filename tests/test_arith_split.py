"""The arith training split (labels for a learned PRM) shares nothing with the 40 evaluation problems."""
import json

import pytest

from evals.arith_problems import arithmetic_key, generate, main, training_split
from verify.records.types import Problem


def test_evaluation_set_is_unchanged():
    # the eval set is what data/arith.jsonl holds; the split must not have changed the generator
    lines = [json.loads(line) for line in open("data/arith.jsonl")]
    assert [(r["id"], r["question"], r["answer"]) for r in lines] == \
        [(p.id, p.question, p.gold) for p in generate(40, 0)]


@pytest.mark.parametrize("seed", [1, 2, 7])
def test_training_split_is_disjoint_from_evaluation(seed):
    ev, tr = generate(40, 0), training_split(150, seed)
    assert len(tr) == 150
    assert not {p.question for p in ev} & {p.question for p in tr}
    assert not {arithmetic_key(p) for p in ev} & {arithmetic_key(p) for p in tr}
    assert not {p.id for p in ev} & {p.id for p in tr}
    assert len({p.question for p in tr}) == 150  # no question twice
    for p in tr:  # the gold is the key's arithmetic
        op, a, b = arithmetic_key(p)
        assert int(p.gold) == (a + b if op == "+" else a - b)


def test_the_generator_does_repeat_evaluation_questions_under_other_seeds():
    # why the filter exists: without it, seed 1 would hand evaluation questions to training
    ev = {p.question for p in generate(40, 0)}
    assert ev & {p.question for p in generate(150, 1)}
    ev_keys = {arithmetic_key(p) for p in generate(40, 0)}
    assert ev_keys & {arithmetic_key(p) for p in generate(150, 1)}


def test_sums_are_matched_unordered():
    three_five = Problem("a", "What is 3 + 5?", "8", {"kind": "sum", "op": "+", "operands": (3, 5)})
    five_three = Problem("b", "What is 5 + 3?", "8", {"kind": "sum", "op": "+", "operands": (5, 3)})
    tr = training_split(30, 1, exclude=[three_five])
    assert arithmetic_key(five_three) == arithmetic_key(three_five)
    assert all(arithmetic_key(p) != ("+", 3, 5) for p in tr)


def test_evaluation_seed_and_impossible_sizes_are_refused():
    with pytest.raises(ValueError, match="evaluation set's seed"):
        training_split(10, 0)
    everything = generate(3000, 5)  # covers every (op, operands) the generator can draw
    with pytest.raises(ValueError, match="yields only 0 problems"):
        training_split(10, 1, exclude=everything)


def test_cli_writes_the_training_split(tmp_path, monkeypatch, capsys):
    out = tmp_path / "train.jsonl"
    monkeypatch.setattr("sys.argv", ["arith_problems", "--split", "train", "--n", "5", "--seed", "3",
                                     "--out", str(out)])
    main()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"arith-train-{i}" for i in range(5)]
    assert [r["question"] for r in rows] == [p.question for p in training_split(5, 3)]
    assert capsys.readouterr().out == f"{out}\n"


def test_shipped_heldout_labels_are_of_evaluation_problems_only():
    # data/arith_heldout_labels.jsonl: rollout labels of the main job's traces, the learned PRM's held-out set
    rows = [json.loads(line) for line in open("data/arith_heldout_labels.jsonl")]
    ev = {p.id: p for p in generate(40, 0)}
    assert len(rows) == 320 and {r["problem_id"] for r in rows} == set(ev)
    assert all(r["question"] == ev[r["problem_id"]].question and r["gold"] == ev[r["problem_id"]].gold
               for r in rows)
    train = training_split(150, 1)
    assert not {r["question"] for r in rows} & {p.question for p in train}
    assert all(len(r["hard_labels"]) == len(r["steps"]) for r in rows)


def test_cli_rewrites_its_own_file_but_never_another(tmp_path, monkeypatch, capsys):
    out = tmp_path / "train.jsonl"
    argv = ["arith_problems", "--split", "train", "--n", "5", "--seed", "3", "--out", str(out)]
    monkeypatch.setattr("sys.argv", argv)
    main()
    main()  # the same set again: allowed, same bytes
    first = out.read_bytes()
    monkeypatch.setattr("sys.argv", argv[:-3] + ["4", "--out", str(out)])  # another seed, same path
    with pytest.raises(SystemExit) as err:
        main()
    assert str(err.value) == (f"error: {out}: exists and is not this problem set (same --n, --seed, --split); "
                              "not replaced (remove it or choose another path)")
    assert out.read_bytes() == first
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    monkeypatch.setattr("sys.argv", argv[:-1] + [str(notes)])
    with pytest.raises(SystemExit):
        main()
    assert notes.read_text() == "mine\n"


def test_build_arith_labels_refuses_a_foreign_cost_file_before_any_stage(tmp_path, monkeypatch):
    from evals import build_arith_labels

    (tmp_path / "arith_labels.cost.json").write_text('{"my": "numbers"}\n')
    ran = []
    monkeypatch.setattr(build_arith_labels.subprocess, "call", lambda argv: ran.append(argv) or 0)
    monkeypatch.setattr("sys.argv", ["build_arith_labels", "--out-dir", str(tmp_path)])
    with pytest.raises(SystemExit) as err:
        build_arith_labels.main()
    assert "arith_labels.cost.json: exists and is not an arith_labels cost file" in str(err.value)
    assert ran == [] and (tmp_path / "arith_labels.cost.json").read_text() == '{"my": "numbers"}\n'
