"""verify: test-time-compute verification of LLM reasoning.

The front door is the checker's two verbs (as Math-Verify's `parse`/`verify`):

    >>> from verify import check, extract_answer
    >>> check("\\\\frac{1}{2}", "The answer is \\\\boxed{0.5}.").equal
    True
    >>> extract_answer("... so $x = 3$. The final answer is 3.")
    '3'

`import verify` loads no numpy, scipy or torch: the names below are imported on first use.
Rooms: `verify.checker`, `verify.select`, `verify.analytic`, `verify.sampling`,
`verify.records`, `verify.commands`; `prm` and `evals` sit beside the package.
"""
from __future__ import annotations

from verify import _compat

__version__ = "0.2.0"

_LAZY = {
    "check": "verify.checker.equivalence",
    "equivalent": "verify.checker.equivalence",
    "compare_answers": "verify.checker.equivalence",
    "check_many": "verify.checker.many",
    "extract_answer": "verify.checker.extract",
    "Verdict": "verify.records.types",
    "Trace": "verify.records.types",
    "Problem": "verify.records.types",
    "Verifier": "verify.api",
}

__all__ = ["__version__", *_LAZY]

_compat.install()


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'verify' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
