"""PLACEHOLDER (being replaced by the checker work): model text -> final answer string."""
from __future__ import annotations

import re


def extract_answer(text: str, *, fallback_last_number: bool = True) -> str | None:
    m = re.findall(r"\\boxed\{([^{}]*)\}", text or "")
    if m:
        return m[-1].strip()
    if fallback_last_number:
        nums = re.findall(r"-?\d+(?:\.\d+)?", text or "")
        if nums:
            return nums[-1]
    return None
