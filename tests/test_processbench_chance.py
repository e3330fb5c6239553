"""benchmarks/processbench_chance.py: the F1 that uninformative (uniform random) step scores get."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("processbench_chance", ROOT / "benchmarks" / "processbench_chance.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_random_scores_get_a_seeded_nonzero_f1_that_the_fixed_threshold_0_5_underrates(tmp_path):
    p = tmp_path / "pb.jsonl"
    rows = [{"id": f"r{i}", "problem": f"Q{i}", "steps": ["a", "b", "c", "d"], "label": (i % 5) - 1} for i in range(200)]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    a = bench.chance(p, seeds=4, k=5)
    assert a == bench.chance(p, seeds=4, k=5)  # seeded
    assert a["n"] == 200 and len(a["crossfit"]) == 4
    cf = sum(a["crossfit"]) / 4
    assert 0.1 < cf < 0.4  # chance is far from 0 ...
    assert sum(a["fixed"][0.5]) / 4 < cf  # ... and a fixed 0.5 understates what thresholding alone gives


def test_cli_prints_mean_and_range(tmp_path, capsys):
    p = tmp_path / "pb.jsonl"
    p.write_text("".join(json.dumps({"problem": f"Q{i}", "steps": ["a", "b"], "label": i % 3 - 1}) + "\n"
                         for i in range(30)))
    assert bench.main(["--data", str(p), "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pb.jsonl: n=30, uniform random step scores, 2 seeds\n")
    assert "F1, threshold cross-fitted (5 folds)  mean " in out
