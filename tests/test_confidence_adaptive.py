"""The adaptive `confidence` rule (DeepConf's consensus stop): on replayed answers with weights,
and live through sample_to_file with a generator that returns token logprobs."""
from __future__ import annotations

import pytest

from verify.records.types import Problem
from verify.sampling.adaptive import AdaptiveRule, simulate, weighted_share
from verify.sampling.base import Completion, SamplingParams


@pytest.mark.parametrize("answers, weights, expected", [
    (["4", "5"], [0.9, 0.1], 0.9),
    (["4", "5", "4"], [0.2, 0.6, 0.2], 0.6),         # the weighted leader is 5
    (["4", None, "4"], [0.5, 9.0, 0.5], 1.0),        # abstainers do not count
    (["4", "5"], [0.9, None], 0.5),                  # a missing weight: plain counts
    ([None, None], [0.5, 0.5], 0.0),
    (["4", "4.0", "5"], None, 2 / 3),               # answers grouped by equivalence key
])
def test_weighted_share(answers, weights, expected):
    assert weighted_share(answers, weights) == pytest.approx(expected)


def test_simulate_stops_on_confident_consensus():
    rule = AdaptiveRule(budget=8, round_size=2, rule="confidence", confidence=0.9)
    answers = [["4", "5", "4", "5", "4", "5", "4", "5"]] * 2
    weights = [[0.95, 0.05] * 4, [0.5, 0.5] * 4]
    assert simulate(answers, rule, weights) == [2, 8]
    assert simulate(answers, rule) == [8, 8]  # without weights a 4-5 split never stops early


class ConfidentGenerator:
    """Answers alternate 4 (sure: log p -0.01 per token) and 5 (unsure: -3.0 per token)."""

    name = "confident"

    def generate(self, prompts, n, params):
        out = []
        for _ in prompts:
            row = []
            for j in range(n):
                text, lp = ("\\boxed{4}", -0.01) if j % 2 == 0 else ("\\boxed{5}", -3.0)
                row.append(Completion(text, num_tokens=3, logprob=3 * lp, token_logprobs=(lp,) * 3,
                                      token_ends=(3, 6, len(text))))
            out.append(row)
        return out


def test_live_confidence_rule_saves_samples(tmp_path):
    from verify.records.io import read_traces
    from verify.sampling.run import sample_to_file

    probs = [Problem("p1", "2 + 2?", "4")]
    rule = AdaptiveRule(budget=8, round_size=2, rule="confidence", confidence=0.9)
    rep = sample_to_file(probs, ConfidentGenerator(), tmp_path / "c.jsonl", params=SamplingParams(),
                         adaptive=rule, progress=False)
    assert rep.per_problem == {"p1": 2}
    traces = read_traces(tmp_path / "c.jsonl")
    assert [t.confidence["kind"] for t in traces] == ["sampled", "sampled"]
    assert traces[0].confidence["lowest_group"] == pytest.approx(-0.01)
    beta = AdaptiveRule(budget=8, round_size=2, rule="beta")
    rep = sample_to_file(probs, ConfidentGenerator(), tmp_path / "b.jsonl", params=SamplingParams(),
                         adaptive=beta, progress=False)
    assert rep.per_problem == {"p1": 8}
