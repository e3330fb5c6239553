"""The CTranslate2 backend (verify.sampling.ct2_backend) on a tiny random-init Llama built here:
converted once into a cache keyed by the weights' hash, greedy output equal to transformers on
the same weights, seeded sampling reproducible whatever was sampled before, token logprobs and
offsets consistent with the text, stop strings. Skipped when `ctranslate2` is not installed."""
from __future__ import annotations

import string

import pytest

ctranslate2 = pytest.importorskip("ctranslate2")
torch = pytest.importorskip("torch")

from verify.sampling.base import SamplingParams  # noqa: E402
from verify.sampling.factory import auto_backend, build_generator  # noqa: E402


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    chars = list(string.ascii_lowercase + string.digits + " +=?.\n")
    vocab = {"<pad>": 0, "<unk>": 1, "<eos>": 2, **{c: i + 3 for i, c in enumerate(chars)}}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tk.decoder = decoders.Fuse()
    # no BOS token: the conversion must still give CTranslate2 a token name for it
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")
    cfg = LlamaConfig(vocab_size=len(vocab), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      pad_token_id=0, eos_token_id=2, bos_token_id=None, tie_word_embeddings=False)
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():  # a peaked next-token distribution, so greedy decoding is far from ties
        model.lm_head.weight.mul_(8.0)
    folder = tmp_path_factory.mktemp("tiny")
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def ct2(tiny_folder, cache):
    from verify.sampling.ct2_backend import CT2Generator

    return CT2Generator(str(tiny_folder), compute_type="float32", root=cache, chat=False)


PROMPTS = ["what is 2 + 3?", "7 + 1 ="]


def test_conversion_is_cached_by_hash(tiny_folder, cache, ct2):
    from verify.sampling.ct2_backend import converted_model, file_sha256

    folders = list((cache / "ct2").glob("model-*-float32-ct2-*"))
    assert len(folders) == 1 and (folders[0] / "model.bin").is_file()
    assert file_sha256(tiny_folder / "model.safetensors", root=cache)[:16] in folders[0].name
    said = []
    assert converted_model(str(tiny_folder), "float32", root=cache, say=said.append) == folders[0]
    assert said == []  # found in the cache: no second conversion


def test_greedy_equals_transformers(tiny_folder, ct2):
    from verify.sampling.transformers_backend import TransformersGenerator

    hf = TransformersGenerator(str(tiny_folder), chat=False)
    params = SamplingParams(temperature=0.0, max_tokens=12)
    a = ct2.generate(PROMPTS, 2, params)
    b = hf.generate(PROMPTS, 2, params)
    assert [[c.text for c in row] for row in a] == [[c.text for c in row] for row in b]
    assert [[c.num_tokens for c in row] for row in a] == [[c.num_tokens for c in row] for row in b]


def test_seeded_sampling_is_reproducible_after_other_calls(ct2):
    params = SamplingParams(temperature=1.0, top_p=1.0, max_tokens=10, seed=3)
    first = ct2.generate(PROMPTS, 4, params)
    ct2.generate(PROMPTS, 4, params.replace(seed=99))   # moves the engine's random stream on
    again = ct2.generate(PROMPTS, 4, params)
    other = ct2.generate(PROMPTS, 4, params.replace(seed=4))
    texts = lambda rows: [c.text for row in rows for c in row]  # noqa: E731
    assert texts(first) == texts(again)
    assert texts(first) != texts(other)
    assert len(set(texts(first))) > 1  # n rows of one prompt are different samples


def test_completion_fields(ct2):
    rows = ct2.generate(PROMPTS, 3, SamplingParams(temperature=1.0, max_tokens=8, seed=0))
    assert [len(r) for r in rows] == [3, 3]
    for row in rows:
        for c in row:
            assert 1 <= c.num_tokens <= 8 and c.prompt_tokens > 0
            assert c.finish_reason == ("length" if c.num_tokens == 8 and not c.text.endswith("<eos>") else c.finish_reason)
            assert len(c.token_logprobs) == len(c.token_ends) == c.num_tokens
            assert all(lp <= 0 for lp in c.token_logprobs)
            assert c.logprob == pytest.approx(sum(c.token_logprobs))
            assert list(c.token_ends) == sorted(c.token_ends) and c.token_ends[-1] <= len(c.text)


def test_stop_string_cuts_text_and_row(ct2):
    free = ct2.generate(["7 + 1 ="], 1, SamplingParams(temperature=0.0, max_tokens=12))[0][0]
    if len(free.text) < 3:
        pytest.skip("the tiny model stops too early to test a stop string")
    stop = free.text[1:3]
    cut = ct2.generate(["7 + 1 ="], 1, SamplingParams(temperature=0.0, max_tokens=12, stop=(stop,)))[0][0]
    assert cut.text == free.text[:free.text.index(stop)]
    assert cut.finish_reason == "stop" and cut.num_tokens < free.num_tokens


def test_auto_backend_picks_ct2_for_the_default_model(tiny_folder):
    assert auto_backend(None) == auto_backend("smollm2") == auto_backend("/models/x.gguf") == "ct2"
    assert auto_backend(str(tiny_folder)) == "transformers"   # folders: --backend ct2 explicitly
    assert auto_backend("HuggingFaceTB/SmolLM2-135M-Instruct") == "transformers"


def test_build_generator_ct2_options(tiny_folder, cache, monkeypatch):
    monkeypatch.setenv("VERIFY_CACHE_DIR", str(cache))
    g = build_generator("ct2", str(tiny_folder), threads=1, chat=False)
    assert g.backend == "ct2" and not g.chat


SHARED = ["few shot: 1 + 1 = 2. 2 + 2 = 4. what is 2 + 3?", "few shot: 1 + 1 = 2. 2 + 2 = 4. 7 + 1 =",
          "few shot: 1 + 1 = 2. 2 + 2 = 4. 9 + 9 = ?", "few shot: 1 + 1 = 2. 2 + 2 = 4. 3 ="]


def test_parts_and_static_prompt_keep_greedy_output(tiny_folder, cache, ct2):
    """Prompts with a common prefix (the static prompt) in parts sampled side by side give the
    greedy texts of transformers, and of one engine with the prompts whole."""
    from verify.sampling.ct2_backend import CT2Generator
    from verify.sampling.transformers_backend import TransformersGenerator

    params = SamplingParams(temperature=0.0, max_tokens=12)
    texts = lambda rows: [[c.text for c in row] for row in rows]  # noqa: E731
    one = CT2Generator(str(tiny_folder), compute_type="float32", root=cache, chat=False, workers=1)
    hf = TransformersGenerator(str(tiny_folder), chat=False)
    assert texts(ct2.generate(SHARED, 2, params)) == texts(hf.generate(SHARED, 2, params))
    assert texts(one.generate(SHARED, 2, params)) == texts(ct2.generate(SHARED, 2, params))


def test_seeded_parts_are_reproducible_and_differ(ct2):
    """Each part of a chunk has its own seeded engine: the same call gives the same samples
    after other calls, and the two parts do not replay one random stream."""
    params = SamplingParams(temperature=1.0, max_tokens=10, seed=5)
    first = ct2.generate(SHARED, 4, params)
    ct2.generate(SHARED[:1], 4, params.replace(seed=6))
    assert [[c.text for c in r] for r in ct2.generate(SHARED, 4, params)] == [[c.text for c in r] for r in first]
    assert [c.seed for r in first for c in r] == [first[0][0].seed] * 16  # one chunk, one recorded seed
    lps = [tuple(c.token_logprobs) for r in first for c in r]
    assert len(set(lps)) == len(lps)


@pytest.mark.parametrize("lengths, parts, expected", [
    ([5, 3, 4], 2, [[1, 2], [0]]),
    ([7], 2, [[0]]),
    ([2, 2, 2, 2], 4, [[0], [1], [2], [3]]),
    ([9, 1, 9, 1, 5], 1, [[1, 3, 4, 0, 2]]),
    ([194, 210, 194, 212, 194, 211, 194, 211], 2, [[0, 2, 4, 6], [1, 5, 7, 3]]),  # the main job's first batch
])
def test_split_parts(lengths, parts, expected):
    from verify.sampling.ct2_backend import split_parts

    assert split_parts(lengths, parts) == expected


@pytest.mark.parametrize("seqs, expected", [
    ([["a", "b", "c"], ["a", "b", "d"]], 2),
    ([["a", "b"], ["a", "b", "c"]], 1),        # each keeps one token of its own
    ([["x"], ["x"]], 0),
    ([["a", "b"], ["c", "b"]], 0),
])
def test_common_prefix(seqs, expected):
    from verify.sampling.ct2_backend import common_prefix

    assert common_prefix(seqs) == expected


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="glibc's mallopt")
def test_keep_freed_memory_on_glibc():
    from verify.sampling.ct2_backend import keep_freed_memory

    assert keep_freed_memory() is True
