"""Plain frozen records that travel through the pipeline: Problem, Trace, Verdict.

A `Trace` keeps its steps and their scores together so that a PRM score can never be
attached to the wrong split of the text.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One benchmark item.

    >>> Problem(id="gsm8k-0", question="1+1?", gold="2").gold
    '2'
    """

    id: str
    question: str
    gold: str
    meta: dict[str, Any] = field(default_factory=dict)  # source fields we keep but do not interpret


@dataclass(frozen=True)
class Trace:
    """One sampled reasoning trace for one problem.

    >>> t = Trace(problem_id="p1", sample_index=0, text="... \\\\boxed{4}", answer="4")
    >>> Trace.from_dict(t.to_dict()) == t
    True
    """

    problem_id: str
    sample_index: int
    text: str = ""
    steps: tuple[str, ...] = ()
    answer: str | None = None               # None: no final answer could be extracted
    gold: str | None = None                 # carried so a samples file is self-contained
    step_scores: tuple[float, ...] | None = None  # one PRM score per step, in [0, 1]
    score: float | None = None              # outcome score (ORM / RM), when there is no per-step score
    num_tokens: int = 0                     # generated tokens; 0 means unknown
    prompt_tokens: int = 0                  # prompt tokens; 0 means unknown
    finish_reason: str = "stop"             # "length" traces are unfinished: aggregators must know
    sampling: dict[str, Any] = field(default_factory=dict)  # temperature, top_p, seed, model, backend
    meta: dict[str, Any] = field(default_factory=dict)      # any other fields of the source line
    confidence: dict[str, Any] | None = None  # token-confidence summary (verify.records.confidence); None: no logprobs

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["steps"] = list(self.steps)
        d["step_scores"] = None if self.step_scores is None else list(self.step_scores)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Trace":
        known = {f for f in cls.__dataclass_fields__}
        kw = {k: v for k, v in d.items() if k in known}
        meta = dict(kw.pop("meta", None) or {})
        meta.update({k: v for k, v in d.items() if k not in known})
        kw["steps"] = tuple(kw.get("steps") or ())
        if kw.get("step_scores") is not None:
            kw["step_scores"] = tuple(float(x) for x in kw["step_scores"])
        kw["problem_id"] = str(kw["problem_id"])
        return cls(meta=meta, **kw)


@dataclass(frozen=True)
class Verdict:
    """Tri-state result of comparing a gold answer with a predicted one.

    `equal` is True, False, or None (undecided: `reason` says why, e.g. "timeout",
    "parse-error", "no-answer"). Never read an undecided verdict as False silently.

    >>> Verdict(equal=None, reason="timeout").decided
    False
    """

    equal: bool | None
    reason: str = ""
    gold_answer: str | None = None   # the answer extracted from the gold text
    pred_answer: str | None = None   # the answer extracted from the predicted text
    method: str = ""                 # which layer decided: "string", "numeric", "symbolic", ...

    @property
    def decided(self) -> bool:
        return self.equal is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
