"""Do the token-confidence methods beat majority@k at equal generated tokens? On a recorded run.

    python benchmarks/confidence_methods.py runs/default/samples.jsonl [-k 8]

For one samples file whose traces carry `confidence` (any backend with token logprobs; the
main job's default does), it prints, over the problems of the file:

* majority@k (the named baseline), confidence-vote@k and confidence-filter@k: accuracy with a
  95% bootstrap CI over problems, all from the exact k-subset estimators, so every method
  reads the same k samples (equal generated tokens);
* each method's paired difference against majority@k with its 95% bootstrap CI (problems
  resampled together, the same seed);
* adaptive sampling replayed on the recorded order (`verify.sampling.adaptive.simulate`):
  the `beta` rule with a majority vote against the `confidence` rule with a confidence vote,
  samples and generated tokens used, accuracy with CI.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from verify.records.io import read_traces  # noqa: E402
from verify.select.estimators import bootstrap_ci  # noqa: E402
from verify.select.grading import grade_traces  # noqa: E402
from verify.select.methods import parse_method, scores_for  # noqa: E402


def per_problem(problems, spec):
    s = parse_method(spec)
    return np.array([float(s.method.exact(gp, scores_for(s, gp), [s.k]).value[0]) for gp in problems])


def adaptive(problems, rule_name, confidence, k):
    from verify.sampling.adaptive import AdaptiveRule, simulate
    from verify.select.aggregate import majority_vote, weighted_vote

    rule = AdaptiveRule(budget=k, round_size=2, rule=rule_name, confidence=confidence)
    vals, used_tokens, used_samples = [], [], []
    for gp in problems:
        labels = [None if lab < 0 else int(lab) for lab in gp.labels[:k]]
        w = [None if np.isnan(x) else float(x) for x in gp.confidence_scores[:k]]
        # the rules group answers by equivalence key; class ids are already grouped
        used = simulate([[None if a is None else str(a) for a in labels]], rule,
                        [w] if rule_name == "confidence" else None)[0]
        if rule_name == "confidence":
            v = weighted_vote(labels[:used], [x or 0.0 for x in w[:used]])
        else:
            v = majority_vote(labels[:used])
        tied = v.tied or ()
        vals.append(np.mean([gp.class_correct[a] for a in tied]) if tied else 0.0)
        used_samples.append(used)
        used_tokens.append(int(gp.num_tokens[:used].sum()))
    return np.array(vals), float(np.mean(used_samples)), float(np.mean(used_tokens))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("samples", help="samples JSONL with confidence summaries")
    ap.add_argument("-k", type=int, default=8)
    ap.add_argument("--n-boot", type=int, default=2000)
    args = ap.parse_args()
    traces = read_traces(args.samples)
    if not any(t.confidence for t in traces):
        sys.exit(f"{args.samples}: no trace has a confidence summary (sample with a backend that gives logprobs)")
    problems, _ = grade_traces(traces)
    kinds = sorted({(t.confidence or {}).get("kind", "-") for t in traces})
    k = args.k
    tok = float(np.mean([gp.num_tokens[:k].sum() for gp in problems]))
    print(f"{args.samples}: {len(problems)} problems, k={k}, confidence kind {', '.join(kinds)}; "
          f"every method below reads the same k samples: {tok:.0f} generated tokens per problem")
    base = per_problem(problems, f"majority@{k}")
    print(f"{'method':<24}{'accuracy':>9}{'95% CI':>17}{'minus majority':>16}{'95% CI':>18}")
    for spec in (f"majority@{k}", f"confidence-vote@{k}", f"confidence-filter@{k}"):
        v = per_problem(problems, spec)
        lo, hi = bootstrap_ci(v, n_boot=args.n_boot)
        d = v - base
        dlo, dhi = bootstrap_ci(d, n_boot=args.n_boot)
        print(f"{spec:<24}{v.mean():>9.3f}{f'[{lo:.3f}, {hi:.3f}]':>17}{d.mean():>+16.3f}"
              f"{f'[{dlo:+.3f}, {dhi:+.3f}]':>18}")
    print(f"\nadaptive sampling replayed on the recorded order (budget {k}, rounds of 2):")
    print(f"{'rule':<34}{'samples':>8}{'tokens':>8}{'accuracy':>9}{'95% CI':>17}")
    for name, rule, conf in (("beta 0.95 + majority", "beta", 0.95),
                             ("confidence 0.95 + confidence-vote", "confidence", 0.95)):
        v, s, t = adaptive(problems, rule, conf, k)
        lo, hi = bootstrap_ci(v, n_boot=args.n_boot)
        print(f"{name:<34}{s:>8.2f}{t:>8.0f}{v.mean():>9.3f}{f'[{lo:.3f}, {hi:.3f}]':>17}")


if __name__ == "__main__":
    main()
