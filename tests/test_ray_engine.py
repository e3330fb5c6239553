"""`--engine ray` on a real local Ray cluster (one per module, 2 CPUs, on this machine).

The Ray engine must write what the local engine writes (seeded callable backend and the tiny
transformers model), never resubmit written pairs, survive a worker killed mid-run without
duplicates, and finish after a `kill -9` of the driver followed by a rerun.
"""
from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from tests.conftest import ROOT  # noqa: E402
from verify.records.types import Problem  # noqa: E402
from verify.sampling.base import sample_seed  # noqa: E402
from verify.sampling.callable_backend import CallableGenerator  # noqa: E402
from verify.sampling.ray_engine import RayExecutor  # noqa: E402
from verify.sampling.run import sample_to_file  # noqa: E402

pytestmark = pytest.mark.ray
PROBLEMS = [Problem(f"p{i}", f"What is {i} + {i}?", str(2 * i)) for i in range(8)]


def seeded(prompt, n, params):
    """A seeded 'model': its samples depend only on the seed it is given and the prompt."""
    import random

    rng = random.Random(f"{params.seed}|{prompt}")
    return [f"{prompt} step {rng.randint(0, 99)}\n\n\\boxed{{{rng.randint(0, 9)}}}" for _ in range(n)]


def dies_once(prompt, n, params):
    """Kills its own worker process the first time it sees problem 5 (a marker file remembers)."""
    marker = Path(os.environ["VERIFY_RAY_TEST_MARKER"])
    if "5 + 5" in prompt and not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return seeded(prompt, n, params)


def too_many(prompt, n):
    return ["x"] * (n + 1)


def slow(prompt, n, params):
    time.sleep(0.4)
    return seeded(prompt, n, params)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A local Ray instance with 2 CPUs; workers see the repo root and the marker path."""
    marker = tmp_path_factory.mktemp("ray") / "killed"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             runtime_env={"env_vars": {"PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}",
                                          "VERIFY_RAY_TEST_MARKER": str(marker)}})
    os.environ["VERIFY_RAY_TEST_MARKER"] = str(marker)
    yield {"address": ray.get_runtime_context().gcs_address, "marker": marker}
    ray.shutdown()


def lines(path) -> list[str]:
    return sorted(Path(path).read_text().splitlines())


def local_run(tmp_path, fn=seeded, **kw) -> list[str]:
    out = tmp_path / "local.jsonl"
    sample_to_file(PROBLEMS, CallableGenerator(fn), out, n=3, batch_size=2, model="m", progress=False, **kw)
    return lines(out)


def ray_executor(fn, workers=1) -> RayExecutor:  # one actor: a worker process starts slowly on 2 cores
    return RayExecutor(functools.partial(CallableGenerator, fn), workers=workers)


def test_written_pairs_are_not_resubmitted(cluster, tmp_path):
    out = tmp_path / "ray.jsonl"
    sample_to_file(PROBLEMS[:4], CallableGenerator(seeded), out, n=3, batch_size=2, model="m", progress=False)
    sent = []
    ex = ray_executor(seeded)

    def spy(jobs):
        sent.extend(job.key for job in jobs)
        return ex(jobs)

    rep = sample_to_file(PROBLEMS, None, out, n=3, batch_size=2, model="m", progress=False, executor=spy)
    assert sent == [2, 3]  # batches 0 and 1 (problems p0-p3) were already in the file
    assert (rep.written, rep.already) == (12, 12)
    assert lines(out) == local_run(tmp_path)


def test_worker_killed_mid_run_is_retried_same_traces_as_local(cluster, tmp_path):
    """Two workers, one of which dies on batch 2: the output is still exactly the local engine's."""
    out = tmp_path / "ray.jsonl"
    rep = sample_to_file(PROBLEMS, None, out, n=3, batch_size=2, model="m", progress=False,
                         executor=ray_executor(dies_once, workers=2))
    assert cluster["marker"].exists()  # a worker really died
    assert (rep.written, rep.already) == (24, 0)
    got = lines(out)
    keys = [(json.loads(x)["problem_id"], json.loads(x)["sample_index"]) for x in got]
    assert len(keys) == len(set(keys)) == 24
    assert got == local_run(tmp_path)
    seeds = {(json.loads(x)["problem_id"], json.loads(x)["sampling"]["seed"]) for x in got}
    # `seeded` takes no `seeds`: one seed per problem (its first sample's), fixed before the job leaves the driver
    assert seeds == {(p.id, sample_seed(0, p.id, 0)) for p in PROBLEMS}


DRIVER = textwrap.dedent("""
    import functools, sys
    import ray
    sys.path.insert(0, {root!r})
    from tests.test_ray_engine import PROBLEMS, slow
    from verify.sampling.callable_backend import CallableGenerator
    from verify.sampling.ray_engine import RayExecutor
    from verify.sampling.run import sample_to_file
    ray.init(address={address!r}, log_to_driver=False, logging_level="ERROR")
    ex = RayExecutor(functools.partial(CallableGenerator, slow), workers=1)
    sample_to_file(PROBLEMS, None, {out!r}, n=3, batch_size=1, model="m", progress=False, executor=ex)
    print("finished")
""")


def test_driver_kill_9_then_rerun_completes(cluster, tmp_path):
    out = tmp_path / "ray.jsonl"
    script = DRIVER.format(root=str(ROOT), address=cluster["address"], out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 6):
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = out.read_text().splitlines()
    assert 6 <= len(partial) < 24  # killed mid-run
    rep = sample_to_file(PROBLEMS, None, out, n=3, batch_size=1, model="m", progress=False,
                         executor=ray_executor(seeded))
    assert rep.already == len(partial) and rep.written == 24 - len(partial)
    want = tmp_path / "want.jsonl"
    sample_to_file(PROBLEMS, CallableGenerator(seeded), want, n=3, batch_size=1, model="m", progress=False)
    assert lines(out) == lines(want)


def test_tiny_transformers_model_same_on_both_engines(cluster, tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.test_sampling_transformers import tiny_model_and_tokenizer
    from verify.sampling.base import SamplingParams
    from verify.sampling.factory import build_generator
    from verify.sampling.ray_engine import generator_executor

    model, tok = tiny_model_and_tokenizer()
    model.save_pretrained(tmp_path / "tiny")
    tok.save_pretrained(tmp_path / "tiny")
    params = SamplingParams(max_tokens=10, seed=5)
    kw = dict(model=str(tmp_path / "tiny"), n=2, params=params, batch_size=2, progress=False, backend="transformers")
    threads = torch.get_num_threads()
    try:
        local = build_generator("transformers", str(tmp_path / "tiny"), chat=False, threads=1)
        sample_to_file(PROBLEMS[:4], local, tmp_path / "local.jsonl", **kw)
    finally:
        torch.set_num_threads(threads)
    ex = generator_executor("transformers", str(tmp_path / "tiny"), workers=1, chat=False, threads=1)
    # seeds depend only on (problem, sample): the Ray run may list the problems in another order and batch them otherwise
    sample_to_file(PROBLEMS[:4][::-1], None, tmp_path / "ray.jsonl", executor=ex, **{**kw, "batch_size": 3})
    got = lines(tmp_path / "ray.jsonl")
    assert len(got) == 8 and got == lines(tmp_path / "local.jsonl")
    assert len({json.loads(x)["text"] for x in got}) > 1  # real sampled text, not a constant


def test_cli_sample_and_prm_score_on_ray(cluster, tmp_path):
    from typer.testing import CliRunner

    from verify.commands.app import app

    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"id": p.id, "question": p.question, "answer": p.gold}) + "\n"
                            for p in PROBLEMS[:3]))
    out = tmp_path / "s.jsonl"
    args = ["sample", "-d", "arith", "--data-file", str(data), "--backend", "callable", "--model",
            "tests.test_ray_engine:seeded", "-n", "2", "--out", str(out), "--quiet", "--prompt", "base"]
    r = CliRunner().invoke(app, args + ["--engine", "ray", "--ray-address", cluster["address"], "--ray-workers", "1"])
    assert r.exit_code == 0, r.output
    assert re.fullmatch(rf"{re.escape(str(out))}: 6 traces for 3 problems \(6 new, 0 already there\); "
                        r"0 tokens in \d+\.\ds \(0\.0 tok/s\)\n", r.output)
    local = tmp_path / "local.jsonl"
    r = CliRunner().invoke(app, [a if a != str(out) else str(local) for a in args])
    assert r.exit_code == 0, r.output
    assert lines(out) == lines(local)
    scored = tmp_path / "scored.jsonl"
    r = CliRunner().invoke(app, ["prm", "score", "--samples", str(out), "--prm", "arith", "--out", str(scored),
                                 "--quiet", "--engine", "ray", "--ray-address", cluster["address"],
                                 "--ray-workers", "1"])
    assert r.exit_code == 0, r.output
    assert r.output == f"scored 6 traces, 0 already in {scored} (6 in {out}); forward tokens 0\n"
    local_scored = tmp_path / "local_scored.jsonl"
    r = CliRunner().invoke(app, ["prm", "score", "--samples", str(out), "--prm", "arith", "--out",
                                 str(local_scored), "--quiet"])
    assert lines(scored) == lines(local_scored)


def test_eval_run_samples_and_scores_on_ray(cluster, tmp_path):
    from evals.runner import RunConfig, run_eval

    def run(engine):
        cfg = RunConfig(methods=["prm-best-of-2", "majority@2"], backend="callable",
                        model="tests.test_ray_engine:seeded",
                        n=2, limit=3, out_dir=str(tmp_path / engine), progress=False, n_boot=200, engine=engine,
                        ray_address=cluster["address"], ray_workers=1)
        return run_eval(cfg)

    ray_res, local_res = run("ray"), run("local")
    for name in ("samples.jsonl", "scored.jsonl"):
        assert lines(tmp_path / "ray" / name) == lines(tmp_path / "local" / name)
    assert ray_res.results == local_res.results


def test_bad_generator_and_bad_model_fail_with_one_line(cluster, tmp_path):
    from typer.testing import CliRunner

    from verify.commands.app import app
    from verify.errors import InputError

    with pytest.raises(InputError, match=r"^field 'generator': the generator function returned 4 completions, "
                                         r"expected n=3$"):
        sample_to_file(PROBLEMS[:1], None, tmp_path / "a.jsonl", n=3, progress=False,
                       executor=ray_executor(too_many))
    a = tmp_path / "a.jsonl"
    assert not a.exists() or not a.read_text()  # nothing written for the failed job
    r = CliRunner().invoke(app, ["sample", "-d", "arith", "--limit", "2", "--backend", "replay", "--model",
                                 str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "b.jsonl"), "--quiet",
                                 "--engine", "ray", "--ray-address", cluster["address"], "--ray-workers", "1"])
    assert (r.exit_code, r.output) == (2, f"error: {tmp_path / 'missing.jsonl'}: file not found\n")


def test_cli_without_ray_says_how_to_install(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from verify.commands.app import app

    monkeypatch.setitem(sys.modules, "ray", None)  # as if the ray extra were not installed
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    src = tmp_path / "s.jsonl"
    src.write_text(json.dumps({"problem_id": "p", "sample_index": 0, "text": "1+1 = 2"}) + "\n")
    r = CliRunner().invoke(app, ["prm", "score", "--samples", str(src), "--prm", "arith", "--out",
                                 str(tmp_path / "o.jsonl"), "--engine", "ray"])
    assert r.exit_code == 2
    assert r.output.splitlines()[-1].endswith("--engine ray needs the ray package: pip install 'ttc-verify[ray]'")
