"""The method registry: every selection method is one `Method` entry, addressed by one spec grammar.

A spec is parsed once at the edge (`parse_method("maj@8")` -> `MethodSpec`) and the
`MethodSpec` object travels through evaluation, the runner, cost rows, tables, plots and the
Python API, which ask it for traits (`spec.method.reads`, `spec.method.curve`, ...) instead of
comparing names as strings.

Each `Method` carries:

- `aggregate`: the aggregator `(items, scores, *, tie, rng, key) -> Vote` on the first k samples
  (`verify.select.aggregate`); None for an oracle that picks no answer (`pass@k`).
- `exact`: the exact estimator, `(gp, scores, ks, *, max_enum, trials, rng) -> Estimate`, the
  expected correctness over all k-subsets of one problem's n samples (`verify.select.estimators`).
- `first_k`: what the method scores on the first k samples, `(gp, scores, k, *, tie, rng) ->
  FirstK` (`--subsets first`); the default runs `aggregate` and grades the pick.
- `reads`: the score it reads: "none", "confidence" (the token-confidence weight of
  `verify.records.confidence`), "step" (reduced step scores, else the outcome score; a
  run must score with a PRM) or "outcome" (the trace's `score`).
- `form`: how a spec is written: "{name}@{k}", "{name}-{k}" or "{name}" (no k).
- `curve`: "curve" (accuracy against k, one line per method) or "reference" (one point at
  k = 1, drawn as a horizontal reference line); a "reference" method always uses k = 1.
- `splits_ties`: its exact estimator splits tied votes / tied top scores evenly (said in the
  notes under a table).

Adding a method is one `register(Method(...))` call plus its tests, for instance a confidence
vote that weights each answer by a per-trace confidence in `Trace.score`:

    >>> from verify.select.aggregate import weighted_vote
    >>> from verify.select import methods as M
    >>> toy = M.Method("toy-vote", aggregate=weighted_vote, exact=M.exact_weighted_vote, reads="outcome",
    ...                aliases=("tv",), description="weighted vote on outcome scores")
    >>> _ = M.register(toy)
    >>> M.parse_method("tv@4").spec, M.parse_method("tv@4").method.reads
    ('toy-vote@4', 'outcome')
    >>> M.unregister("toy-vote")

Its exact estimator gets the problem's `GradedProblem` (labels, class_correct, sample_correct)
and the score array its `reads` trait selects; `verify eval`, the runner (which scores with a
PRM when `reads == "step"`), cost rows (PRM tokens charged when `reads == "step"`), tables and
plots then handle it with no other change. Write its tests beside the others: the aggregator on
hand-built traces (ties, all-None, unfinished, k > n) and the exact estimator against a seeded
simulation of the aggregator.
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from verify.errors import UnknownSpecError
from verify.select.aggregate import Vote, best_of, majority_vote, single, weighted_vote

READS = ("none", "step", "outcome", "confidence")
FORMS = ("{name}@{k}", "{name}-{k}", "{name}")
CURVES = ("curve", "reference")


@dataclass(frozen=True)
class Estimate:
    """Per-problem expected correctness at each k: `value`, Monte-Carlo `var` (0 when exact)
    and the estimator's name per k ("exact", "exact-enumeration" or "monte-carlo")."""

    value: Any                  # (len(ks),) float array
    var: Any                    # (len(ks),) float array
    estimator: tuple[str, ...]


@dataclass(frozen=True)
class FirstK:
    """What a method scores on the first k samples: `value` under the tie rule given, and
    `random_ties` (the expectation under random tie-breaking) with `tied` (the rule decided)."""

    value: float
    random_ties: float | None      # None: no tie rule applies (pass@k)
    tied: bool = False


@dataclass(frozen=True)
class Method:
    """One registry entry (see the module docstring for each trait)."""

    name: str
    exact: Callable[..., Estimate]
    aggregate: Callable[..., Vote] | None = None
    first_k: Callable[..., FirstK] | None = None   # None: run `aggregate` on the first k, grade the pick
    reads: str = "none"
    form: str = "{name}@{k}"
    curve: str = "curve"
    splits_ties: bool = True
    aliases: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        for trait, value, known in (("reads", self.reads, READS), ("form", self.form, FORMS),
                                    ("curve", self.curve, CURVES)):
            if value not in known:
                raise ValueError(f"method {self.name!r}: unknown {trait} {value!r}; known: {', '.join(known)}")
        if self.aggregate is None and self.first_k is None:
            raise ValueError(f"method {self.name!r} needs an aggregator or a first_k function")

    @property
    def takes_k(self) -> bool:
        return self.form != "{name}"

    def display(self, k: int | None) -> str:
        """The spec as written, e.g. `majority@8`, `prm-best-of-8`; k None reads `n` (all)."""
        return self.form.format(name=self.name, k="n" if k is None else k)


REGISTRY: dict[str, Method] = {}
_ALIASES: dict[str, str] = {}


def register(method: Method) -> Method:
    """Add a method (and its aliases) to the registry; a taken name or alias is an error."""
    for word in (method.name, *method.aliases):
        if word in _ALIASES:
            raise ValueError(f"method name {word!r} is taken by {_ALIASES[word]!r}")
    REGISTRY[method.name] = method
    for word in (method.name, *method.aliases):
        _ALIASES[word] = method.name
    return method


def unregister(name: str) -> None:
    """Remove a method and its aliases (for tests that register a toy method)."""
    method = REGISTRY.pop(name)
    for word in (method.name, *method.aliases):
        _ALIASES.pop(word, None)


def get_method(name: str) -> Method:
    """The entry for a canonical name or alias (`UnknownSpecError` lists the known ones)."""
    key = _ALIASES.get(str(name).strip().lower())
    if key is None:
        raise _unknown(name, name)
    return REGISTRY[key]


# --------------------------------------------------------------------------- spec grammar

@dataclass(frozen=True)
class MethodSpec:
    """A parsed method spec: `name` from the registry, `k` samples (None: all available).

    >>> MethodSpec("majority", 8).spec
    'majority@8'
    >>> MethodSpec("prm-best-of", 8).method.reads
    'step'
    """

    name: str
    k: int | None = None

    @property
    def method(self) -> Method:
        return REGISTRY[self.name]

    @property
    def spec(self) -> str:
        return self.method.display(self.k)

    def with_k(self, k: int) -> "MethodSpec":
        return MethodSpec(self.name, 1 if self.method.curve == "reference" else k)

    def __str__(self) -> str:
        return self.spec


def known_forms() -> list[str]:
    return [m.display("k") if m.takes_k else m.name for m in REGISTRY.values()]


def _unknown(spec: Any, head: str) -> UnknownSpecError:
    close = difflib.get_close_matches(str(head), list(_ALIASES), n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return UnknownSpecError(f"unknown method {spec!r}.{hint} Known: {', '.join(known_forms())}")


def parse_method(spec: str | MethodSpec) -> MethodSpec:
    """Parse a method spec into a `MethodSpec`; `n` or a missing k means all samples.

    >>> parse_method("maj@8")
    MethodSpec(name='majority', k=8)
    >>> parse_method("prm-best-of-16")
    MethodSpec(name='prm-best-of', k=16)
    >>> parse_method("single")
    MethodSpec(name='single', k=1)
    """
    if isinstance(spec, MethodSpec):
        return spec
    s = str(spec).strip().lower()
    m = re.fullmatch(r"([a-z][a-z-]*?)(?:[@-](\d+|n))?", s)
    if m is None or m.group(1) not in _ALIASES:
        raise _unknown(spec, m.group(1) if m else s)
    method = REGISTRY[_ALIASES[m.group(1)]]
    raw_k = m.group(2)
    if method.curve == "reference":
        if raw_k not in (None, "1"):
            raise UnknownSpecError(f"{method.name!r} takes no k (got {spec!r})")
        return MethodSpec(method.name, 1)
    k = None if raw_k in (None, "n") else int(raw_k)
    if k is not None and k < 1:
        raise UnknownSpecError(f"k must be >= 1 in {spec!r}")
    return MethodSpec(method.name, k)


def parse_methods(specs: Sequence[str | MethodSpec]) -> list[MethodSpec]:
    """Parse several specs, dropping repeats (`maj@8` and `majority@8` are one method)."""
    return list(dict.fromkeys(parse_method(s) for s in specs))


def scores_for(spec: MethodSpec, gp: Any) -> Any:
    """The score array (n,) a method reads from a `GradedProblem` (None when it reads none)."""
    import numpy as np

    reads = spec.method.reads
    if reads == "confidence":  # token confidence (verify.records.confidence); nan when not recorded
        return gp.confidence_scores if gp.confidence_scores is not None else np.full(gp.n, np.nan)
    return None if reads == "none" else gp.outcome_scores if reads == "outcome" else gp.prm_scores


def aggregate(spec: str | MethodSpec, items: Sequence[Any], scores: Sequence[float | None] | None = None,
              *, tie: str = "first", rng=None, key: Callable | None = None) -> Vote:
    """Apply a method spec to the first k items (k > len(items) is an error).

    >>> aggregate("maj@3", ["1", "2", "2", "1", "1"]).answer
    '2'
    """
    ms = parse_method(spec)
    fn = ms.method.aggregate
    if fn is None:
        raise ValueError(f"{ms.spec} is an oracle over k samples, not an aggregator; use verify.select.estimators")
    k = len(items) if ms.k is None else ms.k
    if k > len(items):
        raise ValueError(f"{ms.spec} needs k={k} samples but only {len(items)} are given")
    if ms.method.reads != "none" and scores is None:
        raise ValueError(f"{ms.spec} needs scores")
    return fn(list(items[:k]), None if scores is None else list(scores[:k]), tie=tie, rng=rng, key=key)


# --------------------------------------------------------------------------- exact estimators

def _exact(values: Any) -> Estimate:
    import numpy as np

    values = np.asarray(values, dtype=float)
    return Estimate(values, np.zeros(len(values)), ("exact",) * len(values))


def exact_pass(gp, scores, ks, **_) -> Estimate:
    """pass@k (Chen et al. 2021); for k = 1 it is also `single`'s expectation."""
    from verify.select.estimators import pass_at_k

    c = int(gp.sample_correct.sum())
    return _exact([pass_at_k(gp.n, c, int(k)) for k in ks])


def exact_majority(gp, scores, ks, *, max_enum: int = 20_000, trials: int = 2000, rng=None) -> Estimate:
    """maj@k by the generating-function count; above `MAX_EXACT_N` samples, enumeration/MC."""
    from verify.select.estimators import MAX_EXACT_N, majority_at_k

    if gp.n <= MAX_EXACT_N:
        return _exact(majority_at_k(gp.labels, gp.class_correct, ks))
    return estimate_per_k(gp, None, ks, max_enum=max_enum, trials=trials, rng=rng)


def exact_best_of(gp, scores, ks, **_) -> Estimate:
    """best-of-k over all k-subsets, tied top scores split evenly."""
    from verify.select.estimators import best_of_k

    return _exact(best_of_k(scores, gp.labels >= 0, gp.sample_correct, ks, tie="random"))


def exact_weighted_vote(gp, scores, ks, *, max_enum: int = 20_000, trials: int = 2000, rng=None) -> Estimate:
    """weighted-vote@k by enumerating k-subsets (Monte-Carlo with its error above `max_enum`)."""
    return estimate_per_k(gp, scores, ks, max_enum=max_enum, trials=trials, rng=rng)


def estimate_per_k(gp, weights, ks, *, max_enum, trials, rng, at_k=None) -> Estimate:
    """One estimate per k from `at_k(labels, weights, class_correct, k, ...) -> (mean, se, exact)`
    (default: `estimators.vote_at_k`), recording which k were enumerated exactly."""
    import numpy as np

    if at_k is None:
        from verify.select.estimators import vote_at_k as at_k

    value, var, est = np.zeros(len(ks)), np.zeros(len(ks)), []
    for i, k in enumerate(ks):
        m, se, exact = at_k(gp.labels, weights, gp.class_correct, int(k), max_enum=max_enum,
                            trials=trials, rng=rng)
        value[i], var[i] = m, se * se
        est.append("exact-enumeration" if exact else "monte-carlo")
    return Estimate(value, var, tuple(est))


# --------------------------------------------------------------------------- first-k scoring

def _items(gp, scores, k: int) -> tuple[list, list | None]:
    items = [None if lab < 0 else int(lab) for lab in gp.labels[:k]]
    sc = None if scores is None else [None if math.isnan(s) else float(s) for s in scores[:k]]
    return items, sc


def first_k_vote(method: Method, gp, scores, k: int, *, tie: str = "first", rng=None) -> FirstK:
    """A vote on the first k: the winning class graded; random ties = mean over tied classes."""
    items, sc = _items(gp, scores, k)
    v = method.aggregate(items, sc, tie=tie, rng=rng)
    value = 0.0 if v.answer is None else float(gp.class_correct[v.answer])
    rt = sum(float(gp.class_correct[a]) for a in v.tied) / len(v.tied) if v.tied else 0.0
    return FirstK(value, rt, len(v.tied) > 1)


def first_k_pick(method: Method, gp, scores, k: int, *, tie: str = "first", rng=None) -> FirstK:
    """A pick of one sample among the first k: random ties = mean over the tied top samples."""
    items, sc = _items(gp, scores, k)
    v = method.aggregate(items, sc, tie=tie, rng=rng)
    value = 0.0 if v.answer is None else float(gp.class_correct[v.answer])
    if v.index is None:
        return FirstK(value, 0.0, False)
    if sc is None:  # a pick without scores has no tied top scores
        return FirstK(value, value, False)
    correct = gp.sample_correct
    top = [j for j in range(k) if items[j] is not None and sc[j] == sc[v.index]]
    return FirstK(value, sum(float(correct[j]) for j in top) / len(top), len(top) > 1)


def first_k_single(method: Method, gp, scores, k: int, **_) -> FirstK:
    v = float(gp.sample_correct[0]) if gp.n else 0.0
    return FirstK(v, v, False)


def first_k_pass(method: Method, gp, scores, k: int, **_) -> FirstK:
    return FirstK(float(gp.sample_correct[:k].any()), None, False)


def score_first_k(spec: MethodSpec, gp, scores, k: int, *, tie: str = "first", rng=None) -> FirstK:
    """`spec`'s method on the first k samples of one problem (`--subsets first`)."""
    m = spec.method
    fn = m.first_k or first_k_vote
    return fn(m, gp, scores, k, tie=tie, rng=rng)


def _majority(items, scores=None, **kw) -> Vote:
    return majority_vote(items, scores=scores, **kw)


# --------------------------------------------------------------------------- the built-in methods

register(Method("single", exact=exact_pass, aggregate=single, first_k=first_k_single, form="{name}",
                curve="reference", splits_ties=False, description="the first sample's answer (k = 1 reference)"))
register(Method("pass", exact=exact_pass, first_k=first_k_pass, splits_ties=False,
                description="oracle: any of k samples correct (Chen et al. 2021)"))
register(Method("majority", exact=exact_majority, aggregate=_majority, aliases=("maj", "vote"),
                description="most common answer class (self-consistency, Wang et al. 2022)"))
register(Method("weighted-vote", exact=exact_weighted_vote, aggregate=weighted_vote, reads="step",
                aliases=("weighted", "wmaj"), description="answer class with the largest total PRM score"))
register(Method("prm-best-of", exact=exact_best_of, aggregate=best_of, first_k=first_k_pick, reads="step",
                form="{name}-{k}", aliases=("bon",), description="the trace with the highest PRM score"))
register(Method("best-of", exact=exact_best_of, aggregate=best_of, first_k=first_k_pick, reads="outcome",
                form="{name}-{k}", aliases=("rm-best-of",), description="the trace with the highest outcome score"))

from verify.select import confidence_vote  # noqa: E402,F401  registers confidence-vote and confidence-filter
