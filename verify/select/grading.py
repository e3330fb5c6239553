"""Grade recorded samples against gold: answer classes by mathematical equivalence, then
one verdict per class.

Each problem's samples become integer arrays that the estimators work on:
`labels[i]` is the answer class of sample i (-1: abstains, i.e. no answer or unfinished),
`class_correct[c]` says whether class c matches the gold answer.

Grouping (`group="equivalence"`, the default): answers are bucketed by the checker's cheap
canonical `answer_key` (equal keys imply equivalent); buckets are then merged greedily, most
frequent first, by `compare_answers` against each existing class representative, as
self-consistency implementations do (Wang et al. 2022; Qwen2.5-Math `group_pred`). Every
comparison is cached per problem. An undecided comparison (`Verdict.equal is None`, e.g. a
timeout) does not merge; it is counted. `group="string"` votes by exact answer string, the
behaviour of most existing tools.

Correctness (`grade="checker"`): `compare_answers(gold, representative)` once per class; an
undecided verdict counts as *not correct* and is counted in `GradeStats.undecided_gold`.
`grade="source"` uses a per-sample boolean `correct` field recorded in the samples file
(e.g. the `score` list of the Qwen2.5-Math format); a class takes the label of its first
sample, as Qwen2.5-Math's `rm_maj_eval.py` does.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

from verify.select.aggregate import trace_score
from verify.records.confidence import trace_confidence
from verify.errors import InputError
from verify.records.types import Trace

GROUPINGS = ("equivalence", "string")
GRADINGS = ("checker", "source")


@dataclass(frozen=True)
class GradedProblem:
    """One problem's samples as arrays (n samples, C answer classes).

    >>> gp = GradedProblem("p", "4", np.array([0, 1, 0, -1]), np.array([True, False]), ("4", "5"),
    ...                    np.full(4, np.nan), np.full(4, np.nan), np.zeros(4, int))
    >>> gp.n, gp.sample_correct.tolist()
    (4, [True, False, True, False])
    """

    problem_id: str
    gold: str | None
    labels: np.ndarray          # (n,) int class id per sample; -1 abstains
    class_correct: np.ndarray   # (C,) bool
    class_answers: tuple        # (C,) representative answer string per class
    prm_scores: np.ndarray      # (n,) reduced step scores, else outcome score; nan if none
    outcome_scores: np.ndarray  # (n,) outcome `score`; nan if none
    num_tokens: np.ndarray      # (n,) generated tokens; 0 unknown
    confidence_scores: np.ndarray | None = None  # (n,) token-confidence weight (records.confidence); nan if none

    @property
    def n(self) -> int:
        return int(self.labels.shape[0])

    @property
    def sample_correct(self) -> np.ndarray:
        """(n,) bool: the sample's answer class matches gold (abstainers are wrong)."""
        ok = np.zeros(self.n, dtype=bool)
        has = self.labels >= 0
        ok[has] = self.class_correct[self.labels[has]]
        return ok

    @property
    def counts(self) -> np.ndarray:
        """(C,) votes per class."""
        return np.bincount(self.labels[self.labels >= 0], minlength=len(self.class_correct))


@dataclass
class GradeStats:
    """What grading did, so nothing undecided is hidden."""

    n_problems: int = 0
    n_samples: int = 0
    no_answer: int = 0          # samples with no extractable answer (abstain)
    unfinished: int = 0         # finish_reason == "length" (abstain, or dropped)
    dropped_unfinished: int = 0
    comparisons: int = 0        # compare_answers calls between answers (after the key buckets)
    undecided_pairs: int = 0    # answer-vs-answer comparisons left undecided (not merged)
    undecided_gold: int = 0     # classes whose verdict vs gold was undecided (counted wrong)
    undecided_reasons: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def trace_answer(trace: Trace) -> str | None:
    """The recorded answer, else the one extracted from the text (model text is untrusted).

    >>> trace_answer(Trace("p", 0, text="so \\\\boxed{12}"))
    '12'
    """
    if trace.answer is not None:
        return str(trace.answer)
    if trace.text:
        from verify.checker.extract import extract_answer
        return extract_answer(trace.text)
    return None


def _gold_answer(gold: str) -> str:
    if "\\boxed" in gold:
        from verify.checker.extract import extract_answer
        return extract_answer(gold, fallback_last_number=False) or gold
    return gold


def group_answers(answers: Sequence[str | None], *, group: str = "equivalence",
                  compare: Callable | None = None, key: Callable | None = None,
                  stats: GradeStats | None = None) -> tuple[np.ndarray, list[str]]:
    """Class id per answer (-1 for None) and one representative answer per class.

    >>> labels, reps = group_answers(["4", "5", None, "4"], group="string")
    >>> labels.tolist(), reps
    ([0, 1, -1, 0], ['4', '5'])
    """
    if group not in GROUPINGS:
        raise ValueError(f"unknown grouping {group!r}; known: {', '.join(GROUPINGS)}")
    if group == "string":
        key = key or (lambda a: a)
    elif key is None:
        from verify.checker.equivalence import answer_key as key
    buckets: dict[str, list[int]] = {}
    for i, a in enumerate(answers):
        if a is not None:
            buckets.setdefault(key(a), []).append(i)
    order = sorted(buckets, key=lambda b: (-len(buckets[b]), buckets[b][0]))  # most votes, then earliest
    class_of_bucket: dict[str, int] = {}
    reps: list[str] = []
    if group == "string":
        for b in order:
            class_of_bucket[b] = len(reps)
            reps.append(answers[buckets[b][0]])
    else:
        if compare is None:
            from verify.checker.equivalence import compare_answers as compare
        cache: dict[tuple[str, str], bool | None] = {}
        rep_keys: list[str] = []
        for b in order:
            a = answers[buckets[b][0]]
            joined = None
            for c, rk in enumerate(rep_keys):
                pair = (rk, b) if rk <= b else (b, rk)
                if pair not in cache:
                    v = compare(reps[c], a)
                    cache[pair] = v.equal
                    if stats is not None:
                        stats.comparisons += 1
                        if v.equal is None:
                            stats.undecided_pairs += 1
                            stats.undecided_reasons[v.reason or "?"] = stats.undecided_reasons.get(v.reason or "?", 0) + 1
                if cache[pair] is True:
                    joined = c
                    break
            if joined is None:
                joined = len(reps)
                reps.append(a)
                rep_keys.append(b)
            class_of_bucket[b] = joined
    labels = np.full(len(answers), -1, dtype=np.int64)
    for b, idx in buckets.items():
        labels[idx] = class_of_bucket[b]
    return labels, reps


def grade_traces(traces: Iterable[Trace], *, group: str = "equivalence", grade: str = "checker",
                 reduce: str = "prod", drop_unfinished: bool = False,
                 compare: Callable | None = None, progress: Callable[[int, int], None] | None = None,
                 ) -> tuple[list[GradedProblem], GradeStats]:
    """Group each problem's samples into answer classes and grade the classes against gold.

    Problems keep their order of first appearance; samples are ordered by `sample_index`.

    >>> ts = [Trace("p", i, answer=a, gold="4") for i, a in enumerate(["4", "5", "4"])]
    >>> probs, stats = grade_traces(ts, group="string")
    >>> probs[0].labels.tolist(), probs[0].class_correct.tolist()
    ([0, 1, 0], [True, False])
    """
    if grade not in GRADINGS:
        raise ValueError(f"unknown grading {grade!r}; known: {', '.join(GRADINGS)}")
    if compare is None:
        from verify.checker.equivalence import compare_answers as compare
    by_problem: dict[str, list[Trace]] = defaultdict(list)
    for t in traces:
        by_problem[t.problem_id].append(t)
    stats = GradeStats()
    out: list[GradedProblem] = []
    total = len(by_problem)
    for done, (pid, ts) in enumerate(by_problem.items(), start=1):
        ts = sorted(ts, key=lambda t: t.sample_index)
        stats.unfinished += sum(t.finish_reason == "length" for t in ts)
        if drop_unfinished:
            kept = [t for t in ts if t.finish_reason != "length"]
            stats.dropped_unfinished += len(ts) - len(kept)
            ts = kept
        if not ts:
            continue
        golds = {t.gold for t in ts if t.gold is not None}
        if grade == "checker":
            if not golds:
                raise InputError("no sample of this problem carries a gold answer",
                                 field="gold", path=f"problem {pid!r}")
            if len(golds) > 1:
                raise InputError(f"samples disagree on the gold answer: {sorted(golds)!r:.120}",
                                 field="gold", path=f"problem {pid!r}")
        gold = next(iter(golds)) if golds else None
        extracted = [trace_answer(t) for t in ts]
        stats.no_answer += sum(a is None for a in extracted)
        answers = [None if t.finish_reason == "length" else a for t, a in zip(ts, extracted)]
        labels, reps = group_answers(answers, group=group, compare=compare, stats=stats)
        correct = np.zeros(len(reps), dtype=bool)
        if grade == "checker":
            g = _gold_answer(str(gold))
            for c, rep in enumerate(reps):
                v = compare(g, rep)
                if v.equal is None:
                    stats.undecided_gold += 1
                    stats.undecided_reasons[v.reason or "?"] = stats.undecided_reasons.get(v.reason or "?", 0) + 1
                correct[c] = v.equal is True
        else:
            for c in range(len(reps)):
                first = ts[int(np.flatnonzero(labels == c)[0])]
                lab = first.meta.get("correct")
                if not isinstance(lab, bool):
                    raise InputError("grade='source' needs a boolean 'correct' field on every sample",
                                     field="correct", path=f"problem {pid!r}")
                correct[c] = lab
        prm = np.array([_nan(trace_score(t, reduce)) for t in ts], dtype=float)
        outcome = np.array([_nan(t.score) for t in ts], dtype=float)
        tokens = np.array([int(t.num_tokens or 0) for t in ts], dtype=np.int64)
        conf = np.array([_nan(trace_confidence(t.confidence)) for t in ts], dtype=float)
        out.append(GradedProblem(pid, gold, labels, correct, tuple(reps), prm, outcome, tokens, conf))
        stats.n_samples += len(ts)
        if progress is not None:
            progress(done, total)
    stats.n_problems = len(out)
    return out, stats


def _nan(x: float | None) -> float:
    return float("nan") if x is None else float(x)
