"""Maximum-likelihood fits recover known parameters; the AIME check is leave-one-model-out and
reproduces the published-table numbers."""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from verify.analytic.model import heterogeneous_accuracy
from verify.analytic.fit import (REPORT_PATH, aime_table, design_notes_check, fit_beta, fit_pairs,
                                 fit_spread, load_report, spread_loglik)
from verify.errors import InputError


def test_fit_beta_recovers_prior():
    rng = np.random.default_rng(1)
    p = rng.beta(0.6, 0.9, 2000)
    a, b = fit_beta(rng.binomial(16, p), [16] * 2000)
    assert a == pytest.approx(0.6, rel=0.15) and b == pytest.approx(0.9, rel=0.15)
    # nearly homogeneous problems give a large concentration
    a2, b2 = fit_beta(rng.binomial(16, np.full(500, 0.7)), [16] * 500)
    assert a2 + b2 > 50 and a2 / (a2 + b2) == pytest.approx(0.7, abs=0.02)
    with pytest.raises(ValueError):
        fit_beta([3], [2])


def test_fit_spread_recovers_number_of_wrong_answers():
    rng = np.random.default_rng(2)
    for m in (2, 5, 12):
        parts = [[int(x) for x in rng.multinomial(6, [1 / m] * m) if x] for _ in range(400)]
        est = fit_spread(parts)
        assert abs(est - m) <= max(1, 0.25 * m), (m, est)
    assert fit_spread([[1], [1, 1, 1], []]) == math.inf      # never two equal wrong answers
    assert fit_spread([[], []]) == 1                          # no wrong samples: nothing to tell
    assert spread_loglik([[2, 1]], 1) == -math.inf           # two distinct answers need m >= 2


def test_fit_pairs_recovers_parameters_of_the_model():
    p1 = np.array([0.1, 0.25, 0.4, 0.55, 0.7, 0.85])
    for conc, m in [(0.5, math.inf), (3.0, 4)]:
        cons = heterogeneous_accuracy(p1, conc, 64, wrong=m)
        fit = fit_pairs(p1, cons, 64, n_problems=1000)
        assert fit.wrong == m
        assert fit.concentration == pytest.approx(conc, rel=0.05)
    with pytest.raises(ValueError):
        fit_pairs([0.5], [1.5], 8)


def test_shipped_report_has_the_published_rows_with_citations():
    doc, rows = load_report()
    assert doc["n_problems"] == 30 and doc["n_samples"] == 64 and "2501.12948" in doc["citation"]
    by = {r.model: (r.pass1, r.cons) for r in rows}
    assert len(rows) == 11
    assert by["DeepSeek-R1-Distill-Qwen-1.5B"] == (28.9, 52.7)
    assert by["DeepSeek-R1-Zero"] == (71.0, 86.7)
    assert by["GPT-4o-0513"] == (9.3, 13.4)
    assert all(r.source.startswith("arXiv:2501.12948") for r in rows)
    assert doc["design_notes"]["maj@8"] == 87.0


def test_aime_table_reproduces_binomial_error_and_model_meets_target():
    _, rows = load_report()
    t = aime_table(rows)
    assert t["mae"]["binomial"] == pytest.approx(19.5, abs=0.1)              # 11 published rows
    assert t["mae_by_group"]["distilled"]["binomial"] == pytest.approx(22.0, abs=0.1)
    assert t["mae"]["model"] <= 6.0
    assert t["mae"]["model"] < t["mae"]["heterogeneity"] < t["mae"]["binomial"]
    assert sum(r["within_noise"]["model"] for r in t["rows"]) >= 10
    # the text had QwQ at 44.0: with it the pooled binomial MAE is the quoted ~22
    alt = [dataclasses.replace(r, pass1=44.0) if r.model == "QwQ-32B-Preview" else r for r in rows]
    assert aime_table(alt)["mae"]["binomial"] == pytest.approx(22.5, abs=0.1)
    notes = design_notes_check({"pass@1": 71, "maj@4": 82, "maj@8": 87}, t["fit_all"])
    assert [round(d["binomial"], 1) for d in notes] == [79.6, 88.7]


def test_aime_table_never_fits_on_the_row_it_predicts():
    _, rows = load_report()
    base = aime_table(rows[:6])
    moved = list(rows[:6])
    moved[2] = dataclasses.replace(moved[2], cons=5.0)        # an absurd reported value
    t = aime_table(moved)
    assert t["rows"][2]["pred_model"] == pytest.approx(base["rows"][2]["pred_model"], abs=1e-9)
    assert t["rows"][2]["pred_heterogeneity"] == pytest.approx(base["rows"][2]["pred_heterogeneity"], abs=1e-9)
    assert t["rows"][0]["pred_model"] != pytest.approx(base["rows"][0]["pred_model"], abs=1e-3)


def test_load_report_names_the_bad_field(tmp_path):
    doc = json.loads(REPORT_PATH.read_text())
    del doc["rows"][3]["pass@1"]
    bad = tmp_path / "r.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(InputError) as ei:
        load_report(bad)
    assert "rows[3].pass@1" in str(ei.value) and str(bad) in str(ei.value)
    bad.write_text('{"n_problems": 30,\n "rows": [}')
    with pytest.raises(InputError) as ei:
        load_report(bad)
    assert f"{bad}:2" in str(ei.value)
