"""`verify sample --engine ray` against the local engine on this machine, same CPU workload.

The workload is a callable "model" that burns `--ms` milliseconds of pure-Python CPU per
sample (no I/O, no GIL release), so the engines differ only in how the generate jobs are
run: in the driver (local), or on 1 or 2 Ray workers (Ray Data actors, one generator each).
Every run writes the same JSONL (checked). The Ray cluster is started once (its start-up is
printed apart); each Ray run includes starting its actor pool, as a real run does. Runs
with no work (`ms=0`) on 1 worker with J and 2J jobs split a Ray run's overhead into a fixed
part (actor pool start, Ray Data plan) and a per-job part: per job = (t(2J) - t(J)) / J.

    python benchmarks/ray_sampling.py                    # 16 problems x n=4, 2 per job, 40 ms/sample
    python benchmarks/ray_sampling.py --ms 80 --rounds 3

Rounds are interleaved (local, ray x1, ray x2, local, ...); the median round is reported.
Needs the `ray` extra.
"""
from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from verify.records.types import Problem  # noqa: E402
from verify.sampling.callable_backend import CallableGenerator  # noqa: E402
from verify.sampling.run import sample_to_file  # noqa: E402


def burn(prompt, n, params, ms=40.0):
    """n samples, each after `ms` milliseconds of CPU; the text depends only on seed and prompt."""
    out = []
    for j in range(n):
        end = time.process_time() + ms / 1000
        x = 0
        while time.process_time() < end:
            x = (x * 31 + 7) % 1_000_003
        out.append(f"{prompt} #{j} seed {params.seed}\n\n\\boxed{{{j}}}")
    return out


def one_run(problems, out, n, batch_size, executor=None, ms=40.0) -> float:
    gen = None if executor is not None else CallableGenerator(functools.partial(burn, ms=ms))
    t0 = time.perf_counter()
    sample_to_file(problems, gen, out, n=n, batch_size=batch_size, model="burn", progress=False, executor=executor)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", type=int, default=16)
    ap.add_argument("-n", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=2)
    ap.add_argument("--ms", type=float, default=40.0, help="CPU milliseconds per sample")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    import ray

    from verify.sampling.ray_engine import RayExecutor

    problems = [Problem(f"p{i}", f"question {i}", "0") for i in range(args.problems)]
    jobs = -(-args.problems // args.batch_size)
    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             runtime_env={"env_vars": {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}})
    startup = time.perf_counter() - t0
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; "
          f"ray {ray.__version__} local cluster (2 CPUs) started in {startup:.1f}s")
    print(f"workload: {args.problems} problems x n={args.n} = {args.problems * args.n} samples of "
          f"{args.ms:.0f} ms CPU, {jobs} jobs of {args.batch_size} problems "
          f"(serial work {args.problems * args.n * args.ms / 1000:.1f}s)")

    def ex(workers, ms):
        return RayExecutor(functools.partial(CallableGenerator, functools.partial(burn, ms=ms)), workers=workers)

    engines = {"local": lambda ms: None, "ray x1": lambda ms: ex(1, ms), "ray x2": lambda ms: ex(2, ms)}
    times: dict[str, list[float]] = {k: [] for k in engines}
    fixed: dict[str, list[float]] = {k: [] for k in engines}
    with tempfile.TemporaryDirectory() as tmp:
        ref = None
        for r in range(args.rounds):
            for name, make in engines.items():
                out = Path(tmp) / f"{name.replace(' ', '')}-{r}.jsonl"
                times[name].append(one_run(problems, out, args.n, args.batch_size, make(args.ms), args.ms))
                text = sorted(out.read_text().splitlines())
                assert ref is None or text == ref, f"{name} wrote other traces than local"
                ref = text
                zero = Path(tmp) / f"zero-{name.replace(' ', '')}-{r}.jsonl"
                fixed[name].append(one_run(problems, zero, args.n, args.batch_size, make(0.0), 0.0))
            if args.batch_size % 2 == 0:  # the same no-work run cut into twice as many jobs
                zero2 = Path(tmp) / f"zero2-{r}.jsonl"
                fixed.setdefault("ray x1 2J", []).append(
                    one_run(problems, zero2, args.n, args.batch_size // 2, engines["ray x1"](0.0), 0.0))
    ray.shutdown()

    med = {k: statistics.median(v) for k, v in times.items()}
    zero = {k: statistics.median(v) for k, v in fixed.items()}
    print(f"{'engine':8} {'wall s':>8} {'vs local':>9} {'ms=0 run s':>11}   (median of {args.rounds} rounds)")
    for name in engines:
        print(f"{name:8} {med[name]:8.2f} {med['local'] / med[name]:8.2f}x {zero[name]:11.2f}")
    print(f"ray x2 vs ray x1: {med['ray x1'] / med['ray x2']:.2f}x faster; "
          f"ray x1 minus local, spread over the {jobs} jobs: {1000 * (med['ray x1'] - med['local']) / jobs:.0f} ms/job")
    if "ray x1 2J" in zero:
        per_job = (zero["ray x1 2J"] - zero["ray x1"]) / jobs
        print(f"no-work ray x1 runs: {zero['ray x1']:.2f}s for {jobs} jobs, {zero['ray x1 2J']:.2f}s for {2 * jobs} "
              f"jobs -> {1000 * per_job:.0f} ms per job + {zero['ray x1'] - jobs * per_job:.2f}s fixed per run")
    print(f"identical traces on all engines: yes ({len(ref)} lines)")


if __name__ == "__main__":
    main()
