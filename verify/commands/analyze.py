"""`verify analyze ...`: analytic models of majority voting (see `verify.analytic.model`).

binomial  maj@n for given p and n (binomial, or plurality/heterogeneity with --wrong/--concentration)
aime      predicted vs reported AIME 2024 cons@64 (DeepSeek-R1 report), leave-one-model-out
samples   fit the model to a samples file, predict maj@k, compare with the measured curve
pays      for which p voting with n samples gains enough over one sample
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Optional

import typer

from verify.commands._shell import fail
from verify.errors import InputError
from verify.records.io import cannot_write

app = typer.Typer(help="Analytic models of majority voting: binomial, plurality, heterogeneity.",
                  no_args_is_help=True,
                  rich_markup_mode=None)

JSON_HELP = "Write the result as JSON to PATH ('-': print it instead of the table)."
TIE_HELP = "Tie policy: random (coin flip among tied) | strict (ties lose) | at-least-half (ties win)."


def _floats(text: str, name: str) -> list[float]:
    try:
        vals = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        vals = [math.nan]
    if not vals or not all(math.isfinite(v) for v in vals):  # nan printed nan%; ",,," an empty table
        raise typer.BadParameter(f"expected comma-separated numbers, got {text!r}", param_hint=name)
    return vals


def _ints(text: str, name: str) -> list[int]:
    vals = _floats(text, name)
    if not vals or any(v < 1 or v != int(v) for v in vals):
        raise typer.BadParameter(f"expected comma-separated positive integers, got {text!r}", param_hint=name)
    return [int(v) for v in vals]


def _spread(text: str, name: str = "--wrong") -> float:
    if text.strip().lower() in ("inf", "distinct"):
        return math.inf
    try:
        m = int(text)
    except ValueError:
        raise typer.BadParameter(f"expected a positive integer or 'inf', got {text!r}", param_hint=name) from None
    if m < 1:
        raise typer.BadParameter("must be >= 1", param_hint=name)
    return m


def _spread_name(m: float) -> str:
    return "all distinct" if math.isinf(m) else f"{int(m)}"


def _json(json_out: Optional[str], obj: Any) -> bool:
    """Honour --json: '-' prints OBJ (and returns True: no table), a path gets it written."""
    if json_out is None:
        return False
    if json_out == "-":
        typer.echo(json.dumps(obj))
        return True
    from verify.records.io import write_json_atomic
    try:
        write_json_atomic(Path(json_out), obj)
    except (InputError, OSError) as exc:
        fail(exc)
    typer.echo(f"json: {json_out}")
    return False


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    from verify.records.io import write_jsonl_atomic
    try:
        write_jsonl_atomic(path, rows)
    except InputError as exc:
        fail(exc)


def _save_plot(draw, out: Path, *args) -> str:
    """Run a `verify.analytic.plot` function; an unwritable PNG path is a clean error."""
    try:
        return draw(*args)
    except InputError as exc:  # verify.records.outputs.write_figure names the path
        fail(exc)
    except OSError as exc:
        fail(cannot_write(out, exc))


@app.command("binomial")
def binomial(
    p: str = typer.Option("0.71", "--p", help="Per-sample accuracy, or a comma-separated list."),
    n: str = typer.Option("1,4,8,64", "--n", help="Comma-separated numbers of samples voted."),
    ties: str = typer.Option("random", "--ties", help=TIE_HELP),
    wrong: str = typer.Option("1", "--wrong", help="Distinct wrong answers sharing the wrong mass "
                              "(1 = binary majority; 'inf' = all distinct)."),
    concentration: float = typer.Option(math.inf, "--concentration",
                                        help="Beta concentration of per-problem accuracy (inf: all problems equal)."),
    json_out: Optional[str] = typer.Option(None, "--json", help=JSON_HELP),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write a PNG of maj@n against n."),
) -> None:
    """maj@n from the binomial formula (or the plurality/heterogeneity model)."""
    from verify.analytic.model import heterogeneous_accuracy, majority_accuracy
    ps, ns, m = _floats(p, "--p"), _ints(n, "--n"), _spread(wrong)
    try:
        binom = majority_accuracy([[x] for x in ps], ns, ties)
        model = None
        if m != 1 or not math.isinf(concentration):
            model = [[heterogeneous_accuracy(x, concentration, k, wrong=m, ties=ties) for k in ns] for x in ps]
    except ValueError as exc:
        fail(exc)
    rows = [{"p": x, "n": k, "ties": ties, "binomial": float(binom[i][j]),
             **({} if model is None else {"model": float(model[i][j]), "wrong": _spread_name(m),
                                          "concentration": concentration if math.isfinite(concentration) else "inf"})}
            for i, x in enumerate(ps) for j, k in enumerate(ns)]
    as_json = _json(json_out, rows)
    if not as_json:
        head = f"{'p':>6} {'n':>5} {'binomial':>9}"
        if model is not None:
            head += f" {'model':>7}   (wrong answers: {_spread_name(m)}, concentration: {concentration:g})"
        typer.echo(f"majority-vote accuracy, ties={ties}")
        typer.echo(head)
        for r in rows:
            line = f"{r['p']:>6.3f} {r['n']:>5d} {100 * r['binomial']:>8.1f}%"
            if model is not None:
                line += f" {100 * r['model']:>6.1f}%"
            typer.echo(line)
    if plot is not None:
        from functools import partial

        from verify.analytic.plot import plot_binomial
        vals = model if model is not None else binom
        draw = partial(plot_binomial, binomial=None if model is None else binom, ties=ties, wrong=m,
                       concentration=concentration)  # with a seeded simulation of the vote beside the formula
        typer.echo(f"wrote {_save_plot(draw, plot, ps, ns, vals, plot, 'model' if model is not None else 'binomial')}",
                   err=as_json)


@app.command("aime")
def aime(
    data: Optional[Path] = typer.Option(None, "--data", help="Published figures JSON (default: the "
                                        "DeepSeek-R1 AIME 2024 table shipped in data/)."),
    json_out: Optional[str] = typer.Option(None, "--json", help=JSON_HELP),
    out: Optional[Path] = typer.Option(None, "--out", help="Write one JSON line per model."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write a PNG: reported vs predicted."),
) -> None:
    """Predict each model's cons@64 from its pass@1; shared parameters fitted leave-one-model-out."""
    from verify.analytic.fit import REPORT_PATH, aime_table, design_notes_check, load_report
    try:
        doc, rows = load_report(data or REPORT_PATH)
        table = aime_table(rows, n=doc["n_samples"], n_problems=doc["n_problems"])
    except (InputError, ValueError) as exc:
        fail(exc)
    notes = design_notes_check(doc["design_notes"], table["fit_all"]) if "design_notes" in doc else []
    if out is not None:
        _write_jsonl(out, table["rows"])
    as_json = _json(json_out, {**table, "design_notes": notes})
    if not as_json:
        _print_aime(doc, table, notes)
    if plot is not None:
        from verify.analytic.plot import plot_aime
        typer.echo(f"wrote {_save_plot(plot_aime, plot, table, plot)}", err=as_json)


def _print_aime(doc: dict, table: dict, notes: list[dict]) -> None:
    n, npb = table["n"], table["n_problems"]
    rows = table["rows"]
    typer.echo(f"{doc.get('benchmark', '')}: cons@{n} predicted from pass@1, {len(rows)} models, "
               f"{npb} problems each")
    typer.echo(f"reported ± = 95% sampling noise of a {npb}-problem accuracy (1.96 SE); "
               f"* = error within that noise")
    typer.echo(f"{'model':<30} {'pass@1':>6} {'cons@' + str(n):>8} {'±':>5} {'binomial':>9} {'err':>6}  "
               f"{'model':>6} {'err':>6}")
    for r in rows:
        star = {k: "*" if r["within_noise"][k] else " " for k in ("binomial", "model")}
        typer.echo(f"{r['model'][:30]:<30} {r['pass@1']:>6.1f} {r[f'cons@{n}']:>8.1f} {1.96 * r['se']:>5.1f} "
                   f"{r['pred_binomial']:>9.1f} {r['err_binomial']:>+6.1f}{star['binomial']} "
                   f"{r['pred_model']:>6.1f} {r['err_model']:>+6.1f}{star['model']}")
    mae = table["mae"]
    typer.echo(f"mean absolute error over {len(rows)} models (points): binomial {mae['binomial']:.1f} | "
               f"heterogeneity only {mae['heterogeneity']:.1f} | plurality only {mae['plurality']:.1f} | "
               f"model (leave-one-model-out) {mae['model']:.1f}")
    for g, v in table["mae_by_group"].items():
        cnt = sum(r["group"] == g for r in rows)
        typer.echo(f"  {g or '(no group)'} ({cnt}): binomial {v['binomial']:.1f}, model {v['model']:.1f}")
    within = {k: sum(r["within_noise"][k] for r in rows) for k in ("binomial", "model")}
    typer.echo(f"within sampling noise: binomial {within['binomial']}/{len(rows)}, model {within['model']}/{len(rows)}")
    fa = table["fit_all"]
    wrong = "all distinct" if fa["wrong"] == "inf" else fa["wrong"]
    typer.echo(f"fit on all rows: Beta concentration {fa['concentration']:.2f}, wrong answers {wrong}")
    for d in notes:
        typer.echo(f"design notes: pass@1 71 -> maj@{d['k']} stated {d['stated']:.0f}, "
                   f"binomial {d['binomial']:.1f}, model {d['model']:.1f}")


@app.command("samples")
def samples(
    path: Path = typer.Argument(..., help="Samples JSONL (the `verify eval` schema, or --format)."),
    fmt: str = typer.Option("verify", "--format", help="Input format: verify | qwen-rm-maj | prm-scored | sal."),
    fit_k: int = typer.Option(4, "--fit-k", help="Fit on the first FIT_K samples of each problem."),
    k: Optional[str] = typer.Option(None, "--k", help="Comma-separated k to predict (default: powers of 2)."),
    group: str = typer.Option("equivalence", "--group", help="Answer classes: equivalence | string."),
    grade: str = typer.Option("checker", "--grade", help="checker (compare with gold) | source (a "
                              "recorded per-sample 'correct' flag)."),
    json_out: Optional[str] = typer.Option(None, "--json", help=JSON_HELP),
    out: Optional[Path] = typer.Option(None, "--out", help="Write one JSON line per k."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write a PNG: predicted vs measured maj@k."),
) -> None:
    """Fit the vote model on a few samples per problem; predict and measure maj@k."""
    import sys

    from verify.analytic.samples import analyze_samples
    from verify.select.grading import grade_traces
    from evals.importers import load_samples
    ks = None if k is None else _ints(k, "--k")

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty() and (done == total or done % 50 == 0):  # live counter on a terminal
            print(f"\rgrading {done}/{total} problems", end="\n" if done == total else "", file=sys.stderr)
        elif done == total:  # logs and pipes get one line
            print(f"grading {done}/{total} problems", file=sys.stderr)
    try:
        from verify.records.outputs import refuse_overlap
        refuse_overlap({"--out": out, "--plot": plot}, {"PATH": path})
        traces = load_samples(path, fmt)
        problems, _ = grade_traces(traces, group=group, grade=grade, progress=progress)
        result = analyze_samples(problems, fit_k=fit_k, ks=ks)
    except (InputError, ValueError) as exc:
        fail(exc)
    if out is not None:
        _write_jsonl(out, result["curve"])
    as_json = _json(json_out, result)
    if not as_json:
        f = result["fit"]
        typer.echo(f"{path.name}: {result['n_problems']} problems, up to {result['max_samples']} samples each")
        typer.echo(f"fit on first {f['fit_k']} samples: mean accuracy {100 * f['mean']:.1f}%, Beta concentration "
                   f"{f['concentration']:.2f}, wrong answers {f['wrong'] if f['wrong'] != 'inf' else 'all distinct'}, "
                   f"abstain share {f['abstain']:.2f}")
        typer.echo(f"{'k':>4} {'predicted':>9} {'binomial':>9} {'measured':>9} {'95% CI':>15} {'problems':>8}")
        for r in result["curve"]:
            meas = "-" if r["measured"] is None else f"{100 * r['measured']:.1f}%"
            ci = "-" if r["measured"] is None else f"[{100 * r['ci_low']:.1f}, {100 * r['ci_high']:.1f}]"
            typer.echo(f"{r['k']:>4} {100 * r['predicted']:>8.1f}% {100 * r['binomial']:>8.1f}% {meas:>9} "
                       f"{ci:>15} {r['n_problems']:>8}")
        if result["mae_model"] is not None:
            typer.echo(f"mean absolute error vs measured (points): model {100 * result['mae_model']:.1f}, "
                       f"binomial {100 * result['mae_binomial']:.1f}")
    if plot is not None:
        from verify.analytic.plot import plot_samples
        typer.echo(f"wrote {_save_plot(plot_samples, plot, result, plot)}", err=as_json)


@app.command("pays")
def pays(
    n: int = typer.Option(8, "--n", min=2, help="Samples voted (cost: n times one sample)."),
    min_gain: float = typer.Option(5.0, "--min-gain", help="Accuracy points maj@n must add over one "
                                   "sample to be worth n-fold cost."),
    wrong: str = typer.Option("1,2,3,10,inf", "--wrong", help="Wrong-answer spreads to compare."),
    concentration: float = typer.Option(math.inf, "--concentration", help="Beta concentration of "
                                        "per-problem accuracy (inf: all problems equal; AIME fit: ~0.3)."),
    p: str = typer.Option("0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9", "--p", help="Accuracies to tabulate."),
    json_out: Optional[str] = typer.Option(None, "--json", help=JSON_HELP),
) -> None:
    """When does voting pay? Gain of maj@n over one sample, by p and wrong-answer spread."""
    from verify.analytic.model import pays_range, voting_gain
    ps = _floats(p, "--p")
    spreads = [_spread(x) for x in wrong.split(",") if x.strip()]
    try:
        gains = {m: voting_gain(ps, n, wrong=m, concentration=concentration) for m in spreads}
        if not math.isfinite(min_gain):
            raise ValueError(f"--min-gain must be a finite number of points, got {min_gain}")
        ranges = {m: pays_range(n, min_gain / 100, wrong=m, concentration=concentration) for m in spreads}
    except ValueError as exc:
        fail(exc)
    if _json(json_out, {"n": n, "min_gain": min_gain, "concentration": _num(concentration),
                        "rows": [{"p": x, **{_spread_name(m): 100 * float(gains[m][i]) for m in spreads}}
                                 for i, x in enumerate(ps)],
                        "pays": {_spread_name(m): ranges[m] for m in spreads}}):
        return
    het = "all problems equally hard" if math.isinf(concentration) else f"Beta concentration {concentration:g}"
    typer.echo(f"gain of maj@{n} over one sample, accuracy points ({het}; columns: distinct wrong answers)")
    typer.echo(f"{'p':>5} " + " ".join(f"{_spread_name(m):>13}" for m in spreads))
    for i, x in enumerate(ps):
        typer.echo(f"{x:>5.2f} " + " ".join(f"{round(100 * float(gains[m][i]), 1) + 0.0:>+13.1f}" for m in spreads))
    typer.echo(f"voting pays (gain >= {min_gain:g} points for {n}x the cost) when:")
    for m in spreads:
        r = ranges[m]
        where = "never" if r is None else f"{r[0]:.2f} <= p <= {r[1]:.2f}"
        typer.echo(f"  wrong answers {_spread_name(m):>12}: {where}")


def _num(x: float):
    return "inf" if math.isinf(x) else x
