"""Adaptive sampling on recorded samples: accuracy vs samples used, against fixed-budget maj@k.

Replays Qwen2.5-Math's recorded 8 samples per MATH problem
(`../shared/data/qwen25math_rm_maj_example/math_cot_100.jsonl`) through the real pipeline:
`verify sample --backend replay --adaptive` logic (`sample_to_file` with `AdaptiveRule`),
answers extracted from the texts by `verify.checker.extract`, grouped by `answer_key`, graded by
`verify.checker.equivalence.compare_answers` against `gt`. Baseline: maj@k for k = 1..8 with a
fixed budget (exact expectation over k-subsets, `verify.select.estimators.majority_at_k`).

Two views of the adaptive rules: the recorded sample order (what a live run would have
done), and the mean over 200 random orders of the same 8 samples (less luck of the order).

    python benchmarks/adaptive_sampling.py [--data PATH] [--out-dir docs/figures]

Writes `adaptive_sampling.jsonl` (one line per method) first, then prints the table and
draws `adaptive_sampling.png`. 95% CIs: percentile bootstrap over problems.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evals.benchmarks import load_problems  # noqa: E402
from verify.checker.equivalence import compare_answers  # noqa: E402
from verify.select.estimators import bootstrap_ci, majority_at_k  # noqa: E402
from verify.select.grading import group_answers  # noqa: E402
from verify.records.io import read_traces  # noqa: E402
from verify.sampling.adaptive import AdaptiveRule, majority, simulate  # noqa: E402
from verify.sampling.replay_backend import ReplayGenerator  # noqa: E402
from verify.sampling.run import sample_to_file  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "qwen25math_rm_maj_example" / "math_cot_100.jsonl"
RULES = {
    "overtake (exact)": AdaptiveRule(budget=8, round_size=1, rule="overtake"),
    "ESC, window 2": AdaptiveRule(budget=8, round_size=2, rule="esc"),
    "ESC, window 4": AdaptiveRule(budget=8, round_size=4, rule="esc"),
    "Beta 0.95, rounds of 2": AdaptiveRule(budget=8, round_size=2, rule="beta", confidence=0.95),
    "Beta 0.99, rounds of 2": AdaptiveRule(budget=8, round_size=2, rule="beta", confidence=0.99),
}


class Grader:
    """Cached `compare_answers(gold, answer)` (undecided counts as wrong)."""

    def __init__(self):
        self.cache: dict[tuple[str, str], bool] = {}

    def __call__(self, gold: str, answer: str | None) -> bool:
        if answer is None:
            return False
        key = (gold, answer)
        if key not in self.cache:
            self.cache[key] = compare_answers(gold, answer).equal is True
        return self.cache[key]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--out-dir", default=str(ROOT / "docs" / "figures"))
    ap.add_argument("--orders", type=int, default=200)
    args = ap.parse_args()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    problems = load_problems("math500", args.data)
    gold = {p.id: p.gold for p in problems}
    grade = Grader()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "full.jsonl"
        sample_to_file(problems, ReplayGenerator(args.data, problems), full, n=8, batch_size=100, progress=False)
        answers: dict[str, list[str | None]] = {p.id: [] for p in problems}
        for t in read_traces(full):
            answers[t.problem_id].append(t.answer)
        # fixed budget: exact maj@k over k-subsets of the 8 samples
        per_k = []
        for p in problems:
            labels, reps = group_answers(answers[p.id])
            per_k.append(majority_at_k(labels, np.array([grade(p.gold, r) for r in reps], dtype=bool),
                                       list(range(1, 9))))
        per_k = np.array(per_k)  # (problems, 8)
        for k in range(1, 9):
            lo, hi = bootstrap_ci(per_k[:, k - 1])
            results.append({"method": f"maj@{k}", "order": "all k-subsets", "samples_per_problem": float(k),
                            "accuracy": float(per_k[:, k - 1].mean()), "ci95": [lo, hi], "n_problems": len(problems)})
        correct = [float(grade(p.gold, majority(answers[p.id]))) for p in problems]
        lo, hi = bootstrap_ci(correct)
        results.append({"method": "maj@8 (first-vote ties)", "order": "recorded", "samples_per_problem": 8.0,
                        "accuracy": float(np.mean(correct)), "ci95": [lo, hi], "n_problems": len(problems)})
        for name, rule in RULES.items():
            out = Path(tmp) / f"{rule.rule}-{rule.round_size}-{rule.confidence}.jsonl"
            rep = sample_to_file(problems, ReplayGenerator(args.data, problems), out, adaptive=rule,
                                 batch_size=100, progress=False)
            got: dict[str, list[str | None]] = {p.id: [] for p in problems}
            for t in sorted(read_traces(out), key=lambda t: t.sample_index):
                got[t.problem_id].append(t.answer)
            correct = [float(grade(gold[pid], majority(a))) for pid, a in got.items()]
            lo, hi = bootstrap_ci(correct)
            results.append({"method": name, "order": "recorded", "samples_per_problem": rep.total / len(problems),
                            "accuracy": float(np.mean(correct)), "ci95": [lo, hi], "n_problems": len(problems),
                            "samples_saved": rep.saved, "samples_budget": 8 * len(problems)})
            rng = random.Random(0)
            per_problem = np.zeros(len(problems))  # accuracy of each problem averaged over orders
            used = []
            for _ in range(args.orders):
                perm = {pid: rng.sample(a, len(a)) for pid, a in answers.items()}
                ks = simulate(list(perm.values()), rule)
                per_problem += [grade(gold[pid], majority(a[:k])) for (pid, a), k in zip(perm.items(), ks)]
                used.append(np.mean(ks))
            per_problem /= args.orders
            results.append({"method": name, "order": f"mean of {args.orders} random orders",
                            "samples_per_problem": float(np.mean(used)), "accuracy": float(per_problem.mean()),
                            "ci95": list(bootstrap_ci(per_problem)), "n_problems": len(problems)})
    jsonl = out_dir / "adaptive_sampling.jsonl"
    from verify.records.outputs import replace_own_document

    def ours(data: bytes) -> bool:  # an earlier run's lines: objects with a method and an accuracy
        try:
            rows = [json.loads(x) for x in data.decode("utf-8").splitlines() if x.strip()]
        except ValueError:
            return False
        return all(isinstance(r, dict) and "method" in r and "accuracy" in r for r in rows)

    replace_own_document(jsonl, "".join(json.dumps(r) + "\n" for r in results).encode(), ours,
                         "an adaptive_sampling.py result")
    maj8 = next(r for r in results if r["method"] == "maj@8")
    assert maj8["ci95"] is not None
    print(f"{len(problems)} MATH problems x 8 recorded samples (Qwen2.5-Math); maj@8 = {maj8['accuracy']:.3f} "
          f"[{maj8['ci95'][0]:.3f}, {maj8['ci95'][1]:.3f}]")
    print(f"{'method':<26}{'order':<26}{'samples/problem':>16}{'accuracy':>10}  95% CI")
    for r in results:
        ci = "" if r["ci95"] is None else f"[{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]"
        within = "" if r["ci95"] is None or r["method"].startswith("maj@") else \
            ("  maj@8 inside CI" if r["ci95"][0] <= maj8["accuracy"] <= r["ci95"][1] else "  maj@8 OUTSIDE CI")
        print(f"{r['method']:<26}{r['order']:<26}{r['samples_per_problem']:>16.2f}{r['accuracy']:>10.3f}  {ci}{within}")
    plot(results, out_dir / "adaptive_sampling.png", len(problems))
    print(f"wrote {jsonl} and {out_dir / 'adaptive_sampling.png'}")


def plot(results: list[dict], path: Path, n: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    fixed = [r for r in results if r["order"] == "all k-subsets"]
    x = [r["samples_per_problem"] for r in fixed]
    ax.plot(x, [r["accuracy"] for r in fixed], "o-", color="0.4", label="fixed budget maj@k (k-subset mean)")
    ax.fill_between(x, [r["ci95"][0] for r in fixed], [r["ci95"][1] for r in fixed], color="0.85")
    markers = iter("s^vDP")
    for name in RULES:
        rec = next(r for r in results if r["method"] == name and r["order"] == "recorded")
        avg = next(r for r in results if r["method"] == name and r["order"] != "recorded")  # hollow marker
        m = next(markers)
        line = ax.errorbar(rec["samples_per_problem"], rec["accuracy"],
                           yerr=[[rec["accuracy"] - rec["ci95"][0]], [rec["ci95"][1] - rec["accuracy"]]],
                           fmt=m, capsize=3, label=f"{name} (recorded order)")
        ax.plot(avg["samples_per_problem"], avg["accuracy"], m, mfc="none", color=line[0].get_color())
    ax.set_xlabel("samples drawn per problem (mean)")
    ax.set_ylabel(f"accuracy (n={n} problems)")
    ax.set_title("Adaptive sampling vs fixed maj@k, Qwen2.5-Math samples on MATH\n"
                 "(filled: recorded order with 95% CI; hollow: mean over random orders)", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
