"""benchmarks/processbench_by_split.py: per-split ProcessBench figures from records, no model."""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from prm.processbench import processbench_metrics
from prm.threshold_rules import ThresholdRule, step_rate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import processbench_by_split as bs  # noqa: E402


def _files(tmp_path: Path) -> tuple[Path, Path, dict]:
    """Two splits; "hard" scores every step 0.3 higher than "easy", same error pattern."""
    rng = random.Random(0)
    rows, recs = [], []
    for split, shift in (("easy", 0.0), ("hard", 0.3)):
        for i in range(40):
            k = rng.randint(2, 5)
            y = rng.randrange(k) if i % 2 else -1
            s = [min(1.0, rng.uniform(0.5, 0.7) + shift) for _ in range(k)]
            if y >= 0:
                s[y] = rng.uniform(0.1, 0.4) + shift
            rows.append({"id": f"{split}-{i}", "problem": f"{split} q{i}", "steps": ["x"] * k, "label": y})
            recs.append({"id": f"{split}-{i}", "step_scores": s})
    data, rec = tmp_path / "pb.jsonl", tmp_path / "rec.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rec.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return data, rec, {r["id"]: (r, q) for r, q in zip(rows, recs)}


def test_each_split_is_scored_alone_and_a_rule_follows_its_scores(tmp_path):
    data, rec, by_id = _files(tmp_path)
    fixed = bs.by_split(data, rec, None, None, n_boot=50)
    assert sorted(fixed) == ["easy", "hard"] and fixed["easy"]["n"] == 40 and fixed["easy"]["threshold"] == 0.5
    easy = [by_id[f"easy-{i}"] for i in range(40)]
    want = processbench_metrics([r["label"] for r, _ in easy], [q["step_scores"] for _, q in easy], 0.5, n_boot=50)
    assert fixed["easy"]["f1"] == pytest.approx(want.f1)
    rule = ThresholdRule("step-rate", 0.45, 0.125)
    ruled = bs.by_split(data, rec, 0.45, rule, n_boot=50)
    assert ruled["hard"]["threshold"] > ruled["easy"]["threshold"] + 0.2     # set on each split's own scores
    hard = [q["step_scores"] for r, q in by_id.values() if r["id"].startswith("hard")]
    assert step_rate(hard, ruled["hard"]["threshold"]) >= 0.125
    assert ruled["hard"]["f1"] > fixed["hard"]["f1"]          # 0.5 sits below every shifted error
    assert all(0 <= r["crossfit_f1"] <= 1 and r["auroc"] > 0.9 for r in ruled.values())


def test_missing_records_and_a_shipped_rule(tmp_path, capsys):
    data, rec, _ = _files(tmp_path)
    rec.write_text(rec.read_text().split("\n", 1)[1])
    from verify.errors import InputError
    with pytest.raises(InputError, match="no record for 1 of 80"):
        bs.by_split(data, rec, None, None)
    assert bs.main(["--data", str(data), "--records", str(rec)]) == 2
    assert "no record for 1 of 80" in capsys.readouterr().err
    assert bs.own_threshold("arith") == (None, None)
    folder = tmp_path / "prm"
    folder.mkdir()
    (folder / "frozen_prm.json").write_text(json.dumps({
        "base": "smollm2", "train_layers": 1, "frozen_dtype": "bfloat16", "threshold": 0.6,
        "threshold_rule": {"kind": "step-rate", "threshold": 0.6, "rate": 0.3}}))
    assert bs.own_threshold(str(folder)) == (0.6, ThresholdRule("step-rate", 0.6, 0.3))
