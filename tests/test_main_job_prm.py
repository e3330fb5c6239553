"""The main job's PRM is chosen from the shipped held-out comparison (data), not hard-coded."""
from __future__ import annotations

import json

import pytest

import evals.runner as runner
from evals.runner import RunConfig, main_job_prm, run_eval
from verify.errors import InputError
from verify.sampling.base import Completion


def _decision(tmp_path, learned, arith):
    p = tmp_path / "heldout.json"
    p.write_text(json.dumps({"metric": "prm-best-of-8 accuracy", "learned": learned, "arith": arith, "n": 40}))
    return p


def test_learned_prm_is_chosen_when_it_beats_arith(tmp_path):
    assert main_job_prm(_decision(tmp_path, 0.7, 0.6)) == (
        "smollm2-prm", "prm: smollm2-prm (the learned PRM beats the arithmetic scorer: prm-best-of-8 accuracy "
                       "0.700 vs arith 0.600 on held-out problems; see docs/learned-prm.md)")


@pytest.mark.parametrize("learned", [0.55, 0.6])  # a tie keeps arith: it is free and needs no model
def test_arith_is_kept_and_says_why(tmp_path, learned):
    assert main_job_prm(_decision(tmp_path, learned, 0.6)) == (
        "arith", f"prm: arith (the learned smollm2-prm does not beat it: prm-best-of-8 accuracy {learned:.3f} "
                 "vs arith 0.600 on held-out problems; see docs/learned-prm.md)")


def test_missing_and_broken_comparisons(tmp_path):
    assert main_job_prm(tmp_path / "none.json") == (
        "arith", "prm: arith (no held-out comparison shipped for the learned smollm2-prm)")
    bad = tmp_path / "bad.json"
    bad.write_text('{"learned": 0.7}')
    with pytest.raises(InputError, match="not a held-out comparison"):
        main_job_prm(bad)


def fake_prm(question, steps):
    """A stand-in learned PRM: trusts steps that state the right sum for 'What is a + b?'."""
    return [0.9 if "= 4" in s else 0.1 for s in steps]


def _fake_generator(*args, **kwargs):
    from verify.sampling.callable_backend import CallableGenerator
    answers = ["4", "5", "5", "4", "5", "5", "6", "5"]
    return CallableGenerator(lambda prompt, n: [
        Completion(text=f"2 + 2 = {a}.\n\nThe answer is \\boxed{{{a}}}.", num_tokens=9, prompt_tokens=20)
        for a in answers[:n]])


@pytest.mark.parametrize("learned, expect, first_scores", [
    (0.9, "python:tests.test_main_job_prm:fake_prm", [0.9, 0.1]),
    (0.1, "arith", [0.95, 0.7])])
def test_the_main_job_uses_the_chosen_prm_and_says_so_first(tmp_path, monkeypatch, capsys, learned, expect,
                                                            first_scores):
    monkeypatch.setattr(runner, "LEARNED_PRM", "python:tests.test_main_job_prm:fake_prm")
    # an absolute path: data_path(name) is then the file itself
    monkeypatch.setattr(runner, "LEARNED_PRM_DECISION", str(_decision(tmp_path, learned, 0.5)))
    monkeypatch.setattr("verify.sampling.factory.build_generator", _fake_generator)
    cfg = RunConfig(methods=["prm-best-of-8"], out_dir=str(tmp_path / "run"), limit=2, n_boot=200,
                    backend="transformers")
    assert cfg.is_default_demo
    res = run_eval(cfg)
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith(f"prm: {expect} (")
    assert (tmp_path / "run" / "scored.jsonl.prm").read_text() == expect + "\n"
    assert res.config["prm"] == expect
    assert ("the arithmetic-claim checker as PRM" in res.run["demo_note"]) == (expect == "arith")
    scored = [json.loads(x) for x in (tmp_path / "run" / "scored.jsonl").read_text().splitlines()]
    assert scored[0]["step_scores"] == first_scores


def test_cli_prints_the_choice_first(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cli import app
    monkeypatch.setattr(runner, "LEARNED_PRM_DECISION", str(_decision(tmp_path, 0.4, 0.5)))
    monkeypatch.setattr("verify.sampling.factory.build_generator", _fake_generator)
    r = CliRunner().invoke(app, ["eval", "--method", "prm-best-of-8", "--limit", "2", "--n-boot", "100",
                                 "--out-dir", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == ("prm: arith (the learned smollm2-prm does not beat it: prm-best-of-8 "
                                        "accuracy 0.400 vs arith 0.500 on held-out problems; see docs/learned-prm.md)")
    assert r.stdout.splitlines()[1].startswith("Default run: SmolLM2-135M-Instruct")
