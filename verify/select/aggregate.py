"""Aggregators that turn N sampled answers into one: majority vote, weighted vote, best-of-N.

The aggregators are plain functions; the method registry (`verify.select.methods`) names them
and addresses them everywhere by one spec grammar (`parse_method`): `majority@8` (alias
`maj@8`), `weighted-vote@8`, `prm-best-of-8`, `best-of-8`, `pass@8`, `single`.

- Majority vote (self-consistency, Wang et al. 2022, arXiv:2203.11171): the answer class
  with the most votes wins.
- Weighted vote (Li et al. 2023, arXiv:2206.02336; Uesato et al. 2022): the class with the
  largest sum of verifier scores wins.
- Best-of-N (Cobbe et al. 2021, arXiv:2110.14168; Lightman et al. 2023,
  arXiv:2305.20050): the trace with the highest (PRM- or RM-) score wins.

Answers are any hashables (strings, or integer class ids from `verify.select.grading`);
grouping by mathematical equivalence is done *before* voting, by `verify.select.grading`.

Policy for missing answers: an answer of `None` (nothing could be extracted) and a trace
with `finish_reason == "length"` (unfinished) *abstain*: they never win a vote and are never
selected by best-of-N. When every trace abstains the aggregate is `None`, which grades as
wrong.

Tie rules (documented, deterministic unless `"random"`):
- `"first"`  (default): among tied classes, the one whose first vote came earliest in the
  input order (what `collections.Counter.most_common` does).
- `"score"`: among tied classes, the highest total score, then the earliest first vote.
- `"random"`: uniform among tied classes, using the `numpy.random.Generator` passed as `rng`.
For best-of-N, tied top scores are broken the same way (`"first"`: lowest index).
Because samples are exchangeable, `"first"` averaged over random subsets has the same
expectation as `"random"`; `verify.select.estimators` computes that expectation exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Sequence

from verify.errors import UnknownSpecError
from verify.records.types import Trace

TIE_RULES = ("first", "score", "random")
REDUCTIONS = ("prod", "min", "last", "mean")


# --------------------------------------------------------------------------- scores

def reduce_step_scores(step_scores: Sequence[float] | None, how: str = "prod") -> float | None:
    """Reduce per-step PRM scores to one trace score: `prod` | `min` | `last` | `mean`.

    `prod` is the probability that every step is correct if steps are independent
    (Lightman et al. 2023); `min` is the weakest step (Wang et al., Math-Shepherd).

    >>> reduce_step_scores([0.9, 0.5, 0.8], "min")
    0.5
    >>> round(reduce_step_scores([0.9, 0.5, 0.8]), 3)
    0.36
    """
    if how not in REDUCTIONS:
        raise UnknownSpecError(f"unknown reduction {how!r}; known: {', '.join(REDUCTIONS)}")
    if not step_scores:
        return None
    xs = [float(x) for x in step_scores]
    if how == "prod":
        return math.prod(xs)
    if how == "min":
        return min(xs)
    if how == "last":
        return xs[-1]
    return sum(xs) / len(xs)


def trace_score(trace: Trace, how: str = "prod", *, outcome_only: bool = False) -> float | None:
    """A trace's score: reduced `step_scores`, else its outcome `score`, else None.

    >>> trace_score(Trace("p", 0, step_scores=(0.5, 0.4), score=0.9), "min")
    0.4
    >>> trace_score(Trace("p", 0, step_scores=(0.5, 0.4), score=0.9), outcome_only=True)
    0.9
    """
    if not outcome_only and trace.step_scores:
        return reduce_step_scores(trace.step_scores, how)
    return trace.score


def abstains(trace: Trace) -> bool:
    """True if the trace cannot vote: no answer, or unfinished (`finish_reason == "length"`)."""
    return trace.answer is None or trace.finish_reason == "length"


# --------------------------------------------------------------------------- aggregators

@dataclass(frozen=True)
class Vote:
    """Outcome of one aggregation.

    `answer`: the winner (None if everything abstained); `index`: the position of the
    winner's first vote (for best-of-N, the selected sample); `counts`/`weights`: per class
    in order of first appearance; `tied`: the classes that tied for the top before the tie rule.
    """

    answer: Hashable | None
    index: int | None
    counts: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)
    tied: tuple = ()


def _answers_of(items: Sequence[Any], key: Callable | None) -> list:
    out = []
    for x in items:
        if isinstance(x, Trace):
            a = None if abstains(x) else x.answer
        else:
            a = x
        out.append(a if a is None or key is None else key(a))
    return out


def _pick(tied: list, *, tie: str, rng, first_pos: dict, totals: dict | None) -> Hashable:
    if tie not in TIE_RULES:
        raise UnknownSpecError(f"unknown tie rule {tie!r}; known: {', '.join(TIE_RULES)}")
    if len(tied) == 1:
        return tied[0]
    if tie == "random":
        if rng is None:
            raise ValueError("tie='random' needs rng=numpy.random.default_rng(seed)")
        return tied[int(rng.integers(len(tied)))]
    if tie == "score" and totals is not None:
        return min(tied, key=lambda a: (-totals[a], first_pos[a]))
    return min(tied, key=lambda a: first_pos[a])


def majority_vote(items: Sequence[Any], *, scores: Sequence[float | None] | None = None,
                  tie: str = "first", rng=None, key: Callable | None = None) -> Vote:
    """Most common answer; `None` answers and unfinished traces abstain.

    `items` are answers (hashables, None = abstain) or `Trace`s. `key` maps an answer to
    its class (e.g. `verify.checker.equivalence.answer_key`); default: the answer itself.

    >>> v = majority_vote(["4", "5", "5", "4", None])
    >>> v.answer, v.counts, v.tied
    ('4', {'4': 2, '5': 2}, ('4', '5'))
    >>> majority_vote(["4", "5", "5", "4"], scores=[0.1, 0.9, 0.8, 0.2], tie="score").answer
    '5'
    """
    counts, totals, first_pos = _tally(_answers_of(items, key), scores)
    if not counts:
        return Vote(None, None, {}, {}, ())
    top = max(counts.values())
    tied = [a for a in counts if counts[a] == top]
    win = _pick(tied, tie=tie, rng=rng, first_pos=first_pos, totals=totals if scores is not None else None)
    return Vote(win, first_pos[win], counts, totals if scores is not None else {}, tuple(tied))


def _tally(answers: Sequence[Any], scores: Sequence[float | None] | None) -> tuple[dict, dict, dict]:
    """Per answer class: vote count, total score (a missing score counts 0) and first position;
    abstentions (None) are skipped."""
    counts: dict = {}
    totals: dict = {}
    first_pos: dict = {}
    for i, a in enumerate(answers):
        if a is None:
            continue
        counts[a] = counts.get(a, 0) + 1
        first_pos.setdefault(a, i)
        s = None if scores is None else scores[i]
        totals[a] = totals.get(a, 0.0) + (0.0 if s is None else float(s))
    return counts, totals, first_pos


def weighted_vote(items: Sequence[Any], scores: Sequence[float | None], *, tie: str = "first",
                  rng=None, key: Callable | None = None) -> Vote:
    """Answer class with the largest total score; a missing score counts 0.

    Weights should be non-negative (probabilities); a negative weight would count against.

    >>> weighted_vote(["4", "5", "5"], [0.9, 0.3, 0.4]).answer
    '4'
    """
    answers = _answers_of(items, key)
    if len(scores) != len(answers):
        raise ValueError(f"{len(answers)} answers but {len(scores)} scores")
    counts, totals, first_pos = _tally(answers, scores)
    if not counts:
        return Vote(None, None, {}, {}, ())
    top = max(totals.values())
    tied = [a for a in totals if totals[a] == top]
    win = _pick(tied, tie="first" if tie == "score" else tie, rng=rng, first_pos=first_pos, totals=None)
    return Vote(win, first_pos[win], counts, totals, tuple(tied))


def best_of(items: Sequence[Any], scores: Sequence[float | None], *, tie: str = "first",
            rng=None, key: Callable | None = None) -> Vote:
    """The answer of the highest-scoring non-abstaining sample (missing score ranks last).

    >>> v = best_of(["4", "5", None], [0.2, 0.7, 0.99])
    >>> v.answer, v.index
    ('5', 1)
    """
    answers = _answers_of(items, key)
    if len(scores) != len(answers):
        raise ValueError(f"{len(answers)} answers but {len(scores)} scores")
    cand = [i for i, a in enumerate(answers) if a is not None]
    if not cand:
        return Vote(None, None)
    val = {i: (-math.inf if scores[i] is None else float(scores[i])) for i in cand}
    top = max(val.values())
    tied = [i for i in cand if val[i] == top]
    if tie == "random" and len(tied) > 1:
        if rng is None:
            raise ValueError("tie='random' needs rng=numpy.random.default_rng(seed)")
        i = tied[int(rng.integers(len(tied)))]
    else:
        i = tied[0]
    return Vote(answers[i], i, {}, {}, tuple(answers[j] for j in tied))


def single(items: Sequence[Any], scores=None, *, tie: str = "first", rng=None,
           key: Callable | None = None) -> Vote:
    """The first sample's answer (k = 1 baseline).

    >>> single(["7", "8"]).answer
    '7'
    """
    answers = _answers_of(items[:1], key)
    return Vote(answers[0] if answers else None, 0 if answers and answers[0] is not None else None)


_FROM_METHODS = ("MethodSpec", "parse_method", "aggregate")


def __getattr__(name: str):
    """The spec grammar and `aggregate` live in `verify.select.methods` (the registry); they are
    importable from here too, loaded on first use (the registry imports this module)."""
    from verify.select import methods

    if name in _FROM_METHODS:
        return getattr(methods, name)
    if name == "METHODS":  # name -> Method entry (its `.aggregate` is the function)
        return methods.REGISTRY
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
