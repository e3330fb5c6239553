"""The end-to-end eval run: sample -> score -> select -> grade -> report, with cost.

`run_eval(RunConfig(...))` is what `verify eval --dataset/--model/--prm` calls and what the
Python API wraps. Every stage writes into one run folder and resumes from what is there:

    samples.jsonl   one trace per line (verify.sampling.run.sample_to_file, resumable)
    scored.jsonl    the same traces with `step_scores` (prm.score_file.score_samples, resumable;
                    only when a method reads PRM scores)
    results.json    per-method accuracy, 95% CI, cost (schema: docs/results.md; written last)
    report.md       the table with CIs and cost columns, the exact command and versions
    curves.png      accuracy against k per method, with CI bands
    results/<UTC time>_<methods>/   each evaluation's own results.json, report.md, curves.png;
                    the three files above are copies of the latest one

Interrupting at any stage loses at most the batch in flight; the next run skips every
(problem, sample) already written and every trace already scored. Aggregation and grading
are cheap and always recomputed from the files. A run never grows the samples per problem
of an existing folder silently: that takes `extend=True` (`--extend`), and the sample stage
says what it will draw before it starts.
"""
from __future__ import annotations

import platform
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Sequence

from evals.cost import Prices
from evals.results import EvalResults
from verify.select.methods import MethodSpec, parse_method, parse_methods
from verify.errors import InputError
from verify.records.io import read_traces, repair_tail
from verify.records.types import Problem

DEFAULT_DATASET = "arith"
DEFAULT_PRM = "arith"
LEARNED_PRM = "smollm2-prm"
# written by benchmarks/learned_prm.py --write-decision: the learned PRM against arith on held-out problems
LEARNED_PRM_DECISION = "smollm2-prm/heldout.json"
DEMO_NOTE = ("Default run: SmolLM2-135M-Instruct (CTranslate2 int8 when installed, else transformers; CPU) on the project's own easy arithmetic "
             "problems (data/arith.jsonl), scored by the arithmetic-claim checker as PRM. A 135M model is a "
             "demonstration of the pipeline, not a benchmark.")


def main_job_prm(decision: str | Path | None = None) -> tuple[str, str]:
    """The main job's PRM and the line that says why: the learned PRM when its shipped held-out
    comparison (`data/smollm2-prm/heldout.json`) says it beats the arithmetic scorer, else arith.

    The comparison is data, not code: `{"metric": ..., "learned": x, "arith": y, "n": ...,
    "learned_ci": [lo, hi], "arith_ci": [lo, hi]}`, measured on problems the PRM never saw.

    >>> main_job_prm("/nonexistent/heldout.json")[1]
    'prm: arith (no held-out comparison shipped for the learned smollm2-prm)'
    """
    import json

    from verify.paths import data_path
    path = Path(decision) if decision is not None else data_path(LEARNED_PRM_DECISION)
    if not path.exists():
        return DEFAULT_PRM, f"prm: arith (no held-out comparison shipped for the learned {LEARNED_PRM})"
    try:
        d = json.loads(path.read_text())
        learned, arith, metric = float(d["learned"]), float(d["arith"]), str(d["metric"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"not a held-out comparison ({exc!r:.80})", path=str(path)) from None
    figures = f"{metric} {learned:.3f} vs arith {arith:.3f} on held-out problems; see docs/learned-prm.md"
    if learned > arith:
        return LEARNED_PRM, f"prm: {LEARNED_PRM} (the learned PRM beats the arithmetic scorer: {figures})"
    return DEFAULT_PRM, f"prm: arith (the learned {LEARNED_PRM} does not beat it: {figures})"


@dataclass
class RunConfig:
    """Options of one eval run (see `verify eval --help`)."""

    methods: Sequence[str] = ("prm-best-of-8",)
    dataset: str | None = None          # None: the project's arithmetic set
    data_file: str | None = None
    split: str | None = None            # hub ids and dataset folders; None: the benchmark's own / "test"
    question_field: str | None = None   # None: the usual field names (see evals.benchmarks)
    answer_field: str | None = None
    id_field: str | None = None
    model: str | None = None            # None: SmolLM2-135M-Instruct (transformers backend)
    backend: str = "auto"               # ct2 when ctranslate2 is installed, else transformers (factory.auto_backend)
    prm: str | Callable[..., Any] | None = None   # None: the arithmetic-claim scorer
    n: int | None = None                # samples per problem; None: the largest k of the methods
    out_dir: str = "runs/default"
    limit: int | None = None
    seed: int = 0
    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 160
    batch_size: int = 8
    reduce: str = "prod"
    prompt_family: str | None = None
    dtype: str = "auto"
    device: str | None = None
    base_url: str | None = None
    tensor_parallel_size: int = 1
    threads: int | None = None          # torch CPU threads (transformers backend); None: torch's default
    engine: str = "local"               # "ray": sample and score on a Ray cluster (verify.sampling.ray_engine)
    ray_address: str | None = None      # None with engine="ray": start a local Ray instance
    ray_workers: int | None = None      # None: one worker per CPU (per tensor_parallel_size GPUs for vllm)
    prices: Prices = field(default_factory=Prices)
    n_boot: int = 2000
    baseline: bool = True               # add `single` as the 1-sample reference row
    extend: bool = False                # allow sampling more per problem than the run folder's samples hold
    subsets: str = "exact"              # evaluation options, as `verify eval --samples` reads them
    groups: Sequence[str] = ("equivalence",)
    grade: str = "checker"
    tie: str = "first"
    drop_unfinished: bool = False
    mc_trials: int = 2000
    progress: bool = True
    command: str = ""                   # the command line that started the run, for the report

    @property
    def is_default_demo(self) -> bool:
        return self.model is None and self.dataset is None and self.data_file is None and self.prm is None


RunResults = EvalResults  # the name run_eval returned before both modes shared one result type


def _say(cfg: RunConfig, msg: str) -> None:
    if cfg.progress:
        print(msg, file=sys.stderr, flush=True)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("ttc-verify", "numpy", "sympy", "torch", "transformers", "vllm"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def plan_n(methods: Sequence[str | MethodSpec], n: int | None) -> int:
    """Samples per problem: `n`, or the largest k that the methods ask for (8 when every
    method says `@n`, i.e. all samples)."""
    ks = [parse_method(m).k for m in methods]
    need = max([k for k in ks if k is not None] or [1])
    if n is None:
        return need if any(k is not None for k in ks) else 8
    if n < need:
        raise InputError(f"-n {n} is smaller than k={need} asked by a method; use -n {need} or more", field="n")
    from verify.sampling.run import MAX_SAMPLES
    if n > MAX_SAMPLES:  # before "sampling 4e13 traces": a MemoryError later on
        raise InputError(f"-n {n} is more than {MAX_SAMPLES} samples per problem", field="n")
    return n


def plan_sampling(out: Path, have: Sequence[int], n: int, *, extend: bool) -> str:
    """What the sample stage will draw, as one line; refuses to grow a run folder's samples per
    problem (the n of an earlier run) unless `extend`: an InputError that says what it would draw.

    Filling problems up to the n an earlier run reached is a resume, not a growth.
    """
    missing = sum(max(0, n - h) for h in have)
    short = sum(1 for h in have if h < n)
    before = max(have, default=0)
    problems = f"{short} problem" + ("" if short == 1 else "s")
    if 0 < before < n and not extend:
        raise InputError(f"holds {before} samples per problem and the methods need {n}; nothing sampled. "
                         f"--extend (extend=True) would sample {missing} more traces for {problems}",
                         path=str(out))
    what = f"sampling {missing} traces for {problems} ({n} per problem"
    return what + (f"; {sum(have)} already in {out})" if before else f") into {out}")


def sample_stage(cfg: RunConfig, problems: list[Problem], n: int, out: Path,
                 generator: Any = None) -> dict:
    """Fill `out` with n traces per problem (resuming); build the model only if work remains."""
    from evals.prompts import build_prompt, family_for_model
    from verify.sampling.base import SamplingParams
    from verify.sampling.run import read_done, sample_to_file

    params = SamplingParams(temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.max_tokens,
                            seed=cfg.seed)
    repair_tail(out)  # a torn last line from a killed run must go before we read what is done
    done = read_done(out, params)
    have = [len(done.get(p.id, {})) for p in problems]
    missing = sum(max(0, n - h) for h in have)
    if missing == 0:
        _say(cfg, f"samples: all {len(problems) * n} already in {out}")
        return {"sampled": 0, "already": len(problems) * n, "seconds": 0.0}
    _say(cfg, plan_sampling(out, have, n, extend=cfg.extend))
    executor = None
    if generator is None and cfg.engine == "ray":  # each Ray worker builds the generator; we only write
        from verify.sampling.ray_engine import generator_executor
        executor = generator_executor(cfg.backend, cfg.model, address=cfg.ray_address,
                                      workers=cfg.ray_workers, problems=problems, dtype=cfg.dtype,
                                      device=cfg.device, base_url=cfg.base_url,
                                      tensor_parallel_size=cfg.tensor_parallel_size, seed=cfg.seed)
    elif generator is None:
        from verify.sampling.factory import build_generator
        _say(cfg, f"loading generator: backend={cfg.backend} model={cfg.model or 'smollm2 (default)'}")
        generator = build_generator(cfg.backend, cfg.model, problems=problems, dtype=cfg.dtype,
                                    device=cfg.device, base_url=cfg.base_url,
                                    tensor_parallel_size=cfg.tensor_parallel_size, seed=cfg.seed,
                                    threads=cfg.threads)
    family = cfg.prompt_family or family_for_model(cfg.model)
    rep = sample_to_file(problems, generator, out, n=n, params=params, batch_size=cfg.batch_size,
                         prompt=lambda p: build_prompt(p, family), backend=getattr(generator, "backend", cfg.backend),
                         model=cfg.model or getattr(generator, "name", None) or "smollm2",
                         progress=cfg.progress, executor=executor)
    return {"sampled": rep.written, "already": rep.already, "seconds": round(rep.seconds, 2)}


def score_stage(cfg: RunConfig, problems: list[Problem], samples: Path, out: Path) -> dict:
    """Add step scores to every trace (resuming); the PRM is loaded only if work remains."""
    from prm.score_file import score_samples
    from prm.scorers import load_scorer

    questions = {p.id: p.question for p in problems}
    spec = cfg.prm if cfg.prm is not None else DEFAULT_PRM
    name = spec if isinstance(spec, str) else f"python:{getattr(spec, '__qualname__', type(spec).__name__)}"
    stamp = out.with_name(out.name + ".prm")  # which PRM wrote scored.jsonl: never mix two
    if out.exists() and stamp.exists() and stamp.read_text().strip() != name:
        raise InputError(f"was scored by PRM {stamp.read_text().strip()!r}, not {name!r}; use another "
                         "--out-dir (or delete scored.jsonl to rescore)", path=str(out), field="prm")
    stamp.write_text(name + "\n")
    engine = "vllm" if cfg.backend == "vllm" else "transformers"  # a vLLM run scores its PRM with vLLM too
    executor = None
    if cfg.engine == "ray":  # each Ray worker loads the PRM; we only write
        from prm.ray_scoring import RayScoreExecutor
        device = cfg.device or "cpu"
        scorer = executor = RayScoreExecutor(spec, address=cfg.ray_address, workers=cfg.ray_workers,
                                             gpus_per_worker=0.0 if device == "cpu" else 1.0,
                                             device=device, engine=engine)
    else:
        scorer = load_scorer(spec, device=cfg.device or "cpu", engine=engine)
    stats = score_samples(samples, out, scorer, questions=questions, batch_size=cfg.batch_size,
                          progress=cfg.progress, executor=executor)
    stats["prm"] = getattr(scorer, "name", "") or str(cfg.prm or DEFAULT_PRM)
    return stats


def run_eval(cfg: RunConfig, *, generator: Any = None, problems: Sequence[Problem] | None = None) -> RunResults:
    """Run (or resume) an eval into `cfg.out_dir` and return what results.json holds.

    `generator` (any object with the Generator protocol, see verify.sampling.base) and
    `problems` override the backend and dataset options, for the Python API. The run
    folder's samples.jsonl and scored.jsonl are held (checked to be ours, locked against a
    second run) for the whole run: see `verify.records.outputs.claim_output`.
    """
    from contextlib import ExitStack

    from verify.records.outputs import TRACES, claim_output
    out_dir = Path(cfg.out_dir)
    inputs = [cfg.data_file] if cfg.data_file else []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # a file in the way or no permission: _run_eval names the folder
    with ExitStack() as held:
        if out_dir.is_dir():
            for name in ("samples.jsonl", "scored.jsonl"):
                # scored.jsonl only if present: an empty one would trip the PRM stamp check of score_stage
                if name == "samples.jsonl" or (out_dir / name).exists():
                    held.enter_context(claim_output(out_dir / name, kind=TRACES, inputs=inputs, option="--out-dir"))
        return _run_eval(cfg, generator=generator, problems=problems)


def _run_eval(cfg: RunConfig, *, generator: Any = None, problems: Sequence[Problem] | None = None) -> EvalResults:
    from evals.benchmarks import Fields, load_problems
    from evals.evaluate import evaluate_samples

    t0 = time.perf_counter()
    out_dir = Path(cfg.out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, or no permission: name the folder, no traceback
        raise InputError(f"cannot create the run folder ({exc.strerror or exc})", path=str(out_dir)) from None
    specs = parse_methods(cfg.methods)  # parsed once: MethodSpec objects from here on
    if not specs:
        raise InputError("give at least one --method, e.g. prm-best-of-8", field="method")
    n = plan_n(specs, cfg.n)
    specs = parse_methods(s.with_k(n if s.k is None else s.k) for s in specs)
    if cfg.baseline and not any(s.method.curve == "reference" for s in specs):
        specs = [parse_method("single")] + specs
    methods = [s.spec for s in specs]
    demo = cfg.is_default_demo and generator is None and problems is None
    needs_prm = any(s.method.reads == "step" for s in specs)
    prm_note = ""
    if demo and needs_prm:  # the main job: the PRM choice and its reason come first
        prm_spec, prm_note = main_job_prm()
        _say(cfg, prm_note)
        cfg = replace(cfg, prm=prm_spec) if prm_spec != DEFAULT_PRM else cfg
    demo_note = DEMO_NOTE if cfg.prm is None else \
        DEMO_NOTE.replace("the arithmetic-claim checker as PRM", f"the learned PRM {cfg.prm}")
    if demo:
        _say(cfg, demo_note)
    if problems is None:
        problems = load_problems(cfg.dataset or DEFAULT_DATASET, data_file=cfg.data_file, limit=cfg.limit,
                                 split=cfg.split, fields=Fields(cfg.question_field, cfg.answer_field, cfg.id_field))
    problems = list(problems)
    samples_path, scored_path = out_dir / "samples.jsonl", out_dir / "scored.jsonl"
    stages: dict[str, Any] = {"sample": sample_stage(cfg, problems, n, samples_path, generator)}
    eval_path = samples_path
    if needs_prm:
        stages["score"] = score_stage(cfg, problems, samples_path, scored_path)
        eval_path = scored_path
    ids = {p.id for p in problems}
    traces = [t for t in read_traces(eval_path) if t.problem_id in ids and t.sample_index < n]
    _say(cfg, f"evaluating {len(methods)} method(s) on {len(traces)} traces")
    res = evaluate_samples(traces, specs, reduce=cfg.reduce, subsets=cfg.subsets, groups=cfg.groups,
                           grade=cfg.grade, tie=cfg.tie, drop_unfinished=cfg.drop_unfinished, seed=cfg.seed,
                           n_boot=cfg.n_boot, mc_trials=cfg.mc_trials, curves=True, prices=cfg.prices,
                           bar=cfg.progress)
    model_name = cfg.model or (getattr(generator, "name", None) or "python generator" if generator is not None
                               else "smollm2")
    res.mode = "run"
    res.config = {**res.config, **_config_dict(cfg, n, methods, model_name)}
    res.run = {"stages": stages, "versions": _versions(), "command": cfg.command,
               "seconds": round(time.perf_counter() - t0, 2), "demo": demo, "demo_note": demo_note if demo else "",
               "prm_note": prm_note}
    res.files = {"samples": str(samples_path), "scored": str(scored_path) if needs_prm else None}
    from evals.report import write_run_outputs
    write_run_outputs(res, out_dir, title=f"{_dataset_label(cfg)}: accuracy against k", note=lambda m: _say(cfg, m))
    return res


def _dataset_label(cfg: RunConfig) -> str:
    if cfg.dataset is None and cfg.data_file is not None:
        return Path(cfg.data_file).name
    return cfg.dataset or DEFAULT_DATASET


def _config_dict(cfg: RunConfig, n: int, methods: list[str], model: str) -> dict:
    d = asdict(cfg)
    d["prm"] = d["prm"] if isinstance(d["prm"], (str, type(None))) else repr(cfg.prm)
    d.update({"n": n, "methods": methods, "dataset": _dataset_label(cfg), "groups": list(cfg.groups),
              "model": model, "prm": d["prm"] or DEFAULT_PRM})
    d.pop("progress", None)
    return d
