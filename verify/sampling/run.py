"""Resumable sampling to a JSONL file: N traces per problem, one line per trace.

Crash safety (see verify/records/io.py): every batch is appended as whole lines in one `os.write`
and fsynced; a run first locks the output and, if it is provably ours, cuts a torn last line
(`verify.records.outputs.claim_output`), then skips every
(problem_id, sample_index) already in the file. A `kill -9` therefore loses at most the
batch in flight and never leaves a corrupt line, and rerunning the same command finishes
the job without duplicates.

Determinism: sample i of problem p is drawn with `sample_seed(seed, p.id, i)` (verify.sampling.base),
whatever the problem's place in the list, the batch size, the engine, or how many samples
were asked for before (`--extend`). A backend with `per_sample_seeds` (transformers, vllm,
openai, a callable taking `seeds`) is asked for the missing samples only. Any other backend
is asked for the whole batch (a fixed slice of the problem list), exactly as an uninterrupted
run asks, with the per-sample seeds when it takes them (ct2 seeds each chunk from them) and
else one call seed derived from the batch's problem ids; only the missing rows are kept. So
for a seeded backend a resumed run writes the same traces as an uninterrupted one, and for a
per-sample backend reordering, filtering, another `--batch-size` or `--extend` change no
sample of an unchanged problem. Adaptive rounds follow the same rule.
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from verify.errors import InputError
from verify.progress import StageBar
from verify.records.confidence import trace_confidence
from verify.records.io import append_jsonl, get_field, iter_jsonl
from verify.records.outputs import TRACES, claim_output
from verify.sampling.adaptive import AdaptiveRule
from verify.sampling.base import (Completion, Generator, Prompt, SamplingParams, derive_seed, sample_seed,
                                  takes_seeds)
from verify.sampling.traces import completion_to_trace
from verify.records.steps import DEFAULT_SEP
from verify.records.types import Problem


MAX_SAMPLES = 1_000_000  # per problem: far above any published sweep, far below a MemoryError


@dataclass
class SampleReport:
    """What a `sample_to_file` run did."""

    out: str
    problems: int
    n: int
    written: int = 0          # traces written by this run
    already: int = 0          # traces found in the file for these problems before the run
    tokens: int = 0           # generated tokens in this run (0 when the backend cannot count)
    seconds: float = 0.0
    repaired_bytes: int = 0   # torn tail cut from the file before resuming
    per_problem: dict[str, int] = field(default_factory=dict)  # samples in the file after the run

    @property
    def total(self) -> int:
        return sum(self.per_problem.values())

    @property
    def saved(self) -> int:
        """Samples not drawn compared with n per problem (adaptive mode)."""
        return self.problems * self.n - self.total

    def summary(self) -> str:
        rate = self.tokens / self.seconds if self.seconds > 0 else 0.0
        s = (f"{self.out}: {self.total} traces for {self.problems} problems "
             f"({self.written} new, {self.already} already there); {self.tokens} tokens in "
             f"{self.seconds:.1f}s ({rate:.1f} tok/s)")
        if self.saved > 0:
            s += (f"; {self.saved} of {self.problems * self.n} samples saved "
                  f"({100 * self.saved / (self.problems * self.n):.1f}%)")
        return s


class Progress:
    """The sampling stage's bar (verify.progress.StageBar): traces, tokens/s and ETA; live on a
    terminal, at most ten lines on a pipe or log."""

    def __init__(self, total: int, enabled: bool = True, stream: Any = None):
        self.bar = StageBar("sampling", total, unit="traces", stream=stream, enabled=enabled)

    def update(self, samples: int, tokens: int) -> None:
        self.bar.update(samples, tokens=tokens)

    def close(self) -> None:
        self.bar.close()


def read_done(out: str | Path, params: SamplingParams | None = None) -> dict[str, dict[int, str | None]]:
    """`{problem_id: {sample_index: answer}}` already in `out` (a missing file is empty).

    With `params`, a line written under other sampling settings is an error, so two
    different experiments never end up mixed in one file.
    """
    done: dict[str, dict[int, str | None]] = defaultdict(dict)
    if not Path(out).exists():
        return done
    p = str(out)
    want = None if params is None else params.to_dict()
    for line, obj in iter_jsonl(out):
        pid = str(get_field(obj, "problem_id", (str, int), path=p, line=line))
        idx = get_field(obj, "sample_index", int, path=p, line=line)
        if want is not None:
            got = (obj.get("sampling") or {}).get("params")
            if got is not None and got != want:
                raise InputError(f"written with other sampling settings ({got}) than this run ({want}); "
                                 "use another --out or the same settings", path=p, line=line, field="sampling")
        ans = obj.get("answer")
        done[pid][idx] = None if ans is None or obj.get("finish_reason") == "length" else str(ans)
    return done


def sample_to_file(problems: Sequence[Problem], generator: Generator, out: str | Path, *, n: int = 8,
                   params: SamplingParams = SamplingParams(), batch_size: int = 8,
                   prompt: Callable[[Problem], Prompt] | None = None, step_sep: str = DEFAULT_SEP,
                   backend: str = "", model: str | None = None, adaptive: AdaptiveRule | None = None,
                   progress: bool = True, executor: Executor | None = None,
                   inputs: Sequence[str | Path] = ()) -> SampleReport:
    """Sample `n` traces per problem into `out` (JSONL), resuming whatever is already there.

    `out` is held with `verify.records.outputs.claim_output` for the whole run: a file that is
    not a samples file, is one of `inputs`, or is busy with another run is refused untouched.

    >>> from verify.sampling.callable_backend import CallableGenerator
    >>> import tempfile; out = tempfile.mktemp(suffix=".jsonl")
    >>> gen = CallableGenerator(lambda prompt, n: ["2 + 2 = 4.\\n\\n\\\\boxed{4}"] * n)
    >>> sample_to_file([Problem("p1", "2+2?", "4")], gen, out, n=3, progress=False).written
    3

    `executor` runs the generate calls somewhere else (`verify.sampling.ray_engine.RayExecutor`):
    it receives every `GenerateJob` of the run and yields `(job, run_job(generator, job))` in
    any order; this function stays the only writer, so resume and torn-tail repair are the
    same for every engine. Without it, `run_job` runs here, one job at a time.
    """
    if n < 1 or batch_size < 1:
        raise ValueError("n and batch_size must be >= 1")
    budget = adaptive.budget if adaptive is not None else n
    if budget > MAX_SAMPLES:  # -n 1000000000000 used to build the to-do list until MemoryError
        raise ValueError(f"n={budget} is more than {MAX_SAMPLES} samples per problem")
    if len({p.id for p in problems}) != len(problems):
        raise InputError("duplicate problem ids in the problem list", field="id")
    if adaptive is not None and executor is not None:
        raise ValueError("adaptive sampling runs on the local engine only (each round depends on the last)")
    if adaptive is not None:
        n = adaptive.budget  # the adaptive budget is the N of maj@N
    prompt = prompt or (lambda p: p.question)
    out = Path(out)
    report = SampleReport(out=str(out), problems=len(problems), n=n)
    # before any model call: a bad, foreign or busy --out must not cost a batch of sampling; the
    # lock is held until the last line is written, and the torn tail is cut only from our own file
    with claim_output(out, kind=TRACES, inputs=inputs) as report.repaired_bytes:
        done = read_done(out, params)
        report.already = sum(len(done.get(p.id, {})) for p in problems)
        info = {"params": params.to_dict(), "model": model or getattr(generator, "name", ""), "backend": backend,
                "n": n}
        if adaptive is not None:
            info["adaptive"] = {"rule": adaptive.rule, "round_size": adaptive.round_size,
                                "confidence": adaptive.confidence, "budget": adaptive.budget}
        writer = _Writer(out, step_sep, info, report)
        t0 = time.perf_counter()
        bar = Progress(len(problems) * n - report.already, progress)
        if adaptive is None:
            _run_fixed(problems, generator, n, params, batch_size, prompt, done, writer, bar, executor)
        else:
            _run_adaptive(problems, generator, adaptive, params, batch_size, prompt, done, writer, bar)
        bar.close()
        report.seconds = time.perf_counter() - t0
        report.per_problem = {p.id: len(done.get(p.id, {})) for p in problems}
    return report


@dataclass(frozen=True)
class GenerateJob:
    """One unit of generate work: `n` samples of each of `prompts`, of which `wanted` are missing.

    The job covers samples `first .. first + n - 1` of each problem (`first` is 0 in a fixed run,
    the samples so far in an adaptive round): `seeds[i][j]` is the seed of sample `first + j`
    of prompt i's problem (`sample_seed`), and `params.seed` the seed of the whole call for
    generators that take one seed per call, derived from the job's (problem id, first) pairs
    and n. Both are fixed before the job leaves the driver and depend only on which problems
    and samples it holds.
    """

    key: int
    prompts: list
    n: int
    params: SamplingParams
    seeds: list                              # (prompts, n) per-sample seeds
    wanted: list                             # (i, j) pairs: prompt i's sample j; results come in this order


Executor = Callable[[list[GenerateJob]], Iterable[tuple[GenerateJob, list[tuple[Completion, int | None]]]]]


def make_job(key: int, problems: Sequence[Problem], first: Sequence[int], n: int, params: SamplingParams,
             prompt: Callable[[Problem], Prompt], wanted: list[tuple[int, int]]) -> GenerateJob:
    """The job for samples `first[i] .. first[i] + n - 1` of each problem (see `GenerateJob`)."""
    seeds = [[sample_seed(params.seed, p.id, f + j) for j in range(n)] for p, f in zip(problems, first)]
    call = derive_seed(params.seed, "call", tuple((p.id, f) for p, f in zip(problems, first)), n)
    return GenerateJob(key, [prompt(p) for p in problems], n, params.replace(seed=call), seeds, wanted)


def run_job(generator: Generator, job: GenerateJob) -> list[tuple[Completion, int | None]]:
    """`(completion, seed it was drawn with)` for each pair of `job.wanted`, in that order.

    A generator with `per_sample_seeds` (and the `seeds` keyword) is asked for the wanted samples
    only, one call per set of wanted sample positions; any other is asked for the whole job, as
    an uninterrupted run asks for it, and the wanted rows are kept. The local engine and the
    Ray workers both call this.

    >>> from verify.sampling.callable_backend import CallableGenerator
    >>> gen = CallableGenerator(lambda prompt, n, seeds: [str(s) for s in seeds])  # draws only what it is asked
    >>> job = make_job(0, [Problem("p1", "q1", "2")], [0], 4, SamplingParams(seed=1), lambda p: p.question, [(0, 3)])
    >>> [(int(c.text), s) for c, s in run_job(gen, job)] == [(sample_seed(1, "p1", 3),) * 2]
    True
    """
    seeded = takes_seeds(generator)
    if seeded and getattr(generator, "per_sample_seeds", False):
        js_of: dict[int, list[int]] = defaultdict(list)
        for i, j in job.wanted:
            js_of[i].append(j)
        groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for i, js in js_of.items():
            groups[tuple(js)].append(i)
        got: dict[tuple[int, int], tuple[Completion, int | None]] = {}
        for js, rows in groups.items():
            seeds = [[job.seeds[i][j] for j in js] for i in rows]
            out = generator.generate([job.prompts[i] for i in rows], len(js), job.params, seeds=seeds)
            _check_shape(out, len(rows), len(js))
            for i, row, row_seeds in zip(rows, out, seeds):
                got.update({(i, j): (c, _seed(c, s)) for j, c, s in zip(js, row, row_seeds)})
        return [got[w] for w in job.wanted]
    out = generator.generate(job.prompts, job.n, job.params, **({"seeds": job.seeds} if seeded else {}))
    _check_shape(out, len(job.prompts), job.n)
    return [(out[i][j], _seed(out[i][j], job.seeds[i][j] if seeded else job.params.seed)) for i, j in job.wanted]


def _seed(c: Completion, given: int | None) -> int | None:
    """The seed a completion was drawn with: its own record (a backend that drew several
    samples from one stream says which), else the seed it was given."""
    own = getattr(c, "seed", None)
    return given if own is None else own


class _Writer:
    def __init__(self, out: Path, step_sep: str, info: dict, report: SampleReport):
        self.out, self.step_sep, self.info, self.report = out, step_sep, info, report
        self.weights: dict[tuple[str, int], float | None] = {}  # token-confidence weight of each trace written

    def write(self, rows: list[tuple[Problem, int, Completion, int | None]],
              done: dict[str, dict[int, str | None]]) -> int:
        made = [completion_to_trace(p, idx, c, step_sep=self.step_sep, sampling={**self.info, "seed": seed})
                for p, idx, c, seed in rows]
        answers = [t.answer for t in made]
        for t in made:  # read by the adaptive `confidence` rule
            self.weights[(t.problem_id, t.sample_index)] = trace_confidence(t.confidence)
        traces = [t.to_dict() for t in made]
        append_jsonl(self.out, traces)  # one write + fsync: whole lines or a torn last line only
        for (p, idx, c, _), answer in zip(rows, answers):  # unfinished traces abstain, as in verify.select.aggregate
            done[p.id][idx] = None if c.finish_reason == "length" else answer
        tokens = sum(c.num_tokens for _, _, c, _ in rows)
        self.report.written += len(rows)
        self.report.tokens += tokens
        return tokens


def _check_shape(got: list[list[Completion]], prompts: int, n: int) -> None:
    if len(got) != prompts or any(len(row) != n for row in got):
        raise RuntimeError(f"generator returned {[len(r) for r in got]} completions for {prompts} prompts x n={n}")


def _run_fixed(problems, generator, n, params, batch_size, prompt, done, writer, bar, executor=None) -> None:
    jobs, batches = [], {}
    for b, start in enumerate(range(0, len(problems), batch_size)):
        batch = problems[start:start + batch_size]
        wanted = [(k, i) for k, p in enumerate(batch) for i in range(n) if i not in done.get(p.id, {})]
        if not wanted:
            continue  # pairs already written are never sent to a generator again
        jobs.append(make_job(b, batch, [0] * len(batch), n, params, prompt, wanted))
        batches[b] = batch
    results = executor(jobs) if executor is not None else ((job, run_job(generator, job)) for job in jobs)
    for job, got in results:
        batch = batches[job.key]
        if len(got) != len(job.wanted):
            raise RuntimeError(f"engine returned {len(got)} completions for {len(job.wanted)} wanted samples")
        # an engine that retried a job may hand it back twice: `done` keeps the file duplicate-free
        rows = [(batch[k], i, c, seed) for (k, i), (c, seed) in zip(job.wanted, got) if i not in done.get(batch[k].id, {})]
        if rows:
            bar.update(len(rows), writer.write(rows, done))


def _run_adaptive(problems, generator, rule, params, batch_size, prompt, done, writer, bar) -> None:
    def answers(p: Problem) -> list[str | None]:
        d = done.get(p.id, {})
        return [d[i] for i in sorted(d)]

    def weights(p: Problem) -> list[float | None]:  # None for traces written by an earlier run
        return [writer.weights.get((p.id, i)) for i in sorted(done.get(p.id, {}))]

    seek = getattr(generator, "seek", None)
    if seek is not None:  # stateful replay: continue after what an earlier run consumed
        for p in problems:
            if done.get(p.id):
                seek(prompt(p), max(done[p.id]) + 1)
    while True:
        active = [p for p in problems if not rule.should_stop(answers(p), weights(p))]
        if not active:
            return
        by_k: dict[int, list[Problem]] = defaultdict(list)
        for p in active:
            by_k[rule.next_round(len(done.get(p.id, {})))].append(p)
        for k, group in sorted(by_k.items()):
            for start in range(0, len(group), batch_size):
                chunk = group[start:start + batch_size]
                base = [max(done[p.id]) + 1 if done.get(p.id) else 0 for p in chunk]
                job = make_job(0, chunk, base, k, params, prompt, [(x, j) for x in range(len(chunk)) for j in range(k)])
                got = run_job(generator, job)
                rows = [(chunk[x], base[x] + j, c, seed) for (x, j), (c, seed) in zip(job.wanted, got)]
                bar.update(len(rows), writer.write(rows, done))
