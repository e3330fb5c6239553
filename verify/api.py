"""Three-line Python API: wrap any generator, sample N traces, aggregate, return the answer.

    >>> from verify.api import Verifier
    >>> v = Verifier(generator=lambda prompt, n: ["1 + 1 = 2. \\\\boxed{2}"] * n, method="majority@4")
    >>> v.solve("What is 1 + 1?").answer
    '2'

The generator is any `Generator` backend (verify.sampling) or a plain function
`fn(prompt, n) -> list[str]`. Answers are grouped by mathematical equivalence
(`verify.select.grading.group_answers`) and aggregated by `verify.select.aggregate` with the usual spec
grammar (`majority@8`, `weighted-vote@8`, `prm-best-of-8`). A scorer (`prm.scorers` spec
or any `(question, steps) -> list[float]`) attaches per-step scores for the score-based
methods.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

from verify.records.types import Problem, Trace


@dataclass(frozen=True)
class Solution:
    """The chosen answer for one problem, with the traces and the votes behind it."""

    problem: Problem
    answer: str | None                 # None: every trace abstained (no answer / unfinished)
    traces: tuple[Trace, ...]
    votes: dict[str, int] = field(default_factory=dict)      # answer class representative -> votes
    weights: dict[str, float] = field(default_factory=dict)  # per class score totals (score methods)
    index: int | None = None           # the trace that carries the chosen answer
    method: str = ""
    correct: bool | None = None        # against problem.gold when one is given; None: no gold / undecided


class Verifier:
    """Sample with any generator, optionally score steps, aggregate by a method spec.

    Arguments: `generator` (Generator or `fn(prompt, n)`), `scorer` (None, a `prm.scorers`
    spec such as "arith", or a callable), `method` ("majority@8", "weighted-vote@8",
    "prm-best-of-8", "single"), `params` (SamplingParams), `prompt` (a family name from
    evals.prompts or a function Problem -> prompt), `step_sep`.
    """

    def __init__(self, generator: Any, scorer: Any = None, method: str = "majority@8", *,
                 params: Any = None, prompt: str | Callable[[Problem], Any] = "chat",
                 step_sep: str = "\n\n", reduce: str = "prod"):
        from verify.select.methods import parse_method
        from verify.sampling.base import SamplingParams
        from verify.sampling.callable_backend import CallableGenerator

        self.spec = parse_method(method)
        if self.spec.method.aggregate is None:
            raise ValueError(f"{self.spec.spec} needs gold answers and picks no answer; use verify eval for it")
        if self.spec.method.reads != "none" and scorer is None:
            raise ValueError(f"{self.spec.spec} needs a scorer (e.g. scorer='arith' or a PRM directory)")
        self.n = self.spec.k or 8  # a "reference" method (single) is parsed with k = 1
        self.generator = generator if hasattr(generator, "generate") else CallableGenerator(generator)
        if scorer is not None:  # validated as the CLI's scorers are: one score in [0, 1] per step
            from prm.scorers import load_scorer

            scorer = load_scorer(scorer)
        self.scorer = scorer
        self.params = params or SamplingParams()
        if isinstance(prompt, str):
            from evals.prompts import build_prompt

            family = prompt
            self.prompt = lambda p: build_prompt(p, family)
        else:
            self.prompt = prompt
        self.step_sep, self.reduce = step_sep, reduce

    def sample(self, problems: Sequence[Problem]) -> list[list[Trace]]:
        """`n` traces per problem from one generator call (`completion_to_trace`, as `verify sample`
        makes them); with a scorer, each trace's steps are scored (`prm.scorers.CheckedScorer`).

        A generator that takes `seeds` draws sample i of problem p with `sample_seed(seed, p.id, i)`,
        as `verify sample` does: a problem's traces do not depend on the problems beside it."""
        from verify.sampling.base import sample_seed, takes_seeds
        from verify.sampling.traces import completion_to_trace

        prompts = [self.prompt(p) for p in problems]
        if takes_seeds(self.generator):  # sample i of problem p: its own seed, as `verify sample` draws it
            seeds = [[sample_seed(self.params.seed, p.id, i) for i in range(self.n)] for p in problems]
            got = self.generator.generate(prompts, self.n, self.params, seeds=seeds)
        else:
            got = self.generator.generate(prompts, self.n, self.params)
        out = []
        for p, row in zip(problems, got):
            traces = [completion_to_trace(p, i, c, step_sep=self.step_sep) for i, c in enumerate(row)]
            if self.scorer is not None:
                traces = [replace(t, step_scores=tuple(self.scorer(p.question, list(t.steps)))) if t.steps else t
                          for t in traces]
            out.append(traces)
        return out

    def solve(self, problem: Problem | str, gold: str | None = None) -> Solution:
        """Sample, score and aggregate one problem (a string becomes a Problem)."""
        if isinstance(problem, str):
            problem = Problem(id="q0", question=problem, gold=gold or "")
        return self.solve_many([problem])[0]

    def solve_many(self, problems: Sequence[Problem]) -> list[Solution]:
        """`solve` for a batch of problems, sampled in one generator call."""
        return [self._decide(p, ts) for p, ts in zip(problems, self.sample(problems))]

    def _decide(self, problem: Problem, traces: list[Trace]) -> Solution:
        from verify.select.aggregate import abstains, trace_score
        from verify.select.methods import aggregate
        from verify.checker.equivalence import compare_answers
        from verify.select.grading import group_answers

        answers = [None if abstains(t) else t.answer for t in traces]
        labels, reps = group_answers(answers)
        items = [None if a is None else int(c) for a, c in zip(answers, labels)]
        scores = None
        if self.scorer is not None:
            scores = [trace_score(t, self.reduce) for t in traces]
        vote = aggregate(self.spec, items, scores)
        answer = None if vote.answer is None else reps[vote.answer]
        correct = None
        if answer is not None and problem.gold:
            correct = compare_answers(problem.gold, answer).equal
        elif answer is None and problem.gold:
            correct = False
        counts = {reps[c]: int(v) for c, v in vote.counts.items()}
        if not counts:  # best-of-N does not count votes; still show them
            counts = {reps[c]: int((labels == c).sum()) for c in range(len(reps))}
        return Solution(problem=problem, answer=answer, traces=tuple(traces), votes=counts,
                        weights={reps[c]: float(w) for c, w in vote.weights.items()}, index=vote.index,
                        method=self.spec.spec, correct=correct)


def evaluate(generator: Any, problems: Sequence[Problem], methods: Sequence[str] = ("prm-best-of-8",), *,
             scorer: Any = None, out_dir: str = "runs/api", **options: Any) -> Any:
    """Sample, score, select, grade and report in one call, for your own generator and scorer.

    Writes the same run folder as `verify eval` (samples.jsonl, scored.jsonl, results.json,
    report.md, curves.png), resumes it when called again, and returns the
    `evals.results.EvalResults` that results.json holds (`results`: one `MethodResult` row per
    method; `curves`, `grading`, `config`, `run`, `files`; see docs/results.md). `options` are
    `evals.runner.RunConfig` fields (n, temperature, max_tokens, reduce, prices, ...).

    >>> import tempfile
    >>> from verify.records.types import Problem
    >>> gen = lambda prompt, n: ["3 + 4 = 7.\\n\\n\\\\boxed{7}", "3 + 4 = 8.\\n\\n\\\\boxed{8}"][:n]
    >>> res = evaluate(gen, [Problem("p1", "What is 3 + 4?", "7")], ["prm-best-of-2", "majority@2"],
    ...                scorer="arith", out_dir=tempfile.mkdtemp(), progress=False)
    >>> [(r.method, r.accuracy) for r in res.results]
    [('single', 0.5), ('prm-best-of-2', 1.0), ('majority@2', 0.5)]
    """
    from evals.runner import RunConfig, run_eval
    from verify.sampling.callable_backend import CallableGenerator

    gen = generator if hasattr(generator, "generate") else CallableGenerator(generator)
    cfg = RunConfig(methods=tuple(methods), prm=scorer, out_dir=str(out_dir), **options)
    return run_eval(cfg, generator=gen, problems=list(problems))
