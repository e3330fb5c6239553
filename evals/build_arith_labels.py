"""Rebuild the arith step labels that the learned PRM trains on, and record what they cost.

Three commands, each resumable (a rerun after an interruption continues where it stopped):

1. `python -m evals.arith_problems --split train` : problems from another seed, disjoint from
   the 40 evaluation problems (`evals.arith_problems.training_split`);
2. `verify sample --backend ct2 --prompt fewshot-boxed` : SmolLM2-135M traces, the main job's
   model, prompt and sampling settings;
3. `verify prm label --mode decisive` : Math-Shepherd rollout labels (prm/label.py).

    python -m evals.build_arith_labels --out-dir /tmp/prm_data

writes `arith_train.jsonl`, `arith_train_samples.jsonl`, `arith_labels.jsonl` (the `plain`
step format `verify prm train` reads) and `arith_labels.cost.json` (wall time per stage,
rollouts, rollout tokens per labelled step, the commands) into `--out-dir`.
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path


def commands(out: Path, *, problems: int, seed: int, n: int, k: int, mode: str, backend: str,
             max_tokens: int) -> list[tuple[str, list[str]]]:
    """The stage commands, as (stage name, argv).

    >>> [name for name, _ in commands(Path("d"), problems=4, seed=1, n=2, k=2, mode="decisive",
    ...                                backend="ct2", max_tokens=160)]
    ['problems', 'sample', 'label']
    """
    data, samples, labels = out / "arith_train.jsonl", out / "arith_train_samples.jsonl", out / "arith_labels.jsonl"
    py = sys.executable
    return [
        ("problems", [py, "-m", "evals.arith_problems", "--split", "train", "--n", str(problems),
                      "--seed", str(seed), "--out", str(data)]),
        ("sample", [py, "-m", "verify", "sample", "-d", str(data), "-o", str(samples), "-n", str(n),
                    "--backend", backend, "--prompt", "fewshot-boxed", "--max-tokens", str(max_tokens),
                    "--seed", str(seed)]),
        ("label", [py, "-m", "verify", "prm", "label", "--samples", str(samples), "-d", str(data),
                   "-o", str(labels), "--mode", mode, "-k", str(k), "--backend", backend,
                   "--prompt", "fewshot-boxed", "--max-tokens", str(max_tokens), "--top-p", "1.0",
                   "--seed", str(seed)]),
    ]


def label_cost(path: Path) -> dict:
    """Totals over a labels file: traces, steps, rollouts, rollout tokens and tokens per step.

    >>> import tempfile
    >>> p = Path(tempfile.mktemp(suffix=".jsonl"))
    >>> _ = p.write_text('{"steps": ["a", "b"], "labels": [1, 0], "rollouts": 4, "rollout_tokens": 80, "outcome": 0}\\n')
    >>> label_cost(p)["rollout_tokens_per_step"]
    40.0
    """
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    steps = sum(len(r["steps"]) for r in rows)
    tokens = sum(r["rollout_tokens"] for r in rows)
    labels = [x for r in rows for x in r["labels"] if x is not None]
    return {"traces": len(rows), "steps": steps, "wrong_traces": sum(1 for r in rows if not r["outcome"]),
            "rollouts": sum(r["rollouts"] for r in rows), "rollout_tokens": tokens,
            "rollout_tokens_per_step": round(tokens / steps, 2) if steps else 0.0,
            "negative_steps": sum(1 for x in labels if x < 0.5), "labelled_steps": len(labels)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default="/tmp/prm_data")
    ap.add_argument("--problems", type=int, default=150)
    ap.add_argument("--seed", type=int, default=1, help="problem and sampling seed (0 is the evaluation set's)")
    ap.add_argument("-n", type=int, default=4, help="traces per problem")
    ap.add_argument("-k", type=int, default=4, help="rollouts per labelled step")
    ap.add_argument("--mode", default="decisive", choices=("decisive", "full"))
    ap.add_argument("--backend", default="ct2")
    ap.add_argument("--max-tokens", type=int, default=160)
    args = ap.parse_args()
    out = Path(args.out_dir)
    from verify.errors import InputError
    from verify.records.outputs import check_own_document, json_with_keys, replace_own_document

    try:  # before the stages run: the cost file must be new or an earlier run's
        check_own_document(out / "arith_labels.cost.json", json_with_keys("stages", "commands"),
                           "an arith_labels cost file")
    except InputError as exc:
        sys.exit(f"error: {exc}")
    out.mkdir(parents=True, exist_ok=True)
    cost: dict = {"stages": {}, "commands": []}
    for name, argv in commands(out, problems=args.problems, seed=args.seed, n=args.n, k=args.k, mode=args.mode,
                               backend=args.backend, max_tokens=args.max_tokens):
        line = shlex.join(argv)
        print(f"$ {line}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(argv)
        if rc != 0:
            sys.exit(f"stage {name} failed (exit {rc}); rerun to resume")
        cost["stages"][name] = round(time.perf_counter() - t0, 1)
        cost["commands"].append(line)
    cost.update(label_cost(out / "arith_labels.jsonl"))
    cost.update({"mode": args.mode, "k": args.k, "n": args.n, "problems": args.problems})
    replace_own_document(out / "arith_labels.cost.json", (json.dumps(cost, indent=1) + "\n").encode(),
                         json_with_keys("stages", "commands"), "an arith_labels cost file")
    print(f"{cost['traces']} traces, {cost['steps']} steps ({cost['negative_steps']} negative), "
          f"{cost['rollouts']} rollouts, {cost['rollout_tokens_per_step']} rollout tokens per labelled step; "
          f"wall: " + ", ".join(f"{k} {v} s" for k, v in cost["stages"].items()))


if __name__ == "__main__":
    main()
