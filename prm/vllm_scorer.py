"""PRM scoring through vLLM's pooling API: the only module of `prm` that imports vllm.

`vllm` is imported inside `VLLMStepScorer.__init__`, so this file can be read and tested
against a fake `vllm` module on a machine without a GPU. `load_scorer(DIR, engine="vllm")`
and `verify eval --backend vllm --prm DIR` reach it.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

# vLLM API used, checked against the real package by tests/test_vllm_contract.py (vllm 0.33.0;
# the pooling API changed often: `task="reward"` before v0.10, `override_pooler_config` before
# `pooler_config`, `LLM.reward` added then removed, `returned_token_ids` of a causal LM replaced
# by a converted classification head, STEP pooling ignored by seq-cls poolers until vLLM #55307):
#   cls head (e.g. `Qwen2ForProcessRewardModel`, a 2-class token head):
#     `LLM(model=..., runner="pooling", pooler_config={"pooling_type": "STEP"}, dtype=..., **kw)`
#   lm head (math-shepherd style: P("+") against P("-") at the tag): the causal LM is converted
#   into a token classifier whose 2 classes are the lm_head rows of the label tokens:
#     `LLM(..., runner="pooling", convert="classify", pooler_config={"pooling_type": "STEP"},
#          hf_overrides={"classifier_from_token": [pos_tok, neg_tok], "method": "no_post_processing"})`
#   `LLM.encode([{"prompt_token_ids": ids}, ...], pooling_task="token_classify")`; each
#   `PoolingRequestOutput.outputs.data` is a (rows, 2) tensor of per-token class probabilities
#   (or logits when the activation is off). We send no `step_tag_id`, so every token gets a row
#   and we read the rows at our own tag positions (from prm.specs.encode, the same function the
#   HF scorer and the trainer use). A model whose pooler fixes a step tag id (vLLM's
#   `Qwen2ForProcessRewardModel` defaults to <extra_0> = 151651) returns one row per tag
#   instead; both shapes are accepted.


class VLLMStepScorer:
    """PRM scorer over vLLM's pooling runner: ``scorer(question, steps) -> list[float]``.

    Token ids come from `prm.specs.encode` (our tokenizer, our tag positions); vLLM only runs
    the model. lm-head specs ask for the ``+``/``-`` columns (probability = column 0), cls-head
    specs read column 1 of the 2-class head.

    >>> s = VLLMStepScorer("Qwen/Qwen2.5-Math-PRM-7B", spec="qwen-prm")    # doctest: +SKIP
    >>> s("1+1?", ["1+1=2", "The answer is 2."])                            # doctest: +SKIP
    """

    def __init__(self, model: str, spec: Any = None, *, tokenizer: Any = None, dtype: str = "auto",
                 max_length: int | None = None, pooler_config: dict | None = None,
                 **engine_kwargs: Any):
        import vllm

        from prm.hf_scorer import load_tokenizer
        from prm.specs import get_spec, label_token_ids, load_spec

        self.spec = get_spec(spec) if spec is not None else load_spec(model)
        if self.spec is None:
            raise ValueError(f"{model} has no prm_spec.json: pass spec= (math-shepherd, qwen-prm, "
                             "rlhflow, token-cls)")
        self.tokenizer = tokenizer if tokenizer is not None else load_tokenizer(
            model, trust_remote_code=bool(engine_kwargs.get("trust_remote_code", False)))
        self.max_length = max_length
        pooler: dict[str, Any] = {"pooling_type": "STEP"}
        if pooler_config is not None:
            pooler.update(pooler_config)
        kw: dict[str, Any] = dict(model=model, runner="pooling", dtype=dtype, pooler_config=pooler)
        self.column = 1  # cls head: P(correct) is class 1
        if self.spec.head == "lm":
            labels = self.tokenizer.convert_ids_to_tokens(list(label_token_ids(self.spec, self.tokenizer)))
            kw["convert"] = "classify"
            kw["hf_overrides"] = {"classifier_from_token": labels, "method": "no_post_processing"}
            self.column = 0  # the classes are [positive, negative]
        if max_length is not None:
            kw["max_model_len"] = max_length
        overrides = {**kw.get("hf_overrides", {}), **engine_kwargs.pop("hf_overrides", {})}
        kw.update(engine_kwargs)
        if overrides:
            kw["hf_overrides"] = overrides
        self.llm = vllm.LLM(**kw)
        self.forward_tokens = 0

    def score_batch(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[list[float]]:
        """Score many ``(question, steps)`` pairs in one `LLM.encode` call."""
        from prm.specs import encode

        encoded = []
        for question, steps in items:
            e = encode(self.spec, self.tokenizer, question, steps, max_length=self.max_length)
            if len(e.tag_positions) != len(steps):
                raise ValueError(f"trace has {len(steps)} steps but only {len(e.tag_positions)} "
                                 f"step tags fit in max_length={self.max_length}")
            encoded.append(e)
        todo = [i for i, (_, steps) in enumerate(items) if steps]
        results: list[list[float]] = [[] for _ in items]
        if not todo:
            return results
        outs = self.llm.encode([{"prompt_token_ids": list(encoded[i].input_ids)} for i in todo],
                               pooling_task="token_classify", use_tqdm=False)
        for i, out in zip(todo, outs):
            e = encoded[i]
            self.forward_tokens += len(e.input_ids)
            results[i] = _step_probs(out.outputs.data, e.tag_positions, len(e.input_ids), self.column)
        return results

    def __call__(self, question: str, steps: Sequence[str]) -> list[float]:
        return self.score_batch([(question, steps)])[0]


def _step_probs(data: Any, positions: Sequence[int], n_tokens: int, column: int) -> list[float]:
    """Rows of a pooling output -> one probability per step (softmax if vLLM did not apply it)."""
    rows = data.tolist() if hasattr(data, "tolist") else [list(r) for r in data]
    if len(rows) == n_tokens:
        rows = [rows[p] for p in positions]
    elif len(rows) != len(positions):
        raise RuntimeError(f"vLLM returned {len(rows)} rows for {n_tokens} tokens and "
                           f"{len(positions)} steps; check the model's pooler config")
    out = []
    for r in rows:
        if not all(0.0 <= x <= 1.0 for x in r) or abs(sum(r) - 1.0) > 1e-3:
            m = max(r)
            z = [math.exp(x - m) for x in r]
            r = [x / sum(z) for x in z]
        out.append(float(r[column]))
    return out
