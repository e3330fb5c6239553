"""Benchmark registry, local files with the usual field names, the arith generator, prompt
families, and `verify sample` option/error handling through the CLI."""
from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

import evals.benchmarks as bm
from cli import app
from evals.arith_problems import generate, write
from evals.prompts import build_prompt, family_for_model
from verify.errors import InputError, UnknownSpecError
from verify.records.types import Problem


def test_arith_is_seeded_and_committed_file_matches(tmp_path):
    assert [p.question for p in generate(40, 0)] == [p.question for p in generate(40, 0)]
    assert [p.question for p in generate(40, 0)] != [p.question for p in generate(40, 1)]
    write(tmp_path / "a.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == bm.ARITH_FILE.read_bytes()  # data/arith.jsonl is its output


def test_arith_answers_are_right():
    for p in generate(200, 3):
        nums = [int(x) for x in re.findall(r"\d+", p.question)]
        assert len(nums) == 2 and int(p.gold) >= 0
        if p.meta["kind"] == "sum":
            assert all(1 <= x <= 9 for x in nums) and int(p.gold) == sum(nums)
        else:
            minus = any(w in p.question for w in ("gave", "takes out"))
            assert int(p.gold) == (nums[0] - nums[1] if minus else nums[0] + nums[1])


def test_arith_regenerated_when_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(bm, "ARITH_FILE", tmp_path / "data" / "arith.jsonl")
    ps = bm.load_problems("arith", limit=5)
    assert (tmp_path / "data" / "arith.jsonl").exists() and [p.id for p in ps] == [f"arith-{i}" for i in range(5)]


@pytest.mark.parametrize("name,n,first_id,first_gold", [
    ("aime24", 30, "60", "204"),
    ("aime25", 30, "2025-I-1", "70"),
    ("amc23", 40, "0", "27"),             # JSON float 27.0
    ("math500", 500, "test/precalculus/807.json", "\\left( 3, \\frac{\\pi}{2} \\right)"),
    ("gsm8k", 1319, "gsm8k-0", "18"),     # the text after ####
])
def test_shared_files_load_as_they_are(shared_data, name, n, first_id, first_gold):
    ps = bm.load_problems(name, shared_data / name / "test.jsonl")
    assert (len(ps), ps[0].id, ps[0].gold) == (n, first_id, first_gold)
    assert all(p.question and p.gold for p in ps)


def test_recorded_samples_file_loads_as_problems(shared_data):
    ps = bm.load_problems("math500", shared_data / "qwen25math_rm_maj_example" / "math_cot_100.jsonl", limit=3)
    assert [p.id for p in ps] == ["0", "1", "2"] and ps[0].gold == "420"


def test_parquet_and_field_aliases(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([{"unique_id": "u1", "query": "1+1?", "gt": 2},
                                         {"unique_id": "u2", "query": "2+3?", "gt": 5.0}]), tmp_path / "d.parquet")
    ps = bm.load_problems("math500", tmp_path / "d.parquet")
    assert [(p.id, p.question, p.gold) for p in ps] == [("u1", "1+1?", "2"), ("u2", "2+3?", "5")]


@pytest.mark.parametrize("line,match", [
    ('{"id": 1, "answer": "2"}', r"d\.jsonl:2: field 'problem': need a question"),
    ('{"id": 1, "problem": "q"}', r"d\.jsonl:2: field 'answer': need a gold answer"),
    ('{"id": 1, "problem": "q", "answer": [1]}', r"d\.jsonl:2: field 'answer'"),
    ('{"id": 0, "problem": "q", "answer": "1"}', r"d\.jsonl:2: field 'id': duplicate problem id '0'"),
    ('{"id": 1, "problem": "q", "answer": "1"', r"d\.jsonl:2: not valid JSON"),
])
def test_bad_lines_name_file_line_field(tmp_path, line, match):
    f = tmp_path / "d.jsonl"
    f.write_text('{"id": 0, "problem": "What?", "answer": "1"}\n' + line + "\n")
    with pytest.raises(InputError, match=match):
        bm.load_problems("gsm8k", f)


def test_unknown_dataset_suggests():
    with pytest.raises(UnknownSpecError, match="Did you mean 'gsm8k'"):
        bm.load_problems("gsm8")


@pytest.mark.parametrize("gold,want", [("a\n#### 1,234", "1234"), ("#### -3.5", "-3.5"), (27.0, "27"),
                                       (2.5, "2.5"), (7, "7"), ("025", "025"), ("#### 12 apples", "12 apples")])
def test_normalize_gold(gold, want):
    assert bm.normalize_gold(gold) == want


def test_prompt_families():
    p = Problem("x", "What is 5 + 4?", "9")
    assert family_for_model("Qwen/Qwen2.5-Math-7B-Instruct") == "qwen-math"
    assert family_for_model(None) == "fewshot-boxed"
    few = build_prompt(p, "fewshot-boxed")
    assert [m["role"] for m in few] == ["user", "assistant", "user", "assistant", "user"]
    assert all("\\boxed{" in m["content"] for m in few if m["role"] == "assistant")
    assert few[-1]["content"].startswith("What is 5 + 4?\n")
    assert build_prompt(p, "base").endswith("Question: What is 5 + 4?\nAnswer:")
    with pytest.raises(UnknownSpecError, match="unknown prompt family 'llama'"):
        build_prompt(p, "llama")


# ------------------------------------------------------------------ verify sample CLI

def test_cli_replay_end_to_end_and_resume(tmp_path):
    rec = tmp_path / "rec.jsonl"
    ps = bm.load_problems("arith", limit=3)
    rec.write_text("".join(json.dumps({"id": p.id, "question": p.question,
                                       "code": [f"{p.gold} \\boxed{{{p.gold}}}"] * 4}) + "\n" for p in ps))
    out = tmp_path / "s.jsonl"
    args = ["sample", "--dataset", "arith", "--limit", "3", "--backend", "replay", "--model", str(rec),
            "-n", "4", "--out", str(out), "-q"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert res.output == f"{out}: 12 traces for 3 problems (12 new, 0 already there); 0 tokens in " \
        + res.output.split(" tokens in ")[1]
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["answer"] for r in rows] == [p.gold for p in ps for _ in range(4)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0 and "(0 new, 12 already there)" in res.output


def test_cli_adaptive_reports_saved(tmp_path):
    rec = tmp_path / "rec.jsonl"
    ps = bm.load_problems("arith", limit=2)
    rec.write_text("".join(json.dumps({"id": p.id, "question": p.question, "code": [f"\\boxed{{{p.gold}}}"] * 8})
                           + "\n" for p in ps))
    res = CliRunner().invoke(app, ["sample", "-d", "arith", "--limit", "2", "-b", "replay", "-m", str(rec),
                                   "-n", "8", "--adaptive", "--out", str(tmp_path / "a.jsonl"), "-q"])
    assert res.exit_code == 0, res.output
    assert "8 of 16 samples saved (50.0%)" in res.output


@pytest.mark.parametrize("args,msg", [
    (["--dataset", "nope"], "error: unknown dataset 'nope'"),
    (["--dataset", "arith", "--backend", "tpu"], "error: unknown backend 'tpu'"),
    (["--dataset", "arith", "--backend", "replay"], "error: field 'model': --model is required with --backend replay"),
    (["--dataset", "arith", "--prompt", "llama"], "error: unknown prompt family 'llama'"),
    (["--dataset", "gsm8k", "--data-file", "missing.jsonl"], "error: missing.jsonl: file not found"),
    (["--dataset", "arith", "--adaptive", "--adaptive-rule", "sprt"], "error: unknown adaptive rule 'sprt'"),
])
def test_cli_errors_exit_2_without_traceback(tmp_path, args, msg):
    res = CliRunner().invoke(app, ["sample", *args, "--out", str(tmp_path / "s.jsonl"), "-q"])
    assert res.exit_code == 2
    assert msg in res.output and "Traceback" not in res.output


def sum_from_prompt(prompt, n):
    """A 'model' for the callable backend: reads 'What is a + b?' from the last user turn."""
    text = prompt if isinstance(prompt, str) else prompt[-1]["content"]
    m = re.search(r"What is (\d+) \+ (\d+)\?", text)
    return [f"\\boxed{{{int(m.group(1)) + int(m.group(2))}}}" if m else "no idea"] * n


def test_cli_callable_backend_by_import_string(tmp_path):
    out = tmp_path / "s.jsonl"
    res = CliRunner().invoke(app, ["sample", "-d", "arith", "--limit", "4", "-b", "callable",
                                   "-m", "tests.test_benchmarks_registry:sum_from_prompt", "-n", "2",
                                   "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    sums = [r for r in rows if r["problem_id"] in ("arith-0", "arith-2")]
    assert len(rows) == 8 and all(r["answer"] == r["gold"] for r in sums)
    assert rows[0]["sampling"]["model"] == "tests.test_benchmarks_registry:sum_from_prompt"


def test_hub_loading_passes_ids_and_converts_rows(monkeypatch):
    datasets = pytest.importorskip("datasets")
    seen = []

    def fake_load(*args, split):
        seen.append((args, split))
        return [{"question": "Tom has 3 apples...", "answer": "He has 3+4=<<3+4=7>>7.\n#### 7"}]

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    ps = bm.load_problems("gsm8k")
    assert seen == [(("openai/gsm8k", "main"), "test")]
    assert [(p.id, p.gold) for p in ps] == [("gsm8k-0", "7")]
    bm.load_problems("math500")
    assert seen[-1] == (("HuggingFaceH4/MATH-500",), "test")


def test_hub_failure_points_to_data_file(monkeypatch):
    datasets = pytest.importorskip("datasets")

    def offline(*args, split):
        raise ConnectionError("no network")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(InputError, match=r"HuggingFaceH4/aime_2024: could not load .*ConnectionError: no network"
                                         r".*pass --data-file"):
        bm.load_problems("aime24")


# --- datasets by hub id or local path (issue 16.6) ---------------------------------------

def _rows():
    return [{"uid": "a", "q": "What is 2+3?", "ans": "5", "level": 1},
            {"uid": "b", "q": "What is 7-9?", "ans": "-2", "level": 2}]


def test_local_file_by_path_with_field_mapping(tmp_path):
    f = tmp_path / "mine.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in _rows()))
    ps = bm.load_problems(str(f), fields=bm.Fields(question="q", answer="ans", id="uid"))
    assert [(p.id, p.question, p.gold, p.meta) for p in ps] == [
        ("a", "What is 2+3?", "5", {"level": 1}), ("b", "What is 7-9?", "-2", {"level": 2})]
    ps = bm.load_problems(str(f), fields=bm.Fields(question="q", answer="ans"))  # no id field: row numbers
    assert [p.id for p in ps] == ["mine-0", "mine-1"]
    with pytest.raises(InputError, match=r"mine.jsonl:1: field 'question': no field 'question' "
                                         r"\(fields: uid, q, ans, level\)"):
        bm.load_problems(str(f), fields=bm.Fields(question="question", answer="ans"))
    with pytest.raises(InputError, match=r"need a question string in one of problem, question, query "
                                         r"\(or name it with --question-field\)"):
        bm.load_problems(str(f))


def test_unknown_name_says_what_a_dataset_can_be():
    with pytest.raises(UnknownSpecError, match=r"unknown dataset 'nope': not a short name \(aime24, aime25, amc23, "
                                               r"math500, gsm8k, arith\), a hub id \(owner/name\) or an existing "
                                               r"local path\.$"):
        bm.load_problems("nope")


def test_any_hub_id_with_split(monkeypatch):
    datasets = pytest.importorskip("datasets")
    seen = []

    def fake_load(*args, split):
        seen.append((args, split))
        return [{"problem": "1+1?", "answer": "2", "unique_id": "x/1.json"}]

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    ps = bm.load_problems("HuggingFaceH4/MATH-500")
    assert seen == [(("HuggingFaceH4/MATH-500",), "test")] and [(p.id, p.gold) for p in ps] == [("x/1.json", "2")]
    bm.load_problems("someone/my-set.v2", split="validation")
    assert seen[-1] == (("someone/my-set.v2",), "validation")
    bm.load_problems("aime24", split="test")  # a short name keeps its hub id; --split overrides its split
    assert seen[-1] == (("HuggingFaceH4/aime_2024",), "test")


def test_hub_errors_name_the_offline_switch_and_the_missing_package(monkeypatch):
    datasets = pytest.importorskip("datasets")

    def offline(*args, split):
        raise ConnectionError("no network")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError, match=r"^someone/set: could not load someone/set split 'test' from the Hugging "
                                         r"Face hub \(HF_HUB_OFFLINE is set: only datasets already in the cache "
                                         r"load\) \(ConnectionError: no network\); pass --data-file PATH.jsonl$"):
        bm.load_problems("someone/set")
    monkeypatch.setitem(__import__("sys").modules, "datasets", None)  # `import datasets` raises ImportError
    with pytest.raises(InputError, match=r"^someone/set: loading someone/set needs the `datasets` package: "
                                         r"pip install 'ttc-verify\[datasets\]'; or pass a local JSONL/Parquet file$"):
        bm.load_problems("someone/set")


def test_local_dataset_folders(tmp_path):
    datasets = pytest.importorskip("datasets")
    rows = _rows()
    one = tmp_path / "saved"
    datasets.Dataset.from_list(rows).save_to_disk(str(one))
    ps = bm.load_problems(str(one), fields=bm.Fields(question="q", answer="ans", id="uid"))
    assert [(p.id, p.gold) for p in ps] == [("a", "5"), ("b", "-2")]
    both = tmp_path / "dict"
    datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:1]),
                          "test": datasets.Dataset.from_list(rows[1:])}).save_to_disk(str(both))
    fields = bm.Fields(question="q", answer="ans", id="uid")
    assert [p.id for p in bm.load_problems(str(both), split="train", fields=fields)] == ["a"]
    with pytest.raises(InputError, match=r"dict: pick a split with --split: train, test$"):
        bm.load_problems(str(both), fields=fields)
    with pytest.raises(InputError, match=r"dict: no split 'dev'; splits: train, test$"):
        bm.load_problems(str(both), split="dev", fields=fields)
    files = tmp_path / "files"
    files.mkdir()
    (files / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert [p.id for p in bm.load_problems(str(files), fields=fields)] == ["a", "b"]


def test_cli_sample_from_a_local_path_with_field_options(tmp_path):
    f = tmp_path / "mine.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in _rows()))
    out = tmp_path / "s.jsonl"
    res = CliRunner().invoke(app, ["sample", "-d", str(f), "--question-field", "q", "--answer-field", "ans",
                                   "--id-field", "uid", "-b", "callable", "-m",
                                   "tests.test_benchmarks_registry:sum_from_prompt", "-n", "1", "--out", str(out),
                                   "-q"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(r["problem_id"], r["gold"]) for r in rows] == [("a", "5"), ("b", "-2")]
    assert rows[0]["sampling"]["params"]["max_tokens"] == 512 and rows[0]["sampling"]["params"]["top_p"] == 1.0
    res = CliRunner().invoke(app, ["sample", "-d", str(f), "-b", "callable", "-m",
                                   "tests.test_benchmarks_registry:sum_from_prompt", "--out", str(tmp_path / "t.jsonl")])
    assert (res.exit_code, res.stderr) == (2, f"error: {f}:1: field 'problem': need a question string in one of "
                                              "problem, question, query (or name it with --question-field)\n")


def test_options_that_would_be_ignored_are_refused(tmp_path):
    f = tmp_path / "mine.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in _rows()))
    with pytest.raises(InputError, match=r"^field 'split': --split applies to hub ids and dataset folders, "
                                         r"not to a single file$"):
        bm.load_problems(str(f), split="train")
    with pytest.raises(InputError, match="--split applies"):
        bm.load_problems("math500", f, split="train")
    with pytest.raises(InputError, match=r"^field 'data_file': --data-file is a local copy of a short-named "
                                         r"benchmark; 'someone/set' is not one: pass the file as --dataset PATH$"):
        bm.load_problems("someone/set", f)
