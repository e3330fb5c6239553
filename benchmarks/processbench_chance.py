"""What ProcessBench's F1 gives scores that carry no information: the chance baseline.

Every step of every solution gets a uniform random score; the first-error F1 is computed with
the threshold cross-fitted over problems (`prm.processbench.crossfit_f1`, as `verify prm eval
--crossfit K` does) and, for contrast, at fixed thresholds. Repeated over seeds, it prints the
mean and the range. A scorer is only informative on F1 where it beats this range, not where it
beats another scorer's fixed-threshold F1.

    python benchmarks/processbench_chance.py --data ../shared/data/processbench/gsm8k.jsonl --seeds 20
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def chance(data: str | Path, seeds: int = 20, k: int = 5, thresholds: Sequence[float] = (0.1, 0.2, 0.3, 0.5)) -> dict:
    """Cross-fitted and fixed-threshold F1 of uniform random step scores, one value per seed."""
    import numpy as np

    from prm.formats import iter_processbench
    from prm.processbench import crossfit_f1, processbench_metrics

    rows = list(iter_processbench(data))
    labels = [r[4] for r in rows]
    groups = [r[2] for r in rows]
    out: dict = {"n": len(rows), "seeds": seeds, "k": k, "crossfit": [], "fixed": {t: [] for t in thresholds}}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        scores = [list(rng.random(len(r[3]))) for r in rows]
        out["crossfit"].append(crossfit_f1(labels, scores, groups, k=k, n_boot=10, seed=0)["f1"])
        for t in thresholds:
            out["fixed"][t].append(processbench_metrics(labels, scores, t, n_boot=10).f1)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "processbench" / "gsm8k.jsonl"))
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--k", type=int, default=5)
    args = ap.parse_args(argv)
    r = chance(args.data, args.seeds, args.k)
    import numpy as np

    print(f"{Path(args.data).name}: n={r['n']}, uniform random step scores, {r['seeds']} seeds")
    cf = np.array(r["crossfit"])
    print(f"  F1, threshold cross-fitted ({r['k']} folds)  mean {cf.mean():.3f}  range [{cf.min():.3f}, {cf.max():.3f}]")
    for t, v in r["fixed"].items():
        v = np.array(v)
        print(f"  F1 at threshold {t:<4}                   mean {v.mean():.3f}  range [{v.min():.3f}, {v.max():.3f}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
