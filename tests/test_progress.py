"""One progress bar per stage (verify.progress.StageBar): at most ten lines per stage on a pipe or
log, whatever the number of batches; a live rich bar on a terminal."""
from __future__ import annotations

import io

import pytest

from verify.progress import StageBar


@pytest.mark.parametrize("total, step", [(1000, 1), (100, 7), (3, 1), (320, 64), (40, 40)])
def test_plain_stream_writes_at_most_ten_lines(total, step):
    s = io.StringIO()
    with StageBar("sampling", total, unit="traces", stream=s) as bar:
        done = 0
        while done < total:
            k = min(step, total - done)
            bar.update(k, tokens=10 * k)
            done += k
    lines = s.getvalue().splitlines()
    assert 1 <= len(lines) <= 10
    assert lines[-1].startswith(f"sampling {total}/{total} traces | {10 * total} tok, ")
    assert "tok/s" in lines[-1] and "s left" in lines[-1]


def test_disabled_or_empty_stage_writes_nothing():
    s = io.StringIO()
    StageBar("scoring", 10, stream=s, enabled=False).update(10)
    bar = StageBar("scoring", 0, stream=s)
    bar.update(0)
    bar.close()
    assert s.getvalue() == ""


def test_no_tokens_no_rate():
    s = io.StringIO()
    StageBar("grading (equivalence)", 2, unit="problems", stream=s).update(2)
    assert s.getvalue().startswith("grading (equivalence) 2/2 problems | ")
    assert "tok" not in s.getvalue()


def test_live_bar_uses_rich_not_lines():
    s = io.StringIO()
    with StageBar("sampling", 20, unit="traces", stream=s, live=True) as bar:
        for _ in range(20):
            bar.update(1, tokens=100)
    out = s.getvalue()
    assert "sampling" in out and "20/20" in out and "tok/s" in out
    assert "s left" not in out  # the plain-line format is not used


def test_sampling_stage_on_a_pipe_is_bounded(tmp_path, capsys):
    from verify.records.types import Problem
    from verify.sampling.callable_backend import CallableGenerator
    from verify.sampling.run import sample_to_file

    problems = [Problem(f"p{i}", f"{i} + 1?", str(i + 1)) for i in range(40)]
    gen = CallableGenerator(lambda prompt, n: ["1 + 1 = 2.\n\n\\boxed{2}"] * n)
    sample_to_file(problems, gen, tmp_path / "s.jsonl", n=2, batch_size=1)  # 40 batches
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("sampling ")]
    assert 1 <= len(lines) <= 10
    assert lines[-1].startswith("sampling 80/80 traces")


def test_scoring_stage_on_a_pipe_is_bounded(tmp_path, capsys):
    from prm.score_file import score_samples
    from verify.records.io import append_jsonl
    from verify.records.types import Trace

    src = tmp_path / "s.jsonl"
    append_jsonl(src, [Trace(f"p{i}", 0, text="2 + 2 = 4.\n\n\\boxed{4}", steps=("2 + 2 = 4.", "\\boxed{4}"),
                             answer="4", gold="4").to_dict() for i in range(50)])
    score_samples(src, tmp_path / "scored.jsonl", "arith", batch_size=1,
                  questions={f"p{i}": "2 + 2?" for i in range(50)})
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("scoring ")]
    assert 1 <= len(lines) <= 10
    assert lines[-1].startswith("scoring 50/50 traces")
