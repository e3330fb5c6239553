"""vLLM backend against a fake `vllm` module put in sys.modules: it asserts the exact engine
and sampling arguments and answers with objects shaped like vLLM's RequestOutput /
CompletionOutput (same attribute names). No GPU, no vllm install."""
from __future__ import annotations

import json
import re
import sys
import types
from dataclasses import dataclass, field

import pytest
from typer.testing import CliRunner

from verify.sampling.base import SamplingParams, derive_seed, get_generator


@dataclass
class CompletionOutput:  # vllm.outputs.CompletionOutput's fields
    index: int
    text: str
    token_ids: list
    cumulative_logprob: float | None
    logprobs: list | None
    finish_reason: str | None = None
    stop_reason: int | str | None = None


@dataclass
class RequestOutput:  # vllm.outputs.RequestOutput's fields used here
    request_id: str
    prompt: str | None
    prompt_token_ids: list
    prompt_logprobs: list | None
    outputs: list
    finished: bool = True
    metrics: dict = field(default_factory=dict)


def make_fake_vllm():
    fake = types.ModuleType("vllm")
    fake.engines, fake.calls = [], []

    class FakeSamplingParams:
        def __init__(self, **kw):
            assert set(kw) <= {"n", "seed", "temperature", "top_p", "max_tokens", "stop", "logprobs"}, kw
            self.kw = kw

    class FakeLLM:
        def __init__(self, **kw):
            fake.engines.append(kw)

        def _answer(self, key, sp, i):
            kw = sp.kw
            # outputs deliberately out of index order; ids of the prompt are its length in chars
            outs = [CompletionOutput(index=j, text=f"{key} s{kw['seed']} #{j} \\boxed{{{j}}}",
                                     token_ids=list(range(3 + j)), cumulative_logprob=-1.5 * (j + 1),
                                     logprobs=[], finish_reason="length" if j == 0 else "stop",
                                     stop_reason=None)
                    for j in reversed(range(kw["n"]))]
            return RequestOutput(request_id=str(i), prompt=None, prompt_token_ids=list(range(len(key))),
                                 prompt_logprobs=None, outputs=outs)

        def generate(self, prompts, sampling_params, use_tqdm=True):
            assert all(isinstance(p, str) for p in prompts)
            assert isinstance(sampling_params, list) and len(sampling_params) == len(prompts)
            fake.calls.append(("generate", prompts, [sp.kw for sp in sampling_params]))
            return [self._answer(p, sp, i) for i, (p, sp) in enumerate(zip(prompts, sampling_params))]

        def chat(self, messages, sampling_params, use_tqdm=True, add_generation_prompt=True, **kw):
            assert add_generation_prompt is True
            assert all(isinstance(m, list) and all("role" in x for x in m) for m in messages)
            assert isinstance(sampling_params, list) and len(sampling_params) == len(messages)
            fake.calls.append(("chat", messages, [sp.kw for sp in sampling_params]))
            return [self._answer(m[-1]["content"], sp, i) for i, (m, sp) in enumerate(zip(messages, sampling_params))]

    fake.LLM, fake.SamplingParams = FakeLLM, FakeSamplingParams
    return fake


@pytest.fixture
def fake_vllm(monkeypatch):
    fake = make_fake_vllm()
    monkeypatch.setitem(sys.modules, "vllm", fake)
    return fake


def test_engine_arguments(fake_vllm):
    get_generator("vllm", model="/models/tiny", seed=3, tensor_parallel_size=2, dtype="bfloat16")
    assert fake_vllm.engines == [{"model": "/models/tiny", "seed": 3, "enable_prefix_caching": True,
                                  "tensor_parallel_size": 2, "dtype": "bfloat16"}]
    get_generator("vllm", model="m", data_parallel_size=4, gpu_memory_utilization=0.5)
    assert fake_vllm.engines[1]["data_parallel_size"] == 4
    assert fake_vllm.engines[1]["gpu_memory_utilization"] == 0.5
    assert fake_vllm.engines[1]["enable_prefix_caching"] is True


def test_sampling_arguments_and_outputs(fake_vllm):
    g = get_generator("vllm", model="m")
    params = SamplingParams(temperature=0.8, top_p=0.9, max_tokens=64, stop=("</s>", "\n\nQ:"), seed=11)
    msgs = [{"role": "user", "content": "2+2?"}]
    got = g.generate([msgs, "3+3?"], 4, params)
    (kind, sent, sps), = fake_vllm.calls
    assert kind == "chat"  # chat=True by default: string prompts get the chat template too
    assert sent == [msgs, [{"role": "user", "content": "3+3?"}]]
    assert sps == [{"n": 4, "seed": derive_seed(11, i), "temperature": 0.8, "top_p": 0.9, "max_tokens": 64,
                    "stop": ["</s>", "\n\nQ:"], "logprobs": 0} for i in range(2)]
    row = got[0]
    assert [c.text for c in row] == [f"2+2? s{derive_seed(11, 0)} #{j} \\boxed{{{j}}}" for j in range(4)]
    assert [c.num_tokens for c in row] == [3, 4, 5, 6]
    assert [c.finish_reason for c in row] == ["length", "stop", "stop", "stop"]
    assert [c.logprob for c in row] == [-1.5, -3.0, -4.5, -6.0]
    assert row[0].prompt_tokens == 4


def test_plain_prompts_use_generate_without_chat(fake_vllm):
    g = get_generator("vllm", model="m", chat=False, logprobs=False)
    got = g.generate(["Question: 1+1?\nAnswer:"], 2, SamplingParams(seed=0))
    (kind, sent, sps), = fake_vllm.calls
    assert kind == "generate" and sent == ["Question: 1+1?\nAnswer:"] and "logprobs" not in sps[0]
    assert len(got[0]) == 2


def test_verify_sample_cli_through_vllm(fake_vllm, tmp_path):
    from cli import app

    out = tmp_path / "s.jsonl"
    res = CliRunner().invoke(app, ["sample", "--dataset", "arith", "--limit", "3", "--backend", "vllm",
                                   "--model", "Qwen/Qwen2.5-Math-1.5B-Instruct", "-n", "4", "--seed", "2",
                                   "--tensor-parallel-size", "2", "--stop", "<|im_end|>", "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert fake_vllm.engines[0]["tensor_parallel_size"] == 2 and fake_vllm.engines[0]["seed"] == 2
    (kind, sent, sps), = fake_vllm.calls
    assert sent[0][0] == {"role": "system", "content": "Please reason step by step, and put your final answer "
                                                       "within \\boxed{}."}  # qwen-math family
    assert sps[0]["stop"] == ["<|im_end|>"] and sps[0]["n"] == 4
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 12 and rows[1]["answer"] == "1" and rows[0]["finish_reason"] == "length"
    assert rows[0]["sampling"]["backend"] == "vllm" and rows[0]["sampling"]["model"] == "Qwen/Qwen2.5-Math-1.5B-Instruct"
    assert re.search(r"s\.jsonl: 12 traces for 3 problems \(12 new, 0 already there\); 54 tokens in ", res.output)


def test_token_logprobs_read_from_completion_output_logprobs():
    from verify.sampling.vllm_backend import _token_fields

    @dataclass
    class Logprob:  # vllm.sequence.Logprob's fields
        logprob: float
        rank: int | None = None
        decoded_token: str | None = None

    o = CompletionOutput(index=0, text="1 + 1", token_ids=[5, 9, 5], cumulative_logprob=-0.7,
                         logprobs=[{5: Logprob(-0.1, 1, "1")}, {9: Logprob(-0.4, 1, " +"), 2: Logprob(-3.0, 2, "x")},
                                   {5: Logprob(-0.2, 1, " 1")}])
    assert _token_fields(o) == {"token_logprobs": (-0.1, -0.4, -0.2), "token_ends": (1, 3, 5)}
    # no logprobs asked, a missing sampled id, or a length mismatch: nothing rather than a wrong record
    assert _token_fields(CompletionOutput(0, "a", [1], None, None)) == {}
    assert _token_fields(CompletionOutput(0, "a", [1], None, [{2: Logprob(-1.0)}])) == {}
    assert _token_fields(CompletionOutput(0, "ab", [1, 2], None, [{1: Logprob(-1.0)}])) == {}
    no_text = CompletionOutput(0, "a", [1], None, [{1: Logprob(-1.0)}])
    assert _token_fields(no_text) == {"token_logprobs": (-1.0,)}
