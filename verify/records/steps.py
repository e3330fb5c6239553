"""Split a reasoning trace into steps (the unit a process reward model scores).

The default separator is a blank line ("\\n\\n"), the convention of PRM800K-style and
Qwen2.5-Math-PRM step formatting. The separator is configurable (`--step-sep`), given on
the command line with backslash escapes ("\\\\n" for a newline).
"""
from __future__ import annotations

DEFAULT_SEP = "\n\n"


def parse_sep(spec: str) -> str:
    """Decode a command-line separator: `\\\\n`, `\\\\t` and `\\\\\\\\` escapes.

    >>> parse_sep("\\\\n\\\\n") == "\\n\\n"
    True
    """
    out, i = [], 0
    while i < len(spec):
        if spec[i] == "\\" and i + 1 < len(spec) and spec[i + 1] in "nt\\":
            out.append({"n": "\n", "t": "\t", "\\": "\\"}[spec[i + 1]])
            i += 2
        else:
            out.append(spec[i])
            i += 1
    return "".join(out)


def split_steps(text: str, sep: str = DEFAULT_SEP) -> tuple[str, ...]:
    """Non-empty, stripped pieces of `text` between separators.

    >>> split_steps("Add 2 and 3.\\n\\n2 + 3 = 5.\\n\\n\\n\\\\boxed{5}")
    ('Add 2 and 3.', '2 + 3 = 5.', '\\\\boxed{5}')
    """
    if not sep:
        pieces = [text]
    else:
        pieces = text.split(sep)
    return tuple(s.strip() for s in pieces if s.strip())
