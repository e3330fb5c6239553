"""OpenRLHF's custom reward function and the body of its remote reward protocol.

OpenRLHF loads ``reward_func(queries, prompts, labels, **kwargs)`` from the ``.py`` file given
as ``--remote_rm_url`` (with ``--label_key`` naming the gold column), or POSTs
``{"query": [...], "prompts": [...], "labels": [...]}`` to an HTTP reward server
(`verify serve`). Either way the answer is ``{"rewards", "scores", "extra_logs"}``: rewards for
the advantage, scores in [0, 1] for dynamic filtering, extra_logs for wandb. A query is the
prompt followed by the response; the prompt is cut off before checking, so a worked example
inside the prompt is never taken for the model's answer.

    >>> out = reward_func(["Q: 6*7? A: \\\\boxed{42}"], ["Q: 6*7? A:"], ["42"])
    >>> [float(x) for x in out["rewards"]], [float(x) for x in out["scores"]]
    ([1.0], [1.0])
"""
from __future__ import annotations

from verify.checker.equivalence import DEFAULT_TIMEOUT
from verify.rewards.core import RewardValues, check_batch, outcome, strip_special_tail




def response_of(query: str, prompt: str | None) -> str:
    """The response part of an OpenRLHF query (prompt + response), without trailing special tokens.

    >>> response_of("Q: 1+1? A: so it is 2.<|im_end|><|endoftext|>", "Q: 1+1? A:")
    ' so it is 2.'
    """
    query = "" if query is None else str(query)
    if prompt and query.startswith(prompt):
        query = query[len(prompt):]
    return strip_special_tail(query)


def reward_lists(queries, prompts, labels, *, values: RewardValues = RewardValues(undecided=0.0), jobs: int = 1,
                 timeout: float | None = DEFAULT_TIMEOUT, deadline: float | None = None) -> dict:
    """The protocol's answer as plain JSON-able lists (what the HTTP server sends)."""
    queries = list(queries)
    prompts = list(prompts) if prompts is not None else [None] * len(queries)
    labels = list(labels) if labels is not None else [None] * len(queries)
    if not len(queries) == len(prompts) == len(labels):
        raise ValueError(f"query, prompts and labels differ in length: {len(queries)}, {len(prompts)}, "
                         f"{len(labels)}")
    pairs = [(label, response_of(q, p)) for q, p, label in zip(queries, prompts, labels)]
    verdicts = check_batch(pairs, jobs=jobs, timeout=timeout, deadline=deadline)
    rewards = [values.of(v) for v in verdicts]
    rewards = [0.0 if r is None else float(r) for r in rewards]  # OpenRLHF needs a number per sample
    scores = [1.0 if v.equal is True else 0.0 for v in verdicts]
    n = max(1, len(verdicts))
    kinds = [outcome(v) for v in verdicts]
    extra = {"accuracy": sum(scores) / n, "undecided_share": kinds.count("undecided") / n,
             "no_answer_share": kinds.count("no_answer") / n}
    return {"rewards": rewards, "scores": scores, "extra_logs": extra}


def reward_func(queries, prompts, labels, **kwargs) -> dict:
    """OpenRLHF ``--remote_rm_url /path/to/verify/rewards/openrlhf.py``: rewards as torch tensors."""
    out = reward_lists(queries, prompts, labels)
    try:
        import torch
    except ImportError:  # the protocol also works without torch (lists)
        return out
    return {"rewards": torch.tensor(out["rewards"], dtype=torch.float32),
            "scores": torch.tensor(out["scores"], dtype=torch.float32),
            "extra_logs": {k: torch.tensor(v) for k, v in out["extra_logs"].items()}}
