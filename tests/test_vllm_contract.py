"""Our vLLM calls checked against the REAL vllm package (no GPU: nothing runs a model).

`VLLMGenerator` and `VLLMStepScorer` run with `vllm.LLM` replaced by a recorder that binds
every call to the real `LLM` signatures (`__init__`, `generate`, `chat`, `encode`), checks
the `**kwargs` that `LLM` forwards to `EngineArgs` against its dataclass fields and Literal
values, builds the real `SamplingParams` / `PoolerConfig`, and answers with real
`RequestOutput` / `CompletionOutput` / `PoolingRequestOutput` objects, so the fields we read
are the package's own. The lm-head PRM's engine arguments also go through vLLM's own
`EngineArgs.create_model_config` on a tiny local model (the causal-LM -> token-classifier
conversion). Run in the vllm venv (see docs/cluster.md):

    /work/venvs/vllm/bin/python -m pytest -q -p no:cacheprovider -m vllm_contract tests/test_vllm_contract.py
"""
from __future__ import annotations

import dataclasses
import inspect
import typing

import pytest

try:
    import vllm
    from vllm.engine.arg_utils import EngineArgs
    from vllm.outputs import CompletionOutput, PoolingOutput, PoolingRequestOutput, RequestOutput
except Exception as exc:  # absent, or a partial install
    pytest.skip(f"vllm not importable: {exc}", allow_module_level=True)

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

pytestmark = pytest.mark.vllm_contract

REAL_LLM = vllm.LLM
ENGINE_FIELDS = {f.name for f in dataclasses.fields(EngineArgs)}


def _literal_values(annotation) -> set | None:
    """The allowed values of a Literal[...] annotation (also inside Optional/Union), else None."""
    if typing.get_origin(annotation) is typing.Literal:
        return set(typing.get_args(annotation))
    vals = [v for a in typing.get_args(annotation) if (v := _literal_values(a)) is not None]
    return set().union(*vals) if vals else None


def _hints(fn) -> dict:
    """Parameter annotations as objects (string annotations that do not evaluate are left out)."""
    import sys

    out = {}
    if isinstance(fn, type) and dataclasses.is_dataclass(fn):
        items, ns = [(f.name, f.type) for f in dataclasses.fields(fn)], vars(sys.modules[fn.__module__])
    else:
        items, ns = [(k, v.annotation) for k, v in inspect.signature(fn).parameters.items()], fn.__globals__
    for name, ann in items:
        if isinstance(ann, str):
            try:
                ann = eval(ann, dict(ns))  # vLLM's own annotation text, not model output
            except Exception:
                continue
        out[name] = ann
    return out


def _check_call(fn, args: tuple, kwargs: dict) -> inspect.BoundArguments:
    """Bind to the real signature (TypeError on an unknown or missing argument) and check Literal values."""
    bound = inspect.signature(fn).bind(None, *args, **kwargs)
    hints = _hints(fn)
    for name, value in bound.arguments.items():
        allowed = _literal_values(hints.get(name))
        if allowed is not None and isinstance(value, str):
            assert value in allowed, f"{fn.__qualname__}({name}={value!r}): vLLM allows {sorted(allowed)}"
    return bound


class ContractLLM:
    """Stands in for `vllm.LLM`; every call is checked against the real class."""

    instances: list = []

    def __init__(self, *args, **kwargs):
        bound = _check_call(REAL_LLM.__init__, args, kwargs)
        extra = bound.arguments.get("kwargs", {})
        unknown = sorted(set(extra) - ENGINE_FIELDS)
        assert not unknown, f"LLM(**kwargs) passes {unknown} to EngineArgs, which has no such fields"
        engine_hints = _hints(EngineArgs)
        for name, value in extra.items():
            allowed = _literal_values(engine_hints.get(name))
            if allowed is not None and isinstance(value, str):
                assert value in allowed, f"EngineArgs.{name}={value!r}: vLLM allows {sorted(allowed)}"
        if kwargs.get("pooler_config") is not None:
            from vllm.config.pooler import PoolerConfig
            self.pooler = PoolerConfig(**kwargs["pooler_config"])  # unknown keys or values raise
        self.kwargs, self.calls = kwargs, []
        ContractLLM.instances.append(self)

    def _sampled(self, prompts, sampling_params) -> list:
        params = sampling_params if isinstance(sampling_params, list) else [sampling_params] * len(prompts)
        assert len(params) == len(prompts)
        outs = []
        for i, sp in enumerate(params):
            assert isinstance(sp, vllm.SamplingParams)
            comps = [CompletionOutput(index=j, text=f"p{i} s{j} \\boxed{{{j}}}", token_ids=list(range(3 + j)),
                                      cumulative_logprob=-0.5 * (j + 1), logprobs=None,
                                      finish_reason="length" if j == 0 else "stop")
                     for j in reversed(range(sp.n))]  # vLLM does not promise index order
            outs.append(RequestOutput(request_id=str(i), prompt=None, prompt_token_ids=[1] * (5 + i),
                                      prompt_logprobs=None, outputs=comps, finished=True))
        return outs

    def generate(self, *args, **kwargs):
        b = _check_call(REAL_LLM.generate, args, kwargs)
        self.calls.append(("generate", b.arguments))
        return self._sampled(b.arguments["prompts"], b.arguments["sampling_params"])

    def chat(self, *args, **kwargs):
        b = _check_call(REAL_LLM.chat, args, kwargs)
        self.calls.append(("chat", b.arguments))
        return self._sampled(b.arguments["messages"], b.arguments["sampling_params"])

    def encode(self, *args, **kwargs):
        b = _check_call(REAL_LLM.encode, args, kwargs)
        self.calls.append(("encode", b.arguments))
        outs = []
        for i, p in enumerate(b.arguments["prompts"]):
            ids = p["prompt_token_ids"]
            # one row per token, 2 classes; P(class 0) rises along the sequence
            p0 = torch.linspace(0.1, 0.9, len(ids))
            data = torch.stack([p0, 1 - p0], dim=1)  # (tokens, 2)
            outs.append(PoolingRequestOutput(request_id=str(i), outputs=PoolingOutput(data=data),
                                             prompt_token_ids=ids, num_cached_tokens=0, finished=True))
        return outs


@pytest.fixture
def contract(monkeypatch):
    ContractLLM.instances = []
    monkeypatch.setattr(vllm, "LLM", ContractLLM)
    return ContractLLM


def test_generator_calls_match_vllm(contract):
    from verify.sampling.base import SamplingParams
    from verify.sampling.vllm_backend import VLLMGenerator

    g = VLLMGenerator("some/model", seed=3, tensor_parallel_size=2, data_parallel_size=2, dtype="bfloat16",
                      chat=False, enforce_eager=True)
    llm = contract.instances[0]
    assert llm.kwargs["data_parallel_size"] == 2 and llm.kwargs["enable_prefix_caching"] is True
    got = g.generate(["1+1?", [{"role": "user", "content": "2+2?"}]], 3,
                     SamplingParams(temperature=0.5, top_p=0.9, max_tokens=7, stop=("Q:",), seed=11))
    (kind1, gen_args), (kind2, chat_args) = sorted(llm.calls, key=lambda c: c[0] != "generate")
    assert (kind1, kind2) == ("generate", "chat")
    assert chat_args["add_generation_prompt"] is True and gen_args["use_tqdm"] is False
    sp = gen_args["sampling_params"][0]
    assert (sp.n, sp.temperature, sp.top_p, sp.max_tokens, sp.stop, sp.logprobs) == (3, 0.5, 0.9, 7, ["Q:"], 0)
    assert sp.seed is not None and sp.seed != chat_args["sampling_params"][0].seed  # one seed per prompt
    # the fields we read are the real CompletionOutput / RequestOutput fields
    assert [c.text for c in got[0]] == ["p0 s0 \\boxed{0}", "p0 s1 \\boxed{1}", "p0 s2 \\boxed{2}"]
    assert [c.num_tokens for c in got[0]] == [3, 4, 5]
    assert [c.finish_reason for c in got[0]] == ["length", "stop", "stop"]
    assert [c.logprob for c in got[0]] == [-0.5, -1.0, -1.5]
    assert got[0][0].prompt_tokens == 5


def test_generator_chat_only_by_default(contract):
    from verify.sampling.base import SamplingParams
    from verify.sampling.vllm_backend import VLLMGenerator

    g = VLLMGenerator("m", logprobs=False)
    g.generate(["a", "b"], 1, SamplingParams(seed=None))
    (kind, args), = contract.instances[0].calls
    assert kind == "chat" and args["messages"] == [[{"role": "user", "content": "a"}],
                                                   [{"role": "user", "content": "b"}]]
    assert args["sampling_params"][0].logprobs is None and args["sampling_params"][0].seed is None


def test_per_sample_seeds_are_vllms_own_child_seeds(contract):
    """A prompt whose per-sample seeds run s, s+1, ... is one request seeded s with n samples: the
    real ParentRequest (used by LLMEngine and AsyncLLM) gives child j the seed s + j. Other seeds
    go one request per sample, and the completions come back in sample order."""
    import types

    from vllm.v1.engine.llm_engine import LLMEngine
    from vllm.v1.engine.parallel_sampling import ParentRequest

    from verify.sampling.base import SamplingParams, sample_seed
    from verify.sampling.vllm_backend import VLLMGenerator

    s = sample_seed(0, "p7", 4)
    parent = types.SimpleNamespace(sampling_params=vllm.SamplingParams(n=3, seed=s), cached_child_sampling_params=None)
    assert [ParentRequest._get_child_sampling_params(parent, j).seed for j in range(3)] == [s, s + 1, s + 2]
    assert "get_child_info" in inspect.getsource(LLMEngine.add_request)  # n > 1 fans out through ParentRequest
    g = VLLMGenerator("m", chat=False)
    got = g.generate(["a", "b"], 3, SamplingParams(seed=0), seeds=[[s, s + 1, s + 2], [50, 9, 4]])
    (_, args), = contract.instances[0].calls
    assert [(sp.n, sp.seed) for sp in args["sampling_params"]] == [(3, s), (1, 50), (1, 9), (1, 4)]
    assert args["prompts"] == ["a", "b", "b", "b"]
    assert [c.text for c in got[0]] == ["p0 s0 \\boxed{0}", "p0 s1 \\boxed{1}", "p0 s2 \\boxed{2}"]
    assert [c.text for c in got[1]] == ["p1 s0 \\boxed{0}", "p2 s0 \\boxed{0}", "p3 s0 \\boxed{0}"]


@pytest.mark.parametrize("spec,kind,head", [("math-shepherd", "llama", "lm"), ("qwen-prm", "qwen2", "cls")])
def test_step_scorer_calls_match_vllm(contract, tmp_path, spec, kind, head):
    from prm.hf_scorer import HFStepScorer
    from prm.synthetic import save_tiny_model
    from prm.vllm_scorer import VLLMStepScorer

    d = save_tiny_model(tmp_path, kind=kind, head=head, hidden=32, spec=spec, init_range=0.3)
    scorer = VLLMStepScorer(str(d), max_length=256, enforce_eager=True)
    llm = contract.instances[0]
    assert llm.pooler.tok_pooling_type == "STEP"
    assert llm.kwargs["runner"] == "pooling"
    got = scorer.score_batch([("Q?", ["1+1=2", "2+2=5"]), ("empty", [])])
    (kind_, args), = llm.calls
    assert kind_ == "encode" and args["pooling_task"] == "token_classify"
    hf = HFStepScorer.from_pretrained(str(d))
    e = hf.encode("Q?", ["1+1=2", "2+2=5"])
    n = len(e.input_ids)
    col = 0 if head == "lm" else 1
    want = [(0.1 + 0.8 * p / (n - 1)) if col == 0 else 1 - (0.1 + 0.8 * p / (n - 1)) for p in e.tag_positions]
    assert got[0] == pytest.approx(want, abs=1e-6) and got[1] == []


def test_pooling_names_we_rely_on_exist():
    from vllm.config.pooler import TOK_POOLING_TYPES
    from vllm.tasks import POOLING_TASKS

    assert "token_classify" in POOLING_TASKS and "STEP" in TOK_POOLING_TYPES
    assert "pooling_task" in inspect.signature(REAL_LLM.encode).parameters
    assert vllm.PoolingParams(task="token_classify").task == "token_classify"
    from vllm.model_executor.models.adapters import SEQ_CLS_LOAD_METHODS
    assert "no_post_processing" in SEQ_CLS_LOAD_METHODS


def test_lm_head_prm_converts_to_a_two_class_token_classifier(contract, tmp_path):
    """vLLM's own ModelConfig accepts the lm-head scorer's engine arguments on a tiny model."""
    from prm.synthetic import save_tiny_model
    from prm.vllm_scorer import VLLMStepScorer

    d = save_tiny_model(tmp_path, kind="llama", head="lm", hidden=32, spec="math-shepherd", init_range=0.3)
    VLLMStepScorer(str(d))
    kw = contract.instances[0].kwargs
    mc = EngineArgs(**kw).create_model_config()
    assert (mc.runner_type, mc.convert_type) == ("pooling", "classify")
    assert mc.hf_config.num_labels == 2 and mc.pooler_config.tok_pooling_type == "STEP"


def test_our_sources_do_not_call_removed_apis():
    """`LLM.reward`, `task=` and `override_pooler_config=` are gone from vLLM; none of our calls use them."""
    import ast

    import prm.vllm_scorer
    import verify.sampling.vllm_backend

    assert not hasattr(REAL_LLM, "reward")
    for mod in (prm.vllm_scorer, verify.sampling.vllm_backend):
        for node in ast.walk(ast.parse(inspect.getsource(mod))):
            if isinstance(node, ast.Call):
                assert not (isinstance(node.func, ast.Attribute) and node.func.attr == "reward"), mod.__name__
                assert not {k.arg for k in node.keywords} & {"task", "override_pooler_config"}, mod.__name__


def test_token_logprobs_read_from_both_real_logprob_containers(contract):
    from vllm.logprobs import FlatLogprobs, Logprob
    from vllm.outputs import CompletionOutput

    from verify.sampling.vllm_backend import _token_fields

    flat = FlatLogprobs()
    flat.append({5: Logprob(-0.1, 1, "1")})
    flat.append({9: Logprob(-0.4, 1, " +"), 2: Logprob(-3.0, 2, "x")})
    plain = [{5: Logprob(-0.1, 1, "1")}, {9: Logprob(-0.4, 1, " +"), 2: Logprob(-3.0, 2, "x")}]
    for container in (flat, plain):
        o = CompletionOutput(index=0, text="1 +", token_ids=[5, 9], cumulative_logprob=-0.5, logprobs=container,
                             finish_reason="stop")
        assert _token_fields(o) == {"token_logprobs": (-0.1, -0.4), "token_ends": (1, 3)}
