"""`import verify.sampling` stays light: no scipy (issue 10.6), and the adaptive rule's Beta
tail computed without scipy equals scipy's."""
import subprocess
import sys

import pytest

from verify.sampling.adaptive import AdaptiveRule, beta_sf_half


def test_import_sampling_loads_no_scipy():
    code = ("import sys, verify.sampling; "
            "print(sorted(m for m in sys.modules if m == 'scipy' or m.startswith('scipy.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("a", range(1, 40))
def test_beta_sf_half_matches_scipy(a):
    from scipy.stats import beta

    for b in range(1, 40):
        assert beta_sf_half(a, b) == pytest.approx(float(beta.sf(0.5, a, b)), abs=1e-12)


@pytest.mark.parametrize("answers,stop", [
    (["4"] * 4, True),                          # 4-0: P = 31/32 >= 0.95
    (["4"] * 3, False),                         # 3-0: P = 15/16 < 0.95
    (["4"] * 6 + ["5"], True),                  # 6-1: 0.9648 (budget 16)
    (["4"] * 5 + ["5"], False),                 # 5-1: 0.9375
])
def test_beta_rule_thresholds(answers, stop):
    assert AdaptiveRule(budget=16, rule="beta").should_stop(answers) is stop
