"""Step labels for graded GSM8K model solutions (OpenAI's "Training Verifiers" samples).

OpenAI's `grade-school-math` repository ships ``example_model_solutions.jsonl``: for each
GSM8K test problem, the reference solution and four GPT-3 solutions (6B and 175B, fine-tuned
and verifier-selected), each graded by its final answer only (``is_correct``). Every line of
these solutions marks its arithmetic as ``<<a*b=c>>``. This module turns them into step
labels without rollouts, by following the values along the reference's path:

- the *known values* of a problem are the numbers in its question, the results ``c`` of the
  reference's annotations and of the annotations of every solution graded correct for that
  problem, and the gold answer;
- a solution graded correct is labelled right at every step (the final-answer grading says
  nothing about its steps; ProcessBench, too, has no wrong step in most right-answer traces);
- in a solution graded wrong, the first step that computes a value outside the known values
  is its first error (label 0); steps before it are right (1); the trace is cut after it,
  since later steps are neither clearly right nor wrong. When every computed value is known
  and the final answer is still wrong, the last step (the one that states the answer) is the
  error.

The rule is a heuristic: a wrong solution that takes a valid detour (``3 + 4 = 7`` where the
reference wrote ``16 - 3 - 4 = 9``) gets its first error too early. `label_stats` reports how
often each case occurs, and the model card states the rule.

Problems are matched to a set to exclude (ProcessBench's GSM8K split: ProcessBench draws its
GSM8K problems from the same test set) by their question text with case, spacing and
punctuation removed; `exclude` drops them before anything is labelled.

>>> row = {"question": "Tom has 3 apples and buys 4 more. How many now?",
...        "ground_truth": "He has 3 + 4 = <<3+4=7>>7 apples.\\nA: 7",
...        "6b_finetuning": {"is_correct": False, "solution": "He has 3 * 4 = <<3*4=12>>12 apples.\\nA: 12"}}
>>> [(e.steps, e.labels) for e in examples_from_row(row)][1]
(('He has 3 * 4 = 12 apples. The answer is 12.',), (0.0,))
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from prm.formats import StepExample, iter_processbench
from verify.records.io import get_field, iter_jsonl

METHODS = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")
SOURCE = "../shared/data/gsm8k_model_solutions/example_model_solutions.jsonl"
_CALC = re.compile(r"<<([^<>]*)>>")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


def question_key(text: str) -> str:
    """The question with case, spacing and punctuation removed (for matching across copies).

    >>> question_key("Janet’s ducks lay 16 eggs.") == question_key("janet's  ducks lay 16 eggs")
    True
    """
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def _value(text: str) -> float | None:
    try:
        return round(float(text.replace(",", "").strip()), 6)
    except ValueError:
        return None


def numbers(text: str) -> set[float]:
    """Every number written in `text` (thousands separators allowed).

    >>> sorted(numbers("1,200 eggs at $0.5 and 3"))
    [0.5, 3.0, 1200.0]
    """
    return {v for v in (_value(m.group()) for m in _NUMBER.finditer(text)) if v is not None}


def computed(line: str) -> list[float]:
    """The results of the calculator annotations of one solution line, in order.

    >>> computed("So 16 - 3 = <<16-3=13>>13 eggs, at 2 each: <<13*2=26>>26")
    [13.0, 26.0]
    """
    out = []
    for m in _CALC.finditer(line):
        _, eq, result = m.group(1).rpartition("=")
        v = _value(result) if eq else None
        if v is not None:
            out.append(v)
    return out


def split_solution(text: str) -> tuple[list[str], str | None]:
    """(step lines with annotations kept, final answer) of one solution ("A: x" or "#### x").

    >>> split_solution("a = <<1+1=2>>2\\nA: 2")
    (['a = <<1+1=2>>2'], '2')
    """
    lines = [ln.strip() for ln in text.strip().split("\n") if ln.strip()]
    answer = None
    if lines and re.match(r"^(A:|####)", lines[-1]):
        answer = re.sub(r"^(A:|####)\s*", "", lines.pop()).strip()
    return lines, answer


def _clean(line: str) -> str:
    return re.sub(r"\s+", " ", _CALC.sub("", line)).strip()


def _steps(lines: list[str], answer: str | None) -> list[str]:
    steps = [_clean(ln) for ln in lines]
    if answer is not None:
        tail = f"The answer is {answer}."
        steps = steps[:-1] + [f"{steps[-1]} {tail}"] if steps else [tail]
    return steps


def examples_from_row(row: dict, methods: Iterable[str] = METHODS, reference: bool = True) -> list[StepExample]:
    """The labelled traces of one problem: the reference solution (if `reference`) and each
    distinct model solution of `methods`, labelled by the rule in the module docstring."""
    question = row["question"]
    gold_lines, gold = split_solution(row["ground_truth"])
    gold_value = _value(gold) if gold is not None else None
    known = numbers(question) | {v for ln in gold_lines for v in computed(ln)}
    if gold_value is not None:
        known.add(gold_value)
    sols = []
    for m in methods:
        sol = row.get(m)
        if isinstance(sol, dict) and isinstance(sol.get("solution"), str):
            sols.append((sol["solution"], bool(sol.get("is_correct"))))
    for text, ok in sols:
        if ok:
            known |= {v for ln in split_solution(text)[0] for v in computed(ln)}
    out, seen = [], set()
    if reference and gold_lines:
        steps = _steps(gold_lines, gold)
        out.append(StepExample(question, tuple(steps), tuple(1.0 for _ in steps)))
        seen.add(tuple(steps))
    for text, ok in sols:
        lines, answer = split_solution(text)
        if not lines:
            continue
        steps = _steps(lines, answer)
        if tuple(steps) in seen:
            continue
        seen.add(tuple(steps))
        if ok:
            labels = [1.0] * len(steps)
        else:
            bad = next((i for i, ln in enumerate(lines) if any(v not in known for v in computed(ln))), len(lines) - 1)
            steps, labels = steps[: bad + 1], [1.0] * bad + [0.0]
        out.append(StepExample(question, tuple(steps), tuple(labels)))
    return out


def load_solutions(path: str | Path = SOURCE, exclude: Iterable[str] = ()) -> list[StepExample]:
    """Labelled traces of every problem in `path` whose question is not in `exclude`."""
    drop = {question_key(q) for q in exclude}
    out: list[StepExample] = []
    for lineno, row in iter_jsonl(path):
        for field in ("question", "ground_truth"):
            get_field(row, field, str, path=str(path), line=lineno)
        if question_key(row["question"]) not in drop:
            out.extend(examples_from_row(row))
    return out


def processbench_questions(path: str | Path) -> list[str]:
    """The problem texts of a ProcessBench split (to pass as `exclude`), rows validated."""
    return [problem for _, _, problem, _, _ in iter_processbench(path)]


def label_stats(examples: Iterable[StepExample]) -> dict:
    """Counts: traces, steps, wrong traces, and where their first error fell."""
    ex = list(examples)
    wrong = [e for e in ex if 0.0 in e.labels]
    return {"traces": len(ex), "steps": sum(len(e.steps) for e in ex), "wrong_traces": len(wrong),
            "error_at_first_step": sum(1 for e in wrong if e.labels.index(0.0) == 0),
            "problems": len({e.question for e in ex})}
