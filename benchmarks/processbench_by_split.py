"""ProcessBench figures per split of a pooled file, from `verify prm eval --records` output.

The confirmation set pools the held-out MATH, OlympiadBench and Omni-MATH solutions; this
reports each split (the part of the sample id before its last "-") on its own, as `verify
prm eval` would on that split's rows alone: F1 at the scorer's own threshold (its threshold
rule applied to the split's scores, else its threshold, else 0.5), F1 with the threshold
cross-fitted over 5 folds of problems, and step AUROC, each with a 95% CI. No model runs:
the step scores come from the records.

    python3 -m verify prm eval --data FILE --prm smollm2-prm --records /tmp/recs.jsonl
    python3 benchmarks/processbench_by_split.py --data FILE --records /tmp/recs.jsonl --prm smollm2-prm
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def own_threshold(prm: str) -> tuple[float | None, Any]:
    """(threshold, rule) that `prm` carries, read from its frozen_prm.json without loading a
    model: (None, None) for a scorer without one (arith, a callable)."""
    from prm.frozen import CONFIG_FILE, read_meta, threshold_rule
    from prm.scorers import SHIPPED

    folder = SHIPPED.get(prm, Path(prm))
    if not (Path(folder) / CONFIG_FILE).is_file():
        return None, None
    meta = read_meta(folder)
    return meta.get("threshold"), threshold_rule(meta, Path(folder) / CONFIG_FILE)


def by_split(data: str | Path, records: str | Path, threshold: float | None, rule: Any, *,
             n_boot: int = 1000, seed: int = 0) -> dict[str, dict]:
    """Per split: n, threshold, F1 (own threshold), cross-fitted F1 and step AUROC with CIs."""
    from prm.formats import iter_processbench
    from prm.processbench import crossfit_f1, recorded_scores, threshold_report
    from prm.threshold_rules import threshold_for

    rows = list(iter_processbench(data))
    scores = dict(zip((r[1] for r in rows), recorded_scores(records, rows, data)))
    splits: dict[str, list] = {}
    for r in rows:
        splits.setdefault(str(r[1]).rsplit("-", 1)[0], []).append(r)
    out = {}
    for name, part in sorted(splits.items()):
        labels, groups = [r[4] for r in part], [r[2] for r in part]
        s = [scores[r[1]] for r in part]
        t = threshold_for(rule, s) if rule is not None else 0.5 if threshold is None else threshold
        rep = threshold_report(labels, s, groups, t, rule, n_boot=n_boot, seed=seed)
        cf = crossfit_f1(labels, s, groups, k=5, n_boot=n_boot, seed=seed)
        out[name] = {"n": len(part), "n_error": rep["n_error"], "threshold": t, "f1": rep["f1"],
                     "f1_ci": rep["f1_ci"], "crossfit_f1": cf["f1"], "crossfit_f1_ci": cf["f1_ci"],
                     "auroc": rep["auroc"], "auroc_ci": rep["auroc_ci"]}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="the ProcessBench file that was evaluated")
    ap.add_argument("--records", required=True, help="its verify prm eval --records output")
    ap.add_argument("--prm", default="arith", help="the scorer the records came from (for its own threshold)")
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args(argv)
    from verify.errors import InputError

    try:
        threshold, rule = own_threshold(args.prm)
        result = by_split(args.data, args.records, threshold, rule, n_boot=args.n_boot)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    own = f"{rule.kind} rule" if rule is not None else f"threshold {0.5 if threshold is None else threshold:.3g}"

    def ci(v: float, lo_hi: Any) -> str:
        return "n/a" if lo_hi is None else f"{v:.3f} [{lo_hi[0]:.3f}, {lo_hi[1]:.3f}]"

    print(f"{args.prm} on {Path(args.data).name}, per split (own: {own}; 95% CIs)")
    print(f"{'split':<14} {'n (err)':>10} {'t':>6}  {'F1, own threshold':<22} {'F1, cross-fitted':<22} step AUROC")
    for name, r in result.items():
        print(f"{name:<14} {r['n']:>5} ({r['n_error']:>3}) {r['threshold']:6.3f}  {ci(r['f1'], r['f1_ci']):<22} "
              f"{ci(r['crossfit_f1'], r['crossfit_f1_ci']):<22} {ci(r['auroc'], r['auroc_ci'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
