"""Every snippet of docs/rewards.md runs: TRL, verl, OpenRLHF, the server; outputs as printed.

Snippets are read from the page at test time. The TRL snippet runs as written with a tiny
random-init model, tokenizer and dataset put in its namespace (the page says they are yours),
and ``use_cpu=True`` added to its GRPOConfig (there is no GPU here).
The trainer commands cannot run here (no GPU, no hub): what they hand to the trainer is run
instead: the verl path and name are loaded as verl loads them (with verl's own loader where
verl is installed), and the OpenRLHF server lines start `verify serve` as written (on a free
port) and its URL gets OpenRLHF's request.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "rewards.md"


def blocks(lang: str) -> list[str]:
    text = PAGE.read_text(encoding="utf-8")
    return [m.group(1) for m in re.finditer(rf"^ *```{lang}\n(.*?)^ *```$", text, re.S | re.M)]


def _shell_subst(cmd: str) -> str:
    """Run the $(python3 -c "...") parts of a command as the shell would."""
    def run(m):
        argv = shlex.split(m.group(1))
        argv[0] = sys.executable if argv[0] == "python3" else argv[0]
        return subprocess.run(argv, capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()
    return re.sub(r"\$\((python3 -c \"[^\"]*\")\)", run, cmd)


def _args(block: str) -> list[str]:
    return shlex.split(_shell_subst(block.replace("\\\n", " ")))


@pytest.mark.slow
def test_trl_snippet_trains_two_steps(tmp_path, monkeypatch):
    pytest.importorskip("trl")
    from datasets import Dataset
    from test_rewards_trl import _tiny_model_and_tokenizer

    (snippet,) = [b for b in blocks("python") if "GRPOTrainer" in b]
    model, tokenizer = _tiny_model_and_tokenizer()
    ns = {"model": model, "tokenizer": tokenizer,
          "dataset": Dataset.from_dict({"prompt": ["1 + 1 ="] * 8, "solution": ["2"] * 8})}
    monkeypatch.chdir(tmp_path)
    import functools

    import trl

    # the one change for this machine: no GPU, so TRL must be told to train on the CPU
    monkeypatch.setattr(trl, "GRPOConfig", functools.partial(trl.GRPOConfig, use_cpu=True))
    exec(compile(snippet, str(PAGE), "exec"), ns)
    assert ns["trainer"].state.global_step == 2
    assert ns["reward"].values.no_answer == -0.5 and ns["reward"].jobs == 2
    logged = [h for h in ns["trainer"].state.log_history if "rewards/accuracy_reward/mean" in h]
    assert logged


def test_verl_python_snippet_prints_what_the_page_shows():
    py = [b for b in blocks("python") if "compute_score" in b]
    out = [b for b in blocks("text") if b.startswith("1.0\n")]
    assert len(py) == 1 and len(out) == 1
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(py[0], str(PAGE), "exec"), {})
    assert buf.getvalue() == out[0]


def test_verl_overrides_load_our_function():
    (cmd,) = [b for b in blocks("bash") if "verl.trainer.main_ppo" in b]
    overrides = [a for a in _args(cmd) if "=" in a]
    conf = dict(a.lstrip("+").split("=", 1) for a in overrides)
    path, name = conf["reward.custom_reward_function.path"], conf["reward.custom_reward_function.name"]
    assert Path(path).is_file() and name == "compute_score"
    # as verl loads it: a module made from the file, then getattr
    spec = importlib.util.spec_from_file_location("custom_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, name)
    kwargs = {"details": conf["reward.custom_reward_function.reward_kwargs.details"] == "true"}
    out = fn(data_source="openai/gsm8k", solution_str="so \\boxed{72}", ground_truth="72", **kwargs)
    assert out["score"] == 1.0
    try:
        from omegaconf import OmegaConf
        from verl.trainer.ppo.reward import get_custom_reward_fn
    except ImportError:
        return
    verl_fn = get_custom_reward_fn(OmegaConf.from_dotlist([a.lstrip("+") for a in overrides]))  # + : hydra "add"
    assert verl_fn(data_source="x", solution_str="so \\boxed{71}", ground_truth="72")["outcome"] == "wrong"


def test_openrlhf_file_command_names_a_reward_func():
    (cmd,) = [b for b in blocks("bash") if "remote_url $(" in b]
    args = _args(cmd)
    path = args[args.index("--reward.remote_url") + 1]
    assert path.endswith(".py") and args[args.index("--data.label_key") + 1] == "answer"
    spec = importlib.util.spec_from_file_location("reward_func", path)  # as OpenRLHF loads it
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.reward_func(["Q: 2+2? A: \\boxed{4}"], ["Q: 2+2? A:"], ["4"])
    assert out["rewards"].tolist() == [1.0]


def test_openrlhf_server_lines_and_curl_work_as_written():
    pytest.importorskip("fastapi")
    from test_serve import Server

    (cmd,) = [b for b in blocks("bash") if "verify serve" in b]
    lines = cmd.replace("\\\n", " ").splitlines()
    token_cmd = re.fullmatch(r'export VERIFY_SERVE_TOKEN=\$\((python3 -c ".*")\)', lines[0]).group(1)
    argv = shlex.split(token_cmd)
    token = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True, check=True).stdout.strip()
    serve = shlex.split(lines[1].rstrip("& "))
    assert serve[:2] == ["verify", "serve"]
    port = serve[serve.index("--port") + 1]
    server = Server(*[a for a in serve[2:] if a not in ("--port", port)], env={"VERIFY_SERVE_TOKEN": token})
    try:
        train = shlex.split(lines[2].replace("$VERIFY_SERVE_TOKEN", token))
        url = train[train.index("--reward.remote_url") + 1].replace(f":{port}/", f":{server.port}/")
        body = {"query": ["Q: 6*7? A: \\boxed{42}"], "prompts": ["Q: 6*7? A:"], "labels": ["42"]}
        req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})  # no headers beyond this
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert json.loads(resp.read())["rewards"] == [1.0]
        (curl,) = [b for b in blocks("bash") if b.startswith("curl ")]
        payload = shlex.split(curl)[shlex.split(curl).index("-d") + 1]
        status, out = server.request("POST", "/check", json.loads(payload), token=token)
        (shown,) = [b for b in blocks("text") if b.startswith('{"results"')]
        assert status == 200 and out == json.loads(shown)
    finally:
        server.stop()


def test_page_is_in_the_nav():
    assert "rewards.md" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert os.path.basename(PAGE) == "rewards.md"
