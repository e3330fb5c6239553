"""transformers backend on a tiny random-init Llama with a char-level tokenizer built here:
N traces per prompt, determinism under a seed, stop strings, chat templates, and a real
`kill -9` in the middle of `sample_to_file` followed by a resume."""
from __future__ import annotations

import json
import os
import signal
import string
import subprocess
import sys
import textwrap
import time

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from tests.conftest import ROOT  # noqa: E402
from verify.sampling.base import SamplingParams  # noqa: E402
from verify.sampling.transformers_backend import TransformersGenerator  # noqa: E402

CHAT_TEMPLATE = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<assistant>{% endif %}")


def tiny_model_and_tokenizer():
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    chars = list(string.digits + string.ascii_letters + " +-=?.,:<>\n\\{}")
    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, **{c: i + 3 for i, c in enumerate(chars)}}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tk.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")
    cfg = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      pad_token_id=0, eos_token_id=1, bos_token_id=1)
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():  # make EOS likely enough that some rows stop before max_tokens
        model.lm_head.weight[1] += 0.6 * model.model.embed_tokens.weight.std()
    return model.eval(), tok


@pytest.fixture(scope="module")
def tiny():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 32-wide model gains nothing from threads; on busy cores they spin
    yield tiny_model_and_tokenizer()
    torch.set_num_threads(threads)


def test_n_traces_per_prompt_with_counts(tiny):
    g = TransformersGenerator(*tiny, chat=False)
    got = g.generate(["What is 1 + 2?", "Hi", "What is 3 + 3?"], 4, SamplingParams(max_tokens=12, seed=1))
    assert [len(row) for row in got] == [4, 4, 4]
    plens = [len(tiny[1](p).input_ids) for p in ["What is 1 + 2?", "Hi", "What is 3 + 3?"]]
    assert [row[0].prompt_tokens for row in got] == plens
    for row in got:
        for c in row:
            assert 1 <= c.num_tokens <= 12
            # one char per token; EOS and <unk> are counted but not decoded
            assert c.num_tokens >= len(c.text)
            assert (c.finish_reason == "length") == (c.num_tokens == 12)
    assert len({c.text for row in got for c in row}) > 6  # sampling, not 4 copies


def test_seeded_runs_repeat_and_seeds_differ(tiny):
    g = TransformersGenerator(*tiny, chat=False)
    prompts = ["What is 1 + 2?", "Hi"]
    a = g.generate(prompts, 3, SamplingParams(max_tokens=10, seed=5))
    b = g.generate(prompts, 3, SamplingParams(max_tokens=10, seed=5))
    c = g.generate(prompts, 3, SamplingParams(max_tokens=10, seed=6))
    assert a == b
    assert [x.text for r in a for x in r] != [x.text for r in c for x in r]


def test_greedy_rows_are_identical(tiny):
    g = TransformersGenerator(*tiny, chat=False)
    row = g.generate(["What is 2 + 2?"], 3, SamplingParams(temperature=0.0, max_tokens=8))[0]
    assert len({c.text for c in row}) == 1


def test_stop_strings_cut_text_and_finish(tiny):
    g = TransformersGenerator(*tiny, chat=False)
    free = g.generate(["What is 1 + 2?"], 8, SamplingParams(max_tokens=16, seed=2))[0]
    stop = next(ch for ch in "aeiou0123456789" if sum(ch in c.text for c in free) >= 2)
    got = g.generate(["What is 1 + 2?"], 8, SamplingParams(max_tokens=16, seed=2, stop=(stop,)))[0]
    assert all(stop not in c.text for c in got)
    cut = [c for c in got if c.finish_reason == "stop" and c.num_tokens > len(c.text)]
    assert cut, "some rows must have stopped on the stop string"


def test_chat_template_applied_and_logprobs(tiny):
    model, tok = tiny
    tok.chat_template = CHAT_TEMPLATE
    try:
        g = TransformersGenerator(model, tok, logprobs=True)
        assert g.chat is True
        msgs = [{"role": "user", "content": "What is 1 + 2?"}]
        assert g.render(msgs) == "<user>What is 1 + 2?\n<assistant>"
        row = g.generate([msgs], 2, SamplingParams(max_tokens=6, seed=0))[0]
        assert row[0].prompt_tokens == len("<user>What is 1 + 2?\n<assistant>")
        for c in row:
            assert c.logprob is not None and c.logprob < 0
        # the logprob is the model's own: recompute it with a forward pass
        ids = tok(g.render(msgs), add_special_tokens=False).input_ids + tok(row[0].text).input_ids
        if row[0].finish_reason == "stop":
            ids.append(tok.eos_token_id)
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].log_softmax(-1)
        start = row[0].prompt_tokens
        want = sum(float(logits[t - 1, ids[t]]) for t in range(start, len(ids)))
        assert row[0].logprob == pytest.approx(want, abs=1e-3)
    finally:
        tok.chat_template = None


CRASH_SCRIPT = textwrap.dedent("""
    import sys, time, torch
    torch.set_num_threads(1)
    sys.path.insert(0, {root!r})
    from verify.sampling.base import SamplingParams
    from verify.sampling.run import sample_to_file
    from verify.sampling.transformers_backend import TransformersGenerator
    from verify.records.types import Problem

    model_dir, slow, outs = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    gen = TransformersGenerator(model_dir, chat=False)
    inner = gen.generate
    def slow_generate(prompts, n, params, seeds=None):  # per-sample seeds, as the generator takes them
        out = inner(prompts, n, params, seeds=seeds)
        time.sleep(slow)
        return out
    gen.generate = slow_generate
    problems = [Problem(f"p{{i}}", f"What is {{i}} + {{i}}?", str(2 * i)) for i in range(10)]
    for out in outs:
        sample_to_file(problems, gen, out, n=4, batch_size=1, params=SamplingParams(max_tokens=12, seed=7),
                       backend="transformers", progress=False)
""")


def test_kill_9_mid_run_then_resume(tiny, tmp_path):
    model, tok = tiny
    model.save_pretrained(tmp_path / "tiny")
    tok.save_pretrained(tmp_path / "tiny")
    script = tmp_path / "run.py"
    script.write_text(CRASH_SCRIPT.format(root=str(ROOT)))
    out, ref = tmp_path / "out.jsonl", tmp_path / "ref.jsonl"
    cmd = [sys.executable, str(script), str(tmp_path / "tiny")]
    proc = subprocess.Popen(cmd + ["0.4", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 12:
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    n_before = out.read_bytes().count(b"\n")
    assert 12 <= n_before < 40  # killed mid-run
    # resume here (same code path as rerunning the command; saves a second interpreter start)
    from verify.sampling.run import sample_to_file
    from verify.records.types import Problem

    gen = TransformersGenerator(str(tmp_path / "tiny"), chat=False)
    problems = [Problem(f"p{i}", f"What is {i} + {i}?", str(2 * i)) for i in range(10)]
    for path in (out, ref):
        sample_to_file(problems, gen, path, n=4, batch_size=1, params=SamplingParams(max_tokens=12, seed=7),
                       backend="transformers", progress=False)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    keys = [(r["problem_id"], r["sample_index"]) for r in rows]
    assert len(keys) == len(set(keys)) == 40  # no duplicate, none missing
    assert set(keys) == {(f"p{i}", j) for i in range(10) for j in range(4)}
    ref_rows = {(r["problem_id"], r["sample_index"]): r for r in map(json.loads, ref.read_text().splitlines())}
    assert {k: r["text"] for k, r in zip(keys, rows)} == {k: r["text"] for k, r in ref_rows.items()}


def test_shared_prompt_cache_matches_plain_num_return_sequences(tiny):
    """Prefill once + repeated KV cache gives the same samples as HF's own expansion."""
    shared = TransformersGenerator(*tiny, chat=False)
    plain = TransformersGenerator(*tiny, chat=False, share_prompt=False)
    prompts = ["What is 1 + 2? Think about it.", "Hi"]  # different lengths: left padding matters
    params = SamplingParams(max_tokens=12, seed=3)
    assert shared.generate(prompts, 4, params) == plain.generate(prompts, 4, params)
