"""A learned PRM against the arithmetic scorer, side by side on data it never trained on.

For each PRM spec given (`arith`, `smollm2-prm`, a model directory, `python:module:function`):

1. **held-out arith steps**: step AUROC and first-error F1 on rollout-labelled traces of the
   40 evaluation problems (`verify prm label` on the main job's traces; the learned PRM's arith
   labels come from `evals.arith_problems.training_split`, which shares no problem with these);
2. **ProcessBench**: F1 per split at the PRM's own threshold (its `threshold_rule` applied to
   the split's scores, else its `threshold`, both in a trained PRM's frozen_prm.json and
   chosen on its validation data; 0.5 for a scorer without one) with its bootstrap CI
   (`prm.processbench.evaluate_processbench`; the held-out arith steps resolve it the same way);
3. **the main job**: the recorded traces of the default run rescored with each PRM, then
   majority@8, weighted-vote@8 and prm-best-of-8 under each reduction (prod, min, last, mean),
   with 95% CIs, the PRM forward tokens charged per problem and the PRM's scoring wall time.

Every figure carries n and a 95% CI. The JSON is written first, then the tables.

    python benchmarks/learned_prm.py --prm arith --prm smollm2-prm --out /tmp/learned_prm.json

`--write-decision FILE` writes the held-out comparison that the main job reads to choose its
PRM (`evals.runner.main_job_prm`): prm-best-of-8 accuracy (prod) of the first non-arith PRM
against arith on the main job's problems.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

METHODS = ("majority@8", "weighted-vote@8", "prm-best-of-8")
REDUCTIONS = ("prod", "min", "last", "mean")
DECISION_METRIC = "prm-best-of-8 accuracy (prod)"


def first_zero(labels: Sequence[Any]) -> int:
    """ProcessBench's label from hard step labels: the index of the first 0, or -1.

    >>> first_zero([1, 1, 0, 0]), first_zero([1, 1]), first_zero([0.0])
    (2, -1, 0)
    """
    return next((i for i, x in enumerate(labels) if x is not None and float(x) < 0.5), -1)


def heldout_steps(labels_path: str | Path, scorer: Any, *, n_boot: int = 1000,
                  known: dict | None = None) -> dict[str, Any]:
    """Step AUROC and first-error F1 (ProcessBench's metric) on rollout-labelled traces.

    Uses each record's `hard_labels` (else `labels`): the steps before the first dead step
    are positives, the first dead step the negative (later steps are not scored, as in
    ProcessBench). `known` maps (question, steps) to scores already computed (the main
    job's traces are the labelled ones): only the others are scored.
    """
    from prm.processbench import scorer_threshold, threshold_report
    rows = [json.loads(x) for x in Path(labels_path).read_text().splitlines() if x.strip()]
    items = [(r.get("question", ""), tuple(r["steps"])) for r in rows]
    known = dict(known or {})
    t0 = time.perf_counter()
    before = scorer.forward_tokens
    todo = sorted({it for it in items if it not in known})
    known.update(zip(todo, scorer.score_batch([(q, list(st)) for q, st in todo])))
    scores = [known[it] for it in items]
    seconds = time.perf_counter() - t0
    labels = [first_zero(r.get("hard_labels") or r["labels"]) for r in rows]
    # the traces of one problem are not independent: the intervals resample problems
    groups = [str(r.get("problem_id", i)) for i, r in enumerate(rows)]
    threshold, source, rule = scorer_threshold(scorer, scores)  # as evaluate_processbench resolves it
    rep = threshold_report(labels, scores, groups, threshold, rule, n_boot=n_boot)
    rep["threshold_source"] = source
    rep["auroc_ci"] = problem_bootstrap_auroc(labels, scores, groups, n_boot=n_boot)
    rep["auroc_ci_over"] = "problems"
    return {"data": str(labels_path), "n_traces": len(rows), "n_problems": len(set(groups)), "report": rep,
            "forward_tokens": scorer.forward_tokens - before, "seconds": round(seconds, 2)}


def problem_bootstrap_auroc(labels: Sequence[int], scores: Sequence[Sequence[float]], groups: Sequence[str], *,
                            n_boot: int = 1000, seed: int = 0) -> list[float] | None:
    """95% percentile interval of the step AUROC, resampling whole problems (`groups`).

    >>> problem_bootstrap_auroc([1, -1], [[0.9, 0.1], [0.8]], ["a", "b"], n_boot=20)
    [1.0, 1.0]
    """
    import numpy as np

    from prm.processbench import bootstrap_auroc, step_targets
    by: dict[str, tuple[list, list]] = {}
    for y, s, g in zip(labels, scores, groups):
        xs, ys = step_targets(y, s)
        by.setdefault(g, ([], []))[0].extend(xs)
        by[g][1].extend(ys)
    lo, hi = bootstrap_auroc(list(by.values()), n_boot, np.random.default_rng(seed))
    return None if math.isnan(lo) else [lo, hi]


def subsample(path: Path, n: int, folder: Path, seed: int = 0) -> Path:
    """A seeded random `n` lines of `path` (in file order), written to `folder/<same name>`.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "src.jsonl").write_text("a\\nb\\nc\\n")
    >>> sub = subsample(d / "src.jsonl", 2, Path(tempfile.mkdtemp()))
    >>> len(sub.read_text().splitlines()), sub.name
    (2, 'src.jsonl')
    """
    lines = [x for x in path.read_text().splitlines() if x.strip()]
    keep = sorted(random.Random(seed).sample(range(len(lines)), min(n, len(lines))))
    out = folder / path.name
    out.write_text("".join(lines[i] + "\n" for i in keep))
    return out


def processbench(paths: Sequence[Path], scorer: Any, *, limit: int | None, n_boot: int = 1000,
                 sweep: bool = False) -> dict[str, Any]:
    """ProcessBench F1 per split (`prm.processbench.evaluate_processbench`), with wall time;
    `sweep` adds the F1-best threshold, tuned on the same data (optimistic)."""
    from prm.processbench import evaluate_processbench
    out = {}
    for path in paths:
        t0 = time.perf_counter()
        r = evaluate_processbench(path, scorer, limit=limit, n_boot=n_boot, progress=False, sweep=sweep)
        r["seconds"] = round(time.perf_counter() - t0, 2)
        out[path.stem] = r
    return out


def main_job(traces_path: str | Path, spec: str, scorer: Any, questions: dict[str, str], *,
             n_boot: int = 2000) -> dict[str, Any]:
    """Rescore the main job's traces with `scorer` (the PRM sees `questions[problem_id]` and the
    steps, as in `verify eval`) and evaluate the methods under every reduction."""
    from evals.evaluate import evaluate_samples
    from prm.score_file import score_samples
    from verify.records.io import read_traces

    with tempfile.TemporaryDirectory() as tmp:
        scored = Path(tmp) / "scored.jsonl"
        t0 = time.perf_counter()
        before = scorer.forward_tokens
        score_samples(traces_path, scored, scorer, questions=questions, progress=False)
        seconds = time.perf_counter() - t0
        traces = read_traces(scored)
    scores = {(questions.get(t.problem_id, ""), tuple(t.steps)): list(t.step_scores) for t in traces}
    rows, per_problem = [], {}
    for reduce in REDUCTIONS:
        res = evaluate_samples(traces, list(METHODS), reduce=reduce, n_boot=n_boot)
        for m in res.results:
            rows.append({"prm": spec, "reduce": reduce, "method": m.method, "accuracy": m.accuracy,
                         "ci": [m.ci_low, m.ci_high], "n_problems": m.n_problems,
                         "prm_tokens_per_problem": m.prm_tokens_per_problem,
                         "gen_tokens_per_problem": m.gen_tokens_per_problem})
        for p in res.per_problem:
            per_problem.setdefault(f"{p['method']}|{reduce}", {})[p["problem_id"]] = p["value"]
    tokens = scorer.forward_tokens - before
    return {"traces": len(traces), "rows": rows, "per_problem": per_problem, "scores": scores,
            "score_seconds": round(seconds, 2),
            "forward_tokens": tokens, "tokens_per_second": round(tokens / seconds, 1) if tokens and seconds else None}


def paired_difference(a: dict[str, float], b: dict[str, float], *, n_boot: int = 2000) -> dict[str, Any]:
    """Mean per-problem difference a - b with a paired bootstrap 95% CI over problems.

    >>> paired_difference({"p": 1.0, "q": 1.0}, {"p": 0.0, "q": 1.0})["diff"]
    0.5
    """
    from verify.select.estimators import bootstrap_ci
    ids = sorted(set(a) & set(b))
    d = [a[i] - b[i] for i in ids]
    lo, hi = bootstrap_ci(d, n_boot=n_boot)
    return {"diff": sum(d) / len(d), "ci": [lo, hi], "n_problems": len(ids)}


def decision(results: dict[str, Any], learned: str) -> dict[str, Any]:
    """The held-out comparison the main job reads (see `evals.runner.main_job_prm`)."""
    def row(spec: str) -> dict:
        return next(r for r in results["prms"][spec]["main_job"]["rows"]
                    if r["method"] == "prm-best-of-8" and r["reduce"] == "prod")
    pp = {s: results["prms"][s]["main_job"]["per_problem"]["prm-best-of-8|prod"] for s in ("arith", learned)}
    lr, ar = row(learned), row("arith")
    out = {"metric": DECISION_METRIC, "learned_prm": learned, "learned": lr["accuracy"], "arith": ar["accuracy"],
           "learned_ci": lr["ci"], "arith_ci": ar["ci"], "n": lr["n_problems"],
           "paired_difference": paired_difference(pp[learned], pp["arith"]),
           "traces": results["traces"], "command": results["command"]}
    for key in ("heldout", "processbench"):
        out[key] = {s: _brief(results["prms"][s].get(key)) for s in ("arith", learned)}
    return out


def _brief(part: Any) -> Any:
    if part is None:
        return None
    if "report" in part:
        r = part["report"]
        return {"auroc": r["auroc"], "auroc_ci": r["auroc_ci"], "f1": r["f1"], "f1_ci": r["f1_ci"]}
    return {split: _brief(v) for split, v in part.items()}


def _ci(x: float | None, ci: Sequence[float] | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else f"{x:.3f}"


def tables(results: dict[str, Any]) -> str:
    """The results as plain-text tables."""
    lines = []
    specs = list(results["prms"])
    if any("heldout" in results["prms"][s] for s in specs):
        lines += ["held-out arith steps (problems never trained on; AUROC CI over problems)",
                  f"{'prm':<14} {'traces':>6} {'pos/neg steps':>14}  {'step AUROC [95% CI]':<24} F1 at the PRM's threshold [95% CI]"]
        for s in specs:
            h = results["prms"][s].get("heldout")
            if h:
                r = h["report"]
                lines.append(f"{s:<14} {h['n_traces']:>6} {r['n_pos_steps']:>7}/{r['n_neg_steps']:<6}  "
                             f"{_ci(r['auroc'], r['auroc_ci']):<24} {_ci(r['f1'], r['f1_ci'])}")
        lines.append("")
    if any(results["prms"][s].get("processbench") for s in specs):
        lines += ["ProcessBench (each PRM at its own threshold)",
                  f"{'prm':<14} {'split':<8} {'n':>5} {'threshold':>9}  {'F1 [95% CI]':<24} {'step AUROC [95% CI]':<24} seconds"]
        for s in specs:
            for split, r in (results["prms"][s].get("processbench") or {}).items():
                rep = r["report"]
                lines.append(f"{s:<14} {split:<8} {r['n']:>5} {rep['threshold']:>9.4g}  {_ci(rep['f1'], rep['f1_ci']):<24} "
                             f"{_ci(rep['auroc'], rep['auroc_ci']):<24} {r['seconds']:.0f}")
                if r.get("tuned"):
                    t = r["tuned"]
                    lines.append(f"{'':<14} {'':<8} {'':>5} {'':>9}  {_ci(t['f1'], t['f1_ci']):<24} "
                                 f"threshold {t['threshold']:.3g} TUNED ON THIS TEST SET (optimistic)")
        lines.append("")
    if any("main_job" in results["prms"][s] for s in specs):
        lines += [f"main job traces ({results['traces']}): accuracy [95% CI], PRM tokens per problem",
                  f"{'method':<16} {'reduce':<6} " + " ".join(f"{s:<30}" for s in specs)]
        for method in METHODS:
            for reduce in (("prod",) if method == "majority@8" else REDUCTIONS):
                cells = []
                for s in specs:
                    r = next(x for x in results["prms"][s]["main_job"]["rows"]
                             if x["method"] == method and x["reduce"] == reduce)
                    cells.append(f"{_ci(r['accuracy'], r['ci'])} {r['prm_tokens_per_problem']:>5.0f}")
                lines.append(f"{method:<16} {'-' if method == 'majority@8' else reduce:<6} "
                             + " ".join(f"{c:<30}" for c in cells))
        lines.append("scoring: " + "; ".join(
            f"{s} {results['prms'][s]['main_job']['score_seconds']:.1f} s, "
            f"{results['prms'][s]['main_job']['forward_tokens']} forward tokens" for s in specs))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    from prm.scorers import load_scorer
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prm", action="append", required=True, help="PRM spec (repeatable); include arith")
    ap.add_argument("--heldout-labels", default=str(ROOT / "data" / "arith_heldout_labels.jsonl"),
                    help="rollout-labelled traces of the evaluation problems ('' to skip)")
    ap.add_argument("--processbench-dir", default=str(ROOT.parent / "shared" / "data" / "processbench"))
    ap.add_argument("--splits", default="gsm8k", help="comma-separated ProcessBench splits ('' to skip)")
    ap.add_argument("--limit", type=int, default=None, help="first L ProcessBench samples per split")
    ap.add_argument("--sweep", action="store_true", help="also the ProcessBench F1 at the threshold tuned on it")
    ap.add_argument("--pb-sample", type=int, default=None,
                    help="a seeded random S ProcessBench samples per split (the files are ordered, so --limit is not a sample)")
    ap.add_argument("--traces", default=str(ROOT / "data" / "demo_scored.jsonl"),
                    help="the main job's recorded traces ('' to skip)")
    ap.add_argument("--dataset", default="arith", help="the problems of --traces (question text for the PRM)")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--out", default="learned_prm.json")
    ap.add_argument("--write-decision", default=None, help="write the held-out comparison the main job reads")
    args = ap.parse_args(argv)
    from verify.errors import InputError
    from verify.records.outputs import check_own_document, json_with_keys, replace_own_document

    outputs = [(args.out, json_with_keys("prms"), "a learned_prm.py result")]
    if args.write_decision:
        outputs.append((args.write_decision, json_with_keys("metric", "learned_prm"), "a main-job PRM decision file"))
    try:  # before minutes of scoring: never replace someone else's file
        for path, ours, what in outputs:
            check_own_document(path, ours, what)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    splits = [s for s in args.splits.split(",") if s]
    pb_paths = [Path(args.processbench_dir) / f"{s}.jsonl" for s in splits]
    pb_paths = [p for p in pb_paths if p.exists()]  # no shared data: the split is skipped, and said
    tmp = tempfile.TemporaryDirectory()
    if args.pb_sample:
        pb_paths = [subsample(p, args.pb_sample, Path(tmp.name)) for p in pb_paths]
    results: dict[str, Any] = {"command": "python benchmarks/learned_prm.py " + shlex.join(argv or sys.argv[1:]),
                               "traces": args.traces, "pb_sample": args.pb_sample, "limit": args.limit,
                               "prms": {}, "skipped_splits": sorted(
                                   set(splits) - {p.stem for p in pb_paths})}
    questions = {}
    if args.traces:
        from evals.benchmarks import load_problems
        questions = {p.id: p.question for p in load_problems(args.dataset)}
    for spec in args.prm:
        scorer = load_scorer(spec)
        got: dict[str, Any] = {}
        if args.traces:  # first: its forward tokens are charged to the traces; held-out reuses its scores
            got["main_job"] = main_job(args.traces, spec, scorer, questions, n_boot=2 * args.n_boot)
        if args.heldout_labels:
            known = got["main_job"].pop("scores") if "main_job" in got else None
            got["heldout"] = heldout_steps(args.heldout_labels, scorer, n_boot=args.n_boot, known=known)
        got.get("main_job", {}).pop("scores", None)
        if pb_paths:
            got["processbench"] = processbench(pb_paths, scorer, limit=args.limit, n_boot=args.n_boot,
                                               sweep=args.sweep)
        results["prms"][spec] = got
        print(f"{spec}: done", file=sys.stderr, flush=True)
    replace_own_document(args.out, (json.dumps(results, indent=1) + "\n").encode(), *outputs[0][1:])
    if args.write_decision:
        learned = next(s for s in args.prm if s != "arith")
        replace_own_document(args.write_decision, (json.dumps(decision(results, learned), indent=1) + "\n").encode(),
                             *outputs[1][1:])
    print(tables(results))
    return results


if __name__ == "__main__":
    main()
