"""Records: `Problem`, `Trace` and `Verdict` (plain frozen dataclasses), JSONL reading and
writing (`io`), and step splitting (`steps`), a Trace concept shared by sampling and PRMs.
"""
from verify.records.types import Problem, Trace, Verdict

__all__ = ["Problem", "Trace", "Verdict"]
