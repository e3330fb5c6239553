"""Final answers written as several boxes, and the value after a name in a prose conclusion.

Policy for several ``\\boxed{}`` in one response (docs/checker-policy.md, family 1):

* the boxes of the FINAL answer form one answer when only connectors stand between them:
  punctuation, spacing commands (``\\quad``), math delimiters, ``and``/``or`` (also in
  ``\\text{}``) and a short name before each box (``x = \\boxed{2}`` / ``$y=\\boxed{5}$``).
  ``\\boxed{2}, \\boxed{5}, \\boxed{11}`` gives ``2, 5, 11`` (a bare list, compared unordered, or
  as named values when every box is an assignment: ``a = 3, b = 7``);
* boxes separated by prose (``First \\boxed{3}. Wait, actually \\boxed{5}``) are revisions: the
  last box is the answer.

Math-Verify joins every box of the response into a set (so ``3`` and ``5`` above both count);
lighteval's extractive match takes the first match in its priority list; inspect_ai's and
Qwen's graders take the last box only.
"""
from __future__ import annotations

import re

MAX_JOINED = 12
# what may stand between two boxes of one answer
_CONNECTOR = re.compile(
    r"(?:\s|[,;.:$&]|\\[,;:! ]|\\\\|\\quad|\\qquad|\\\[|\\\]|\\\(|\\\)|\\text\s*\{\s*(?:and|or|,)?\s*\}"
    r"|\\(?:text|mathrm)\s*\{\s*(?:and|or)\s*\}|\band\b|\bor\b|\\(?:hspace|vspace)\s*\{[^{}]{0,10}\}"
    r"|(?:\\?[A-Za-z]+(?:_\{?\w{1,3}\}?)?|\([A-Za-z](?:,\s*[A-Za-z])*\))\s*=)*", re.A)
_NAME_EQ = re.compile(r"(\\?[A-Za-z]+(?:_\{?\w{1,3}\}?)?|\([A-Za-z](?:,\s*[A-Za-z])*\))\s*=\s*\$?\s*\Z", re.A)


def join_boxes(text: str, boxes: list[tuple[int, int, str]]) -> str | None:
    """The final answer from the boxes ``(start, end, content)`` of `text` (in text order).

    >>> t = "so $\\\\boxed{2}$, $\\\\boxed{5}$ and $\\\\boxed{11}$."
    >>> from verify.checker.extract import _boxes
    >>> join_boxes(t, _boxes(t))
    '2, 5, 11'
    """
    if not boxes:
        return None
    group = [boxes[-1]]
    for prev in reversed(boxes[:-1]):
        between = text[prev[1]:group[0][0]]
        if len(between) > 80 or not _CONNECTOR.fullmatch(between):
            break
        group.insert(0, prev)
        if len(group) >= MAX_JOINED:
            break
    if len(group) == 1:
        return group[0][2]
    items = []
    for start, _, content in group:
        content = content.strip()
        name = _NAME_EQ.search(text[max(0, start - 30):start])  # x = \boxed{2}: keep the name
        if name and "=" not in content:
            content = name.group(1) + " = " + content
        items.append(content)
    if len(set(items)) == 1:
        return items[0]
    return ", ".join(items)


_LONE_NAME = re.compile(r"\s*(?:\\?[A-Za-z]+(?:_\{?\w{1,4}\}?)?(?:\([A-Za-z, ]*\))?|\\[A-Za-z]+)\s*", re.A)
_TRAIL_NUMBER = re.compile(r"(?:\b(?:is|are|equals|of|be)\b|=|:)\s*\$?\s*(-?\d[\d,]*(?:\.\d+)?(?:/\d+)?)\s*\$?"
                           r"(?:\s*(?:\\%|%|[A-Za-z ]{0,20}))?\s*(?:[.!](?:\s|\Z)|\Z)", re.A)


def value_after_name(clause: str, span_end: int, span: str) -> str | None:
    """``The smallest $k$ is 12.``: when the last inline math of a clause is a lone variable or a
    function name and a number follows it, that number is the answer (else None).

    >>> value_after_name("The smallest $k$ is 12.", 16, "k")
    '12'
    """
    if not _LONE_NAME.fullmatch(span) or re.search(r"\d", span):
        return None
    m = _TRAIL_NUMBER.search(clause[span_end:span_end + 200])
    return m.group(1) if m else None
