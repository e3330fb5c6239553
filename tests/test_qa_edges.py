"""Rows from the QA pass: a callable generator returning a non-list, an unimportable
`module:function`, and ProcessBench F1 CI when F1 is undefined."""
from __future__ import annotations

import math

import pytest

from verify.errors import InputError, UnknownSpecError
from verify.sampling.base import SamplingParams, resolve
from verify.sampling.callable_backend import CallableGenerator


@pytest.mark.parametrize("bad", [5, None, "one string"])
def test_callable_returning_a_non_list_is_an_input_error(bad):
    g = CallableGenerator(lambda prompt, n: bad)
    with pytest.raises(InputError, match="expected a list of n=2 completions"):
        g.generate(["q"], 2, SamplingParams())


@pytest.mark.parametrize("spec", ["no_such_module_xyz:fn", "os.path:no_such_function"])
def test_unimportable_spec_is_unknown_spec_error(spec):
    with pytest.raises(UnknownSpecError, match="cannot import"):
        resolve(spec)


def test_verify_sample_with_unimportable_callable_exits_2(tmp_path):
    from typer.testing import CliRunner

    from cli import app
    r = CliRunner().invoke(app, ["sample", "--dataset", "arith", "--limit", "1", "--backend", "callable",
                                 "--model", "no_such_module_xyz:fn", "-n", "1", "--out", str(tmp_path / "s.jsonl")])
    assert r.exit_code == 2
    assert "cannot import 'no_such_module_xyz:fn'" in r.output
    assert "Traceback" not in r.output


def test_f1_ci_is_undefined_without_correct_samples():
    from prm.processbench import processbench_metrics
    rep = processbench_metrics([0, 1], [[0.1, 0.9], [0.9, 0.2]], n_boot=50)
    assert rep.n_correct == 0 and math.isnan(rep.f1)
    assert all(math.isnan(x) for x in rep.f1_ci)


def test_pairs_summary_reads_expected_like_the_validator(tmp_path):
    """`expected: null` falls back to `expected_equivalent`, in the summary too (it was skipped)."""
    import json

    from verify.checker.batch import check_pairs
    p = tmp_path / "pairs.jsonl"
    p.write_text(json.dumps({"gold": "1/2", "pred": "0.5", "expected": None, "expected_equivalent": True}) + "\n")
    s = check_pairs(str(p), jobs=1)
    assert (s.with_expected, s.agree) == (1, 1)
