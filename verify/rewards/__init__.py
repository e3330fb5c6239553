"""The checker as an RL reward: TRL, verl, OpenRLHF, and an HTTP reward server.

    >>> from verify.rewards import accuracy_reward
    >>> accuracy_reward(["... \\\\boxed{4}", "... \\\\boxed{5}"], solution=["4", "4"])
    [1.0, 0.0]

- `accuracy_reward` / `make_accuracy_reward` (`verify.rewards.trl`): a TRL ``reward_funcs`` entry.
- `compute_score` / `compute_score_batch` (`verify.rewards.verl`): verl's custom reward function.
- `reward_func` (`verify.rewards.openrlhf`): OpenRLHF's ``--remote_rm_url file.py``.
- `verify serve` (`verify.rewards.server`): the same over HTTP, OpenRLHF's ``/get_reward`` protocol.

Nothing here imports torch or a trainer at import time.
"""
from __future__ import annotations

_LAZY = {
    "AccuracyReward": "verify.rewards.trl",
    "accuracy_reward": "verify.rewards.trl",
    "make_accuracy_reward": "verify.rewards.trl",
    "compute_score": "verify.rewards.verl",
    "compute_score_batch": "verify.rewards.verl",
    "reward_func": "verify.rewards.openrlhf",
    "RewardValues": "verify.rewards.core",
    "check_batch": "verify.rewards.core",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'verify.rewards' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
