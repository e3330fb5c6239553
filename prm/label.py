"""Automatic step labels by rollouts, as in Math-Shepherd (Wang et al. 2024, arXiv 2312.08935).

For a trace with steps s1..sm of a problem with a known gold answer, the label of step i is
estimated by continuing the prefix s1..si K times with the same generator and checking each
continuation's final answer with the checker:

- soft label: the share of the K rollouts that reach the gold answer (Math-Shepherd's "SE");
- hard label: 1 if any rollout reaches it, else 0 (Math-Shepherd's "HE").

The last step needs no rollout: the trace itself is its only continuation, so its labels are
the trace's own outcome (1 or 0). A checker verdict "undecided" counts as not reaching gold
and is counted in `undecided`.

Two modes:

- ``full``: K rollouts from every step but the last. Cost: K * (m - 1) rollouts per trace.
- ``decisive``: roll out only where the outcome can still change. A trace that reaches the
  gold answer is its own witness that every prefix can reach it: all hard labels are 1,
  with no rollout (soft labels unknown: null). A trace that misses it is searched for its
  first step from which no rollout reaches gold, by binary search over steps (the
  monotonicity assumption of OmegaPRM, Luo et al. 2024: once no continuation succeeds, none
  of the later prefixes does); steps before it get hard label 1, it and later steps 0.
  Cost: about K * log2(m) rollouts for a wrong trace and none for a right one. Its
  agreement with ``full`` is measured, not assumed (`benchmarks/prm_labelling.py`).

Output: one JSON line per trace in the ``plain`` step format that `verify prm train` reads
(``question``, ``steps``, ``labels``) plus ``problem_id``, ``sample_index``, ``soft_labels``,
``hard_labels``, ``outcome``, ``rollouts``, ``rollout_tokens`` (generated) and
``rollout_prompt_tokens``. ``labels`` holds the soft labels in ``full`` mode with
``labels="soft"`` (the default), else the hard labels. Like sampling, labelling is resumable
and kill -9 safe: the output is locked for the run and a file that is not a labels file is
refused untouched; each trace is appended as one whole line once its rollouts are done, a torn
last line is cut on restart, and traces already in the output are skipped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from verify.errors import InputError
from verify.records.io import append_jsonl, iter_jsonl, read_traces
from verify.records.outputs import LABELS, claim_output
from verify.records.steps import DEFAULT_SEP, split_steps
from verify.sampling.base import Generator, Prompt, SamplingParams, derive_seed

MODES = ("full", "decisive")
LABEL_KINDS = ("soft", "hard")


def rollout_prompt(prompt: Prompt, prefix: str) -> Prompt:
    """The prompt that continues `prefix` as the model's own partial answer.

    A plain-text prompt gets the prefix appended; a chat prompt gets a final assistant
    message that the backend continues (transformers: `continue_final_message`).

    >>> rollout_prompt("Q: 1+1?\\nA: ", "1+1 = 2\\n\\n")
    'Q: 1+1?\\nA: 1+1 = 2\\n\\n'
    >>> rollout_prompt([{"role": "user", "content": "1+1?"}], "1+1 = 2\\n\\n")[-1]
    {'role': 'assistant', 'content': '1+1 = 2\\n\\n'}
    """
    if isinstance(prompt, str):
        return prompt + prefix
    return [*prompt, {"role": "assistant", "content": prefix}]


@dataclass
class LabelStats:
    """What a `label_samples` run did."""

    total: int = 0
    skipped: int = 0                 # already labelled in the output
    labelled: int = 0
    steps: int = 0                   # steps labelled by this run
    rollouts: int = 0
    rollout_tokens: int = 0          # generated tokens of all rollouts
    undecided: int = 0               # rollouts whose verdict was undecided (counted as misses)
    per_mode: dict[str, int] = field(default_factory=dict)

    @property
    def tokens_per_step(self) -> float:
        return self.rollout_tokens / self.steps if self.steps else 0.0

    def summary(self) -> str:
        return (f"labelled {self.labelled} traces ({self.skipped} already done), {self.steps} steps, "
                f"{self.rollouts} rollouts, {self.rollout_tokens} rollout tokens "
                f"({self.tokens_per_step:.1f} per labelled step), {self.undecided} undecided verdicts")


class _Roller:
    """Rolls out K continuations of step prefixes of one trace and counts those that reach gold."""

    def __init__(self, generator: Generator, prompt: Prompt, steps: Sequence[str], gold: str, k: int,
                 params: SamplingParams, sep: str, seed_key: tuple, stats: LabelStats,
                 check: Callable[[str, str], Any]):
        self.generator, self.prompt, self.steps, self.gold = generator, prompt, steps, gold
        self.k, self.params, self.sep, self.seed_key = k, params, sep, seed_key
        self.stats, self.check = stats, check
        self.correct: dict[int, int] = {}   # step index -> rollouts that reached gold
        self.tokens = self.prompt_tokens = 0

    def run(self, indices: Sequence[int]) -> None:
        """Roll out from the prefixes ending at each of `indices` (one generate call)."""
        todo = [i for i in indices if i not in self.correct]
        if not todo:
            return
        prefixes = [self.sep.join(self.steps[:i + 1]) + self.sep for i in todo]
        prompts = [rollout_prompt(self.prompt, p) for p in prefixes]
        # the seed depends only on (trace, step): a resumed or re-ordered run draws the same rollouts
        outs = []
        for i, prompt in zip(todo, prompts):
            params = self.params.replace(seed=None if self.params.seed is None
                                         else derive_seed(self.params.seed, *self.seed_key, i))
            outs.append(self.generator.generate([prompt], self.k, params)[0])
        for i, prefix, comps in zip(todo, prefixes, outs):
            hits = 0
            for c in comps:
                verdict = self.check(self.gold, prefix + c.text)
                hits += verdict.equal is True
                self.stats.undecided += verdict.equal is None
                self.tokens += c.num_tokens
                self.prompt_tokens += c.prompt_tokens
            self.correct[i] = hits
            self.stats.rollouts += len(comps)


def label_trace(generator: Generator, prompt: Prompt, steps: Sequence[str], gold: str, outcome: bool, *,
                k: int = 4, params: SamplingParams | None = None, mode: str = "full", sep: str = DEFAULT_SEP,
                seed_key: tuple = (), stats: LabelStats | None = None,
                check: Callable[[str, str], Any] | None = None) -> dict[str, Any]:
    """Soft and hard labels for the steps of one trace (see the module docstring).

    `outcome` is whether the whole trace reaches the gold answer (the last step's label).

    >>> from verify.sampling.callable_backend import CallableGenerator
    >>> gen = CallableGenerator(lambda prompt, n: ["\\\\boxed{8}" if "6+1 = 8" in prompt else "\\\\boxed{7}"] * n)
    >>> r = label_trace(gen, "Q: 2*3+1? ", ["2*3 = 6", "6+1 = 8", "\\\\boxed{8}"], "7", False, k=2)
    >>> r["soft_labels"], r["hard_labels"]
    ([1.0, 0.0, 0.0], [1, 0, 0])
    """
    if mode not in MODES:
        raise ValueError(f"unknown labelling mode {mode!r}; known: {', '.join(MODES)}")
    if k < 1:
        raise ValueError("k must be at least 1")
    if check is None:
        from verify.checker import check as check_fn
        check = check_fn
    stats = stats if stats is not None else LabelStats()
    m = len(steps)
    roller = _Roller(generator, prompt, steps, gold, k, params or SamplingParams(), sep, seed_key, stats, check)
    last = float(bool(outcome))
    if mode == "full" or m == 0:
        roller.run(range(m - 1))
        soft: list[float | None] = [roller.correct[i] / k for i in range(m - 1)] + ([last] if m else [])
        hard = [int(s > 0) for s in soft]  # type: ignore[operator]
    elif outcome:
        soft, hard = [None] * (m - 1) + [1.0], [1] * m
    else:
        lo, hi = 0, m - 1  # the first dead step lies in [lo, hi]; the last step is dead (outcome wrong)
        while lo < hi:
            mid = (lo + hi) // 2
            roller.run([mid])
            if roller.correct[mid] > 0:
                lo = mid + 1
            else:
                hi = mid
        hard = [int(i < lo) for i in range(m)]
        soft = [roller.correct[i] / k if i in roller.correct else None for i in range(m - 1)] + [0.0]
    stats.steps += m
    stats.rollout_tokens += roller.tokens
    return {"soft_labels": soft, "hard_labels": hard, "rollouts": k * len(roller.correct),
            "rollout_tokens": roller.tokens, "rollout_prompt_tokens": roller.prompt_tokens}


def label_samples(in_path: str | Path, out_path: str | Path, generator: Generator, *,
                  prompts: Callable[[str], Prompt], questions: dict[str, str], golds: dict[str, str],
                  k: int = 4, params: SamplingParams | None = None, mode: str = "full", labels: str = "soft",
                  step_sep: str = DEFAULT_SEP, progress: Callable[[LabelStats, int], None] | None = None
                  ) -> LabelStats:
    """Label every trace of the samples file `in_path` into `out_path` (resumable, append-only).

    `prompts(problem_id)` is the prompt the traces were sampled with; `questions` and
    `golds` map problem ids to question text (written into the output for training) and gold
    answer. A trace whose problem has no gold is an error naming its line.
    """
    if labels not in LABEL_KINDS:
        raise ValueError(f"unknown label kind {labels!r}; known: {', '.join(LABEL_KINDS)}")
    if mode == "decisive" and labels == "soft":
        labels = "hard"  # decisive mode leaves most soft labels unknown
    from verify.checker import check

    traces = read_traces(in_path)
    for line, t in enumerate(traces, 1):
        if t.problem_id not in golds:
            raise InputError(f"problem {t.problem_id!r} has no gold answer in the data", path=str(in_path),
                             line=line, field="problem_id")
    with claim_output(out_path, kind=LABELS, inputs=[in_path]):  # foreign file refused, locked, torn tail cut
        out_path = Path(out_path)
        done = {(str(obj["problem_id"]), obj["sample_index"]) for _, obj in iter_jsonl(out_path)} \
            if out_path.exists() else set()
        return _label_all(traces, done, out_path, generator, prompts, questions, golds, k, params, mode, labels,
                          step_sep, progress, check)


def _label_all(traces, done, out_path, generator, prompts, questions, golds, k, params, mode, labels, step_sep,
               progress, check) -> LabelStats:
    stats = LabelStats(total=len(traces))
    todo = [t for t in traces if (t.problem_id, t.sample_index) not in done]
    stats.skipped = len(traces) - len(todo)
    for t in todo:
        steps = t.steps or split_steps(t.text, step_sep)
        gold = golds[t.problem_id]
        outcome = t.answer is not None and check(gold, t.answer).equal is True
        r = label_trace(generator, prompts(t.problem_id), steps, gold, outcome, k=k, params=params, mode=mode,
                        sep=step_sep, seed_key=(t.problem_id, t.sample_index), stats=stats, check=check)
        chosen = r["soft_labels"] if labels == "soft" else r["hard_labels"]
        record = {"question": questions.get(t.problem_id, ""), "steps": list(steps), "labels": chosen,
                  "problem_id": t.problem_id, "sample_index": t.sample_index, "gold": gold,
                  "outcome": int(outcome), "mode": mode, "k": k, **r}
        append_jsonl(out_path, [record])
        stats.labelled += 1
        if progress is not None:
            progress(stats, len(todo))
    return stats

