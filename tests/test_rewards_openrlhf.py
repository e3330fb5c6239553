"""OpenRLHF's own reward client against `verify.rewards.openrlhf` and `verify serve`.

OpenRLHF does not install on a CPU-only machine with its dependencies (flash-attn and
deepspeed build against CUDA), but the package itself imports: in a venv,

    python3 -m venv --system-site-packages /work/venvs/openrlhf
    /work/venvs/openrlhf/bin/pip install --no-deps openrlhf && /work/venvs/openrlhf/bin/pip install ray aiohttp pylatexenc
    /work/venvs/openrlhf/bin/python -m pytest -q -m openrlhf tests/test_rewards_openrlhf.py

Its `SingleTurnAgentExecutor` loads ``reward_func`` from the file given as ``--remote_rm_url``
and calls it off the event loop's thread, or POSTs the ``/get_reward`` protocol with aiohttp.
Skipped where openrlhf is not importable.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

pytest.importorskip("openrlhf")
agent = pytest.importorskip("openrlhf.utils.agent")

pytestmark = pytest.mark.openrlhf

import verify.rewards.openrlhf as ours  # noqa: E402

PROMPTS = ["Worked example: \\boxed{9}.\nQ: 6*7? A:", "Q: 2+2? A:", "Q: 1+1? A:"]
RESPONSES = [" 6*7 = 42, so \\boxed{42}", " \\boxed{5}", " I cannot solve this."]
LABELS = ["42", "4", "2"]


def test_reward_func_loaded_by_path_and_called_by_openrlhf():
    ex = agent.SingleTurnAgentExecutor(remote_rm_url=str(Path(ours.__file__)))
    assert ex.reward_func is not None and ex.reward_func.__name__ == "reward_func"
    queries = [p + r for p, r in zip(PROMPTS, RESPONSES)]
    out = asyncio.run(ex._fetch_rewards_via_func(queries, PROMPTS, LABELS))
    # OpenRLHF calls it once per sample (batch size 1), from a worker thread
    assert [o["rewards"].tolist() for o in out] == [[1.0], [0.0], [0.0]]
    assert [o["scores"].tolist() for o in out] == [[1.0], [0.0], [0.0]]
    assert out[2]["extra_logs"]["no_answer_share"].item() == 1.0


def test_openrlhf_http_client_against_verify_serve():
    from test_serve import TOKEN, Server

    server = Server("--jobs", "1")
    try:
        url = f"http://127.0.0.1:{server.port}/get_reward?token={TOKEN}"
        ex = agent.SingleTurnAgentExecutor(remote_rm_url=url)
        queries = [p + r for p, r in zip(PROMPTS, RESPONSES)]
        (out,) = asyncio.run(ex._fetch_rewards_via_http(queries, PROMPTS, LABELS))
        assert out["rewards"] == [1.0, 0.0, 0.0] and out["scores"] == [1.0, 0.0, 0.0]
        assert out["extra_logs"]["accuracy"] == pytest.approx(1 / 3)
    finally:
        server.stop()
