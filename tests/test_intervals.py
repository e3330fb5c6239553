"""The one Wilson interval (verify.intervals), used by `check --pairs` and ProcessBench."""
import math

import pytest

import prm.processbench
import verify.checker.batch
from verify.intervals import wilson


@pytest.mark.parametrize("k,n,expected", [
    (8, 10, (0.4902, 0.9433)),     # textbook value
    (0, 20, (0.0, 0.1611)),
    (20, 20, (0.8389, 1.0)),
    (1, 2, (0.0945, 0.9055)),
    (0, 0, (0.0, 1.0)),            # no observations: every share is possible
])
def test_wilson_table(k, n, expected):
    assert tuple(round(x, 4) for x in wilson(k, n)) == expected


def test_one_wilson_in_the_project():
    assert verify.checker.batch.wilson is wilson
    assert prm.processbench.wilson is wilson


def test_wilson_rejects_k_outside_0_n():
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson(3, 2)


def test_wilson_n0_is_valid_json():
    import json
    assert json.loads(json.dumps(wilson(0, 0))) == [0.0, 1.0]
    assert not any(math.isnan(x) for x in wilson(0, 0))
