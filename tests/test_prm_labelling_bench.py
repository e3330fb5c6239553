"""benchmarks/prm_labelling.py: decisive against full labels, on hand-built label files."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("prm_labelling_bench", ROOT / "benchmarks" / "prm_labelling.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def _write(path, rows):
    path.write_text("".join(json.dumps({"problem_id": p, "sample_index": i, "hard_labels": h, "outcome": o,
                                        "rollouts": r, "rollout_tokens": t}) + "\n" for p, i, h, o, r, t in rows))


def test_agreement_and_cost(tmp_path, capsys):
    full, dec = tmp_path / "full.jsonl", tmp_path / "dec.jsonl"
    # a right trace where full finds a dead middle step (decisive assumes none), and two wrong traces,
    # one where decisive's binary search lands on the same first dead step, one where it does not
    _write(full, [("a", 0, [1, 0, 1], 1, 8, 80), ("b", 0, [1, 0, 0], 0, 8, 100), ("c", 0, [1, 1, 0], 0, 8, 60)])
    _write(dec, [("a", 0, [1, 1, 1], 1, 0, 0), ("b", 0, [1, 0, 0], 0, 8, 100), ("c", 0, [0, 0, 0], 0, 4, 20),
                 ("z", 0, [0], 0, 4, 9)])  # only in one file: not compared
    a = bench.main(["--full", str(full), "--decisive", str(dec)])
    assert a["traces_compared"] == 3
    assert (a["steps"]["agree"], a["steps"]["n"]) == (6, 9)
    assert (a["traces"]["agree"], a["first_dead_step"]["agree"]) == (1, 1)
    assert (a["right_traces"]["agree"], a["right_traces"]["n"]) == (0, 1)
    assert a["cost"]["full"]["rollout_tokens"] == 240 and a["cost"]["decisive"]["rollout_tokens"] == 120
    out = capsys.readouterr().out.splitlines()
    assert "decisive / full rollout tokens: 0.50x" in out
    assert out[-5].startswith("agreement steps               6/9    = 0.667 [")
