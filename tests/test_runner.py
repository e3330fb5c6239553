"""The end-to-end eval run on CPU: callable generator + arithmetic scorer, every file in the
run folder, and the figures in results.json against a hand computation."""
from __future__ import annotations

import json

import pytest

from evals.cost import Prices
from evals.runner import RunConfig, run_eval
from verify.sampling.base import Completion
from verify.records.types import Problem

# Per problem: the 4 completions (claim, boxed answer). Gold is 4 everywhere.
PLAN = {
    "What is 1 + 3?": [("1 + 3 = 4", "4"), ("1 + 3 = 4", "4"), ("1 + 3 = 5", "5"), ("1 + 3 = 5", "5")],
    "What is 2 + 2?": [("2 + 2 = 4", "4"), ("2 + 2 = 6", "6"), ("2 + 2 = 6", "6"), ("2 + 2 = 6", "6")],
    "What is 0 + 4?": [("0 + 4 = 4", "4")] * 4,
    "What is 3 + 1?": [("3 + 1 = 5", "5"), ("3 + 1 = 6", "6"), ("3 + 1 = 7", "7"), ("3 + 1 = 8", "8")],
}
PROBLEMS = [Problem(f"p{i}", q, "4") for i, q in enumerate(PLAN)]
# Hand computation (exact over all 4-subsets of 4 = the full set; ties split evenly):
#   single (mean pass@1):   (2/4 + 1/4 + 4/4 + 0) / 4        = 0.4375
#   majority@4:             (tie 2-2 -> 1/2, 0, 1, 0) / 4     = 0.375
#   prm-best-of-4 (prod):   wrong claims score low -> (1, 1, 1, 0) / 4 = 0.75
EXPECTED = {"single": 0.4375, "majority@4": 0.375, "prm-best-of-4": 0.75}

calls: list[int] = []


def generator_fn(prompt, n):
    calls.append(n)
    text = prompt if isinstance(prompt, str) else prompt[-1]["content"]
    q = next(q for q in PLAN if q in text)
    return [Completion(text=f"{claim}.\n\nThe answer is \\boxed{{{ans}}}.", num_tokens=10 + i,
                       prompt_tokens=30)
            for i, (claim, ans) in enumerate(PLAN[q][:n])]


def _run(tmp_path, **kw):
    from verify.sampling.callable_backend import CallableGenerator
    cfg = RunConfig(methods=["prm-best-of-4", "majority@4"], out_dir=str(tmp_path / "run"), n=4,
                    progress=False, n_boot=500, command="verify eval test", **kw)
    return run_eval(cfg, generator=CallableGenerator(generator_fn), problems=PROBLEMS)


def test_pipeline_files_and_figures(tmp_path):
    calls.clear()
    res = _run(tmp_path, prices=Prices(price_in=1.0, price_out=2.0, prm_price=0.5))
    run = tmp_path / "run"
    for name in ("samples.jsonl", "scored.jsonl", "results.json", "report.md", "curves.png"):
        assert (run / name).stat().st_size > 0, name
    samples = [json.loads(x) for x in (run / "samples.jsonl").read_text().splitlines()]
    scored = [json.loads(x) for x in (run / "scored.jsonl").read_text().splitlines()]
    assert len(samples) == len(scored) == 16
    assert all(len(s["step_scores"]) == len(s["steps"]) == 2 for s in scored)
    results = json.loads((run / "results.json").read_text())
    got = {m["method"]: m for m in results["results"]}
    assert set(got) == set(EXPECTED)
    for name, acc in EXPECTED.items():
        assert got[name]["accuracy"] == pytest.approx(acc), name
        assert got[name]["n_problems"] == 4
        assert got[name]["ci_low"] <= acc <= got[name]["ci_high"]
    # cost: mean generated tokens per sample = mean(10, 11, 12, 13) = 11.5; prompt 30 once
    assert got["majority@4"]["gen_tokens_per_problem"] == pytest.approx(46.0)
    assert got["single"]["cost_multiplier"] == pytest.approx(1.0)
    assert got["majority@4"]["cost_per_problem"] == pytest.approx((30 * 1.0 + 46.0 * 2.0) / 1e6)
    assert got["majority@4"]["cost_per_correct"] == pytest.approx((30 + 92) / 1e6 / 0.375)
    # the frontier: single is cheapest, prm-best-of-4 most accurate; majority@4 is dominated
    assert got["single"]["pareto"] and got["prm-best-of-4"]["pareto"] and not got["majority@4"]["pareto"]
    assert res.method("prm-best-of-4").accuracy == pytest.approx(0.75)
    report = (run / "report.md").read_text()
    assert "prm-best-of-4" in report and "95% CI" in report and "verify eval test" in report
    assert results["config"]["n"] == 4 and results["run"]["demo"] is False


def test_rerun_recomputes_nothing_and_keeps_everything(tmp_path):
    calls.clear()
    _run(tmp_path)
    first = (tmp_path / "run" / "scored.jsonl").read_text()
    assert sum(calls) == 16
    calls.clear()
    res = _run(tmp_path)
    assert calls == []  # nothing sampled again
    assert res.run["stages"]["score"]["scored"] == 0
    assert (tmp_path / "run" / "scored.jsonl").read_text() == first


def test_interrupted_sampling_and_scoring_resume(tmp_path):
    calls.clear()
    _run(tmp_path)
    run = tmp_path / "run"
    full = json.loads((run / "results.json").read_text())["results"]
    # simulate a crash: samples cut mid-line after 6 rows, scored cut after 3 rows
    lines = (run / "samples.jsonl").read_text().splitlines(keepends=True)
    (run / "samples.jsonl").write_text("".join(lines[:6]) + lines[6][:20])
    (run / "scored.jsonl").write_text("".join((run / "scored.jsonl").read_text().splitlines(keepends=True)[:3]))
    (run / "results.json").unlink()
    calls.clear()
    res = _run(tmp_path)
    assert res.run["stages"]["sample"]["sampled"] == 10
    assert res.run["stages"]["score"]["scored"] == 13
    rows = [json.loads(x) for x in (run / "scored.jsonl").read_text().splitlines()]
    assert sorted((r["problem_id"], r["sample_index"]) for r in rows) == sorted(
        (f"p{i}", j) for i in range(4) for j in range(4))
    assert [m.accuracy for m in res.results] == [m["accuracy"] for m in full]


def test_n_smaller_than_k_is_an_error(tmp_path):
    from verify.errors import InputError
    with pytest.raises(InputError, match="-n 2"):
        run_eval(RunConfig(methods=["majority@4"], n=2, out_dir=str(tmp_path), progress=False),
                 generator=None, problems=PROBLEMS)


def test_python_api_evaluate_returns_results_json_fields(tmp_path):
    from verify.api import evaluate
    calls.clear()
    res = evaluate(generator_fn, PROBLEMS, ["prm-best-of-4", "majority@4"], scorer="arith",
                   out_dir=str(tmp_path / "api"), n_boot=200, progress=False)
    on_disk = json.loads((tmp_path / "api" / "results.json").read_text())
    assert res.to_dict() == on_disk
    assert {m.method: m.accuracy for m in res.results} == pytest.approx(EXPECTED)
    # a user's own scorer: any (question, steps) -> list[float]; this one scores every step alike
    res2 = evaluate(generator_fn, PROBLEMS, ["prm-best-of-4"], out_dir=str(tmp_path / "api2"), n=4,
                    scorer=lambda q, steps: [0.5] * len(steps), progress=False, baseline=False)
    assert [m.method for m in res2.results] == ["prm-best-of-4"]
    # all scores tie -> best-of-4 is the random-tie expectation = mean pass@1
    assert res2.results[0].accuracy == pytest.approx(EXPECTED["single"])


def test_cli_with_replay_generator_and_data_file(tmp_path):
    """The same hand-computed figures through `verify eval` with recorded completions."""
    from typer.testing import CliRunner

    from cli import app
    data = tmp_path / "problems.jsonl"
    data.write_text("".join(json.dumps({"id": p.id, "question": p.question, "answer": p.gold}) + "\n"
                            for p in PROBLEMS))
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text("".join(json.dumps({"id": f"p{i}", "question": q, "completions": [
        f"{claim}.\n\nThe answer is \\boxed{{{ans}}}." for claim, ans in PLAN[q]]}) + "\n"
        for i, q in enumerate(PLAN)))
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["eval", "--backend", "replay", "--model", str(recorded), "--data-file", str(data),
                                 "--method", "prm-best-of-4", "--method", "majority@4", "--out-dir", str(out),
                                 "--n-boot", "300"])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "results.json").read_text())
    assert {m["method"]: m["accuracy"] for m in res["results"]} == pytest.approx(EXPECTED)
    assert res["config"]["dataset"] == "problems.jsonl"
    assert "Dataset `problems.jsonl` (4 problems)" in (out / "report.md").read_text()
    lines = r.output.splitlines()
    head = next(i for i, x in enumerate(lines) if x.startswith("method"))
    assert lines[head + 2].split()[:2] == ["single", "0.438"]
    assert lines[head + 3].split()[:2] == ["prm-best-of-4", "0.750"]
    assert lines[head + 4].split()[:2] == ["majority@4", "0.375"]


def test_a_run_folder_never_mixes_two_prms(tmp_path):
    from verify.errors import InputError
    _run(tmp_path)
    assert (tmp_path / "run" / "scored.jsonl.prm").read_text() == "arith\n"
    with pytest.raises(InputError, match="was scored by PRM 'arith'"):
        _run(tmp_path, prm="python:os.path:join")
