"""TRL's GRPOTrainer runs two steps on CPU with `verify.rewards` as its reward, from its own loop.

The model is a tiny random-init Llama with a six-token word-level tokenizer built here (no hub):
its completions are strings of ``1``, ``2``, ``+`` and ``=``, so the rewards are a real mix of
1.0 (last number 2), 0.0 (another number) and None (undecided, e.g. ``= + 2``; TRL skips it).
Needs the `rl` extra (trl); skipped without it.
"""
from __future__ import annotations

import math

import pytest

trl = pytest.importorskip("trl")
torch = pytest.importorskip("torch")

from verify.checker import check  # noqa: E402
from verify.rewards.trl import AccuracyReward  # noqa: E402

VOCAB = ["<pad>", "<eos>", "1", "2", "+", "="]


class Recording(AccuracyReward):
    """Our reward, recording what TRL passed in and what it got back."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.calls: list[dict] = []

    def __call__(self, completions, solution=None, answer=None, **kwargs):
        rewards = super().__call__(completions, solution=solution, answer=answer, **kwargs)
        self.calls.append({"completions": list(completions), "solution": list(solution), "rewards": rewards,
                           "keys": sorted(kwargs)})
        return rewards


def _tiny_model_and_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({t: i for i, t in enumerate(VOCAB)}, unk_token="<pad>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(VOCAB), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64,
                         pad_token_id=0, eos_token_id=1, bos_token_id=None, tie_word_embeddings=False)
    return LlamaForCausalLM(config), tokenizer


@pytest.mark.slow
def test_grpo_two_steps_with_our_reward(tmp_path):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    model, tokenizer = _tiny_model_and_tokenizer()
    data = Dataset.from_dict({"prompt": ["1 + 1 ="] * 8, "solution": ["2"] * 8})
    reward = Recording(jobs=2, name="verify_accuracy")
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=4,
                      max_completion_length=6, max_steps=2, logging_steps=1, use_cpu=True, report_to="none",
                      save_strategy="no", seed=0, learning_rate=1e-3)
    trainer = GRPOTrainer(model=model, reward_funcs=[reward], args=args, train_dataset=data,
                          processing_class=tokenizer)
    trainer.train()

    assert len(reward.calls) == 2  # one generation batch per step
    logged = [h for h in trainer.state.log_history if "rewards/verify_accuracy/mean" in h]
    assert len(logged) == 2
    every = []
    for call, log in zip(reward.calls, logged):
        assert len(call["completions"]) == 4 and call["solution"] == ["2"] * 4
        assert {"prompts", "trainer_state", "log_extra", "log_metric"} <= set(call["keys"])
        # the rewards are the checker's verdicts on the very strings TRL generated
        # (undecided, e.g. "= + 2", is None: TRL turns it into NaN and leaves it out of the mean)
        want = [{True: 1.0, False: 0.0, None: None}[check("2", c).equal] for c in call["completions"]]
        assert call["rewards"] == want
        decided = [w for w in want if w is not None]
        if decided:
            assert math.isclose(log["rewards/verify_accuracy/mean"], sum(decided) / len(decided), abs_tol=1e-6)
        else:
            assert math.isnan(log["rewards/verify_accuracy/mean"])
        every += want
    print("rewards TRL received:", [c["rewards"] for c in reward.calls],
          "logged means:", [h["rewards/verify_accuracy/mean"] for h in logged])
    assert 1.0 in every and 0.0 in every  # seed 0 gives both: the mean is not a constant
    assert "verify_accuracy/undecided_share" in "".join(k for h in trainer.state.log_history for k in h)
