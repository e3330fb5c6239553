"""`evaluate_samples` and `verify eval --samples` on hand-built traces and on the real
Qwen2.5-Math rm_maj example (skips without ../shared/data)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import app
from evals.evaluate import evaluate_samples
from verify.errors import InputError
from verify.select.grading import grade_traces, group_answers
from verify.records.types import Trace, Verdict


def T(pid, i, answer, gold="4", **kw):
    return Trace(pid, i, answer=answer, gold=gold, **kw)


def acc(traces, method, **kw):
    (r,) = evaluate_samples(traces, [method], **kw).results
    return r


def test_tie_all_none_unfinished_and_k_equals_n():
    traces = [T("tie", 0, "5"), T("tie", 1, "4"), T("tie", 2, "4"), T("tie", 3, "5"),     # 2-2 tie
              T("none", 0, None), T("none", 1, None), T("none", 2, None), T("none", 3, None),
              T("unf", 0, "4", finish_reason="length"), T("unf", 1, "4", finish_reason="length"),
              T("unf", 2, "7"), T("unf", 3, "4")]
    first = acc(traces, "maj@4", subsets="first", groups=["string"])
    # tie: "5" voted first and wins; all-None: wrong; unfinished abstain: "7" and "4" tie 1-1, "7" first
    assert first.correct == 0 and first.ties == 2
    assert first.accuracy_random_ties == pytest.approx((0.5 + 0 + 0.5) / 3)
    exact = acc(traces, "maj@4", groups=["string"])                        # k = n: same subsets
    assert exact.accuracy == pytest.approx(first.accuracy_random_ties)
    assert acc(traces, "maj@4", subsets="first", groups=["string"], tie="score").correct == 0
    dropped = acc(traces, "maj@2", subsets="first", groups=["string"], drop_unfinished=True)
    assert dropped.n_samples == 2 and dropped.correct == 0        # "unf" keeps [7, 4]: tie, 7 first
    assert acc(traces, "pass@4", groups=["string"]).accuracy == pytest.approx(2 / 3)


def test_k_greater_than_n_is_a_clear_error():
    traces = [T("a", i, "4") for i in range(3)] + [T("b", i, "4") for i in range(5)]
    with pytest.raises(InputError, match=r"majority@4 needs k=4 samples per problem, but problem 'a' has only 3"):
        evaluate_samples(traces, ["maj@4"])
    assert acc(traces, "maj@n").k == 3


def test_score_methods_need_scores():
    traces = [T("a", i, "4") for i in range(3)]
    with pytest.raises(InputError, match="prm-best-of-2 needs scores"):
        evaluate_samples(traces, ["prm-best-of-2"])


def test_reduction_is_honoured_by_best_of_and_weighted_vote():
    # trace 0 (wrong) has the best min, trace 1 (right) has the best last step
    traces = [T("a", 0, "5", step_scores=(0.6, 0.6)), T("a", 1, "4", step_scores=(0.3, 0.99))]
    assert acc(traces, "prm-best-of-2", reduce="min").accuracy == 0.0
    assert acc(traces, "prm-best-of-2", reduce="last").accuracy == 1.0
    assert acc(traces, "weighted-vote@2", reduce="min").accuracy == 0.0
    assert acc(traces, "weighted-vote@2", reduce="mean").accuracy == 1.0
    # outcome score used when there are no step scores; best-of-k uses only the outcome score
    traces2 = [T("a", 0, "5", score=0.9, step_scores=(0.1,)), T("a", 1, "4", score=0.1, step_scores=(0.8,))]
    assert acc(traces2, "best-of-2").accuracy == 0.0 and acc(traces2, "prm-best-of-2").accuracy == 1.0


def test_equivalent_but_different_strings_vote_together():
    # the checker's answer_key puts "$4$" and " 4" in one bucket; string grouping keeps them apart
    traces = [T("a", 0, "5"), T("a", 1, "$4$"), T("a", 2, "5"), T("a", 3, " 4"), T("a", 4, "4")]
    assert acc(traces, "maj@5", subsets="first", groups=["equivalence"]).correct == 1
    assert acc(traces, "maj@5", subsets="first", groups=["string"]).correct == 0
    # the merge step: an injected comparator that knows 1/2 == 0.5; undecided pairs never merge
    def compare(a, b):
        norm = {"1/2": "0.5", "\\frac{1}{2}": "0.5"}
        if "?" in (a + b):
            return Verdict(None, "timeout", a, b)
        return Verdict(norm.get(a, a) == norm.get(b, b), "", a, b, "toy")
    from verify.select.grading import GradeStats
    stats = GradeStats()
    labels, reps = group_answers(["0.5", "1/2", "3", "\\frac{1}{2}", "?", "0.5"], compare=compare, stats=stats)
    assert labels.tolist() == [0, 0, 1, 0, 2, 0] and reps == ["0.5", "3", "?"]
    assert stats.undecided_pairs == 2 and stats.undecided_reasons == {"timeout": 2}
    probs, st = grade_traces([T("p", 0, "1/2", gold="0.5"), T("p", 1, "0.5", gold="0.5"), T("p", 2, "?", gold="0.5")],
                             compare=compare)
    assert probs[0].class_correct.tolist() == [True, False] and st.undecided_gold == 1


def test_real_checker_groups_fraction_and_decimal():
    from verify.checker.equivalence import compare_answers
    assert compare_answers("\\frac{1}{2}", "0.5").equal is True   # a checker that gets this wrong fails here
    traces = [T("a", 0, "3", gold="1/2"), T("a", 1, "\\frac{1}{2}", gold="1/2"), T("a", 2, "3", gold="1/2"),
              T("a", 3, "0.5", gold="1/2"), T("a", 4, "\\dfrac12", gold="1/2")]
    assert acc(traces, "maj@5", subsets="first").correct == 1                 # 3 equivalent votes beat 2
    assert acc(traces, "maj@5", subsets="first", groups=["string"]).correct == 0


def test_answers_extracted_from_text_when_missing():
    traces = [Trace("a", 0, text="so \\boxed{4}", gold="4"), Trace("a", 1, text="no answer here", gold="4")]
    probs, st = grade_traces(traces, group="string")
    assert probs[0].labels.tolist()[0] == 0 and st.n_samples == 2


def write(tmp_path, rows):
    p = tmp_path / "s.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return p


ROWS = [{"problem_id": "a", "gold": "4", "answer": a, "score": s, "num_tokens": t}
        for a, s, t in [("4", 0.9, 100), ("5", 0.2, 300), ("4", 0.5, 200)]] + \
       [{"problem_id": "b", "gold": "1", "answer": a, "score": s, "num_tokens": t}
        for a, s, t in [("2", 0.9, 100), ("1", 0.3, 100), ("2", 0.4, 100)]]


def test_cli_table_json_and_plot(tmp_path):
    p = write(tmp_path, ROWS)
    out, png = tmp_path / "r.json", tmp_path / "r.png"
    r = CliRunner().invoke(app, ["eval", "--samples", str(p), "--method", "single", "--method", "maj@3", "--method", "best-of-2",
                                 "--subsets", "first", "--json", str(out), "--plot", str(png)])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["method", "accuracy", "95%", "CI", "correct", "problems", "samples/problem",
                                "cost", "x", "estimator"]
    # cost is relative to the mean sample (150 tokens): the first samples have 100 each
    assert lines[2].split() == ["single", "0.5000", "[0.000,", "1.000]", "1/2", "2", "3", "0.67", "first-k"]
    assert lines[3].split() == ["majority@3", "0.5000", "[0.000,", "1.000]", "1/2", "2", "3", "3.00", "first-k"]
    # the first two samples cost 400 and 200 tokens: 300 on average over problems, 2.0 x 150
    assert lines[4].split() == ["best-of-2", "0.5000", "[0.000,", "1.000]", "1/2", "2", "3", "2.00", "first-k"]
    data = json.loads(out.read_text())
    row = data["results"][1]
    assert {k: row[k] for k in ("method", "accuracy", "n_problems", "k", "cost_multiplier")} == {
        "method": "majority@3", "accuracy": 0.5, "n_problems": 2, "k": 3, "cost_multiplier": 3.0}
    assert row["ci_low"] <= row["accuracy"] <= row["ci_high"]
    assert [pt["k"] for pt in data["curves"]["majority|equivalence"]] == [1, 2, 3]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_per_problem_jsonl_matches_table(tmp_path):
    p = write(tmp_path, ROWS)
    pp = tmp_path / "pp.jsonl"
    r = CliRunner().invoke(app, ["eval", "--samples", str(p), "--method", "maj@2", "--method", "pass@2", "--per-problem", str(pp)])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in pp.read_text().splitlines()]
    assert [(x["problem_id"], x["method"]) for x in rows] == [
        ("a", "majority@2"), ("b", "majority@2"), ("a", "pass@2"), ("b", "pass@2")]
    # a: votes 4,5,4 (4 correct): a 2-subset wins with prob 1/3 + 2/3 * 1/2 = 2/3; b: 2,1,2 -> 2/3 * 1/2 = 1/3
    assert [round(x["value"], 6) for x in rows] == [round(2 / 3, 6), round(1 / 3, 6), 1.0, round(2 / 3, 6)]
    assert rows[0]["votes"] == [2, 1] and rows[0]["answers"] == ["4", "5"] and rows[0]["class_correct"] == [True, False]
    assert r.stdout.splitlines()[2].split()[:2] == ["majority@2", "0.5000"]


def test_cli_errors_exit_2_with_location(tmp_path):
    bad = write(tmp_path, ROWS[:2] + [{"problem_id": "a", "gold": "4", "answer": "4", "score": "high"}])
    r = CliRunner().invoke(app, ["eval", "--samples", str(bad), "--method", "maj@2"])
    assert r.exit_code == 2 and f"{bad}:3: field 'score': expected float" in r.output
    assert "Traceback" not in r.output
    p = write(tmp_path, ROWS)
    r = CliRunner().invoke(app, ["eval", "--samples", str(p), "--method", "maj@9"])
    assert r.exit_code == 2 and "needs k=9 samples per problem, but problem 'a' has only 3" in r.output
    r = CliRunner().invoke(app, ["eval", "--samples", str(p), "--method", "majorty@2"])
    assert r.exit_code == 2 and "Did you mean 'majority'" in r.output
    for opt, val in (("--reduce", "max"), ("--subsets", "all"), ("--tie", "last"), ("--group", "sympy"),
                     ("--grade", "human")):
        r = CliRunner().invoke(app, ["eval", "--samples", str(p), "--method", "maj@2", opt, val])
        assert r.exit_code == 2 and f"unknown {opt[2:]} {val!r}; known: " in r.output, (opt, r.output)
    r = CliRunner().invoke(app, ["eval", "--samples", str(tmp_path / "missing.jsonl")])
    assert r.exit_code == 2 and "missing.jsonl: file not found" in r.output


def test_reproduces_qwen_rm_maj_figures(shared_data):
    """Qwen2.5-Math's own figures on its example: mean pass@1 0.91, maj@8 93/100 (string
    vote, first-seen tie rule), RM best-of-8 94/100, graded by the file's own labels."""
    from evals.importers import load_samples
    ts = load_samples(shared_data / "qwen25math_rm_maj_example" / "math_cot_100.jsonl", "qwen-rm-maj")
    rep = evaluate_samples(ts, ["pass@1", "maj@8", "best-of-8", "pass@8"], groups=["string", "equivalence"],
                           grade="source", subsets="first")
    got = {(r.method, r.group): r for r in rep.results}
    assert got["majority@8", "string"].correct == 93 and got["best-of-8", "string"].correct == 94
    assert got["pass@8", "string"].correct == 96
    assert got["majority@8", "string"].ties == 4
    exact = evaluate_samples(ts, ["pass@1", "maj@8"], groups=["string"], grade="source").results
    assert exact[0].accuracy == pytest.approx(0.91)               # mean pass@1 over all 8 samples
    assert exact[1].accuracy == pytest.approx(0.925)              # maj@8 with the 4 ties split evenly
    assert (exact[0].ci_low, exact[0].ci_high) == pytest.approx((0.8575, 0.955))  # seeded bootstrap
    # checker-graded, equivalence-grouped: the checker agrees with the file's labels on this vote
    chk = evaluate_samples(ts, ["maj@8"], groups=["equivalence"], subsets="first").results[0]
    assert chk.correct == 93 and chk.grade == "checker"


def test_weighted_vote_monte_carlo_is_labelled_with_its_error():
    rng = np.random.default_rng(5)
    traces = [T(p, i, str(rng.choice(["4", "5", "6"], p=[0.5, 0.3, 0.2])), score=float(rng.random()))
              for p in "ab" for i in range(30)]
    r = acc(traces, "weighted-vote@10", mc_trials=3000)              # C(30, 10) = 30M subsets: MC
    assert r.estimator == "monte-carlo" and r.mc_se == pytest.approx(0.0044124, abs=1e-7)  # seeded
    assert r.accuracy == pytest.approx(0.862)
    small = acc(traces, "weighted-vote@2")                            # C(30, 2) = 435: enumerated
    assert small.estimator == "exact-enumeration" and small.mc_se == 0.0


def test_prm_scored_file_through_cli_with_drop_unfinished(tmp_path):
    rows = [{"idx": 0, "gt": "4", "response": "\\boxed{4}", "step_scores": [0.9]},
            {"idx": 0, "gt": "4", "response": "\\boxed{5}", "step_scores": [0.8]},
            {"idx": 0, "gt": "4", "response": "\\boxed{5}", "step_scores": [0.99], "finish_reason": "length"}]
    p = tmp_path / "prm.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = ["eval", "--samples", str(p), "--format", "prm-scored", "--method", "prm-best-of-n", "--method", "maj@n", "--subsets",
            "first"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    # the unfinished trace abstains: it cannot win the vote nor be selected despite its 0.99
    assert [ln.split()[:5] for ln in r.stdout.splitlines()[2:4]] == [
        ["prm-best-of-3", "1.0000", "[1.000,", "1.000]", "1/1"], ["majority@3", "1.0000", "[1.000,", "1.000]", "1/1"]]
    r = CliRunner().invoke(app, args + ["--drop-unfinished"])
    assert r.exit_code == 0 and r.stdout.splitlines()[2].split()[0] == "prm-best-of-2"
    assert "1 unfinished (dropped)" in r.stdout
