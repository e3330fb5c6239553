"""Sampling on a Ray cluster: the generate calls of `sample_to_file` run on Ray workers.

`--engine ray` shards the run's generate jobs (fixed batches of the problem list, see
`verify.sampling.run.GenerateJob`) over a Ray cluster with Ray Data: `map_batches` over an
actor class, so each worker builds ONE generator (one model load) and serves many jobs. The
driver stays the only writer: results stream back as jobs finish and are appended through
the same `sample_to_file` writer as the local engine, so resume, the output lock, torn-tail
repair and the "pairs already written are not resubmitted" rule are shared. A job's seeds
(one per (problem, sample), `verify.sampling.base.sample_seed`) are fixed before it leaves the
driver, and each worker runs it with the same `verify.sampling.run.run_job` as the local
engine, so a seeded backend writes the same traces on either engine.

Ray retries the job of a worker that dies (Ray Data restarts the actor and resubmits its
task); a job that comes back twice is written once (the writer skips written pairs). If the
driver itself dies, the file holds whole lines only and a rerun sends only what is missing.

`ray` is imported only inside the functions below (the `ray` extra). With a vLLM backend each
worker holds one `VLLMGenerator` with `gpus_per_worker` GPUs (= tensor parallel size).

>>> from verify.sampling.callable_backend import CallableGenerator
>>> ex = RayExecutor(lambda: CallableGenerator(lambda p, n: ["x"] * n), workers=1)   # doctest: +SKIP
>>> sample_to_file(problems, None, "out.jsonl", executor=ex)                          # doctest: +SKIP
"""
from __future__ import annotations

import functools
import logging
import pickle
from typing import Any, Callable, Iterator, Sequence

from verify.errors import VerifyError


class RayExecutor:
    """Runs `GenerateJob`s on Ray workers, each holding one generator built by `factory()`.

    `factory` must be picklable (a module-level function or a `functools.partial`); it runs
    once per worker. `workers` defaults to the cluster's CPUs (or GPUs) over the per-worker
    share, capped by the number of jobs.
    """

    def __init__(self, factory: Callable[[], Any], *, address: str | None = None, workers: int | None = None,
                 cpus_per_worker: float = 1.0, gpus_per_worker: float = 0.0, name: str = ""):
        self.factory, self.address, self.workers = factory, address, workers
        self.cpus_per_worker, self.gpus_per_worker = cpus_per_worker, gpus_per_worker
        self.name = name  # the model name written into each trace (the driver builds no generator)

    def __call__(self, jobs: Sequence[Any]) -> Iterator[tuple[Any, list]]:
        by_key = {job.key: job for job in jobs}
        items = [(job.key, job) for job in jobs]
        for key, got in ray_map(items, self.factory, _generate, address=self.address, workers=self.workers,
                                cpus_per_worker=self.cpus_per_worker, gpus_per_worker=self.gpus_per_worker):
            yield by_key[key], got


def _generate(generator: Any, job: Any) -> list:
    from verify.sampling.run import run_job

    return run_job(generator, job)


def connect(address: str | None = None) -> bool:
    """Join the Ray cluster at `address` (None: start a local one); True when this call started Ray."""
    try:
        import ray
    except ImportError:
        raise VerifyError("--engine ray needs the ray package: pip install 'ttc-verify[ray]'") from None
    if ray.is_initialized():
        return False
    # Ray's start-up and Data-execution chatter would bury verify's own progress line
    ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, logging_level="ERROR",
             include_dashboard=False)
    return True


def ray_map(items: Sequence[tuple[int, Any]], factory: Callable[[], Any], call: Callable[[Any, Any], Any], *,
            address: str | None = None, workers: int | None = None, cpus_per_worker: float = 1.0,
            gpus_per_worker: float = 0.0) -> Iterator[tuple[int, Any]]:
    """Yield `(key, call(obj, payload))` for every `(key, payload)` of `items`, computed on Ray
    actors that each hold `obj = factory()`; results come back in completion order.

    One item is one Ray Data block and one task, so a dead worker costs one item's retry.
    A `VerifyError` raised by `call` (a bad generator function, a bad scorer) comes back as
    a result and is raised here as itself, so the CLI still answers with one line; Ray
    would wrap it in a `UserCodeException` that has lost its type by the time it arrives.
    """
    if not items:
        return
    connect(address)
    import ray
    import ray.data

    logging.getLogger("ray.data").setLevel(logging.ERROR)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # the driver's own progress line reports written traces
    ctx.execution_options.preserve_order = False
    if workers is None:
        res = ray.cluster_resources()
        share = res.get("GPU", 0) / gpus_per_worker if gpus_per_worker else res.get("CPU", 1) / cpus_per_worker
        workers = max(1, int(share))
    workers = max(1, min(workers, len(items)))
    ds = ray.data.from_items([{"key": k, "payload": pickle.dumps(p)} for k, p in items],
                             override_num_blocks=len(items))
    ds = ds.map_batches(_Worker, fn_constructor_kwargs={"factory": factory, "call": call}, batch_size=1,
                        batch_format="pyarrow", compute=ray.data.ActorPoolStrategy(size=workers),
                        num_cpus=cpus_per_worker,
                        num_gpus=gpus_per_worker or None)
    for row in ds.iter_rows():
        ok, value = pickle.loads(row["result"])
        if not ok:
            raise value
        yield int(row["key"]), value


class _Worker:
    """A Ray Data actor: holds one object built by `factory` and applies `call` to each item."""

    def __init__(self, factory: Callable[[], Any], call: Callable[[Any, Any], Any]):
        self.obj, self.call, self.error = None, call, None
        try:
            self.obj = factory()
        except VerifyError as exc:  # a bad --model: every item reports it (Ray would restart us forever)
            self.error = exc

    def _run(self, payload: Any) -> tuple[bool, Any]:
        if self.error is not None:
            return False, self.error
        try:
            return True, self.call(self.obj, payload)
        except VerifyError as exc:  # bad input, not a failure of the worker: no retry, one line
            return False, exc

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        keys = batch.column("key").to_pylist()
        results = [pickle.dumps(self._run(pickle.loads(p))) for p in batch.column("payload").to_pylist()]
        return pa.table({"key": pa.array(keys, pa.int64()), "result": pa.array(results, pa.binary())})


def generator_executor(backend: str, model: str | None, *, address: str | None = None, workers: int | None = None,
                       **build_kw: Any) -> RayExecutor:
    """A `RayExecutor` whose workers each run `build_generator(backend, model, **build_kw)`.

    A vLLM worker asks Ray for `tensor_parallel_size` GPUs; every other backend for one CPU.
    """
    from pathlib import Path

    from verify.sampling.factory import build_generator

    if backend != "replay":  # only replay needs the problem list; it would travel to every worker
        build_kw.pop("problems", None)
    if model and Path(model).exists():  # a local model dir or replay file: workers do not share our cwd
        model = str(Path(model).resolve())
    gpus = float(build_kw.get("tensor_parallel_size", 1)) if backend == "vllm" else 0.0
    return RayExecutor(functools.partial(build_generator, backend, model, **build_kw), address=address,
                       workers=workers, gpus_per_worker=gpus, name=model or backend)
