"""JSONL I/O: line-numbered errors, whole-line appends, torn-tail repair."""
from __future__ import annotations

import json

import pytest

from verify.errors import InputError
from verify.records.io import append_jsonl, iter_jsonl, read_traces, repair_tail, write_traces
from verify.records.types import Trace


def test_append_then_read_roundtrip(tmp_path):
    p = tmp_path / "s.jsonl"
    t = Trace(problem_id="p1", sample_index=0, text="so \\boxed{4}", steps=("a", "b"), answer="4",
              gold="4", step_scores=(0.9, 0.8), num_tokens=12, sampling={"seed": 1})
    assert write_traces(p, [t]) == 1
    assert read_traces(p) == [t]


def test_bad_json_names_file_and_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"problem_id": "a", "text": "x"}\n{"problem_id": \n')
    with pytest.raises(InputError) as e:
        read_traces(p)
    assert f"{p}:2:" in str(e.value)


def test_wrong_type_names_field(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"problem_id": "a", "text": "x"}\n\n{"problem_id": "a", "text": "y", "step_scores": [0.5, "high"]}\n')
    with pytest.raises(InputError) as e:
        read_traces(p)
    assert e.value.line == 3 and e.value.field == "step_scores"


def test_missing_text_and_answer(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"problem_id": "a"}\n')
    with pytest.raises(InputError, match="need 'text' or 'answer'"):
        read_traces(p)


def test_torn_tail_is_repaired_and_nothing_else_lost(tmp_path):
    p = tmp_path / "s.jsonl"
    append_jsonl(p, [{"problem_id": "a", "sample_index": 0, "answer": "1"},
                     {"problem_id": "a", "sample_index": 1, "answer": "2"}])
    with open(p, "ab") as fh:
        fh.write(b'{"problem_id": "a", "sample_index": 2, "ans')  # a crash mid-write
    with pytest.raises(InputError):
        list(iter_jsonl(p))
    assert len(list(iter_jsonl(p, allow_torn_tail=True))) == 2
    assert repair_tail(p) > 0
    append_jsonl(p, [{"problem_id": "a", "sample_index": 2, "answer": "3"}])
    assert [json.loads(x)["answer"] for x in p.read_text().splitlines()] == ["1", "2", "3"]


def test_sample_index_defaults_to_order_and_numbers_become_strings(tmp_path):
    p = tmp_path / "s.jsonl"
    append_jsonl(p, [{"problem_id": 7, "answer": 3.0, "gold": 3}, {"problem_id": 7, "answer": "x"}])
    a, b = read_traces(p)
    assert (a.problem_id, a.sample_index, a.answer, a.gold) == ("7", 0, "3", "3")
    assert b.sample_index == 1


def test_unknown_fields_kept_in_meta(tmp_path):
    p = tmp_path / "s.jsonl"
    append_jsonl(p, [{"problem_id": "a", "answer": "1", "level": 3}])
    assert read_traces(p)[0].meta == {"level": 3}
