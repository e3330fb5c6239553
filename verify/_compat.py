"""Old module paths (before the rooms of 0.2) keep working for one release, with a DeprecationWarning.

`import verify.equivalence` returns the module `verify.checker.equivalence` itself, so
monkeypatching either name patches the same object. The table is the whole list; CHANGELOG.md
says when it goes.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

MOVED = {
    "verify.extract": "verify.checker.extract",
    "verify.normalize": "verify.checker.normalize",
    "verify.numeric": "verify.checker.numeric",
    "verify.latex_expr": "verify.checker.latex_expr",
    "verify.mathparse": "verify.checker.mathparse",
    "verify.evaluate_mp": "verify.checker.treeval_mp",
    "verify.evaluate": "verify.checker.treeval",
    "verify.compare": "verify.checker.compare",
    "verify.equivalence": "verify.checker.equivalence",
    "verify.worker": "verify.checker.worker",
    "verify.batch": "verify.checker.batch",
    "verify.aggregate": "verify.select.aggregate",
    "verify.estimators": "verify.select.estimators",
    "verify.grading": "verify.select.grading",
    "verify.analytic_fit": "verify.analytic.fit",
    "verify.analytic_samples": "verify.analytic.samples",
    "verify.analytic_plot": "verify.analytic.plot",
    "verify.types": "verify.records.types",
    "verify.io": "verify.records.io",
    "verify.importers": "evals.importers",
    "verify.sampling.steps": "verify.records.steps",
    "prm.arith": "prm.arith_scorer",
    "evals.arith": "evals.arith_problems",
    "prm.evaluate": "prm.processbench",
    "prm.commands": "verify.commands.prm",
    "prm.cli_train": "verify.commands.prm_train",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        new = MOVED[spec.name]
        warnings.warn(f"{spec.name} moved to {new}; the old path goes in the next release",
                      DeprecationWarning, stacklevel=3)
        return importlib.import_module(new)

    def exec_module(self, module):
        pass  # the module is already imported under its new name


def install() -> None:
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
