"""verify.rewards: reward values per outcome, TRL/verl/OpenRLHF signatures, processes, threads."""
from __future__ import annotations

import pickle
import threading
import time

import pytest

from verify.rewards import accuracy_reward, compute_score, compute_score_batch, make_accuracy_reward, reward_func
from verify.rewards.core import RewardValues, check_batch, outcome
from verify.rewards.openrlhf import response_of, reward_lists
from verify.rewards.pool import BatchPool
from verify.rewards.trl import completion_text

# (gold, completion, outcome): every row is a real case of its outcome
CASES = [
    ("72", "So she sold 48 + 24 = 72 clips. \\boxed{72}", "correct"),
    ("\\frac{1}{2}", "The probability is $0.5$.", "correct"),
    ("x^2-1", "Expanding gives \\boxed{(x-1)(x+1)}", "correct"),
    ("Natalia sold 48/2 = 24 clips in May.\n#### 72", "The answer is 72.", "correct"),
    ("72", "So the answer is \\boxed{71}.", "wrong"),
    ("[1, 2)", "\\boxed{(1, 2)}", "wrong"),
    ("72", "", "no_answer"),
    ("72", "I cannot solve this.", "no_answer"),
    (None, "\\boxed{3}", "undecided"),
]


@pytest.mark.parametrize("gold,text,expected", CASES)
def test_outcomes_and_default_values(gold, text, expected):
    (v,) = check_batch([(gold, text)])
    assert outcome(v) == expected
    assert accuracy_reward([text], solution=[gold]) == [{"correct": 1.0, "wrong": 0.0, "no_answer": 0.0,
                                                          "undecided": None}[expected]]


def test_configured_values_per_outcome():
    r = make_accuracy_reward(correct=2.0, wrong=-1.0, no_answer=-0.5, undecided=0.25)
    golds = [g for g, _, _ in CASES]
    texts = [t for _, t, _ in CASES]
    want = [{"correct": 2.0, "wrong": -1.0, "no_answer": -0.5, "undecided": 0.25}[e] for _, _, e in CASES]
    assert r(texts, solution=golds) == want


def test_conversational_completions_and_columns():
    conv = [[{"role": "assistant", "content": "\\boxed{4}"}],
            [{"role": "user", "content": "\\boxed{4}"}, {"role": "assistant", "content": "no, \\boxed{5}"}],
            [{"role": "assistant", "content": [{"type": "text", "text": "it is \\boxed{4}"}]}]]
    assert [completion_text(c) for c in conv] == ["\\boxed{4}", "no, \\boxed{5}", "it is \\boxed{4}"]
    assert accuracy_reward(conv, answer=["4", "4", "4"]) == [1.0, 0.0, 1.0]
    # TRL passes every dataset column plus trainer objects as keywords; `solution` wins over `answer`
    assert accuracy_reward(["\\boxed{4}"], solution=["4"], answer=["5"], prompts=["q"], trainer_state=None) == [1.0]
    r = make_accuracy_reward(column="ground_truth")
    assert r(["\\boxed{4}"], ground_truth=["4"]) == [1.0]


def test_missing_gold_column_and_length_mismatch_are_errors():
    with pytest.raises(TypeError, match="needs a gold column 'solution' or 'answer'"):
        accuracy_reward(["\\boxed{4}"], prompts=["q"])
    with pytest.raises(TypeError, match="no dataset column 'gt'"):
        make_accuracy_reward(column="gt")(["\\boxed{4}"], solution=["4"])
    with pytest.raises(ValueError, match="2 completions but 1 gold answers"):
        accuracy_reward(["1", "2"], solution=["1"])


def test_log_extra_and_log_metric_receive_the_verdicts():
    extra, metrics = {}, {}
    rewards = accuracy_reward(["\\boxed{4}", "\\boxed{5}", "\\boxed{3}"], solution=["4", "4", None],
                              log_extra=lambda k, v: extra.__setitem__(k, v),
                              log_metric=lambda k, v: metrics.__setitem__(k, v))
    assert rewards == [1.0, 0.0, None]
    assert extra == {"gold_answer": ["4", "4", None], "pred_answer": ["4", "5", "3"],
                     "verdict": ["correct", "wrong", "undecided"]}
    assert metrics == {"accuracy_reward/undecided_share": pytest.approx(1 / 3)}


def test_picklable_with_a_name():
    r = make_accuracy_reward(wrong=-1.0, jobs=2, name="math_acc")
    r2 = pickle.loads(pickle.dumps(r))
    assert r2.__name__ == "math_acc" and r2.values == RewardValues(wrong=-1.0) and r2.jobs == 2
    assert r2(["\\boxed{3}"], solution=["4"]) == [-1.0]
    assert pickle.loads(pickle.dumps(accuracy_reward)).__name__ == "accuracy_reward"


def _batch(n: int) -> tuple[list, list]:
    golds = [str(i) for i in range(n)] + ["x^2-1", "\\frac{1}{2}", "[1,2)"] * 4
    texts = [f"so \\boxed{{{i if i % 3 else i + 1}}}" for i in range(n)] + \
            ["\\boxed{(x+1)(x-1)}", "0.5", "\\boxed{[1,2]}"] * 4
    return golds, texts


def test_processes_give_the_same_rewards_as_in_process():
    golds, texts = _batch(40)
    one = make_accuracy_reward(jobs=1)(texts, solution=golds)
    two = make_accuracy_reward(jobs=2)(texts, solution=golds)
    assert one == two
    assert one[:6] == [0.0, 1.0, 1.0, 0.0, 1.0, 1.0] and one[-3:] == [1.0, 1.0, 0.0]


def test_safe_from_threads_in_and_out_of_process():
    golds, texts = _batch(30)
    want = make_accuracy_reward()(texts, solution=golds)
    results, errors = {}, []

    def run(i):
        try:
            results[i] = make_accuracy_reward(jobs=1 + i % 2)(texts, solution=golds)
        except Exception as e:  # noqa: BLE001 - the test reports any failure from a thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and len(results) == 6
    assert all(r == want for r in results.values())


def test_pool_deadline_marks_unfinished_pairs_undecided():
    pool = BatchPool(1)
    try:
        pairs = [("1", "1")] * 10
        v = pool.check(pairs, 5.0, deadline=time.monotonic() - 1)  # already passed
        assert [x.reason for x in v] == ["request deadline passed"] * 10 and all(x.equal is None for x in v)
        assert pool.live == 0  # the late worker was killed, not returned to the pool
        assert [x.equal for x in pool.check(pairs, 5.0)] == [True] * 10
        assert pool.live == 1
    finally:
        pool.close()
    assert pool.live == 0


def test_in_process_deadline():
    v = check_batch([("1", "1"), ("2", "2")], deadline=time.monotonic() - 1)
    assert [(x.equal, x.reason) for x in v] == [(None, "request deadline passed")] * 2


def test_verl_compute_score():
    assert compute_score("openai/gsm8k", "... \\boxed{72}", "72") == 1.0
    assert compute_score("openai/gsm8k", "... \\boxed{71}", "72") == 0.0
    assert compute_score("x", "\\boxed{1}", None, undecided=-0.5) == -0.5  # verl needs a number
    d = compute_score("math", "\\boxed{(x-1)(x+1)}", "x^2-1", {"index": 3}, details=True)
    assert d == {"score": 1.0, "acc": 1.0, "undecided": 0.0, "outcome": "correct", "reason": "structurally equal",
                 "method": "structural", "gold_answer": "x^2-1", "pred_answer": "(x-1)(x+1)"}
    golds, texts = _batch(20)
    batch = compute_score_batch(["s"] * len(texts), texts, golds, jobs=2)
    assert batch == [compute_score("s", t, g) for t, g in zip(texts, golds)]


def test_openrlhf_reward_func():
    prompts = ["Example: \\boxed{9}. Q: 6*7?", "Q: 2+2?", "Q: 1+1?"]
    queries = [prompts[0] + " It is 42", prompts[1] + " \\boxed{5}", prompts[2] + " hmm"]
    assert response_of(queries[0], prompts[0]) == " It is 42"
    out = reward_func(queries, prompts, ["42", "4", "2"])
    assert out["rewards"].tolist() == [1.0, 0.0, 0.0] and out["scores"].tolist() == [1.0, 0.0, 0.0]
    assert out["extra_logs"]["accuracy"].item() == pytest.approx(1 / 3)
    # without the prompt cut, the worked example's \boxed{9} would be graded
    assert reward_lists([queries[0]], [None], ["9"])["rewards"] == [1.0]
    lists = reward_lists(queries, prompts, ["42", "4", None], values=RewardValues(undecided=-1.0))
    assert lists["rewards"] == [1.0, 0.0, -1.0]
    assert lists["extra_logs"] == {"accuracy": pytest.approx(1 / 3), "undecided_share": pytest.approx(1 / 3),
                                   "no_answer_share": 0.0}
    with pytest.raises(ValueError, match="differ in length"):
        reward_lists(["a"], ["a", "b"], ["1"])


def test_import_loads_no_torch_numpy_or_trainer():
    import subprocess
    import sys

    code = ("import sys, verify.rewards as r; r.accuracy_reward; r.compute_score; r.reward_func; "
            "print(sorted(m for m in ('torch', 'numpy', 'trl', 'verl', 'openrlhf', 'fastapi') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_pool_waits_for_a_busy_worker_only_until_the_deadline():
    pool = BatchPool(1)
    try:
        (w,) = pool._acquire(1, None)  # the only worker is busy
        t0 = time.monotonic()
        v = pool.check([("1", "1")] * 8, 5.0, deadline=time.monotonic() + 0.3)
        assert 0.25 <= time.monotonic() - t0 < 5
        assert {x.reason for x in v} == {"request deadline passed"}
        pool._release(w)
        assert [x.equal for x in pool.check([("1", "1")] * 8, 5.0, deadline=time.monotonic() + 60)] == [True] * 8
    finally:
        pool.close()


@pytest.mark.parametrize("query,prompt,response", [
    # OpenRLHF decodes with skip_special_tokens=False: chat templates leave end-of-turn tokens behind
    ("<|im_start|>assistant\nso the answer is 42.<|im_end|>", "<|im_start|>assistant\n", "so the answer is 42."),
    ("Q: so it is 42.</s>", "Q:", " so it is 42."),
    ("so \\boxed{42}<end_of_turn>\n<pad><pad>", "", "so \\boxed{42}"),
    ("so the answer is 42.<\uff5cend\u2581of\u2581sentence\uff5c>", None, "so the answer is 42."),
    ("a <|im_end|> in the middle stays: 42", "", "a <|im_end|> in the middle stays: 42"),
])
def test_openrlhf_response_loses_trailing_special_tokens(query, prompt, response):
    assert response_of(query, prompt) == response
    assert reward_lists([query], [prompt], ["42"])["rewards"] == [1.0]


def test_trl_and_verl_also_ignore_trailing_special_tokens():
    assert accuracy_reward(["so the answer is 42.<|im_end|>"], solution=["42"]) == [1.0]
    assert compute_score("s", "so the answer is 42.</s>", "42") == 1.0
    assert compute_score_batch(["s"] * 8, ["so it is 42.<|eot_id|>"] * 8, ["42"] * 8, jobs=2) == [1.0] * 8


def test_special_token_stripping_is_linear_on_hostile_text():
    from verify.rewards.core import strip_special_tail

    t0 = time.monotonic()
    assert strip_special_tail(" " * 200_000 + "x") == " " * 200_000 + "x"
    assert strip_special_tail("<pad>" * 50_000) == ""
    assert strip_special_tail("42" + " <|im_end|>\n" * 20_000) == "42"
    assert time.monotonic() - t0 < 2.0
