"""PLACEHOLDER (being replaced by the checker work): gold vs answer -> Verdict."""
from __future__ import annotations

from verify.extract import extract_answer
from verify.types import Verdict


def answer_key(answer: str) -> str:
    return "".join(str(answer).split()).strip("$")


def compare_answers(a: str | None, b: str | None, *, timeout: float = 3.0) -> Verdict:
    if a is None or b is None:
        return Verdict(None, "no-answer", a, b)
    return Verdict(answer_key(a) == answer_key(b), "", a, b, "string")


def check(gold: str, pred: str, *, timeout: float = 3.0) -> Verdict:
    return compare_answers(extract_answer(str(gold)), extract_answer(str(pred)), timeout=timeout)


def equivalent(gold: str, pred: str, **kw) -> bool:
    return check(gold, pred, **kw).equal is True
