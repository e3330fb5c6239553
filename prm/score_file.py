"""Add PRM step scores to a samples file, resumably (`verify prm score`).

Input and output are samples files in the schema of `verify.records.io.read_traces`. Each output
line is the input trace with `steps` (kept if present, else split from `text` with the
sampler's own splitter `verify.records.steps.split_steps` and the same separator, so that
scoring sees the steps sampling would have written) and
`step_scores`, one per step. Like sampling, scoring is resumable: traces whose
(problem_id, sample_index) are already in the output are skipped, a torn last line left by
a crash is cut first (only from a file that is provably a samples file: anything else is
refused untouched), the output is locked against a second writer for the whole run, and
results are appended one batch at a time.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from verify.errors import InputError
from verify.records.io import append_jsonl, get_field, iter_jsonl, read_traces
from verify.records.outputs import TRACES, claim_output, refuse_same_file
from verify.progress import StageBar
from verify.records.steps import DEFAULT_SEP, split_steps

QUESTION_FIELDS = ("question", "problem", "instruction", "query", "prompt")
ID_FIELDS = ("id", "problem_id", "unique_id", "idx")


def load_questions(path: str | Path) -> dict[str, str]:
    """Map problem id -> question text from a JSONL data file.

    The id is the first of `id`, `problem_id`, `unique_id`, `idx` present, else the 0-based
    row number (as `verify sample` numbers rows of files without ids); the question is the
    first of `question`, `problem`, `instruction`, `query`, `prompt`.

    >>> import json, tempfile
    >>> p = tempfile.mktemp(suffix=".jsonl")
    >>> _ = open(p, "w").write(json.dumps({"id": 7, "problem": "1+1?"}) + "\\n")
    >>> load_questions(p)
    {'7': '1+1?'}
    """
    out: dict[str, str] = {}
    for row, (line, obj) in enumerate(iter_jsonl(path)):
        key = next((f for f in ID_FIELDS if obj.get(f) is not None), None)
        pid = str(get_field(obj, key, (str, int), path=str(path), line=line)) if key else str(row)
        field = next((f for f in QUESTION_FIELDS if f in obj), None)
        if field is None:
            raise InputError(f"no question field (one of {', '.join(QUESTION_FIELDS)})",
                             path=str(path), line=line, field="question")
        out[pid] = get_field(obj, field, str, path=str(path), line=line)
    return out


def score_samples(in_path: str | Path, out_path: str | Path, scorer: Any, *,
                  questions: dict[str, str] | None = None, batch_size: int = 16,
                  progress: bool = True, step_sep: str = DEFAULT_SEP, executor: Any = None) -> dict[str, int]:
    """Append every trace of `in_path` with `step_scores` to `out_path`; resume if it exists.

    The question of a trace is `questions[problem_id]` when `questions` is given (a missing
    id is an error), else the trace's own `question`/`problem`/`prompt` field, else "".
    A trace without `steps` is split from its `text` on `step_sep` (blank line by default).
    Each output trace records `meta["prm_tokens"]`, the scorer's forward tokens spent on it
    (0 for programmatic scorers; see `CheckedScorer.tokens_per_item`), for cost accounting.
    Returns counts: total, skipped (already scored), scored, no_question.

    `executor` scores the batches elsewhere (`prm.ray_scoring.RayScoreExecutor`, which builds
    the scorer on each worker from `scorer`'s spec): it gets `[(key, items), ...]` and yields
    `(key, score_chunk(...))` in any order; this function stays the only writer.

    >>> import json, tempfile
    >>> src, dst = tempfile.mktemp(suffix=".jsonl"), tempfile.mktemp(suffix=".jsonl")
    >>> _ = open(src, "w").write(json.dumps({"problem_id": "p", "text": "2*3 = 6\\n\\n6+1 = 8"}) + "\\n")
    >>> score_samples(src, dst, "arith", progress=False)["scored"]
    1
    >>> json.loads(open(dst).read())["step_scores"]
    [0.95, 0.05]
    """
    from prm.scorers import CheckedScorer, load_scorer
    refuse_same_file(out_path, [in_path], "--out")  # before reading: X --out X would score nothing
    traces = read_traces(in_path)  # bad input and a bad --out fail before a PRM is loaded
    with claim_output(out_path, kind=TRACES, inputs=[in_path]):  # checked, locked, torn tail cut
        out_path = Path(out_path)
        done = {(t.problem_id, t.sample_index) for t in read_traces(out_path)} if out_path.exists() else set()
        checked = None if executor is not None else \
            scorer if isinstance(scorer, CheckedScorer) else load_scorer(scorer)
        return _score(traces, done, out_path, checked, questions, in_path, batch_size, progress, step_sep,
                      executor)


def score_chunk(checked: Any, items: list) -> tuple[list[list[float]], list[int]]:
    """Score one batch of `(question, steps)` items: (step scores, forward tokens per item)."""
    before = checked.forward_tokens
    scores = checked.score_batch(items) if items else []
    return scores, checked.tokens_per_item(items, checked.forward_tokens - before)


def _score(traces: list, done: set, out_path: Path, checked: Any, questions: dict[str, str] | None,
           in_path: str | Path, batch_size: int, progress: bool, step_sep: str, executor: Any = None) -> dict[str, int]:
    todo = [t for t in traces if (t.problem_id, t.sample_index) not in done]
    stats = {"total": len(traces), "skipped": len(traces) - len(todo), "scored": 0, "no_question": 0}

    def chunks():  # lazily: the local engine writes batch b before it reads the questions of b + 1
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            items = []
            for t in chunk:
                steps = t.steps or split_steps(t.text, step_sep)
                items.append((_question(t, questions, in_path, traces), steps))
                stats["no_question"] += items[-1][0] == ""
            yield start, chunk, items

    if executor is None:
        results = ((chunk, items, score_chunk(checked, items)) for _, chunk, items in chunks())
    else:
        by_key = {key: (chunk, items) for key, chunk, items in chunks()}
        results = (by_key.pop(key) + (got,) for key, got in executor([(k, v[1]) for k, v in by_key.items()])
                   if key in by_key)  # a retried batch handed back twice is written once
    bar = StageBar("scoring", len(todo), unit="traces", enabled=progress)
    for chunk, items, (scores, tokens) in results:
        records = [replace(t, steps=tuple(steps), step_scores=tuple(s), meta={**t.meta, "prm_tokens": n}).to_dict()
                   for t, (_, steps), s, n in zip(chunk, items, scores, tokens)]
        append_jsonl(out_path, records)
        stats["scored"] += len(records)
        bar.update(len(records), tokens=sum(tokens))
    bar.close()
    return stats


def _question(trace: Any, questions: dict[str, str] | None, in_path: str | Path, traces: list) -> str:
    if questions is not None:
        if trace.problem_id not in questions:
            # the input is read again only to name the line: read_traces keeps one trace per JSON line
            key = (trace.problem_id, trace.sample_index)
            line = [ln for t, (ln, _) in zip(traces, iter_jsonl(in_path))
                    if (t.problem_id, t.sample_index) == key][-1]
            raise InputError(f"{trace.problem_id!r} is not an id in the questions file",
                             path=str(in_path), line=line, field="problem_id")
        return questions[trace.problem_id]
    for key in ("question", "problem", "prompt"):
        value = trace.meta.get(key)
        if isinstance(value, str):
            return value
    return ""
