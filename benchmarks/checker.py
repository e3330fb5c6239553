"""Our checker vs Math-Verify, side by side on the same cases in one run.

For every category it prints the agreement of each checker with the expected label (undecided
counts as disagreement), the median and p99 time per check, and the ratio Math-Verify / ours.
Both checkers run in the same process, alternating whole blocks of a category (ours, then
Math-Verify) for `--rounds` rounds; each case's time is its median over the rounds, so machine
noise hits both alike and one-off pauses do not dominate.

Cases: the 106 answer-equivalence tests of three graders in ../shared/data (by source), real
graded model responses from the same folder (Qwen2.5-Math MATH samples labelled by Qwen's
grader, GPT-3 GSM8K solutions labelled in "Training Verifiers", ProcessBench solutions of
several open models labelled `final_answer_correct` and joined at run time with the GSM8K and
MATH-500 gold answers), the public test cases of
Math-Verify (huggingface/Math-Verify tests/test_all.py) and lighteval (huggingface/lighteval
tests/unit/metrics/test_extractive_match.py), transcribed in benchmarks/checker_cases.py,
our own category tables, and the per-family table of tests/test_checker_families.py.
The "exact" column counts the checks that reached the exact layer (verify.checker.exact).

Math-Verify's small LRU parse caches are cleared before each of its calls (outside the timed
region), so neither checker is timed from a cache. Math-Verify is called as its README recommends for a gold string and a model output:
``verify(parse(gold), parse(pred))``; a bare answer (no ``$`` and no ``\\boxed``) is wrapped
in ``\\boxed{}`` first, because Math-Verify's default extraction needs a math environment
(without the wrapping it agrees far less often on bare answers; see docs/sections/checker.md).

    python benchmarks/checker.py [--limit N] [--out results.jsonl]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
DATA = ROOT.parent / "shared" / "data"

from checker_cases import LIGHTEVAL, MATH_VERIFY  # noqa: E402  (our transcriptions of their tests)

T, F = True, False
OWN = {
    "own: numbers": [
        ("025", "25", T), ("1,000", "1000", T), ("0.5", ".5", T), ("\\frac{1}{2}", "0.5", T),
        ("\\dfrac{3}{4}", "\\tfrac34", T), ("2\\frac{1}{2}", "2.5", T), ("1.5e-3", "0.0015", T),
        ("2.3\\times10^{-3}", "0.0023", T), ("10\\%", "0.1", T), ("\u22123", "-3", T), ("30^\\circ", "30", T),
        ("5", "5.001", F), ("1/3", "0.333", T), ("1/3", "0.3", F), ("1.25", "1.2", F), ("3", "-3", F),
        ("100", "10", F), ("12", "12.0", T), ("-\\frac{1}{2}", "\\frac{-1}{2}", T), ("2/3", "0.667", T),
    ],
    "own: units/text": [
        ("10\\text{ units}", "10", T), ("10\\text{ cm}^2", "10", T), ("10 square units", "10", T),
        ("\\$10", "10", T), ("x = 3", "3", T), ("y = 2x + 3", "2x+3", T), ("\\text{odd}", "odd", T),
        ("odd", "\\text{even}", F), ("\\mathrm{E}", "E", T), ("(B)", "B", T), ("B", "C", F),
        ("20:34", "08:34 \\text{P.M.}", T), ("10cm", "10", F), ("Yes", "yes", T),
    ],
    "own: expressions": [
        ("x^2+2x+1", "(x+1)^2", T), ("x^2+2x+1", "x^3+2x+1", F), ("\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", T),
        ("\\sqrt{8}", "2\\sqrt{2}", T), ("\\sqrt{8}", "2\\sqrt{3}", F), ("2\\pi", "\\pi \\cdot 2", T),
        ("40\\pi", "125.663", T), ("\\pi", "3", F), ("\\ln 8", "3\\ln 2", T), ("\\sin^2 x + \\cos^2 x", "1", T),
        ("1+2i", "i(2-i)", T), ("3+4i", "3-4i", F), ("(x-2)(x+2)", "x^2-4", T), ("2^{10}+1", "1024", F),
        ("5!", "120", T), ("\\frac{a}{b}", "b/a", F), ("\\sin(90^{\\circ}-x)", "\\cos(x)", T),
    ],
    "own: structures": [
        ("1, 2, 3", "3, 2, 1", T), ("1, 2, 3", "1, 2", F), ("\\{1, 2\\}", "\\{2, 1\\}", T),
        ("(1, 2, 3)", "(3, 2, 1)", F), ("[1, 2)", "(1, 2)", F), ("[1, 2)", "[1,2)", T),
        ("(-\\infty, 3]", "(-\\infty, 3)", F), ("(-\\infty, 1) \\cup (2, \\infty)", "(2,\\infty)\\cup(-\\infty,1)", T),
        ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}", T),
        ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}", F),
        ("2x + 4y = 6", "x + 2y = 3", T), ("2x + 4y = 6", "x + 2y = 4", F), ("x > 3", "3 < x", T),
        ("x > 3", "x \\ge 3", F), ("1 \\pm \\sqrt{2}", "1+\\sqrt2, 1-\\sqrt2", T),
    ],
}


def _cases(limit: int | None) -> dict[str, list[tuple]]:
    cats: dict[str, list[tuple]] = {}
    eq = DATA / "answer_equivalence"
    for name, f in (("hendrycks (16)", "hendrycks_math_equivalence_test.jsonl"),
                    ("mario_eval (60)", "mario_eval_is_equiv_test.jsonl"),
                    ("nemo_skills (30)", "nemo_skills_math_equal_test.jsonl")):
        if (eq / f).exists():
            cats[name] = [(r["gold"], r["pred"], r["expected_equivalent"]) for r in map(json.loads, open(eq / f))]
    qwen = DATA / "qwen25math_rm_maj_example" / "math_cot_100.jsonl"
    if qwen.exists():
        rows = []
        for r in map(json.loads, open(qwen)):
            rows += [(r["gt"], resp, bool(ok)) for resp, ok in zip(r["code"], r["score"])]
        cats["qwen2.5-math responses"] = rows[:limit]
    gsm = DATA / "gsm8k_model_solutions" / "example_model_solutions.jsonl"
    if gsm.exists():
        rows = []
        for r in map(json.loads, open(gsm)):
            gold = r["ground_truth"].rsplit("A:", 1)[-1].strip()
            for key in ("6b_finetuning", "175b_verification"):
                rows.append((gold, r[key]["solution"], bool(r[key]["is_correct"])))
        cats["gsm8k gpt-3 solutions"] = rows[:limit]
    cats.update(_real_outputs(limit))
    cats["public: Math-Verify tests"] = list(MATH_VERIFY)
    cats["public: lighteval tests"] = list(LIGHTEVAL)
    cats.update(OWN)
    for fam, rows in _families().items():
        cats["family " + fam] = [(g, p, w) for g, p, w, _ in rows]
    return cats


def _families() -> dict:
    """The per-family regression table of tests/test_checker_families.py (our own rows)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("checker_families", ROOT / "tests" / "test_checker_families.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.FAMILIES


def _real_outputs(limit: int | None) -> dict[str, list[tuple]]:
    """Real model solutions with correctness labels, joined at run time with gold answers:
    ProcessBench (QwenLM/ProcessBench; `final_answer_correct`) on GSM8K and on its MATH problems
    that are in MATH-500. (PRM800K's `is_solution` is not used: it is False for many correct
    answers that were not the labeller's preferred step.)"""
    out: dict[str, list[tuple]] = {}
    pb, g8, m5 = DATA / "processbench", DATA / "gsm8k" / "test.jsonl", DATA / "math500" / "test.jsonl"
    math500 = {r["problem"].strip(): r["answer"] for r in map(json.loads, open(m5))} if m5.exists() else {}
    if (pb / "gsm8k.jsonl").exists() and g8.exists():
        gold = {r["question"].strip(): r["answer"].rsplit("####", 1)[-1].strip() for r in map(json.loads, open(g8))}
        rows = [(gold[r["problem"].strip()], "\n\n".join(r["steps"]), bool(r["final_answer_correct"]))
                for r in map(json.loads, open(pb / "gsm8k.jsonl")) if r["problem"].strip() in gold]
        out["processbench gsm8k"] = rows[:limit]
    if (pb / "math.jsonl").exists() and math500:
        rows = [(math500[r["problem"].strip()], "\n\n".join(r["steps"]), bool(r["final_answer_correct"]))
                for r in map(json.loads, open(pb / "math.jsonl")) if r["problem"].strip() in math500]
        out["processbench math500"] = rows[:limit]
    return out


def _text(x) -> str:
    if x is None:
        return ""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _mv_input(s: str) -> str:
    return s if ("$" in s or "\\boxed" in s or "\n" in s) else "\\boxed{" + s + "}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="At most N cases of each real-response category.")
    ap.add_argument("--out", type=Path, default=None, help="Per-case results JSONL.")
    ap.add_argument("--rounds", type=int, default=3, help="Timing rounds per category (median per case).")
    args = ap.parse_args()

    import logging
    logging.disable(logging.WARNING)  # Math-Verify logs every timeout/parse failure
    import math_verify.parser as mv_parser
    from math_verify import parse, verify

    # Math-Verify keeps 20-entry LRU caches of parsed strings; small categories would then be
    # timed from its cache in rounds 2+. Clear them before each call so every round measures a
    # fresh parse, as our checker always does (it has no cache).
    # (Its compiled-regex caches are kept: those are built once per process in real use too.)
    mv_caches = [mv_parser.parse_latex_cached, mv_parser.parse_expr_cached, mv_parser.extract_latex]

    from verify.checker.equivalence import check
    from verify.records.io import append_jsonl

    check("1", "x+1")  # start the worker before timing (one-off ~0.1 s process start)
    verify(parse("$1$"), parse("$1$"))
    cats = _cases(args.limit)
    header = (f"{'category':<30}{'n':>6}{'ours agree':>12}{'MV agree':>10}{'ours med':>10}{'ours p99':>10}"
              f"{'MV med':>10}{'MV p99':>10}{'med ratio':>11}{'p99 ratio':>11}{'exact':>7}")
    lines = [header, "-" * len(header)]
    all_ours, all_mv, exact_t, shares = [], [], [], []
    for name, cases in cats.items():
        inputs = [(gold, pred, _text(gold), _text(pred)) for gold, pred, _ in cases]
        t_ours = [[] for _ in cases]
        t_mv = [[] for _ in cases]
        ours, mv = [], []
        for r in range(args.rounds):  # alternate whole blocks; per-case time = median over rounds
            for i, (gold, pred, _, _) in enumerate(inputs):
                t0 = time.perf_counter()
                v = check(gold, pred)
                t_ours[i].append(time.perf_counter() - t0)
                if r == 0:
                    ours.append(v)
            for i, (_, _, g, p) in enumerate(inputs):
                for f in mv_caches:
                    f.cache_clear()
                t0 = time.perf_counter()
                try:
                    got = bool(verify(parse(_mv_input(g)), parse(_mv_input(p)))) if g and p else False
                except Exception:  # Math-Verify raises on some inputs; counted as "not equal" as its users do
                    got = False
                t_mv[i].append(time.perf_counter() - t0)
                if r == 0:
                    mv.append(got)
        med_ours = [statistics.median(x) for x in t_ours]
        med_mv = [statistics.median(x) for x in t_mv]
        a_ours = sum(v.equal is want for v, (_, _, want) in zip(ours, cases))
        a_mv = sum(m is want for m, (_, _, want) in zip(mv, cases))
        if args.out:
            append_jsonl(args.out, [
                {"category": name, "gold": g, "pred": p if len(p) < 300 else "..." + p[-300:], "expected": want,
                 "ours": v.equal, "ours_method": v.method, "ours_reason": v.reason, "math_verify": m,
                 "ours_s": to, "mv_s": tm}
                for (_, _, g, p), (_, _, want), v, m, to, tm in zip(inputs, cases, ours, mv, med_ours, med_mv)],
                fsync=False)
        all_ours += med_ours
        all_mv += med_mv
        n_exact = sum(v.method == "exact" for v in ours)
        exact_t += [t for v, t in zip(ours, med_ours) if v.method == "exact"]
        shares.append((name, len(cases), a_ours, a_mv))
        lines.append(_row(name, len(cases), a_ours, a_mv, med_ours, med_mv) + f"{n_exact:>7}")
    lines.append("-" * len(header))
    lines.append(_row("all cases", len(all_ours), None, None, all_ours, all_mv) + f"{len(exact_t):>7}")
    print("\n".join(lines))
    print("\nagreement with the labels, with 95% Wilson intervals (undecided = disagree):")
    from verify.intervals import wilson

    for name, n, a_o, a_m in shares:
        (lo_o, hi_o), (lo_m, hi_m) = wilson(a_o, n), wilson(a_m, n)
        print(f"  {name:<30} n={n:<5} ours {a_o / n:7.2%} ({lo_o:.3f}-{hi_o:.3f})   "
              f"Math-Verify {a_m / n:7.2%} ({lo_m:.3f}-{hi_m:.3f})")
    if exact_t:
        print(f"\nexact layer (sympy / high precision in the worker): ran on {len(exact_t)} of {len(all_ours)} "
              f"cases ({len(exact_t) / len(all_ours):.2%}); median {statistics.median(exact_t) * 1e3:.1f} ms, "
              f"max {max(exact_t) * 1e3:.1f} ms per check")
    else:
        print(f"\nexact layer (sympy / high precision in the worker): ran on 0 of {len(all_ours)} cases")
    print("\nagree: share of cases where the checker's decision equals the expected label "
          "(undecided = disagree); times in microseconds per check; ratio = Math-Verify / ours")


def _p99(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(0.99 * len(xs)))]


def _row(name, n, a_ours, a_mv, t_ours, t_mv) -> str:
    med_o, med_m = statistics.median(t_ours), statistics.median(t_mv)
    p_o, p_m = _p99(t_ours), _p99(t_mv)
    agree = (f"{a_ours:>6}/{n:<5}{a_mv:>5}/{n:<4}" if a_ours is not None else " " * 22)
    return (f"{name:<30}{n:>6}{agree}{med_o * 1e6:>10.0f}{p_o * 1e6:>10.0f}{med_m * 1e6:>10.0f}"
            f"{p_m * 1e6:>10.0f}{med_m / med_o:>10.1f}x{p_m / p_o:>10.1f}x")


if __name__ == "__main__":
    main()
