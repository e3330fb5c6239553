"""Threshold rules (prm.threshold_rules), their F1 with a re-thresholding bootstrap
(prm.processbench.rule_f1), and the transfer benchmark's model-free parts."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from prm.processbench import best_threshold, processbench_metrics, rule_f1
from prm.threshold_rules import RULES, ThresholdRule, calibrate, step_rate, threshold_for, trace_rate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import threshold_transfer  # noqa: E402


def _synthetic(n: int, shift: float, seed: int) -> tuple[list[int], list[list[float]], list[str]]:
    """Half the traces have a first error at a random step (score drawn lower); every score
    is moved by `shift`, as a PRM's scores move between kinds of solutions."""
    rng = np.random.default_rng(seed)
    labels, scores = [], []
    for i in range(n):
        k = int(rng.integers(2, 7))
        s = list(rng.uniform(0.55, 0.95, k))
        y = int(rng.integers(0, k)) if i % 2 == 0 else -1
        if y >= 0:
            s[y] = float(rng.uniform(0.2, 0.6))
            s[y + 1:] = list(rng.uniform(0.2, 0.9, k - y - 1))
        labels.append(y)
        scores.append([min(1.0, x + shift) for x in s])
    return labels, scores, [f"p{i}" for i in range(n)]


def test_rates_count_what_falls_below():
    traces = [[0.9, 0.2], [0.8, 0.7], [0.6], []]
    assert trace_rate(traces, 0.65) == 0.5           # [0.9, 0.2] and [0.6]; the empty trace is never flagged
    assert step_rate(traces, 0.65) == 2 / 5
    assert math.isnan(step_rate([[]], 0.5)) and math.isnan(trace_rate([], 0.5))


def test_a_rule_calibrated_on_data_keeps_its_rate_there():
    labels, scores, groups = _synthetic(200, 0.0, 1)
    t, best = best_threshold(labels, scores)
    # step-rate: the same steps fall below, so the same predictions and the F1-best F1
    t2 = threshold_for(calibrate("step-rate", labels, scores), scores)
    assert step_rate(scores, t2) == step_rate(scores, t)
    assert processbench_metrics(labels, scores, t2, n_boot=10).f1 == pytest.approx(best)
    # trace-rate: the same traces are flagged (its threshold is the smallest that flags them,
    # so a flagged trace's first step below it may come later: F1 need not be the best)
    t3 = threshold_for(calibrate("trace-rate", labels, scores), scores)
    assert t3 <= t and trace_rate(scores, t3) == trace_rate(scores, t)
    assert 0 < processbench_metrics(labels, scores, t3, n_boot=10).f1 <= best


def test_rate_rules_follow_a_shift_that_a_fixed_threshold_misses():
    src = _synthetic(300, 0.0, 2)
    dst = _synthetic(300, 0.2, 3)       # the same errors, every score 0.2 higher
    f1 = {}
    for kind in RULES:
        rule = calibrate(kind, src[0], src[1])
        f1[kind] = processbench_metrics(dst[0], dst[1], threshold_for(rule, dst[1]), n_boot=10).f1
    assert f1["trace-rate"] > f1["fixed"] + 0.2 and f1["step-rate"] > f1["fixed"] + 0.2
    fixed = calibrate("fixed", src[0], src[1])
    assert threshold_for(fixed, dst[1]) == fixed.threshold and math.isnan(fixed.rate)


def test_threshold_for_edge_cases_and_unknown_rule():
    assert threshold_for(ThresholdRule("trace-rate", 0.5, 0.0), [[0.3]]) == -math.inf   # flag nothing
    t = threshold_for(ThresholdRule("trace-rate", 0.5, 1.0), [[0.3], [0.9]])           # flag everything
    assert trace_rate([[0.3], [0.9]], t) == 1.0
    with pytest.raises(ValueError, match="unknown threshold rule"):
        threshold_for(ThresholdRule("median", 0.5, 0.5), [[0.3]])
    with pytest.raises(ValueError, match="unknown threshold rule"):
        calibrate("median", [-1], [[0.3]])


def test_rule_f1_point_matches_metrics_and_the_bootstrap_resets_the_threshold():
    labels, scores, groups = _synthetic(150, 0.1, 4)
    rule = ThresholdRule("step-rate", 0.5, 0.2)
    r = rule_f1(labels, scores, groups, rule, n_boot=300, seed=0)
    fixed = processbench_metrics(labels, scores, r["threshold"], n_boot=300, seed=0)
    assert r["f1"] == pytest.approx(fixed.f1)
    assert (r["hits_error"], r["hits_correct"]) == (fixed.hits_error, fixed.hits_correct)
    lo, hi = r["f1_ci"]
    assert lo < r["f1"] < hi and hi - lo > 0.02
    assert rule_f1(labels, scores, groups, rule, n_boot=300, seed=0)["f1_ci"] == r["f1_ci"]   # seeded


def test_transfer_table_and_apply_rule_on_files(tmp_path):
    a, b = _synthetic(120, 0.0, 5), _synthetic(120, 0.2, 6)
    rows = threshold_transfer.transfer_table({"a": a, "b": b}, "a", "b")
    assert [(r["from"], r["rule"]) for r in rows] == [(s, k) for s in ("a", "b") for k in RULES]
    by = {(r["from"], r["rule"]): r["f1"] for r in rows}
    assert by["a", "step-rate"] > by["a", "fixed"]
    data, recs = tmp_path / "pb.jsonl", tmp_path / "recs.jsonl"
    data.write_text("".join(json.dumps({"id": f"x{i}", "problem": f"q{i}", "steps": ["s"] * len(s), "label": y}) + "\n"
                            for i, (y, s) in enumerate(zip(b[0], b[1]))))
    recs.write_text("".join(json.dumps({"id": f"x{i}", "step_scores": s}) + "\n" for i, s in enumerate(b[1])))
    r = threshold_transfer.apply_rule(a, "step-rate", data, recs, n_boot=50)
    assert r["f1"] == pytest.approx(by["a", "step-rate"])
    recs.write_text("".join(json.dumps({"id": f"x{i}", "step_scores": s}) + "\n" for i, s in enumerate(b[1][:-1])))
    from verify.errors import InputError
    with pytest.raises(InputError, match="no record for 1 of 120"):
        threshold_transfer.apply_rule(a, "step-rate", data, recs)
    recs.write_text('{"id": "x0"}\n')
    with pytest.raises(InputError, match="needs id and step_scores") as e:
        threshold_transfer.apply_rule(a, "step-rate", data, recs)
    assert e.value.line == 1


def test_json_refuses_a_foreign_file_before_any_work(tmp_path):
    foreign = tmp_path / "notes.json"
    foreign.write_text('{"mine": 1}\n')
    assert threshold_transfer.main(["--prm", str(tmp_path / "no-such-build"), "--json", str(foreign)]) == 2
    assert foreign.read_text() == '{"mine": 1}\n'
