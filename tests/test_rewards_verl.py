"""verl loads `verify/rewards/verl.py` by path as its custom reward and scores with it.

verl installs without a GPU in its own venv (it pins its own transformers):

    python3 -m venv --system-site-packages /work/venvs/verl && /work/venvs/verl/bin/pip install verl
    /work/venvs/verl/bin/python -m pytest -q -m verl tests/test_rewards_verl.py

The test goes through verl's own code: `get_custom_reward_fn` (file path + name +
``reward_kwargs``) and the ``naive`` reward manager's `run_single`, which decodes the response
tokens and calls the function in an executor thread. Skipped where verl is not importable.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

pytest.importorskip("verl")
torch = pytest.importorskip("torch")

pytestmark = pytest.mark.verl

import verify.rewards.verl as ours  # noqa: E402

VOCAB = ["<pad>", "<eos>", "so", "the", "answer", "is", "\\boxed{72}", "\\boxed{71}", "Q:", "?"]


def _config(**reward_kwargs):
    from omegaconf import OmegaConf

    return OmegaConf.create({"reward": {"custom_reward_function": {
        "path": str(Path(ours.__file__)), "name": "compute_score", "reward_kwargs": reward_kwargs}}})


def _tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({t: i for i, t in enumerate(VOCAB)}, unk_token="<pad>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>")


def test_loaded_by_path_with_reward_kwargs():
    from verl.trainer.ppo.reward import get_custom_reward_fn

    fn = get_custom_reward_fn(_config(details=True, wrong=-1.0))
    out = fn(data_source="openai/gsm8k", solution_str="so the answer is \\boxed{71}", ground_truth="72",
             extra_info={"index": 0})
    assert out["score"] == -1.0 and out["outcome"] == "wrong" and out["pred_answer"] == "71"
    assert get_custom_reward_fn(_config())(data_source="x", solution_str="\\boxed{72}", ground_truth="72") == 1.0


def _item(tokenizer, response: str, gold: str):
    import numpy as np
    from verl import DataProto

    prompt = tokenizer("Q: ?", return_tensors="pt")["input_ids"]
    resp = tokenizer(response, return_tensors="pt")["input_ids"]
    pad = torch.zeros((1, 2), dtype=torch.long)
    responses = torch.cat([resp, pad], dim=1)  # right-padded response, as verl stores it
    mask = torch.cat([torch.ones_like(prompt), torch.ones_like(resp), pad], dim=1)
    return DataProto.from_dict(
        tensors={"prompts": prompt, "responses": responses, "attention_mask": mask},
        non_tensors={"data_source": np.array(["openai/gsm8k"], dtype=object),
                     "reward_model": np.array([{"ground_truth": gold}], dtype=object),
                     "extra_info": np.array([{"index": 0}], dtype=object)})


def test_naive_reward_manager_scores_through_our_function():
    from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager
    from verl.trainer.ppo.reward import get_custom_reward_fn

    tokenizer = _tokenizer()
    manager = NaiveRewardManager(_config(), tokenizer, get_custom_reward_fn(_config(details=True)))
    results = [asyncio.get_event_loop().run_until_complete(manager.run_single(_item(tokenizer, text, "72")))
               for text in ("so the answer is \\boxed{72}", "so the answer is \\boxed{71}")]
    assert [r["reward_score"] for r in results] == [1.0, 0.0]
    info = results[0]["reward_extra_info"]
    assert info["acc"] == 1.0 and info["outcome"] == "correct" and info["pred_answer"] == "72"
