"""The command shell (verify/commands/_shell.py): negative arguments, exit codes, refused
options, --version, --verbose, escaped output. CliRunner with exact output."""
from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from cli import app
from verify.commands._shell import DashArgsCommand, printable

runner = CliRunner()


@pytest.mark.parametrize("args,code,out", [
    # a leading minus is an answer, not an option (no `--` needed)
    (["e^{i\\pi}", "-1"], 0, "equal [structural]: gold e^{i\\pi} | pred -1 | structurally equal\n"),
    (["-3", "\\boxed{-3}"], 0, "equal [string]: gold -3 | pred -3 | identical\n"),
    (["-x", "-x"], 0, "equal [string]: gold -x | pred -x | identical\n"),
    (["-", "-"], 0, "equal [string]: gold - | pred - | identical\n"),
    # real options keep working before, between and after the answers, with '=' or a value
    (["--timeout", "2", "-1", "-1"], 0, "equal [string]: gold -1 | pred -1 | identical\n"),
    (["1", "--timeout=3", "-1"], 1, "not equal [numeric]: gold 1 | pred -1 | 1 != -1\n"),
    (["-0.5", "-1/2", "--isolate"], 0, "equal [numeric]: gold -0.5 | pred -1/2 | -0.5 == -0.5\n"),
    (["--", "-2", "-2"], 0, "equal [string]: gold -2 | pred -2 | identical\n"),
    # the reason shows the normalised values: a percent reads both ways
    (["10\\%", "0.1"], 0, "equal [numeric]: gold 10\\% | pred 0.1 | 10% (=0.1) == 0.1\n"),
    (["50%", "2"], 1, "not equal [numeric]: gold 50% | pred 2 | 50% (=0.5) != 2\n"),
])
def test_check_negative_answers_and_options(args, code, out):
    r = runner.invoke(app, ["check", *args])
    assert (r.exit_code, r.stdout, r.stderr) == (code, out, "")


def test_check_escapes_control_characters():
    r = runner.invoke(app, ["check", "5", "the answer is \\boxed{5}\x07\x1b[2J"])
    assert (r.exit_code, r.stdout) == (0, "equal [string]: gold 5 | pred 5 | identical\n")
    r = runner.invoke(app, ["check", "\x1b[31m5", "5"])
    assert r.exit_code == 2
    assert r.stdout == "undecided [parse-error]: gold \\x1b[31m5 | pred 5 | cannot parse gold answer: unexpected '\\x1b'\n"
    assert "\x1b" not in r.stdout
    assert printable("a\u202eb\x85c\td\x7f") == "a\\u202eb\\x85c\\x09d\\x7f"


@pytest.mark.parametrize("args,err", [
    (["--isolate", "true", "1", "1"], "error: --isolate is a flag and takes no value: write --isolate, not --isolate true\n"),
    (["1", "1", "--out", "o.jsonl"], "error: --out applies to --pairs only\n"),
    (["1", "1", "--min-accuracy", "0.5"], "error: --min-accuracy applies to --pairs only\n"),
    (["1", "1", "--jobs", "2"], "error: --jobs applies to --pairs only\n"),
    (["1"], "error: give GOLD and PRED, or --pairs FILE.jsonl\n"),
])
def test_check_refuses_bad_usage(args, err):
    r = runner.invoke(app, ["check", *args])
    assert (r.exit_code, r.stdout, r.stderr) == (2, "", err)


def test_version():
    r = runner.invoke(app, ["--version"])
    assert (r.exit_code, r.stdout) == (0, "verify 0.2.0\n")


def _commands(group, prefix=()):
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, prefix + (name,))
        else:
            yield prefix + (name,)


def test_no_help_shows_bool_and_every_command_has_help():
    import typer.main
    names = list(_commands(typer.main.get_command(app)))
    assert ("check",) in names and ("prm", "eval") in names and ("analyze", "binomial") in names
    for name in [()] + names:
        r = runner.invoke(app, [*name, "--help"])
        assert r.exit_code == 0, name
        assert "<bool>" not in r.stdout and "--help" in r.stdout, name


@pytest.mark.parametrize("args,err", [
    (["eval", "--samples", "s.jsonl", "--model", "x"], "error: --model applies to run mode only (without --samples)\n"),
    (["eval", "--samples", "s.jsonl", "--temperature", "0"],
     "error: --temperature applies to run mode only (without --samples)\n"),
    (["eval", "--backend", "callable", "--model", "m:f", "--base-url", "http://h"],
     "error: --base-url applies to --backend openai only, not callable\n"),
    (["eval", "--backend", "openai", "--model", "m", "--threads", "2"],
     "error: --threads applies to --backend transformers, ct2 or auto only, not openai\n"),
    (["sample", "-d", "arith", "-o", "o.jsonl", "--round-size", "3"], "error: --round-size applies with --adaptive only\n"),
    (["sample", "-d", "arith", "-o", "o.jsonl", "-b", "replay", "-m", "r.jsonl", "--tensor-parallel-size", "2"],
     "error: --tensor-parallel-size applies to --backend vllm only, not replay\n"),
    (["sample", "-d", "arith", "-o", "o.jsonl", "-b", "vllm", "-m", "x", "--threads", "2"],
     "error: --threads applies to --backend transformers, ct2 or auto only, not vllm\n"),
    (["prm", "eval", "--data", "d.jsonl", "--prm", "arith", "--device", "cuda"],
     "error: --device applies to a PRM model directory only, not --prm arith\n"),
    (["prm", "score", "--samples", "s.jsonl", "--prm", "arith", "--out", "o.jsonl", "--spec", "qwen-prm"],
     "error: --spec applies to a PRM model directory only, not --prm arith\n"),
    (["prm", "train", "--data", "d.jsonl", "--base-model", "m", "--out", "o", "--lora-r", "4"],
     "error: --lora-r applies with --lora only\n"),
])
def test_options_that_would_be_ignored_are_refused(tmp_path, monkeypatch, args, err):
    monkeypatch.chdir(tmp_path)  # the relative output paths above must stay unwritten
    r = runner.invoke(app, args)
    assert (r.exit_code, r.stderr) == (2, err)
    assert not any(tmp_path.iterdir())


def test_prm_bad_input_exits_2_like_every_command(tmp_path):
    missing = tmp_path / "missing.jsonl"
    for args in (["prm", "eval", "--data", str(missing), "--prm", "arith"],
                 ["prm", "score", "--samples", str(missing), "--prm", "arith", "--out", str(tmp_path / "o.jsonl")],
                 ["eval", "--samples", str(missing)],
                 ["analyze", "samples", str(missing)],
                 ["convert", str(missing), "--format", "sal", "--out", str(tmp_path / "c.jsonl")]):
        r = runner.invoke(app, args)
        assert (r.exit_code, r.stdout) == (2, ""), args
        assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1 and str(missing) in r.stderr, args


NOISE_ENV = ("TRANSFORMERS_VERBOSITY", "TRANSFORMERS_NO_ADVISORY_WARNINGS", "HF_HUB_DISABLE_PROGRESS_BARS",
             "TQDM_DISABLE", "VLLM_LOGGING_LEVEL", "TF_CPP_MIN_LOG_LEVEL")


def test_third_party_noise_is_silenced_unless_verbose(monkeypatch):
    for key in NOISE_ENV:
        monkeypatch.delenv(key, raising=False)
    r = runner.invoke(app, ["--verbose", "check", "1", "1"])
    assert r.exit_code == 0 and not any(k in os.environ for k in NOISE_ENV)
    monkeypatch.setenv("TQDM_DISABLE", "0")  # a value the user set is kept
    r = runner.invoke(app, ["check", "1", "1"])
    assert r.exit_code == 0
    assert {k: os.environ[k] for k in NOISE_ENV} == {
        "TRANSFORMERS_VERBOSITY": "error", "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TQDM_DISABLE": "0", "VLLM_LOGGING_LEVEL": "WARNING",
        "TF_CPP_MIN_LOG_LEVEL": "3"}


def test_dash_args_command_sorts_tokens():
    import typer.main
    cmd = typer.main.get_command(app).commands["check"]
    assert isinstance(cmd, DashArgsCommand)
    ctx = cmd.make_context("check", ["1", "1"])
    assert cmd._sort_args(ctx, ["-1", "--timeout", "-2", "--isolate", "-3"]) == \
        ["--timeout", "-2", "--isolate", "--", "-1", "-3"]
    assert cmd._sort_args(ctx, ["--pairs", "p.jsonl"]) == ["--pairs", "p.jsonl"]


@pytest.mark.parametrize("quiet", [True, False])
def test_quiet_third_party_stops_a_bare_tqdm_bar(quiet):
    """The GGUF de-quantisation bar is a bare tqdm: it must vanish by default and show with --verbose."""
    import subprocess
    import sys
    code = ("from verify.commands._shell import quiet_third_party\n"
            + ("quiet_third_party()\n" if quiet else "")
            + "from tqdm.auto import tqdm\nfor _ in tqdm(range(3), desc='Converting GGUF tensors'): pass\n")
    env = {k: v for k, v in os.environ.items() if k not in NOISE_ENV}
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120).stderr
    assert ("Converting GGUF tensors" in err) is not quiet
