"""ProcessBench metric on hand-built cases with known answers, checked against brute force."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from prm.processbench import (auroc, best_threshold, crossfit_f1, evaluate_processbench, first_error, harmonic,
                          processbench_metrics, wilson)
from prm.scorers import CheckedScorer, ScorerError, load_scorer
from verify.errors import InputError, UnknownSpecError


def test_first_error_is_strictly_below_threshold():
    assert first_error([0.9, 0.5, 0.1], 0.5) == 2
    assert first_error([0.9, 0.49, 0.1], 0.5) == 1
    assert first_error([], 0.5) == -1
    assert first_error([0.6, 0.7], 0.65) == 0


def test_wilson_known_values_and_edges():
    lo, hi = wilson(8, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)  # textbook value for 8/10
    lo, hi = wilson(0, 20)
    assert (lo, round(hi, 4)) == (0.0, 0.1611)
    assert wilson(0, 0) == (0.0, 1.0)  # one wilson (verify.intervals): no data, every share possible


def test_auroc_matches_pair_counting():
    rng = np.random.default_rng(1)
    s = rng.choice([0.1, 0.3, 0.5, 0.7, 0.9], size=60)  # many ties
    y = rng.random(60) < 0.6
    pos, neg = s[y], s[~y]
    brute = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))
    assert auroc(s, y) == pytest.approx(brute, abs=1e-12)
    assert auroc([0.2, 0.3], [True, True]) is None


def test_metrics_on_hand_built_cases():
    labels = [2, 0, 1, -1, -1, -1]
    scores = [
        [0.9, 0.8, 0.2, 0.9],  # predicted 2 == label: hit
        [0.9, 0.1],            # predicted 1, label 0: miss (found a later step)
        [0.3, 0.9, 0.9],       # predicted 0, label 1: miss (too early)
        [0.9, 0.9],            # predicted -1: hit
        [0.9, 0.4],            # predicted 1: miss
        [0.6, 0.7, 0.8],       # predicted -1: hit
    ]
    r = processbench_metrics(labels, scores, 0.5, n_boot=200)
    assert (r.n_error, r.n_correct, r.hits_error, r.hits_correct) == (3, 3, 1, 2)
    assert r.acc_error == pytest.approx(1 / 3) and r.acc_correct == pytest.approx(2 / 3)
    assert r.f1 == pytest.approx(harmonic(1 / 3, 2 / 3)) == pytest.approx(4 / 9)
    # steps scored: before the first error (positive) and the first error (negative); later ones dropped
    assert (r.n_pos_steps, r.n_neg_steps) == (2 + 0 + 1 + 2 + 2 + 3, 3)
    pos = [0.9, 0.8, 0.3, 0.9, 0.9, 0.9, 0.4, 0.6, 0.7, 0.8]
    neg = [0.2, 0.9, 0.9]
    assert r.auroc == pytest.approx(auroc(pos + neg, [True] * len(pos) + [False] * len(neg)))
    assert r.acc_error_ci == wilson(1, 3) and r.acc_correct_ci == wilson(2, 3)
    assert r.f1_ci[0] <= r.f1 <= r.f1_ci[1]
    assert r.auroc_ci[0] <= r.auroc <= r.auroc_ci[1]
    # scores after the first error do not matter
    changed = [s[:] for s in scores]
    changed[0][3] = 0.0
    assert processbench_metrics(labels, changed, 0.5, n_boot=50).to_dict() == \
        processbench_metrics(labels, scores, 0.5, n_boot=50).to_dict()
    # a perfect scorer
    perfect = [[0.9, 0.9, 0.1, 0.5], [0.1, 0.5], [0.9, 0.1, 0.5], [0.9, 0.9], [0.9, 0.9], [0.9, 0.9, 0.9]]
    p = processbench_metrics(labels, perfect, 0.5, n_boot=50)
    assert (p.acc_error, p.acc_correct, p.f1, p.auroc) == (1.0, 1.0, 1.0, 1.0)
    assert p.f1_ci == (1.0, 1.0)


def test_f1_zero_when_one_side_zero():
    r = processbench_metrics([0, -1], [[0.9], [0.9]], 0.5, n_boot=50)
    assert (r.acc_error, r.acc_correct, r.f1) == (0.0, 1.0, 0.0)


def test_best_threshold_matches_grid_search():
    rng = np.random.default_rng(7)
    labels, scores = [], []
    for _ in range(80):
        n = int(rng.integers(1, 7))
        y = int(rng.integers(-1, n))
        labels.append(y)
        scores.append(list(np.round(rng.random(n), 2)))
    t, f1 = best_threshold(labels, scores)
    grid = np.linspace(0, 1.01, 1012)
    brute = max(processbench_metrics(labels, scores, g, n_boot=10).f1 for g in grid)
    assert f1 == pytest.approx(brute)
    assert processbench_metrics(labels, scores, t, n_boot=10).f1 == pytest.approx(f1)


def write_pb(tmp_path, rows):
    p = tmp_path / "pb.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return p


PB_ROWS = [
    {"id": "a", "problem": "Q1", "steps": ["2 * 3 = 6", "6 + 1 = 8", "So 8."], "label": 1},
    {"id": "b", "problem": "Q2", "steps": ["4 * 5 = 20", "20 - 5 = 15", "So 15."], "label": -1},
    {"id": "c", "problem": "Q3", "steps": ["We need apples.", "3 + 3 = 6", "So 6."], "label": 0},
    {"id": "d", "problem": "Q4", "steps": ["10 / 2 = 5", "So 5."], "label": -1},
]


def test_evaluate_processbench_with_arith_and_records(tmp_path):
    p = write_pb(tmp_path, PB_ROWS)
    rec = tmp_path / "rec.jsonl"
    out = evaluate_processbench(p, "arith", records=rec, progress=False, n_boot=100, sweep=True)
    r = out["report"]
    assert (out["n"], r["hits_error"], r["n_error"], r["hits_correct"], r["n_correct"]) == (4, 1, 2, 2, 2)
    assert r["f1"] == pytest.approx(harmonic(0.5, 1.0))
    lines = [json.loads(l) for l in rec.read_text().splitlines()]
    assert [(x["id"], x["pred"]) for x in lines] == [("a", 1), ("b", -1), ("c", -1), ("d", -1)]
    assert lines[0]["step_scores"] == [0.95, 0.05, 0.7]
    assert out["tuned"]["tuned_on_test"] is True and out["tuned"]["f1"] >= r["f1"]
    again = evaluate_processbench(p, "arith", records=rec, progress=False, n_boot=100)
    assert len(rec.read_text().splitlines()) == 4  # records describe one run, not appended twice
    assert again["report"] == r


def test_evaluate_processbench_with_callable_and_limit(tmp_path):
    p = write_pb(tmp_path, PB_ROWS)
    seen = []

    def scorer(question, steps):
        seen.append(question)
        return [0.1 if "8" in s or "apples" in s else 0.9 for s in steps]

    out = evaluate_processbench(p, scorer, progress=False, n_boot=50, limit=3)
    assert seen == ["Q1", "Q2", "Q3"]
    assert (out["report"]["hits_error"], out["report"]["hits_correct"]) == (2, 1)


def test_evaluate_bad_scorer_output(tmp_path):
    p = write_pb(tmp_path, PB_ROWS)
    with pytest.raises(ScorerError, match="2 scores for 3 steps"):
        evaluate_processbench(p, lambda q, s: [0.5, 0.5], progress=False)
    with pytest.raises(ScorerError, match="not a probability"):
        evaluate_processbench(p, lambda q, s: [1.5] * len(s), progress=False)
    with pytest.raises(ScorerError, match="not a probability"):
        evaluate_processbench(p, lambda q, s: [math.nan] * len(s), progress=False)


def test_evaluate_bad_data_names_line(tmp_path):
    rows = PB_ROWS[:2] + [{"id": "x", "problem": "Q", "steps": ["a"], "label": 3}]
    with pytest.raises(InputError) as e:
        evaluate_processbench(write_pb(tmp_path, rows), "arith", progress=False)
    assert (e.value.line, e.value.field) == (3, "label")


def test_load_scorer_specs(tmp_path, monkeypatch):
    mod = tmp_path / "my_prm_mod.py"
    mod.write_text("class K:\n    forward_tokens = 7\n    def __call__(self, q, steps):\n"
                   "        return [0.25] * len(steps)\nscore = K()\ndef plain(q, steps):\n"
                   "    return [1] * len(steps)\nnot_callable = 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    s = load_scorer("python:my_prm_mod:score")
    assert s("q", ["a", "b"]) == [0.25, 0.25] and s.forward_tokens == 7
    assert load_scorer("python:my_prm_mod:plain").score_batch([("q", ["a"]), ("q", [])]) == [[1.0], []]
    for bad in ["python:my_prm_mod:nope", "python:no_such_mod_xyz:f", "python:my_prm_mod", "gpt-5",
                "python:my_prm_mod:not_callable", ""]:
        with pytest.raises(UnknownSpecError):
            load_scorer(bad)
    assert isinstance(load_scorer(lambda q, s: [0.5] * len(s)), CheckedScorer)


def test_load_scorer_directory_without_model_is_a_clear_error(tmp_path):
    pytest.importorskip("transformers")
    with pytest.raises(ScorerError, match="cannot load the PRM"):
        load_scorer(str(tmp_path))


def test_processbench_gsm8k_arith(shared_data):
    out = evaluate_processbench(shared_data / "processbench" / "gsm8k.jsonl", "arith", progress=False,
                                n_boot=300, sweep=True)
    r = out["report"]
    assert (out["n"], r["n_error"], r["n_correct"]) == (400, 207, 193)
    # it never flags a fully correct solution, and finds only the arithmetic slips among the errors
    assert (r["hits_correct"], r["hits_error"]) == (193, 13)
    assert (r["acc_correct"], r["acc_error"]) == (1.0, 13 / 207)
    assert r["f1"] == pytest.approx(harmonic(r["acc_error"], r["acc_correct"]))
    assert r["f1_ci"][0] <= r["f1"] <= r["f1_ci"][1]
    assert out["forward_tokens"] == 0


@pytest.mark.parametrize("labels, scores", [
    ([0], [[0.1]]), ([-1], [[0.9]]), ([1, -1], [[0.9, 0.1], [0.9]]),
])
def test_one_sided_sets_do_not_crash(labels, scores):
    r = processbench_metrics(labels, scores, 0.5, n_boot=20)
    assert r.n_error + r.n_correct == len(labels)
    one_sided = r.n_error == 0 or r.n_correct == 0
    assert math.isnan(r.f1) == one_sided  # F1 needs both kinds of sample
    assert r.auroc is None or 0.0 <= r.auroc <= 1.0


def test_bootstrap_is_seeded():
    labels = [1, -1, 0, -1] * 10
    scores = [[0.9, 0.2], [0.8], [0.3], [0.4]] * 10
    a = processbench_metrics(labels, scores, n_boot=200, seed=3)
    b = processbench_metrics(labels, scores, n_boot=200, seed=3)
    assert a == b


def _random_set(seed, n=300):
    rng = np.random.default_rng(seed)
    labels, scores = [], []
    for _ in range(n):
        m = int(rng.integers(1, 7))
        labels.append(int(rng.integers(-1, m)))
        scores.append(list(rng.random(m)))
    return labels, scores


def test_crossfit_is_not_optimistic_where_the_tuned_sweep_is():
    # scores that carry no information: the tuned threshold's F1 is inflated, the cross-fitted one is not
    labels, scores = _random_set(3)
    groups = [f"p{i}" for i in range(len(labels))]
    _, tuned = best_threshold(labels, scores)
    r = crossfit_f1(labels, scores, groups, k=5, n_boot=200)
    assert r["f1"] < tuned
    assert r["f1_ci"][0] <= r["f1"] <= r["f1_ci"][1]
    assert (r["n_error"], r["n_correct"]) == (sum(y != -1 for y in labels), labels.count(-1))
    assert len(r["fold_thresholds"]) == 5 and r["n_groups"] == len(labels)


def test_crossfit_each_fold_is_predicted_at_the_other_folds_best_threshold():
    labels, scores = _random_set(4, n=120)
    groups = [f"p{i % 40}" for i in range(len(labels))]  # three samples per problem
    r = crossfit_f1(labels, scores, groups, k=4, n_boot=20, seed=5)
    # redo it by hand: the fold of a problem is fixed by the seeded permutation
    names = sorted(set(groups))
    order = np.random.default_rng(5).permutation(len(names))
    fold_of = {names[j]: i % 4 for i, j in enumerate(order)}
    hits_e = hits_c = 0
    for f in range(4):
        train = [i for i, g in enumerate(groups) if fold_of[g] != f]
        t, _ = best_threshold([labels[i] for i in train], [scores[i] for i in train])
        assert r["fold_thresholds"][f] == t
        for i, g in enumerate(groups):
            if fold_of[g] == f:
                ok = first_error(scores[i], t) == labels[i]
                hits_e += ok and labels[i] != -1
                hits_c += ok and labels[i] == -1
    assert (r["hits_error"], r["hits_correct"]) == (hits_e, hits_c)


def test_cli_prm_eval_crossfit_prints_and_writes_it(tmp_path):
    from typer.testing import CliRunner

    from cli import app

    p = write_pb(tmp_path, PB_ROWS * 5)
    res = CliRunner().invoke(app, ["prm", "eval", "--data", str(p), "--prm", "arith", "--crossfit", "2",
                                   "--n-boot", "50", "--quiet", "--json", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    assert "  threshold cross-fitted over 2 folds of 4 problems (fold thresholds " in res.stdout
    assert "(bootstrap over problems, cross-fitting redone in each; 95% CI)" in res.stdout
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["crossfit"]["k"] == 2 and saved["crossfit"]["n_error"] == 10
