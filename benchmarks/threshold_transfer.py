"""Does a PRM's threshold carry from one kind of solutions to another? Dev sets only.

Rescores a build's held-out traces of two sources (as `prm.build_smollm2_prm` drew them, from
the build's own metrics.json) with the built PRM, calibrates each threshold rule of
`prm.threshold_rules` (fixed, trace-rate, step-rate) on one source and reports the
ProcessBench-style F1 it gives on the other, both ways, next to the other source's own
(optimistic) F1-best. No ProcessBench GSM8K row is read: this is how a rule is chosen before
the final report.

    python benchmarks/threshold_transfer.py --prm data/smollm2-prm --a processbench --b gsm8k

With ``--test DATA --records FILE --rule KIND`` it also applies one rule, calibrated on the
first source, to the step scores that ``verify prm eval --records FILE`` wrote for DATA, and
prints that F1 with a 95% CI (problem bootstrap, threshold set again in every replicate).
``--scorer arith`` does all of it for the arithmetic scorer instead of the PRM (the same
held-out traces; records from ``verify prm eval --prm arith``).

The frozen layers' states come from verify's cache when the build computed them (else a
few minutes of CPU). The build's arith file may be absent: the two sources compared here do
not depend on it (their draws and problem filters never meet the synthetic arith problems).
"""
from __future__ import annotations

import argparse
import json
import sys
from argparse import Namespace
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def heldout_scores(prm_dir: str | Path, names: Sequence[str], scorer_name: str | None = None,
                   draws_from: str | Path | None = None) -> dict[str, tuple[list[int], list[list[float]], list[str]]]:
    """Per source name: (ProcessBench labels, step scores, problems) of the build's held-out
    traces, scored by the build's PRM, or by `scorer_name` (e.g. "arith") when given. With
    `draws_from` (another build's folder) the traces are the ones that build held out, so
    builds can be compared on the same traces."""
    import torch

    from prm.build_smollm2_prm import collect_sources, first_errors
    from prm.frozen import base_identity, load_frozen_prm, lower_states, states_key
    from prm.frozen_train import predict
    from prm.scorers import load_scorer
    from prm.specs import get_spec, with_head
    from verify.sampling.ct2_backend import cache_dir

    meta = json.loads((Path(draws_from or prm_dir) / "metrics.json").read_text(encoding="utf-8"))
    args = Namespace(**meta["args"])
    if args.arith and not Path(args.arith).is_file():
        args.arith = None
    torch.set_num_threads(args.threads)
    scorer = load_frozen_prm(prm_dir)
    prm, tok = scorer.model, scorer.tokenizer
    spec = with_head(get_spec("token-cls"), "lm")  # the head does not change the encoding
    sources = collect_sources(args, spec, tok)
    _, sha = base_identity("smollm2")
    cut = prm.n_layers - prm.train_layers
    other = load_scorer(scorer_name) if scorer_name else None
    out = {}
    for name in names:
        part = sources[name][1]
        enc = [e for _, e in part]
        if other is not None:
            scores = [other(ex.question, list(ex.steps)) for ex, _ in part]
        else:
            ids = [e.input_ids for e in enc]
            cache = cache_dir() / "prm-states" / f"{states_key(sha, cut, 'bfloat16', ids)}.safetensors"
            scores = predict(prm, lower_states(prm, ids, tok.pad_token_id, progress=True, cache=cache), enc)
        out[name] = (first_errors([list(e.labels) for e in enc]), scores, [ex.question for ex, _ in part])
    return out


def transfer_table(data: dict[str, tuple[list[int], list[list[float]], list[str]]], a: str, b: str) -> list[dict]:
    """F1 on the target of each rule calibrated on the source, both directions."""
    from prm.processbench import best_threshold, processbench_metrics
    from prm.threshold_rules import RULES, calibrate, threshold_for

    rows = []
    for src, dst in ((a, b), (b, a)):
        ls, ss, _ = data[src]
        lt, st, _ = data[dst]
        own_t, own_f1 = best_threshold(lt, st)
        for kind in RULES:
            rule = calibrate(kind, ls, ss)
            t = threshold_for(rule, st)
            f1 = processbench_metrics(lt, st, t, n_boot=10).f1  # the point F1 only
            rows.append({"from": src, "to": dst, "rule": kind, "rate": rule.rate, "source_threshold": rule.threshold,
                         "threshold": t, "f1": f1, "target_best_threshold": own_t, "target_best_f1": own_f1,
                         "n_target": len(lt)})
    return rows


def apply_rule(source: tuple[list[int], list[list[float]], list[str]], kind: str, data: str | Path,
               records: str | Path, *, n_boot: int = 1000, seed: int = 0) -> dict:
    """Rule `kind` calibrated on `source`, applied to the step scores in `records` (a `verify
    prm eval --records` file of `data`): `prm.processbench.rule_f1`'s result."""
    from prm.formats import iter_processbench
    from prm.processbench import recorded_scores, rule_f1
    from prm.threshold_rules import calibrate

    rows = list(iter_processbench(data))
    scores = recorded_scores(records, rows, data)
    rule = calibrate(kind, source[0], source[1])
    return rule_f1([r[4] for r in rows], scores, [r[2] for r in rows], rule, n_boot=n_boot, seed=seed)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prm", default=str(ROOT / "data" / "smollm2-prm"), help="a build_smollm2_prm output folder")
    ap.add_argument("--a", default="processbench", help="first source (calibration source of the build)")
    ap.add_argument("--b", default="gsm8k", help="second source")
    ap.add_argument("--draws-from", default=None, metavar="BUILD",
                    help="score the held-out traces of this build (default: --prm's own)")
    ap.add_argument("--auroc", action="store_true", help="also print each source's step AUROC (problem bootstrap CI)")
    ap.add_argument("--scorer", default=None, help="score the held-out traces with this scorer (arith), not the PRM")
    ap.add_argument("--test", default=None, metavar="DATA", help="ProcessBench file to apply --rule to")
    ap.add_argument("--records", default=None, help="verify prm eval --records output for --test")
    ap.add_argument("--rule", default="step-rate", help="the rule --test applies [step-rate]")
    ap.add_argument("--json", default=None, help="write the rows here (a new file, or this script's earlier output)")
    args = ap.parse_args(argv)
    from verify.errors import InputError
    from verify.records.outputs import check_own_document, json_with_keys, replace_own_document

    ours = json_with_keys("transfer", "prm")
    try:
        if args.json:
            check_own_document(args.json, ours, "a threshold_transfer.py result")
        if bool(args.test) != bool(args.records):
            raise InputError("--test and --records go together")
        data = heldout_scores(args.prm, [args.a, args.b], args.scorer, args.draws_from)
        test = apply_rule(data[args.a], args.rule, args.test, args.records) if args.test else None
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = transfer_table(data, args.a, args.b)
    aurocs = {}
    if args.auroc:
        from prm.build_smollm2_prm import grouped_auroc
        from prm.processbench import step_targets

        for name, (labels, scores, groups) in data.items():
            targets = [step_targets(y, s) for y, s in zip(labels, scores)]  # steps up to the first error
            aurocs[name] = grouped_auroc([x for x, _ in targets], [[float(b) for b in ys] for _, ys in targets],
                                         groups)
            m = aurocs[name]
            print(f"{name}: step AUROC {m['auroc']:.3f} [{m['ci'][0]:.3f}, {m['ci'][1]:.3f}] "
                  f"({m['n_steps']} steps up to the first error, {m['n_groups']} problems)")
    print(f"{'from':>13} -> {'to':<13} {'rule':<10} {'rate':>6} {'t':>7} {'F1':>6}   target's own best t / F1")
    for r in rows:
        rate = "" if r["rule"] == "fixed" else f"{r['rate']:.3f}"
        print(f"{r['from']:>13} -> {r['to']:<13} {r['rule']:<10} {rate:>6} {r['threshold']:7.3f} {r['f1']:6.3f}"
              f"   {r['target_best_threshold']:.3f} / {r['target_best_f1']:.3f} (n={r['n_target']})")
    if test is not None:
        r = test
        print(f"{args.test}: {args.rule} rule from {args.a} (rate {r['rule']['rate']:.3f}) sets t = {r['threshold']:.3f}; "
              f"F1 {r['f1']:.3f} [{r['f1_ci'][0]:.3f}, {r['f1_ci'][1]:.3f}] (n={r['n_error'] + r['n_correct']}; "
              f"errors found {r['hits_error']}/{r['n_error']}, correct kept {r['hits_correct']}/{r['n_correct']})")
    if args.json:
        doc = {"prm": str(args.prm), "scorer": args.scorer or "prm", "a": args.a, "b": args.b, "transfer": rows,
               "draws_from": args.draws_from, "auroc": aurocs or None,
               "test": test and {"data": args.test, "records": args.records, **test}}
        replace_own_document(args.json, (json.dumps(doc, indent=2) + "\n").encode(), ours,
                             "a threshold_transfer.py result")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
