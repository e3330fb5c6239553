"""Sampler core without a model: protocol records, registry, steps, callable/replay backends,
adaptive rules, and the resumable writer (torn tails, partial batches, mixed settings)."""
from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from verify.errors import InputError, UnknownSpecError
from verify.records.io import read_traces
from verify.sampling.adaptive import AdaptiveRule, majority, simulate
from verify.sampling.base import Completion, SamplingParams, derive_seed, get_generator, sample_seed, trim_at_stop
from verify.sampling.callable_backend import CallableGenerator
from verify.sampling.replay_backend import ReplayGenerator
from verify.sampling.run import sample_to_file
from verify.records.steps import parse_sep, split_steps
from verify.records.types import Problem

PROBLEMS = [Problem(f"p{i}", f"What is {i} + {i}?", str(2 * i)) for i in range(7)]


def seeded_fn(prompt, n, params):
    """Deterministic in (prompt, seed) like a seeded model: answers drawn from {2i, 2i+1}."""
    rng = random.Random(f"{prompt}|{params.seed}")
    i = int(prompt.split()[2])
    return [f"{i} + {i} = ?\n\nSo \\boxed{{{2 * i + rng.choice([0, 0, 0, 1])}}}" for _ in range(n)]


def lines(path):
    return [json.loads(s) for s in open(path)]


@pytest.mark.parametrize("text,sep,expected", [
    ("a\n\nb\n\n\nc", "\n\n", ("a", "b", "c")),
    ("  a  \n\n  \n\n", "\n\n", ("a",)),
    ("a\nb", "\n", ("a", "b")),
    ("", "\n\n", ()),
    ("step 1 ки step 2 ки", " ки", ("step 1", "step 2")),
    ("no separator here", "\n\n", ("no separator here",)),
])
def test_split_steps_table(text, sep, expected):
    assert split_steps(text, sep) == expected


def test_parse_sep_decodes_escapes():
    assert parse_sep("\\n\\n") == "\n\n"
    assert parse_sep("\\t|") == "\t|"
    assert parse_sep("a\\\\n") == "a\\n"


def test_trim_at_stop_earliest_wins():
    assert trim_at_stop("x END y STOP", ["STOP", "END"]) == ("x ", True)
    assert trim_at_stop("nothing", ["STOP"]) == ("nothing", False)


def test_derive_seed_stable_and_distinct():
    assert derive_seed(0, "batch", 1) == derive_seed(0, "batch", 1)
    assert len({derive_seed(0, "batch", b) for b in range(1000)}) == 1000
    assert derive_seed(None, "batch", 1) is None
    # values pinned: a run resumed on another machine or Python version must derive the same seeds
    assert derive_seed(0, "batch", 0) == 680021624
    assert derive_seed(7, "adaptive", (("p1", 2),)) == 132471691
    assert sample_seed(0, "p1", 0) == 1502196487 and sample_seed(0, "p1", 5) == 1502196492


def test_get_generator_unknown_suggests_closest():
    with pytest.raises(UnknownSpecError, match="Did you mean 'replay'"):
        get_generator("replya")


def test_backend_modules_do_not_import_torch_or_vllm():
    code = ("import sys, verify.sampling.base, verify.sampling.run, verify.sampling.vllm_backend, "
            "verify.sampling.openai_backend, verify.sampling.transformers_backend, verify.api, "
            "verify.commands.sample, evals.benchmarks; "
            "print(sorted(m for m in ('torch', 'vllm', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_callable_backend_shapes_and_errors():
    g = CallableGenerator(lambda prompt, n: [{"text": "a", "num_tokens": 3}] * n)
    got = g.generate(["x", "y"], 2, SamplingParams())
    assert [[c.num_tokens for c in row] for row in got] == [[3, 3], [3, 3]]
    with pytest.raises(InputError, match="returned 1 completions, expected n=2"):
        CallableGenerator(lambda prompt, n: ["a"]).generate(["x"], 2, SamplingParams())
    with pytest.raises(InputError, match="returned a int"):
        CallableGenerator(lambda prompt, n: [1] * n).generate(["x"], 1, SamplingParams())


def test_sample_to_file_schema_matches_eval_reader(tmp_path):
    out = tmp_path / "s.jsonl"
    params = SamplingParams(temperature=0.5, max_tokens=32, seed=3)
    rep = sample_to_file(PROBLEMS[:3], CallableGenerator(seeded_fn), out, n=4, params=params, batch_size=2,
                         backend="callable", model="toy", progress=False)
    assert (rep.written, rep.already, rep.total) == (12, 0, 12)
    rows = lines(out)
    assert [(r["problem_id"], r["sample_index"]) for r in rows] == [(f"p{i}", j) for i in range(3) for j in range(4)]
    r = rows[5]
    assert r["gold"] == "2" and r["answer"] in ("2", "3") and r["steps"][0] == "1 + 1 = ?"
    assert r["finish_reason"] == "stop"
    assert r["sampling"]["params"] == {"temperature": 0.5, "top_p": 1.0, "max_tokens": 32, "stop": [], "seed": 3}
    assert r["sampling"]["model"] == "toy" and r["sampling"]["backend"] == "callable"
    assert r["sampling"]["seed"] == sample_seed(3, "p1", 0)  # fn without `seeds`: its problem's first sample seed
    traces = read_traces(out)  # the reader `verify eval` uses accepts every line
    assert len(traces) == 12 and traces[5].answer == r["answer"]


def test_rerun_skips_everything_written(tmp_path):
    out = tmp_path / "s.jsonl"
    calls = []
    fn = lambda prompt, n, params: calls.append(prompt) or seeded_fn(prompt, n, params)  # noqa: E731
    sample_to_file(PROBLEMS, CallableGenerator(fn), out, n=3, batch_size=2, progress=False)
    before = out.read_bytes()
    calls.clear()
    rep = sample_to_file(PROBLEMS, CallableGenerator(fn), out, n=3, batch_size=2, progress=False)
    assert (rep.written, rep.already, calls) == (0, 21, [])
    assert out.read_bytes() == before


def test_torn_tail_and_partial_batch_resume_equals_uninterrupted(tmp_path):
    ref, out = tmp_path / "ref.jsonl", tmp_path / "out.jsonl"
    gen = CallableGenerator(seeded_fn)
    sample_to_file(PROBLEMS, gen, ref, n=4, batch_size=3, progress=False)
    full = ref.read_bytes().splitlines(keepends=True)
    # a crash: the first batch and part of the second made it, the last line torn mid-write
    out.write_bytes(b"".join(full[:12 + 5]) + full[17][:40])
    rep = sample_to_file(PROBLEMS, gen, out, n=4, batch_size=3, progress=False)
    assert rep.repaired_bytes == 40 and rep.already == 17 and rep.written == 28 - 17
    got = [(r["problem_id"], r["sample_index"]) for r in lines(out)]
    assert len(got) == len(set(got)) == 28
    key = lambda r: (r["problem_id"], r["sample_index"])  # noqa: E731
    assert sorted(lines(out), key=key) == sorted(lines(ref), key=key)  # same traces, seeds and all


def test_other_sampling_settings_refuse_to_mix(tmp_path):
    out = tmp_path / "s.jsonl"
    sample_to_file(PROBLEMS[:2], CallableGenerator(seeded_fn), out, n=2, progress=False)
    with pytest.raises(InputError, match=r"s\.jsonl:1: field 'sampling': written with other sampling settings"):
        sample_to_file(PROBLEMS[:2], CallableGenerator(seeded_fn), out, n=2,
                       params=SamplingParams(temperature=1.0), progress=False)


def test_bad_existing_line_names_file_and_line(tmp_path):
    out = tmp_path / "s.jsonl"
    out.write_text('{"problem_id": "p0", "sample_index": 0, "text": "x"}\n{"problem_id": "p0", "text": "y"}\n')
    with pytest.raises(InputError, match=r"s\.jsonl:2: field 'sample_index': missing required field"):
        sample_to_file(PROBLEMS[:1], CallableGenerator(seeded_fn), out, n=2, progress=False)


def test_generator_returning_wrong_shape_is_an_error(tmp_path):
    class Short:
        def generate(self, prompts, n, params):
            return [[Completion("x")] * (n - 1) for _ in prompts]

    with pytest.raises(RuntimeError, match="returned"):
        sample_to_file(PROBLEMS[:1], Short(), tmp_path / "s.jsonl", n=2, progress=False)
    assert not (tmp_path / "s.jsonl").exists()


# ------------------------------------------------------------------ replay backend

def test_replay_per_sample_layout_in_order_and_exhaustion(tmp_path):
    f = tmp_path / "rec.jsonl"
    recs = [{"problem_id": "a", "sample_index": i, "text": f"A{i}", "num_tokens": i + 1} for i in (2, 0, 1)]
    recs += [{"problem_id": "b", "sample_index": 0, "text": "B0", "finish_reason": "length"}]
    f.write_text("".join(json.dumps(r) + "\n" for r in recs))
    probs = [Problem("a", "What is 1 + 12?", "13"), Problem("b", "What is 1 + 1?", "2")]
    g = ReplayGenerator(str(f), problems=probs)
    got = g.generate(["Q: What is 1 + 12?\nPlease box.", "What is 1 + 1?"], 1, SamplingParams())
    assert [[c.text for c in r] for r in got] == [["A0"], ["B0"]]  # longest question wins
    assert got[1][0].finish_reason == "length"
    assert [c.text for c in g.generate([[{"role": "user", "content": "What is 1 + 12?"}]], 2,
                                       SamplingParams())[0]] == ["A1", "A2"]
    with pytest.raises(InputError, match="'a' has 3 recorded completions; asked for 1 more after 3"):
        g.generate(["What is 1 + 12?"], 1, SamplingParams())
    with pytest.raises(InputError, match="no recorded problem's question"):
        g.generate(["What is 5 + 5?"], 1, SamplingParams())


def test_replay_list_layout_and_bad_lines(tmp_path):
    f = tmp_path / "rec.jsonl"
    f.write_text(json.dumps({"idx": 7, "question": "Q7?", "code": ["x", "y"]}) + "\n")
    g = ReplayGenerator(str(f))
    assert [c.text for c in g.generate(["Q7?"], 2, SamplingParams())[0]] == ["x", "y"]
    f.write_text(json.dumps({"idx": 7, "question": "Q7?", "code": ["x", 3]}) + "\n")
    with pytest.raises(InputError, match=r"rec\.jsonl:1: field 'code': code\[1\] is not a string"):
        ReplayGenerator(str(f))
    f.write_text('{"question": "Q?", "text": "x"}\n')
    with pytest.raises(InputError, match=r"rec\.jsonl:1: field 'problem_id'"):
        ReplayGenerator(str(f))


# ------------------------------------------------------------------ adaptive

@pytest.mark.parametrize("rule,answers,stop", [
    ("overtake", ["1", "1", "1", "1", "1"], True),         # 5 > 0 + 3 left
    ("overtake", ["1", "1", "1", "1"], False),             # 4 vs 0 + 4 left could tie
    ("overtake", ["1", "1", "2", "1", "1", "1"], True),    # 5 > 1 + 2
    ("esc", ["3", "1", "1"], True),                        # the window is the latest round_size answers
    ("esc", ["1", "1", "3"], False),
    ("esc", ["1", "1"], True),
    ("esc", [None, None], False),                          # agreement on "no answer" is not agreement
    ("beta", ["1", "1", "1"], False),                      # P = 0.9375 < 0.95
    ("beta", ["1", "1", "1", "1"], True),                  # P = 0.969
    ("beta", ["1", "1", "2", "1", "1", "1", "1"], True),   # 6-1: P = 0.965
    ("beta", ["1", "2", "1", "2", "1", "1"], False),
    ("beta", ["1"], False),                                # min_samples = 2
    ("beta", ["x"] * 8, True),                             # budget used up
])
def test_adaptive_rule_table(rule, answers, stop):
    assert AdaptiveRule(budget=8, round_size=2, rule=rule).should_stop(answers) is stop


def test_overtake_never_changes_the_majority():
    rng = random.Random(0)
    rule = AdaptiveRule(budget=8, round_size=1, rule="overtake")
    for _ in range(500):
        answers = [rng.choice("aab") if rng.random() < 0.9 else None for _ in range(8)]
        k = simulate([answers], rule)[0]
        assert majority(answers[:k]) == majority(answers) or answers[:k].count(None) == k


def test_adaptive_run_resumes_and_saves_samples(tmp_path):
    easy = lambda prompt, n: [f"\\boxed{{{int(prompt.split()[2]) * 2}}}"] * n  # noqa: E731
    rule = AdaptiveRule(budget=8, round_size=2, rule="beta")
    out = tmp_path / "a.jsonl"
    rep = sample_to_file(PROBLEMS, CallableGenerator(easy), out, adaptive=rule, progress=False)
    assert rep.per_problem == {p.id: 4 for p in PROBLEMS} and rep.saved == 7 * 4
    assert "28 of 56 samples saved (50.0%)" in rep.summary()
    rep2 = sample_to_file(PROBLEMS, CallableGenerator(easy), out, adaptive=rule, progress=False)
    assert rep2.written == 0


def test_unknown_adaptive_rule():
    with pytest.raises(UnknownSpecError, match="known: overtake, esc, beta"):
        AdaptiveRule(rule="sprt")
