"""Seeds depend only on (problem, sample): sample i of problem p is drawn with
`sample_seed(seed, p.id, i)`, so shuffling the problem list, another `--batch-size`, N=4 then
`--extend` to 8, or a subset of the problems give the very same trace for every (problem id,
sample index), and a resumed run asks a per-sample backend for the missing samples only.
Checked with exact equality of whole trace lines on a callable taking `seeds`, a callable taking
only `params`, and the tiny random-init transformers model; ct2's documented exception (one
random stream per chunk of rows) is shown on a tiny converted model. Ray == local is in
tests/test_ray_engine.py, the vLLM request shape against the real package in
tests/test_vllm_contract.py.
"""
from __future__ import annotations

import json
import random

import pytest

from verify.records.types import Problem
from verify.sampling.adaptive import AdaptiveRule
from verify.sampling.base import SamplingParams, sample_seed
from verify.sampling.callable_backend import CallableGenerator
from verify.sampling.run import sample_to_file

PROBLEMS = [Problem(f"q{i}", f"What is {i} + {i}?", str(2 * i)) for i in range(7)]
PARAMS = SamplingParams(temperature=1.0, top_p=0.9, max_tokens=8, seed=11)
CALLS: list[int] = []  # samples asked of the callables below, per call


def per_sample(prompt, n, seeds):
    """A seeded 'model' that draws completion j from its own stream `seeds[j]`."""
    CALLS.append(len(seeds))
    return [_text(prompt, random.Random(s)) for s in seeds]


def per_problem(prompt, n, params):
    """A seeded 'model' that draws its n completions in sequence from one stream `params.seed`."""
    CALLS.append(n)
    rng = random.Random(params.seed)
    return [_text(prompt, rng) for _ in range(n)]


def _text(prompt, rng):
    i = int(prompt.split()[2])
    return f"{prompt} draw {rng.randint(0, 10**6)}\n\n\\boxed{{{2 * i + rng.choice([0, 0, 1])}}}"


@pytest.fixture(scope="module")
def tiny_generator():
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.test_sampling_transformers import tiny_model_and_tokenizer
    from verify.sampling.transformers_backend import TransformersGenerator

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 32-wide model gains nothing from threads
    yield TransformersGenerator(*tiny_model_and_tokenizer(), chat=False)
    torch.set_num_threads(threads)


@pytest.fixture(params=["callable-seeds", "callable-params", "transformers"])
def generator(request):
    if request.param == "transformers":
        return request.getfixturevalue("tiny_generator")
    return CallableGenerator(per_sample if request.param == "callable-seeds" else per_problem)


def traces(path) -> dict[tuple[str, int], dict]:
    """Every line of a samples file by (problem id, sample index), without `sampling.n` (the N of
    the run that wrote it, which `--extend` changes) and `sampling.adaptive` (the rule, if any)."""
    out = {}
    for line in open(path):
        r = json.loads(line)
        del r["sampling"]["n"]
        r["sampling"].pop("adaptive", None)
        out[(r["problem_id"], r["sample_index"])] = r
    return out


def run(gen, problems, out, *, n=8, batch_size=3, **kw) -> dict[tuple[str, int], dict]:
    sample_to_file(problems, gen, out, n=n, params=PARAMS, batch_size=batch_size, progress=False, **kw)
    return traces(out)


@pytest.mark.parametrize("case", ["shuffled", "batch-size-2", "batch-size-7", "n4-then-extend-to-8", "subset"])
def test_trace_of_each_problem_and_sample_is_the_same(generator, case, tmp_path):
    want = run(generator, PROBLEMS, tmp_path / "ref.jsonl")
    assert len(want) == 56 and len({r["text"] for r in want.values()}) > 28  # real draws, not one constant
    out = tmp_path / "out.jsonl"
    if case == "shuffled":
        got = run(generator, random.Random(1).sample(PROBLEMS, len(PROBLEMS)), out)
    elif case.startswith("batch-size"):
        got = run(generator, PROBLEMS, out, batch_size=int(case.rsplit("-", 1)[1]))
    elif case == "n4-then-extend-to-8":
        run(generator, PROBLEMS, out, n=4)
        got = run(generator, PROBLEMS, out, n=8)
    else:
        got = run(generator, PROBLEMS[1::2], out)
        want = {k: r for k, r in want.items() if k[0] in {p.id for p in PROBLEMS[1::2]}}
    assert got == want


def test_recorded_seed_is_the_samples_own(tmp_path):
    got = run(CallableGenerator(per_sample), PROBLEMS[:2], tmp_path / "s.jsonl", n=3)
    assert {k: r["sampling"]["seed"] for k, r in got.items()} == {
        (p.id, i): sample_seed(11, p.id, i) for p in PROBLEMS[:2] for i in range(3)}
    got = run(CallableGenerator(per_problem), PROBLEMS[:2], tmp_path / "p.jsonl", n=3)
    assert {k: r["sampling"]["seed"] for k, r in got.items()} == {  # one stream per problem
        (p.id, i): sample_seed(11, p.id, 0) for p in PROBLEMS[:2] for i in range(3)}


def test_extend_asks_a_per_sample_backend_for_the_new_samples_only(tmp_path):
    out = tmp_path / "s.jsonl"
    run(CallableGenerator(per_sample), PROBLEMS, out, n=4)
    CALLS.clear()
    run(CallableGenerator(per_sample), PROBLEMS, out, n=8)
    assert CALLS == [4] * 7  # samples 4..7 of each problem; 0..3 are not drawn again
    CALLS.clear()
    run(CallableGenerator(per_problem), PROBLEMS, out.with_name("p.jsonl"), n=4)
    run(CallableGenerator(per_problem), PROBLEMS, out.with_name("p.jsonl"), n=8)
    assert CALLS == [4] * 7 + [8] * 7  # one stream per problem: the whole stream again


@pytest.mark.parametrize("cut", [5, 13, 30])
def test_resume_mid_batch_equals_uninterrupted_and_draws_only_the_missing(generator, cut, tmp_path):
    ref, out = tmp_path / "ref.jsonl", tmp_path / "out.jsonl"
    want = run(generator, PROBLEMS, ref)
    lines = ref.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:cut]) + lines[cut][:25])  # a crash mid-batch, the last line torn
    CALLS.clear()
    assert run(generator, PROBLEMS, out) == want
    if generator.__class__ is CallableGenerator and generator.per_sample_seeds:
        assert sum(CALLS) == 56 - cut


def test_adaptive_rounds_draw_the_fixed_runs_samples(tmp_path):
    gen = CallableGenerator(per_sample)
    want = run(gen, PROBLEMS, tmp_path / "ref.jsonl")
    got = run(gen, PROBLEMS, tmp_path / "ad.jsonl", adaptive=AdaptiveRule(budget=8, round_size=2, rule="beta"))
    assert 14 <= len(got) < 56  # stopped early on some problems
    assert got == {k: want[k] for k in got}


def test_adaptive_with_the_tiny_model_draws_the_fixed_runs_samples(tiny_generator, tmp_path):
    want = run(tiny_generator, PROBLEMS[:4], tmp_path / "ref.jsonl", n=6)
    got = run(tiny_generator, PROBLEMS[:4], tmp_path / "ad.jsonl",
              adaptive=AdaptiveRule(budget=6, round_size=2, rule="overtake"))
    assert len(got) >= 8 and got == {k: want[k] for k in got}


# ---- the transformers row sampler: tempered, top-p cut distribution; greedy stays greedy ----

def test_row_sampler_draws_the_tempered_top_p_distribution():
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from verify.sampling.transformers_backend import RowSampler

    logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0, -3.0])
    t, top_p, rows = 0.7, 0.9, 20000
    p = torch.softmax(logits / t, -1)  # descending already: keep the fewest tokens holding >= top_p
    keep = int((p.cumsum(-1) < top_p).sum()) + 1
    want = torch.zeros_like(p)
    want[:keep] = p[:keep] / p[:keep].sum()
    scores = logits.repeat(rows, 1)
    out = RowSampler(list(range(rows)), t, top_p)(torch.zeros(rows, 1, dtype=torch.long), scores)
    assert ((out == 0).sum(-1) == 1).all() and torch.isinf(out).sum() == rows * 5  # one token left per row
    freq = torch.bincount(out.argmax(-1), minlength=6).double() / rows
    assert keep == 3 and (freq[keep:] == 0).all()  # nothing outside the nucleus
    se = (want * (1 - want) / rows).sqrt()
    assert ((freq - want).abs() <= 4 * se + 1e-12).all(), (freq, want)
    again = RowSampler(list(range(rows)), t, top_p)(torch.zeros(rows, 1, dtype=torch.long), scores)
    assert torch.equal(out, again)  # the same seeds draw the same tokens


def test_greedy_is_the_models_argmax(tiny_generator):
    torch = pytest.importorskip("torch")
    prompt = "What is 3 + 4?"
    got = tiny_generator.generate([prompt], 3, SamplingParams(temperature=0.0, max_tokens=8))[0]
    enc = tiny_generator.tok([prompt], return_tensors="pt")
    with torch.no_grad():
        ids = tiny_generator.model.generate(**enc, do_sample=False, max_new_tokens=8, suppress_tokens=[0],
                                            pad_token_id=0)[0, enc["input_ids"].shape[1]:]
    want = tiny_generator.tok.decode(ids, skip_special_tokens=True)
    assert [c.text for c in got] == [want] * 3


# ---- ct2: one random stream per chunk of rows (the documented exception) ----

@pytest.fixture(scope="module")
def ct2(tmp_path_factory):
    pytest.importorskip("ctranslate2")
    pytest.importorskip("torch")
    from tests.test_sampling_transformers import tiny_model_and_tokenizer
    from verify.sampling.ct2_backend import CT2Generator

    folder = tmp_path_factory.mktemp("tiny")
    model, tok = tiny_model_and_tokenizer()
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return CT2Generator(str(folder), compute_type="float32", root=tmp_path_factory.mktemp("cache"), chat=False)


def test_ct2_resume_holds_reordering_does_not(ct2, tmp_path):
    ref, out = tmp_path / "ref.jsonl", tmp_path / "out.jsonl"
    want = run(ct2, PROBLEMS, ref)
    lines = ref.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:13]) + lines[13][:25])
    assert run(ct2, PROBLEMS, out) == want  # whole batches, each chunk seeded from its rows: resume holds
    texts = lambda d: {k: r["text"] for k, r in d.items()}  # noqa: E731
    moved = run(ct2, PROBLEMS, tmp_path / "bs2.jsonl", batch_size=2)
    assert texts(moved) != texts(want)  # other batches, other chunk streams
    assert texts(run(ct2, PROBLEMS, tmp_path / "bs2-again.jsonl", batch_size=2)) == texts(moved)
    ext = tmp_path / "ext.jsonl"
    run(ct2, PROBLEMS, ext, n=4)
    got = texts(run(ct2, PROBLEMS, ext, n=8))
    assert {k: v for k, v in got.items() if k[1] >= 4} == {k: v for k, v in texts(want).items() if k[1] >= 4}
    assert {k: v for k, v in got.items() if k[1] < 4} != {k: v for k, v in texts(want).items() if k[1] < 4}
