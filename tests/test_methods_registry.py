"""The method registry (verify.select.methods): one entry per method, traits instead of names.

A toy method registered in a fixture works end to end (evaluate_samples, the table, the plot
labels, the runner's PRM decision) with no other change: that is what "adding a method is one
entry" means.
"""
import numpy as np
import pytest

from evals.evaluate import evaluate_samples
from evals.table import notes_lines, results_table
from verify.errors import UnknownSpecError
from verify.records.types import Trace
from verify.select import methods as M
from verify.select.aggregate import Vote, weighted_vote


def _last(items, scores=None, *, tie="first", rng=None, key=None) -> Vote:
    """Toy aggregator: the answer of the last sample of the k."""
    a = items[-1] if items else None
    return Vote(a, len(items) - 1 if a is not None else None)


def _exact_last(gp, scores, ks, **_) -> M.Estimate:
    """The last of a random k-subset is a uniformly random sample: E = mean correctness."""
    v = np.full(len(ks), float(gp.sample_correct.mean()))
    return M.Estimate(v, np.zeros(len(ks)), ("exact",) * len(ks))


@pytest.fixture
def toy():
    m = M.register(M.Method("last", exact=_exact_last, aggregate=_last, first_k=M.first_k_pick,
                            aliases=("final",), splits_ties=False, description="toy: the last sample"))
    yield m
    M.unregister("last")
    assert "last" not in M.REGISTRY


def traces():
    # problem a: answers 4, 5, 4, 5 (gold 4); problem b: 1, 1, 2, 2 (gold 2)
    rows = [("a", "4", ["4", "5", "4", "5"]), ("b", "2", ["1", "1", "2", "2"])]
    return [Trace(pid, i, answer=a, gold=gold) for pid, gold, ans in rows for i, a in enumerate(ans)]


def test_toy_method_end_to_end(toy):
    assert M.parse_method("final@3") == M.MethodSpec("last", 3)
    rep = evaluate_samples(traces(), ["last@3", "last@4", "maj@4"], groups=["string"], n_boot=200, curves=True)
    got = {r.method: r.accuracy for r in rep.results}
    assert got == {"last@3": 0.5, "last@4": 0.5, "majority@4": 0.5}
    first = evaluate_samples(traces(), ["last@3", "last@4"], groups=["string"], subsets="first", n_boot=200)
    # first 3: a -> "4" (right), b -> "2" (right); first 4: a -> "5" (wrong), b -> "2" (right)
    assert [(r.method, r.accuracy) for r in first.results] == [("last@3", 1.0), ("last@4", 0.5)]
    table = results_table(rep.results).splitlines()
    assert table[2].split()[:2] == ["last@3", "0.5000"]
    assert [pt["k"] for pt in rep.curves["last|string"]] == [1, 2, 3, 4]
    assert notes_lines(first)[-1].startswith("[string]")  # no tie note for a method that does not split ties


def test_toy_method_reads_decide_the_prm_and_the_scores(toy):
    M.register(M.Method("toy-step", exact=M.exact_weighted_vote, aggregate=weighted_vote, reads="step"))
    try:
        with pytest.raises(Exception, match="needs scores, but no sample has step_scores or score"):
            evaluate_samples(traces(), ["toy-step@2"], groups=["string"])
        ts = [Trace(t.problem_id, t.sample_index, answer=t.answer, gold=t.gold, step_scores=(0.5,)) for t in traces()]
        (r,) = evaluate_samples(ts, ["toy-step@4"], groups=["string"], n_boot=50).results
        assert r.estimator == "exact-enumeration" and r.accuracy == 0.5
    finally:
        M.unregister("toy-step")


def test_register_refuses_a_taken_name_or_alias(toy):
    with pytest.raises(ValueError, match="'maj' is taken by 'majority'"):
        M.register(M.Method("other", exact=_exact_last, aggregate=_last, aliases=("maj",)))
    with pytest.raises(ValueError, match="unknown reads 'prm'"):
        M.Method("bad", exact=_exact_last, aggregate=_last, reads="prm")
    assert "other" not in M.REGISTRY


@pytest.mark.parametrize("spec,reads,curve,display", [
    ("single", "none", "reference", "single"),
    ("pass@4", "none", "curve", "pass@4"),
    ("maj@4", "none", "curve", "majority@4"),
    ("weighted-vote@4", "step", "curve", "weighted-vote@4"),
    ("prm-best-of-4", "step", "curve", "prm-best-of-4"),
    ("best-of-4", "outcome", "curve", "best-of-4"),
    ("bon@n", "step", "curve", "prm-best-of-n"),
])
def test_builtin_traits(spec, reads, curve, display):
    s = M.parse_method(spec)
    assert (s.method.reads, s.method.curve, s.spec) == (reads, curve, display)


def test_unknown_method_lists_known_forms_and_suggests():
    with pytest.raises(UnknownSpecError) as e:
        M.parse_method("majorty@2")
    known = ", ".join(M.known_forms())  # the built-ins first, then methods other modules registered
    assert known.startswith("single, pass@k, majority@k, weighted-vote@k, prm-best-of-k, best-of-k")
    assert str(e.value) == f"unknown method 'majorty@2'. Did you mean 'majority'? Known: {known}"


def test_no_method_name_compared_as_a_string_downstream():
    """Readers ask the registry for traits: no quoted method name outside the registry."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    names = "|".join(re.escape(n) for n in ("pass", "majority", "weighted-vote", "prm-best-of", "best-of"))
    pat = re.compile(rf"""\.name\s*(==|!=|in)|["']({names})["']""")
    hits = []
    for f in ("evals/evaluate.py", "evals/runner.py", "evals/cost.py", "evals/table.py", "evals/report.py",
              "evals/plots.py", "verify/api.py"):
        for i, line in enumerate((root / f).read_text().splitlines(), 1):
            if pat.search(line):
                hits.append(f"{f}:{i}: {line.strip()}")
    assert hits == []
