"""Decisive against full rollout labelling (`verify prm label --mode`), on the same traces.

Reads two label files written by `verify prm label` over the same samples with the same
generator and seed (full: K rollouts from every step; decisive: rollouts only on wrong traces,
binary search for the first dead step) and prints, side by side, their cost (rollouts and
rollout tokens per labelled step) and how often decisive's hard labels equal full's: per step,
per trace (every step equal) and on the first dead step, each with n and a Wilson 95% CI.

    verify prm label --samples S -d D -o full.jsonl --mode full -k 4 ...
    verify prm label --samples S -d D -o decisive.jsonl --mode decisive -k 4 ...
    python benchmarks/prm_labelling.py --full full.jsonl --decisive decisive.jsonl
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _read(path: str | Path) -> dict[tuple[str, int], dict]:
    rows = [json.loads(x) for x in Path(path).read_text().splitlines() if x.strip()]
    return {(str(r["problem_id"]), int(r["sample_index"])): r for r in rows}


def first_dead(hard: Sequence[int]) -> int:
    """Index of the first hard label 0, or -1.

    >>> first_dead([1, 0, 0]), first_dead([1, 1])
    (1, -1)
    """
    return next((i for i, x in enumerate(hard) if not x), -1)


def agreement(full: dict, decisive: dict) -> dict[str, Any]:
    """Agreement of decisive's hard labels with full's on the traces both files hold.

    >>> f = {("p", 0): {"hard_labels": [1, 0], "rollouts": 4, "rollout_tokens": 40, "outcome": 0}}
    >>> d = {("p", 0): {"hard_labels": [0, 0], "rollouts": 4, "rollout_tokens": 40, "outcome": 0}}
    >>> a = agreement(f, d); (a["steps"]["agree"], a["steps"]["n"], a["traces"]["agree"])
    (1, 2, 0)
    """
    from verify.intervals import wilson
    keys = sorted(set(full) & set(decisive))
    step_ok = step_n = trace_ok = dead_ok = 0
    by_outcome = {0: [0, 0], 1: [0, 0]}  # outcome -> [traces agreeing, traces]
    for k in keys:
        f, d = full[k]["hard_labels"], decisive[k]["hard_labels"]
        step_ok += sum(int(a == b) for a, b in zip(f, d))
        step_n += len(f)
        same = list(f) == list(d)
        trace_ok += same
        dead_ok += first_dead(f) == first_dead(d)
        o = int(full[k]["outcome"])
        by_outcome[o][0] += same
        by_outcome[o][1] += 1

    def share(ok: int, n: int) -> dict:
        return {"agree": ok, "n": n, "rate": ok / n if n else None, "ci": wilson(ok, n) if n else None}

    def cost(rows: dict) -> dict:
        steps = sum(len(rows[k]["hard_labels"]) for k in keys)
        return {"rollouts": sum(rows[k]["rollouts"] for k in keys),
                "rollout_tokens": sum(rows[k]["rollout_tokens"] for k in keys), "steps": steps,
                "tokens_per_step": sum(rows[k]["rollout_tokens"] for k in keys) / steps if steps else 0.0}
    return {"traces_compared": len(keys), "steps": share(step_ok, step_n), "traces": share(trace_ok, len(keys)),
            "first_dead_step": share(dead_ok, len(keys)),
            "right_traces": share(*by_outcome[1]), "wrong_traces": share(*by_outcome[0]),
            "cost": {"full": cost(full), "decisive": cost(decisive)}}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", required=True)
    ap.add_argument("--decisive", required=True)
    args = ap.parse_args(argv)
    a = agreement(_read(args.full), _read(args.decisive))
    print(json.dumps(a))
    c = a["cost"]
    print(f"{a['traces_compared']} traces, {c['full']['steps']} steps")
    print(f"{'mode':<9} {'rollouts':>8} {'rollout tokens':>14} {'tokens/step':>11}")
    for mode in ("full", "decisive"):
        print(f"{mode:<9} {c[mode]['rollouts']:>8} {c[mode]['rollout_tokens']:>14} {c[mode]['tokens_per_step']:>11.1f}")
    if c["full"]["rollout_tokens"]:
        print(f"decisive / full rollout tokens: {c['decisive']['rollout_tokens'] / c['full']['rollout_tokens']:.2f}x")
    for name in ("steps", "traces", "first_dead_step", "right_traces", "wrong_traces"):
        s = a[name]
        if s["n"]:
            print(f"agreement {name:<16} {s['agree']:>4}/{s['n']:<4} = {s['rate']:.3f} "
                  f"[{s['ci'][0]:.3f}, {s['ci'][1]:.3f}]")
    return a


if __name__ == "__main__":
    main()
