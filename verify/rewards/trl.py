"""A math accuracy reward with the signature of a TRL ``reward_funcs`` entry.

TRL's GRPOTrainer calls each reward function as ``f(prompts=..., completions=...,
completion_ids=..., **dataset_columns, trainer_state=..., log_extra=..., log_metric=...)``
and turns a None reward into NaN, which it skips. Completions are plain strings or
conversations (lists of ``{"role", "content"}`` messages; the last message is scored).
The gold answer comes from the ``solution`` column, else ``answer`` (or the column you name).

    >>> accuracy_reward(["so \\\\boxed{\\\\frac12}", "it is 0.4"], solution=["0.5", "0.5"])
    [1.0, 0.0]
    >>> r = make_accuracy_reward(wrong=-1.0, column="ground_truth")
    >>> r([[{"role": "assistant", "content": "x = 3"}]], ground_truth=["4"])
    [-1.0]
"""
from __future__ import annotations

from verify.checker.equivalence import DEFAULT_TIMEOUT
from verify.rewards.core import RewardValues, check_batch, outcome, strip_special_tail

GOLD_COLUMNS = ("solution", "answer")


def completion_text(c) -> str:
    """The text of one completion: a string, or the content of a conversation's last message."""
    if isinstance(c, str):
        return c
    if isinstance(c, dict):
        return str(c.get("content") or "")
    if isinstance(c, (list, tuple)) and c:
        last = c[-1]
        content = last.get("content") if isinstance(last, dict) else last
        if isinstance(content, list):  # multimodal content parts: keep the text parts
            return "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return "" if content is None else str(content)
    return ""


class AccuracyReward:
    """A picklable reward callable: ``reward(completions, solution=None, answer=None, **kw)``.

    `jobs` > 1 checks each batch across that many child processes (kept between calls);
    every check has the checker's hard `timeout`, from any thread.
    """

    def __init__(self, correct: float | None = 1.0, wrong: float | None = 0.0, no_answer: float | None = 0.0,
                 undecided: float | None = None, *, jobs: int = 1, timeout: float | None = DEFAULT_TIMEOUT,
                 column: str | None = None, name: str = "accuracy_reward", log: bool = True) -> None:
        self.values = RewardValues(correct, wrong, no_answer, undecided)
        self.jobs = int(jobs)
        self.timeout = timeout
        self.column = column
        self.log = log
        self.__name__ = name  # TRL names the reward's logged metrics after it

    def _golds(self, n: int, solution, answer, kwargs: dict) -> list:
        if self.column is not None:
            if self.column not in kwargs:
                raise TypeError(f"{self.__name__}: no dataset column {self.column!r} "
                                f"(columns given: {sorted(k for k in kwargs if not k.startswith('log_'))})")
            golds = kwargs[self.column]
        else:
            golds = solution if solution is not None else answer
            if golds is None:
                raise TypeError(f"{self.__name__}: needs a gold column 'solution' or 'answer' "
                                f"(columns given: {sorted(kwargs)}); name another with column=...")
        golds = list(golds)
        if len(golds) != n:
            raise ValueError(f"{self.__name__}: {n} completions but {len(golds)} gold answers")
        return golds

    def __call__(self, completions, solution=None, answer=None, **kwargs) -> list[float | None]:
        texts = [strip_special_tail(completion_text(c)) for c in completions]
        golds = self._golds(len(texts), solution, answer, kwargs)
        verdicts = check_batch(list(zip(golds, texts)), jobs=self.jobs, timeout=self.timeout)
        rewards = [self.values.of(v) for v in verdicts]
        if self.log and verdicts:
            log_extra, log_metric = kwargs.get("log_extra"), kwargs.get("log_metric")
            if callable(log_extra):
                log_extra("gold_answer", [v.gold_answer for v in verdicts])
                log_extra("pred_answer", [v.pred_answer for v in verdicts])
                log_extra("verdict", [outcome(v) for v in verdicts])
            if callable(log_metric):
                undecided = sum(v.equal is None for v in verdicts)
                log_metric(f"{self.__name__}/undecided_share", undecided / len(verdicts))
        return rewards

    def __repr__(self) -> str:
        return (f"AccuracyReward({self.values}, jobs={self.jobs}, timeout={self.timeout}, "
                f"column={self.column!r})")


def make_accuracy_reward(correct: float | None = 1.0, wrong: float | None = 0.0, no_answer: float | None = 0.0,
                         undecided: float | None = None, *, jobs: int = 1,
                         timeout: float | None = DEFAULT_TIMEOUT, column: str | None = None,
                         name: str = "accuracy_reward") -> AccuracyReward:
    """A TRL reward function with your values for correct / wrong / no answer / undecided."""
    return AccuracyReward(correct, wrong, no_answer, undecided, jobs=jobs, timeout=timeout, column=column,
                          name=name)


accuracy_reward = AccuracyReward()
