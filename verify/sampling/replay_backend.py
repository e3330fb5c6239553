"""Replay recorded completions from a JSONL file as if a model produced them.

Used by tests, docs and re-analysis (e.g. adaptive sampling on recorded samples) so the
whole pipeline runs on CPU without a model, as simonw/llm's mock model does. Two layouts:

* one line per sample (the `verify sample` schema): `problem_id`, `sample_index`, `text`,
  optional `num_tokens`, `finish_reason`;
* one line per problem with a list of texts: `code` / `response` / `completions` /
  `samples` / `outputs` (e.g. Qwen2.5-Math's `math_cot_100.jsonl`: `idx`, `question`, `code`).

A prompt is matched to a recorded problem by the problem's question text appearing in the
prompt (the longest match wins); questions come from the file (`question` / `problem` /
`query`) or from the `problems` passed in. Each call returns the *next* n unused
completions of that problem, so rounds of adaptive sampling consume the record in order.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Sequence

from verify.errors import InputError
from verify.records.io import get_field, iter_jsonl
from verify.sampling.base import Completion, Prompt, SamplingParams
from verify.records.types import Problem

_LIST_FIELDS = ("code", "response", "completions", "samples", "outputs")
_ID_FIELDS = ("problem_id", "id", "idx", "unique_id")
_Q_FIELDS = ("question", "problem", "query")


class ReplayGenerator:
    """Generator that hands out recorded completions in file order.

    >>> g = ReplayGenerator("samples.jsonl", problems=problems)   # doctest: +SKIP
    >>> g.generate([prompt_for_p1], 4, SamplingParams())           # doctest: +SKIP
    """

    def __init__(self, path: str, problems: Iterable[Problem] | None = None, name: str | None = None):
        self.path = str(path)
        self.name = name or f"replay:{self.path}"
        self.records: dict[str, list[Completion]] = defaultdict(list)
        questions: dict[str, str] = {}
        indexed: dict[str, list[tuple[int, Completion]]] = defaultdict(list)
        for line, obj in iter_jsonl(self.path):
            pid = next((obj[k] for k in _ID_FIELDS if obj.get(k) is not None), None)
            if pid is None:
                raise InputError(f"need one of {', '.join(_ID_FIELDS)}", path=self.path, line=line,
                                 field="problem_id")
            pid = str(pid)
            q = next((obj[k] for k in _Q_FIELDS if isinstance(obj.get(k), str)), None)
            if q:
                questions[pid] = q
            lst = next((k for k in _LIST_FIELDS if k in obj), None)
            if lst is not None:
                texts = get_field(obj, lst, list, path=self.path, line=line)
                for j, t in enumerate(texts):
                    if not isinstance(t, str):
                        raise InputError(f"{lst}[{j}] is not a string", path=self.path, line=line, field=lst)
                    indexed[pid].append((len(indexed[pid]), Completion(text=t)))
            else:
                text = get_field(obj, "text", str, path=self.path, line=line)
                idx = get_field(obj, "sample_index", int, path=self.path, line=line, required=False,
                                default=len(indexed[pid]))
                indexed[pid].append((idx, Completion(
                    text=text,
                    num_tokens=get_field(obj, "num_tokens", int, path=self.path, line=line, required=False,
                                         default=0),
                    finish_reason=get_field(obj, "finish_reason", str, path=self.path, line=line,
                                            required=False, default="stop"),
                    prompt_tokens=get_field(obj, "prompt_tokens", int, path=self.path, line=line,
                                            required=False, default=0))))
        for pid, items in indexed.items():
            self.records[pid] = [c for _, c in sorted(items, key=lambda x: x[0])]
        for p in problems or ():
            questions.setdefault(p.id, p.question)
        # longest question first, so "What is 1 + 12?" wins over "What is 1 + 1"
        self._questions = sorted(((q, pid) for pid, q in questions.items() if pid in self.records),
                                 key=lambda x: -len(x[0]))
        self._cursor: dict[str, int] = defaultdict(int)

    def problem_for(self, prompt: Prompt) -> str:
        """The recorded problem id whose question appears in this prompt."""
        text = _user_text(prompt)
        for q, pid in self._questions:
            if q in text:
                return pid
        raise InputError(f"no recorded problem's question appears in the prompt {text[:80]!r}",
                         path=self.path, field="question")

    def seek(self, prompt: Prompt, k: int) -> None:
        """Skip to completion k of this prompt's problem (a resumed run already wrote 0..k-1)."""
        self._cursor[self.problem_for(prompt)] = k

    def generate(self, prompts: Sequence[Prompt], n: int, params: SamplingParams) -> list[list[Completion]]:
        out = []
        for prompt in prompts:
            pid = self.problem_for(prompt)
            start, recs = self._cursor[pid], self.records[pid]
            if start + n > len(recs):
                raise InputError(f"problem {pid!r} has {len(recs)} recorded completions; "
                                 f"asked for {n} more after {start}", path=self.path, field="text")
            self._cursor[pid] = start + n
            out.append(recs[start:start + n])
        return out


def _user_text(prompt: Prompt) -> str:
    if isinstance(prompt, str):
        return prompt
    users = [m.get("content", "") for m in prompt if m.get("role") == "user"]
    return users[-1] if users else ""
