"""benchmarks/prm_training.py: what it refuses before any training."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_prm_training_refuses_a_foreign_json_before_any_training(tmp_path):
    foreign = tmp_path / "mine.json"
    foreign.write_text('{"x": 1}\n')
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "prm_training.py"), "--json", str(foreign)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr == (f"error: {foreign}: exists and is not a prm_training.py result; not replaced "
                        "(remove it or choose another path)\n")
    assert foreign.read_text() == '{"x": 1}\n'
