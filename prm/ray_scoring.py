"""Step-level PRM scoring on a Ray cluster (`verify prm score --engine ray`).

`ray.data.llm` processors cover generation, embedding and whole-sequence classification, not
per-step scores read at our own step-tag positions, so scoring uses our own Ray Data
`map_batches` (`verify.sampling.ray_engine.ray_map`): each Ray actor loads ONE scorer with
`prm.scorers.load_scorer` (a transformers PRM on CPU/GPU, or `VLLMStepScorer` with
`engine="vllm"` on a GPU worker) and scores whole batches of `(question, steps)` items with
`prm.score_file.score_chunk`, the function the local engine uses. The driver stays the only
writer (`prm.score_file.score_samples` with `executor=`), so resume, the output lock and
torn-tail repair are the local ones.

>>> ex = RayScoreExecutor("arith", workers=2)                                   # doctest: +SKIP
>>> score_samples("samples.jsonl", "scored.jsonl", "arith", executor=ex)         # doctest: +SKIP
"""
from __future__ import annotations

import functools
from typing import Any, Iterator, Sequence

from verify.sampling.ray_engine import ray_map


class RayScoreExecutor:
    """Scores `[(key, items), ...]` batches on Ray workers; yields `(key, (scores, tokens))`.

    `spec` and `scorer_kwargs` are what `load_scorer` takes (a registered name, a
    "module:function", a model directory with `engine=`, `device=` ...); they must pickle.
    """

    def __init__(self, spec: Any, *, address: str | None = None, workers: int | None = None,
                 cpus_per_worker: float = 1.0, gpus_per_worker: float = 0.0, **scorer_kwargs: Any):
        self.factory = functools.partial(_load, spec, scorer_kwargs)
        self.address, self.workers = address, workers
        self.cpus_per_worker, self.gpus_per_worker = cpus_per_worker, gpus_per_worker
        self.forward_tokens = 0  # summed over the workers' results, as CheckedScorer.forward_tokens

    def __call__(self, batches: Sequence[tuple[int, list]]) -> Iterator[tuple[int, Any]]:
        for key, (scores, tokens) in ray_map(list(batches), self.factory, _score, address=self.address,
                                             workers=self.workers, cpus_per_worker=self.cpus_per_worker,
                                             gpus_per_worker=self.gpus_per_worker):
            self.forward_tokens += sum(tokens)
            yield key, (scores, tokens)


def _load(spec: Any, kwargs: dict) -> Any:
    from prm.scorers import load_scorer

    return load_scorer(spec, **kwargs)


def _score(checked: Any, items: list) -> Any:
    from prm.score_file import score_chunk

    return score_chunk(checked, items)
