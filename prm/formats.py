"""Readers for step-labelled PRM data: every format becomes a list of `StepExample`.

A `StepExample` is one question, its reasoning steps, and one label per step in [0, 1]
(soft labels allowed; NaN means "no loss at this step"). The formats and how each is read:

- ``plain``: ``{"question", "steps": [str], "labels": [number|bool|null]}``; null -> NaN.
- ``processbench`` (Zheng et al. 2024, ProcessBench): ``problem``, ``steps`` and ``label`` =
  0-based index of the earliest wrong step, or -1. Steps before it are positive (1), the
  first wrong step negative (0), and later steps NaN: nobody judged them, and a step after
  an error is neither clearly right nor clearly wrong.
- ``math-shepherd`` (Wang et al. 2024): ``input`` holds the question then
  ``Step 1: ... ки\\nStep 2: ... ки``; ``label`` is the same text with each ``ки`` replaced by
  ``+`` or ``-``. The "Step k:" prefixes are stripped from the step texts.
- ``prm800k`` (Lightman et al. 2023, OpenAI's raw nested form) and ``prm800k-stepwise`` (the
  prm800k-denorm "stepwise critique" rows: prefix ``responses``, candidate
  ``next_response``, ``rating``). Both are trees: at each step the labeller rated several
  candidate completions and continued with one. We emit one example per *leaf* of the tree:
  every rated candidate that was not continued becomes ``chosen prefix + [candidate]``, and
  the chosen path becomes one example as a whole. Every rating appears exactly once per
  distinct (prefix, candidate) and no sequence is a prefix of another. Ratings: 1 -> 1.0,
  -1 -> 0.0, human-written steps (rating null) -> 1.0, and 0 ("neutral", an acceptable
  but unhelpful step) by the ``neutral`` policy: "positive" -> 1.0, "negative" -> 0.0,
  "skip" -> NaN.
- ``math-aps`` (OmegaPRM, Luo et al. 2024): ``reasoning_steps[{solution_prefix,
  mc_value}]`` are tree nodes, each a text prefix with a Monte-Carlo value in [0, 1]. A
  node's parent is the longest other node whose prefix its own starts with; one example per
  root-to-leaf chain, the step texts being the differences between consecutive prefixes and
  the labels their ``mc_value`` (soft labels).

>>> import json, tempfile
>>> p = tempfile.mktemp(suffix=".jsonl")
>>> _ = open(p, "w").write(json.dumps({"problem": "1+1?", "steps": ["1+1=3", "so 3"], "label": 0}) + "\\n")
>>> load_step_examples(p, "processbench")[0].labels
(0.0, nan)
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from verify.errors import InputError, UnknownSpecError
from verify.records.io import get_field, iter_jsonl

NEUTRAL_POLICIES = ("positive", "negative", "skip")
_NEUTRAL_VALUE = {"positive": 1.0, "negative": 0.0, "skip": math.nan}


@dataclass(frozen=True)
class StepExample:
    """One question with its steps and one label per step (1 good, 0 bad, NaN no loss).

    >>> StepExample("2*3?", ("2*3 = 6", "The answer is 6"), (1.0, 1.0)).steps[0]
    '2*3 = 6'
    """

    question: str
    steps: tuple[str, ...]
    labels: tuple[float, ...]  # in [0, 1]; soft labels allowed; NaN: no loss at this step

    def __post_init__(self) -> None:
        if len(self.steps) != len(self.labels):
            raise ValueError(f"{len(self.steps)} steps but {len(self.labels)} labels")
        for x in self.labels:
            if not (math.isnan(x) or 0.0 <= x <= 1.0):
                raise ValueError(f"label {x!r} is outside [0, 1]")


def load_step_examples(path: str | Path, fmt: str, neutral: str = "positive") -> list[StepExample]:
    """Read a step-labelled JSONL file in format `fmt` (see the module docstring).

    `neutral` says what PRM800K's rating 0 becomes: "positive" (1.0), "negative" (0.0) or
    "skip" (NaN, no loss). Bad lines raise `InputError` naming file, line and field.

    >>> import json, tempfile
    >>> p = tempfile.mktemp(suffix=".jsonl")
    >>> _ = open(p, "w").write(json.dumps({"question": "q", "steps": ["a", "b"], "labels": [1, 0.5]}) + "\\n")
    >>> load_step_examples(p, "plain")
    [StepExample(question='q', steps=('a', 'b'), labels=(1.0, 0.5))]
    """
    if fmt not in READERS:
        raise UnknownSpecError(f"unknown step-data format {fmt!r}; known: {', '.join(READERS)}")
    if neutral not in NEUTRAL_POLICIES:
        raise UnknownSpecError(f"unknown neutral policy {neutral!r}; known: {', '.join(NEUTRAL_POLICIES)}")
    return READERS[fmt](str(path), _NEUTRAL_VALUE[neutral])


def _str_list(obj: dict, name: str, path: str, line: int, *, allow_empty: bool = False) -> list[str]:
    value = get_field(obj, name, list, path=path, line=line)
    for i, s in enumerate(value):
        if not isinstance(s, str):
            raise InputError(f"item {i} is {type(s).__name__}, expected str", path=path, line=line, field=name)
    if not value and not allow_empty:
        raise InputError("empty list", path=path, line=line, field=name)
    return value


def _read_plain(path: str, neutral: float) -> list[StepExample]:
    out = []
    for line, obj in iter_jsonl(path):
        question = get_field(obj, "question", str, path=path, line=line)
        steps = _str_list(obj, "steps", path, line)
        raw = get_field(obj, "labels", list, path=path, line=line)
        if len(raw) != len(steps):
            raise InputError(f"{len(raw)} labels for {len(steps)} steps", path=path, line=line, field="labels")
        labels = []
        for i, x in enumerate(raw):
            if x is None:
                labels.append(math.nan)
            elif isinstance(x, (bool, int, float)) and (isinstance(x, bool) or 0.0 <= x <= 1.0):
                labels.append(float(x))
            else:
                raise InputError(f"labels[{i}] = {x!r:.40} is not a number in [0, 1], a bool or null",
                                 path=path, line=line, field="labels")
        out.append(StepExample(question, tuple(steps), tuple(labels)))
    return out


def iter_processbench(path: str | Path) -> Iterator[tuple[int, str, str, list[str], int]]:
    """Yield `(line, id, problem, steps, label)` for each ProcessBench row, validated.

    `id` falls back to "line-<n>" when the row has none; `label` is -1 or a step index.
    """
    path = str(path)
    for line, obj in iter_jsonl(path):
        rid = get_field(obj, "id", (str, int), path=path, line=line, required=False, default=f"line-{line}")
        question = get_field(obj, "problem", str, path=path, line=line)
        steps = _str_list(obj, "steps", path, line)
        label = get_field(obj, "label", int, path=path, line=line)
        if not -1 <= label < len(steps):
            raise InputError(f"{label} is not -1 or a step index below {len(steps)}",
                             path=path, line=line, field="label")
        yield line, str(rid), question, steps, label


def processbench_labels(label: int, n_steps: int) -> tuple[float, ...]:
    """Step labels from ProcessBench's first-error index: 1 before it, 0 at it, NaN after.

    >>> processbench_labels(1, 3), processbench_labels(-1, 2)
    ((1.0, 0.0, nan), (1.0, 1.0))
    """
    if label == -1:
        return (1.0,) * n_steps
    return (1.0,) * label + (0.0,) + (math.nan,) * (n_steps - label - 1)


def _read_processbench(path: str, neutral: float) -> list[StepExample]:
    return [StepExample(q, tuple(steps), processbench_labels(label, len(steps)))
            for _, _, q, steps, label in iter_processbench(path)]


_SHEPHERD_TAG = "ки"
_STEP_PREFIX = re.compile(r"^\s*Step \d+\s*:\s*")


def _read_math_shepherd(path: str, neutral: float) -> list[StepExample]:
    out = []
    for line, obj in iter_jsonl(path):
        text = get_field(obj, "input", str, path=path, line=line)
        label = get_field(obj, "label", str, path=path, line=line)
        segments = text.split(_SHEPHERD_TAG)
        if len(segments) < 2:
            raise InputError(f"no step tag {_SHEPHERD_TAG!r}", path=path, line=line, field="input")
        if segments[-1].strip():
            raise InputError("text after the last step tag", path=path, line=line, field="input")
        tags, pos = [], 0
        for seg in segments[:-1]:  # `label` is `input` with each tag replaced by one character
            if label[pos:pos + len(seg)] != seg or label[pos + len(seg):pos + len(seg) + 1] not in ("+", "-"):
                raise InputError(f"does not match 'input' with tag {len(tags) + 1} replaced by '+' or '-'",
                                 path=path, line=line, field="label")
            tags.append(label[pos + len(seg)])
            pos += len(seg) + 1
        first = re.search(r"Step 1\s*:", segments[0])
        if first is None:
            raise InputError("cannot find 'Step 1:' where the question ends", path=path, line=line, field="input")
        question = segments[0][:first.start()].strip()
        steps = [segments[0][first.start():]] + segments[1:-1]
        steps = [_STEP_PREFIX.sub("", s).strip() for s in steps]
        out.append(StepExample(question, tuple(steps), tuple(1.0 if t == "+" else 0.0 for t in tags)))
    return out


def _rating(value: object, neutral: float, path: str, line: int, field: str) -> float:
    """PRM800K rating -> label: 1 -> 1.0, -1 -> 0.0, 0 -> neutral policy, null (human) -> 1.0."""
    if value is None:
        return 1.0
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value in (-1, 0, 1):
        return {1: 1.0, -1: 0.0, 0: neutral}[int(value)]
    raise InputError(f"rating {value!r:.40} is not -1, 0, 1 or null", path=path, line=line, field=field)


def _tree_leaves(question: str, rows: Iterable[tuple[tuple[str, ...], str, float]]) -> list[StepExample]:
    """Rows (prefix, candidate, label) of one question -> one example per leaf of the tree.

    A prefix step takes its label from the row that rated it; a prefix step that no row
    rated (a chosen step whose rating was not kept) is labelled 1.0 because it was chosen.
    """
    label: dict[tuple[str, ...], float] = {}
    order: list[tuple[str, ...]] = []
    for prefix, cand, y in rows:
        seq = prefix + (cand,)
        if seq not in label:
            order.append(seq)
        label[seq] = y
    inner = {seq[:-1] for seq in order}  # every prefix that some row continues
    out = []
    for seq in order:
        if seq in inner:
            continue
        labels = tuple(label.get(seq[:k + 1], 1.0) for k in range(len(seq)))
        out.append(StepExample(question, seq, labels))
    return out


def _read_prm800k_stepwise(path: str, neutral: float) -> list[StepExample]:
    by_question: dict[str, list[tuple[tuple[str, ...], str, float]]] = {}
    for line, obj in iter_jsonl(path):
        question = get_field(obj, "instruction", str, path=path, line=line)
        prefix = _str_list(obj, "responses", path, line, allow_empty=True)
        cand = get_field(obj, "next_response", str, path=path, line=line)
        y = _rating(obj.get("rating"), neutral, path, line, "rating")
        by_question.setdefault(question, []).append((tuple(prefix), cand, y))
    return [ex for q, rows in by_question.items() for ex in _tree_leaves(q, rows)]


def _read_prm800k(path: str, neutral: float) -> list[StepExample]:
    out = []
    for line, obj in iter_jsonl(path):
        q = get_field(obj, "question", dict, path=path, line=line)
        question = get_field(q, "problem", str, path=path, line=line)
        lab = get_field(obj, "label", dict, path=path, line=line)
        steps = get_field(lab, "steps", list, path=path, line=line, required=False, default=[])
        rows: list[tuple[tuple[str, ...], str, float]] = []
        prefix: tuple[str, ...] = ()
        for k, step in enumerate(steps):
            where = f"label.steps[{k}]"
            if not isinstance(step, dict):
                raise InputError("expected an object", path=path, line=line, field=where)
            completions = step.get("completions") or []
            if not isinstance(completions, list):
                raise InputError("expected a list", path=path, line=line, field=where + ".completions")
            texts = []
            for j, c in enumerate(completions):
                f = f"{where}.completions[{j}]"
                if not isinstance(c, dict) or not isinstance(c.get("text"), str):
                    raise InputError("expected an object with a 'text' string", path=path, line=line, field=f)
                rows.append((prefix, c["text"], _rating(c.get("rating"), neutral, path, line, f + ".rating")))
                texts.append(c["text"])
            human = step.get("human_completion")
            if isinstance(human, dict) and isinstance(human.get("text"), str):
                rows.append((prefix, human["text"], 1.0))  # written by the labeller: correct
            elif human is not None:
                raise InputError("expected an object with a 'text' string or null", path=path, line=line,
                                 field=where + ".human_completion")
            chosen = step.get("chosen_completion")
            if isinstance(chosen, int) and not isinstance(chosen, bool) and 0 <= chosen < len(texts):
                prefix = prefix + (texts[chosen],)
            elif chosen is None and isinstance(human, dict):
                prefix = prefix + (human["text"],)
            elif chosen is None:
                break  # the labeller stopped here (found an error or gave up)
            else:
                raise InputError(f"{chosen!r:.20} is not an index into completions", path=path, line=line,
                                 field=where + ".chosen_completion")
        out.extend(_tree_leaves(question, rows))
    return out


def _read_math_aps(path: str, neutral: float) -> list[StepExample]:
    out = []
    for line, obj in iter_jsonl(path):
        question = get_field(obj, "question", str, path=path, line=line)
        nodes = get_field(obj, "reasoning_steps", list, path=path, line=line)
        items: list[tuple[str, float]] = []
        for j, node in enumerate(nodes):
            f = f"reasoning_steps[{j}]"
            if not isinstance(node, dict) or not isinstance(node.get("solution_prefix"), str):
                raise InputError("expected an object with a 'solution_prefix' string", path=path, line=line, field=f)
            v = node.get("mc_value")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise InputError(f"mc_value {v!r:.30} is not a number in [0, 1]", path=path, line=line,
                                 field=f + ".mc_value")
            items.append((node["solution_prefix"], float(v)))
        out.extend(_aps_chains(question, items))
    return out


def _aps_chains(question: str, items: list[tuple[str, float]]) -> list[StepExample]:
    """Tree of text prefixes -> root-to-leaf chains of (step text, mc_value)."""
    items = sorted(set(items), key=lambda it: len(it[0]))
    parent: list[int | None] = []
    for i, (text, _) in enumerate(items):  # O(n^2) over a few hundred nodes at most
        p = None
        for j in range(i - 1, -1, -1):
            if len(items[j][0]) < len(text) and text.startswith(items[j][0]):
                p = j
                break
        parent.append(p)
    has_child = {p for p in parent if p is not None}
    out = []
    for i in range(len(items)):
        if i in has_child:
            continue
        chain = [i]
        while parent[chain[-1]] is not None:
            chain.append(parent[chain[-1]])
        chain.reverse()
        base = question if items[chain[0]][0].startswith(question) else ""
        steps, labels, prev = [], [], base
        for k in chain:
            text, v = items[k]
            if len(text) <= len(prev):
                continue  # the root node is the question itself: nothing to label
            steps.append(text[len(prev):].strip())
            labels.append(v)
            prev = text
        if steps:
            out.append(StepExample(question, tuple(steps), tuple(labels)))
    return out


READERS: dict[str, Callable[[str, float], list[StepExample]]] = {
    "plain": _read_plain,
    "processbench": _read_processbench,
    "math-shepherd": _read_math_shepherd,
    "prm800k": _read_prm800k,
    "prm800k-stepwise": _read_prm800k_stepwise,
    "math-aps": _read_math_aps,
}
FORMATS = tuple(READERS)
