"""Read recorded samples in public formats as `Trace`s (for `verify eval --format` and
`verify convert`).

Formats (`FORMATS`):
- `verify`: our own samples file, one trace per line: `problem_id`, `gold`, `text` or
  `answer`, optional `step_scores`, `score`, `num_tokens`, `finish_reason`, `correct`.
- `qwen-rm-maj`: the Qwen2.5-Math `evaluation/rm_maj_eval.py` input
  (`data/eval_rm_maj_example/math_cot_100.jsonl`): one line per problem with `idx`, `gt`,
  and per-sample lists `pred` (extracted answers), `score` (bool correctness by Qwen's
  grader), `pred_score` (reward-model logits, as 1-element lists), `code`/`response` (texts).
  Each sample becomes a trace with `answer=pred[j]`, `score=sigmoid(logit)` (a weight in
  (0, 1) for weighted voting; the order, hence best-of-N, is unchanged), `meta.rm_logit`,
  and `meta.correct = score[j]` (used by `--grade source`).
- `prm-scored`: one line per sample with step-level PRM scores, the layout of per-sample
  PRM evaluation dumps (OpenR / ProcessBench style): problem id in `problem_id` | `idx` |
  `unique_id` | `id`; gold in `gold` | `gt` | `ground_truth`; text in `response` |
  `completion` | `text`; extracted answer in `pred` | `extracted_answer` (else extracted
  from the text); `step_scores` | `scores` (list of floats); optional `steps`,
  `num_tokens` | `completion_tokens`, `finish_reason`, `correct`.
- `sal`: HuggingFace search-and-learn best-of-N output rows (`src/sal/search/best_of_n.py`):
  one line per problem with `problem`, `answer` (gold), `unique_id`, `completions` (N texts),
  `scores` (N lists of step scores), `completion_tokens` (N ints). Answers are extracted
  from the completion texts.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable, Iterator

from verify.errors import InputError
from verify.records.io import _num_to_str, get_field, iter_jsonl, read_traces, write_jsonl_atomic
from verify.records.types import Trace


def _first(obj: dict, names: tuple[str, ...]) -> str | None:
    for n in names:
        if obj.get(n) is not None:
            return n
    return None


def _finite_list(obj: dict, name: str, p: str, line: int) -> list[float]:
    xs = get_field(obj, name, list, path=p, line=line)
    out = []
    for j, s in enumerate(xs):
        if isinstance(s, list) and len(s) == 1:  # Qwen's pred_score: [[x], [y], ...]
            s = s[0]
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s):
            raise InputError(f"{name}[{j}] is not a finite number: {s!r:.40}", path=p, line=line, field=name)
        out.append(float(s))
    return out


def _same_len(obj: dict, names: list[str], n: int, p: str, line: int) -> None:
    for name in names:
        if name in obj and obj[name] is not None and len(obj[name]) != n:
            raise InputError(f"has {len(obj[name])} entries, expected {n} (one per sample)",
                             path=p, line=line, field=name)


def read_verify(path: str | os.PathLike) -> Iterator[Trace]:
    """Our samples format; every line must carry `gold`, and `correct` must be a bool if given."""
    p = str(path)
    for line, obj in iter_jsonl(path):
        get_field(obj, "gold", (str, int, float), path=p, line=line)
        get_field(obj, "correct", bool, path=p, line=line, required=False)
    yield from read_traces(path)


def read_qwen_rm_maj(path: str | os.PathLike) -> Iterator[Trace]:
    """Qwen2.5-Math `rm_maj` lines -> one trace per sample."""
    p = str(path)
    for line, obj in iter_jsonl(path):
        pid = get_field(obj, "idx", (int, str), path=p, line=line)
        gold = get_field(obj, "gt", (str, int, float), path=p, line=line)
        preds = get_field(obj, "pred", list, path=p, line=line)
        n = len(preds)
        _same_len(obj, ["score", "pred_score", "code", "response"], n, p, line)
        logits = _finite_list(obj, "pred_score", p, line) if obj.get("pred_score") is not None else [None] * n
        labels = get_field(obj, "score", list, path=p, line=line, required=False) or [None] * n
        texts = obj.get("response") or obj.get("code") or [""] * n
        for j in range(n):
            a = preds[j]
            if a is not None and not isinstance(a, (str, int, float)):
                raise InputError(f"pred[{j}] is not a string: {a!r:.40}", path=p, line=line, field="pred")
            if labels[j] is not None and not isinstance(labels[j], bool):
                raise InputError(f"score[{j}] is not a bool: {labels[j]!r:.40}", path=p, line=line, field="score")
            if not isinstance(texts[j], str):
                raise InputError(f"response[{j}] is not a string", path=p, line=line, field="response")
            meta = {"source_line": line}
            if labels[j] is not None:
                meta["correct"] = labels[j]
            if logits[j] is not None:
                meta["rm_logit"] = logits[j]
            yield Trace(problem_id=str(pid), sample_index=j, text=texts[j],
                        answer=None if a is None else _num_to_str(a), gold=_num_to_str(gold),
                        score=None if logits[j] is None else 1.0 / (1.0 + math.exp(-logits[j])),
                        meta=meta)


def read_prm_scored(path: str | os.PathLike) -> Iterator[Trace]:
    """Per-sample PRM-scored lines -> traces (field names listed in the module docstring)."""
    from verify.checker.extract import extract_answer
    p = str(path)
    seen: dict[str, int] = {}
    for line, obj in iter_jsonl(path):
        idf = _first(obj, ("problem_id", "idx", "unique_id", "id"))
        if idf is None:
            raise InputError("missing problem id (problem_id, idx, unique_id or id)", path=p, line=line,
                             field="problem_id")
        pid = str(get_field(obj, idf, (str, int), path=p, line=line))
        gf = _first(obj, ("gold", "gt", "ground_truth"))
        if gf is None:
            raise InputError("missing gold answer (gold, gt or ground_truth)", path=p, line=line, field="gold")
        gold = _num_to_str(get_field(obj, gf, (str, int, float), path=p, line=line))
        tf = _first(obj, ("response", "completion", "text"))
        text = get_field(obj, tf, str, path=p, line=line) if tf else ""
        af = _first(obj, ("pred", "extracted_answer"))
        answer = _num_to_str(get_field(obj, af, (str, int, float), path=p, line=line)) if af else None
        if af is None and not text:
            raise InputError("need a response text or a pred answer", path=p, line=line, field="response")
        if answer is None:
            answer = extract_answer(text)
        sf = _first(obj, ("step_scores", "scores"))
        scores = tuple(_finite_list(obj, sf, p, line)) if sf else None
        steps = get_field(obj, "steps", list, path=p, line=line, required=False) or []
        nf = _first(obj, ("num_tokens", "completion_tokens"))
        ntok = get_field(obj, nf, int, path=p, line=line) if nf else 0
        finish = get_field(obj, "finish_reason", str, path=p, line=line, required=False) or "stop"
        correct = get_field(obj, "correct", bool, path=p, line=line, required=False)
        j = int(get_field(obj, "sample_index", int, path=p, line=line, required=False, default=seen.get(pid, 0)))
        seen[pid] = max(seen.get(pid, 0), j + 1)
        meta = {"source_line": line}
        if correct is not None:
            meta["correct"] = correct
        yield Trace(problem_id=pid, sample_index=j, text=text, steps=tuple(str(s) for s in steps),
                    answer=answer, gold=gold, step_scores=scores, num_tokens=ntok, finish_reason=finish,
                    meta=meta)


def read_sal(path: str | os.PathLike) -> Iterator[Trace]:
    """search-and-learn best-of-N rows -> one trace per completion."""
    from verify.checker.extract import extract_answer
    p = str(path)
    for line, obj in iter_jsonl(path):
        pid = obj.get("unique_id", obj.get("problem_id", line))
        gold = _num_to_str(get_field(obj, "answer", (str, int, float), path=p, line=line))
        comps = get_field(obj, "completions", list, path=p, line=line)
        n = len(comps)
        _same_len(obj, ["scores", "completion_tokens"], n, p, line)
        scores = get_field(obj, "scores", list, path=p, line=line, required=False) or [None] * n
        tokens = get_field(obj, "completion_tokens", list, path=p, line=line, required=False) or [0] * n
        for j in range(n):
            if not isinstance(comps[j], str):
                raise InputError(f"completions[{j}] is not a string", path=p, line=line, field="completions")
            ss = None
            if scores[j] is not None:
                ss = tuple(_finite_list({"scores": scores[j]}, "scores", p, line))
            tok = tokens[j]
            if isinstance(tok, bool) or not isinstance(tok, int):
                raise InputError(f"completion_tokens[{j}] is not an int", path=p, line=line,
                                 field="completion_tokens")
            yield Trace(problem_id=str(pid), sample_index=j, text=comps[j], answer=extract_answer(comps[j]),
                        gold=gold, step_scores=ss or None, num_tokens=tok, meta={"source_line": line})


FORMATS: dict[str, Callable[[str | os.PathLike], Iterator[Trace]]] = {
    "verify": read_verify,
    "qwen-rm-maj": read_qwen_rm_maj,
    "prm-scored": read_prm_scored,
    "sal": read_sal,
}


def load_samples(path: str | os.PathLike, fmt: str = "verify") -> list[Trace]:
    """Read a samples file in one of `FORMATS` as a list of traces.

    >>> import json, tempfile; p = tempfile.mktemp(suffix=".jsonl")
    >>> _ = open(p, "w").write(json.dumps({"idx": 0, "gt": "2", "pred": ["2", "3"], "score": [True, False],
    ...                                    "pred_score": [[1.0], [-1.0]]}) + "\\n")
    >>> [(t.answer, t.meta["correct"], round(t.score, 3)) for t in load_samples(p, "qwen-rm-maj")]
    [('2', True, 0.731), ('3', False, 0.269)]
    """
    if fmt not in FORMATS:
        import difflib
        from verify.errors import UnknownSpecError
        close = difflib.get_close_matches(fmt, list(FORMATS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownSpecError(f"unknown format {fmt!r}.{hint} Known: {', '.join(FORMATS)}")
    traces = list(FORMATS[fmt](path))
    if not traces:
        raise InputError("no samples in file", path=str(path))
    return traces


def convert(in_path: str | os.PathLike, fmt: str, out_path: str | os.PathLike, *, force: bool = False) -> int:
    """Convert a samples file to the `verify` format; returns the number of traces written."""
    from verify.records.outputs import refuse_same_file
    out = Path(out_path)
    refuse_same_file(out, [in_path], "--out")  # even with --force: the input would be replaced
    if out.is_dir():
        raise InputError("is a directory, not a file", path=str(out))
    if out.exists() and not force:
        raise InputError("output exists (pass force=True / --force to replace it)", path=str(out))
    traces = load_samples(in_path, fmt)
    write_jsonl_atomic(out, (t.to_dict() for t in traces))
    return len(traces)
