"""Multiple-choice letters in free text, when the gold answer is a choice letter.

When the gold is a letter A-E (``C``, ``(D) Alina``, ``C Cecile``), the prediction's letter is
found by, in order:

1. the first standalone letter after an answer marker (``the answer is for sure D, it can't be
   A or B`` gives D; ``réponse est C non A`` gives C);
2. a letter opening the text, followed by punctuation or the end (``D. it can't be A or B``,
   ``B。不是 A``);
3. the last standalone capital letter A-E of the text (``therefore I think it's B``).

This follows the letter extraction of lighteval's multilingual extractive match (an anchor
first, then the letter without one). Outside a multiple-choice gold it is never used.
"""
from __future__ import annotations

import re

_MARKER = (r"(?:answer|réponse|respuesta|resposta|risposta|antwort|ответ|答案|答|الإجابة|الجواب|उत्तर)"
           r"(?:\s+(?:is|est|es|è|ist|é))?")
_AFTER_MARKER = re.compile(_MARKER + r"\W{0,4}(?:[^\n]{0,40}?)(?<![A-Za-z])\(?([A-E])\)?(?![A-Za-z])", re.I)
_LEADING = re.compile(r"\s*\(?([A-E])(?:\)|[.:：。,，]|\s*$|(?=[^\x00-\x7f]))")
# a letter in prose, not in math (``\\mathrm{E}*2``, ``2E``, ``A^2`` are not choices)
_STANDALONE = re.compile(r"(?<![A-Za-z'’{\\^_*/=+\-\d])\(?([A-E])\)?(?![A-Za-z'’}^_*/=+\-\d])")
_GOLD = re.compile(r"\s*\(?([A-E])\)?(?:[\s.:)]|$)")


def gold_letter(gold_text: str, gold_answer: str | None) -> str | None:
    """The letter of a multiple-choice gold (``C``, ``(D) Alina``, ``C Cecile``), else None."""
    if gold_answer is not None and re.fullmatch(r"\(?([A-E])\)?", gold_answer.strip()):
        return gold_answer.strip().strip("()")
    for text in (gold_answer, gold_text):  # "Alina and the answer is\n(C) Cecile" -> "(C) Cecile"
        m = _GOLD.match(text or "")
        if m and len(text) <= 200:
            return m.group(1)
    return None


def pred_letter(text: str) -> str | None:
    """The choice letter a model wrote (see the module docstring), or None."""
    text = text[-5000:]
    found = None
    for found in _AFTER_MARKER.finditer(text):
        pass
    if found is not None:
        return found.group(1).upper() if found.group(1).isupper() else None
    m = _LEADING.match(text)
    if m:
        return m.group(1)
    letters = _STANDALONE.findall(text)
    return letters[-1] if letters else None
