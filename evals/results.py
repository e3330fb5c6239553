"""The one result type of `verify eval`, on recorded samples and end to end: `EvalResults`.

`results.json` is `EvalResults.to_dict()`, versioned by `schema_version` and documented field
by field in docs/results.md. Both modes (`--samples` and run mode) write and return it; run
mode fills `run` and `files`, which are empty on recorded samples. `read_results` reads it back
(and reads the two older layouts: run mode's `methods` list and `--samples`'s unversioned file).
"""
from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from verify.errors import InputError
from verify.select.methods import MethodSpec, parse_method

SCHEMA_VERSION = 1


@dataclass
class MethodResult:
    """One row: a method at one k, for one answer grouping, with its cost columns."""

    method: str                   # the spec as written, e.g. "majority@8"
    accuracy: float
    ci_low: float
    ci_high: float
    n_problems: int
    k: int
    cost_multiplier: float
    n_samples: int                # samples per problem (the smallest, if they differ)
    group: str = "equivalence"
    grade: str = "checker"
    subsets: str = "exact"
    estimator: str = "exact"      # exact | exact-enumeration | monte-carlo | first-k
    mc_se: float = 0.0            # Monte-Carlo standard error of `accuracy` (0 when exact)
    correct: float = 0.0          # sum over problems of the per-problem expected correctness
    accuracy_random_ties: float | None = None  # first-k mode: expectation under random tie-breaking
    ties: int = 0                 # first-k mode: problems where the tie rule decided
    gen_tokens_per_problem: float = 0.0      # generated tokens charged (k samples' worth; 0 unknown)
    prompt_tokens_per_problem: float = 0.0   # prompt tokens, charged once per problem
    prm_tokens_per_problem: float = 0.0      # PRM forward tokens (methods that read step scores)
    cost_per_problem: float | None = None    # money, when prices were given
    cost_per_correct: float | None = None
    pareto: bool = False                     # on the accuracy-versus-cost frontier
    cheapest_within_ci_of_best: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def spec(self) -> MethodSpec:
        """The parsed method (a row read back from JSON carries its spec as text)."""
        return parse_method(self.method)

    def __getitem__(self, name: str) -> Any:  # rows were dicts in run mode: `row["accuracy"]` keeps working
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None

    @classmethod
    def from_dict(cls, d: dict) -> "MethodResult":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class EvalResults:
    """What `verify eval` computed: rows, curves, grading statistics, configuration, and for a
    run its stages and files. `to_dict()` is results.json (docs/results.md)."""

    results: list[MethodResult]
    curves: dict = field(default_factory=dict)     # "method|group" -> [{k, accuracy, ci_low, ci_high, mc_se}]
    grading: dict = field(default_factory=dict)    # group -> GradeStats.to_dict()
    config: dict = field(default_factory=dict)
    mode: str = "samples"                          # "samples" (--samples) | "run" (sample, score, select)
    run: dict = field(default_factory=dict)        # run mode: stages, versions, command, seconds, demo
    files: dict = field(default_factory=dict)      # run mode: the run folder's files
    per_problem: list = field(default_factory=list)  # not in results.json: --per-problem writes it
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict:
        return {"schema_version": self.schema_version, "mode": self.mode,
                "results": [r.to_dict() for r in self.results], "curves": self.curves,
                "grading": self.grading, "config": self.config, "run": self.run, "files": self.files}

    @property
    def stats(self) -> dict:
        """The grading statistics (the name `EvalReport` used)."""
        return self.grading

    @property
    def methods(self) -> list[dict]:
        """Deprecated: the rows as dicts (what run mode's `RunResults.methods` held); use `results`."""
        warnings.warn("EvalResults.methods is deprecated; use .results (MethodResult rows)",
                      DeprecationWarning, stacklevel=2)
        return [r.to_dict() for r in self.results]

    def method(self, spec: str | MethodSpec, group: str | None = None) -> MethodResult:
        """The row of one method, by spec (e.g. "prm-best-of-8"); the first grouping by default."""
        want = parse_method(spec)
        for r in self.results:
            if r.spec == want and (group is None or r.group == group):
                return r
        raise KeyError(f"no method {want.spec!r} in these results; have {[r.method for r in self.results]}")

    @classmethod
    def from_dict(cls, d: dict, *, path: str | None = None) -> "EvalResults":
        """Read results.json: this schema, or the two layouts before `schema_version` existed."""
        version = d.get("schema_version")
        if version is not None and (not isinstance(version, int) or version > SCHEMA_VERSION):
            raise InputError(f"results schema_version {version} is newer than this verify reads "
                             f"({SCHEMA_VERSION}); upgrade verify", path=path, field="schema_version")
        rows = d.get("results", d.get("methods", []))
        run = d.get("run") or {}
        config = d.get("config") or run.get("config", {})
        return cls(results=[MethodResult.from_dict(r) for r in rows], curves=d.get("curves", {}),
                   grading=d.get("grading", run.get("grading", {})), config=config,
                   mode=d.get("mode", "run" if "methods" in d else "samples"), run=run,
                   files=d.get("files") or {})


def read_results(path: str | Path) -> EvalResults:
    """Read a results.json written by `verify eval` (either mode, any schema version so far)."""
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise InputError("file not found", path=str(p)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON ({exc.msg})", path=str(p), line=exc.lineno) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", path=str(p))
    return EvalResults.from_dict(data, path=str(p))
