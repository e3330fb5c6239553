"""Aggregators that turn N sampled answers into one: majority vote, weighted vote, best-of-N.

Methods are plain functions in a registry, addressed everywhere by one spec grammar
(`parse_method`): `majority@8` (alias `maj@8`), `weighted-vote@8`, `prm-best-of-8`,
`best-of-8`, `pass@8`, `single`.

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

import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Sequence

from verify.errors import UnknownSpecError
from verify.records.types import Trace

TIE_RULES = ("first", "score", "random")
REDUCTIONS = ("prod", "min", "last", "mean")


# --------------------------------------------------------------------------- spec grammar

@dataclass(frozen=True)
class MethodSpec:
    """A parsed method spec: `name` from `METHODS`, `k` samples (None: all available).

    >>> MethodSpec("majority", 8).spec
    'majority@8'
    """

    name: str
    k: int | None = None

    @property
    def spec(self) -> str:
        if self.name == "single":
            return "single"
        if self.name in ("prm-best-of", "best-of"):
            return f"{self.name}-{self.k if self.k is not None else 'n'}"
        return f"{self.name}@{self.k if self.k is not None else 'n'}"

    def with_k(self, k: int) -> "MethodSpec":
        return MethodSpec(self.name, 1 if self.name == "single" else k)


_ALIASES = {"maj": "majority", "majority": "majority", "vote": "majority",
            "weighted-vote": "weighted-vote", "weighted": "weighted-vote", "wmaj": "weighted-vote",
            "pass": "pass", "prm-best-of": "prm-best-of", "best-of": "best-of",
            "rm-best-of": "best-of", "bon": "prm-best-of", "single": "single"}
_KNOWN_FORMS = ("single", "pass@k", "majority@k", "maj@k", "weighted-vote@k", "prm-best-of-k",
                "best-of-k")


def parse_method(spec: str) -> MethodSpec:
    """Parse a method spec into a `MethodSpec`; `n` or a missing k means all samples.

    >>> parse_method("maj@8")
    MethodSpec(name='majority', k=8)
    >>> parse_method("prm-best-of-16")
    MethodSpec(name='prm-best-of', k=16)
    >>> parse_method("single")
    MethodSpec(name='single', k=1)
    """
    s = str(spec).strip().lower()
    m = re.fullmatch(r"([a-z][a-z-]*?)(?:[@-](\d+|n))?", s)
    if m is None or m.group(1) not in _ALIASES:
        head = m.group(1) if m else s
        close = difflib.get_close_matches(head, list(_ALIASES), n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownSpecError(f"unknown method {spec!r}.{hint} Known: {', '.join(_KNOWN_FORMS)}")
    name = _ALIASES[m.group(1)]
    raw_k = m.group(2)
    if name == "single":
        if raw_k not in (None, "1"):
            raise UnknownSpecError(f"'single' takes no k (got {spec!r})")
        return MethodSpec("single", 1)
    k = None if raw_k in (None, "n") else int(raw_k)
    if k is not None and k < 1:
        raise UnknownSpecError(f"k must be >= 1 in {spec!r}")
    return MethodSpec(name, k)


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


def _majority(items, scores=None, **kw) -> Vote:
    return majority_vote(items, scores=scores, **kw)


# name -> aggregator(items, scores, *, tie, rng, key) -> Vote. `pass` has no single winner:
# it is graded as "any sample correct" by the estimators, never through this registry.
METHODS: dict[str, Callable[..., Vote]] = {
    "single": single,
    "majority": _majority,
    "weighted-vote": weighted_vote,
    "prm-best-of": best_of,
    "best-of": best_of,
}
SCORE_METHODS = ("weighted-vote", "prm-best-of", "best-of")


def aggregate(spec: str | MethodSpec, items: Sequence[Any], scores: Sequence[float | None] | None = None,
              *, tie: str = "first", rng=None, key: Callable | None = None) -> Vote:
    """Apply a method spec to the first k items (k > len(items) is an error).

    >>> aggregate("maj@3", ["1", "2", "2", "1", "1"]).answer
    '2'
    """
    ms = spec if isinstance(spec, MethodSpec) else parse_method(spec)
    if ms.name == "pass":
        raise ValueError("pass@k is an oracle over k samples, not an aggregator; use verify.select.estimators")
    k = len(items) if ms.k is None else ms.k
    if k > len(items):
        raise ValueError(f"{ms.spec} needs k={k} samples but only {len(items)} are given")
    if ms.name in SCORE_METHODS and scores is None:
        raise ValueError(f"{ms.spec} needs scores")
    fn = METHODS[ms.name]
    return fn(list(items[:k]), None if scores is None else list(scores[:k]), tie=tie, rng=rng, key=key)
