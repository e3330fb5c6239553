"""prm.specs.encode against hand-written token maps, one per spec, with a word-level tokenizer."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest

tokenizers = pytest.importorskip("tokenizers")
transformers = pytest.importorskip("transformers")

from prm.specs import (SPECS, StepTagSpec, encode, get_spec, label_token_ids, load_spec, render,
                       save_spec)
from verify.errors import UnknownSpecError

WORDS = ["<pad>", "<unk>", "<s>", "\n", "ки", "+", "-", "=", "<", ">", "|", "user", "assistant",
         "system", "<extra_0>", "Q", "a", "b", "c", "1", "2", "3", "S"]
V = {w: i for i, w in enumerate(WORDS)}
CHAT = "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"


def word_tokenizer(chat_template: str | None = None, bos: bool = False):
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(V, unk_token="<unk>"))
    # spaces vanish, newlines and punctuation are tokens of their own: easy to read by hand
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r" +"), "removed"),
        pre_tokenizers.Split(Regex(r"\n|[^\w\s]"), "isolated")])
    if bos:
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A", special_tokens=[("<s>", V["<s>"])])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>",
                                   bos_token="<s>", additional_special_tokens=["<extra_0>"])
    if chat_template:
        fast.chat_template = chat_template
    return fast


def ids(*words):
    return tuple(V[w] for w in words)


def test_math_shepherd_token_map():
    tok = word_tokenizer(bos=True)
    e = encode("math-shepherd", tok, "Q", ["1+2=3", "a"], labels=[1, 0])
    assert e.input_ids == ids("<s>", "Q", "1", "+", "2", "=", "3", "ки", "\n", "a", "ки")
    assert e.tag_positions == (7, 10)
    assert e.labels == (1.0, 0.0)
    assert not e.truncated
    assert label_token_ids(get_spec("math-shepherd"), tok) == (V["+"], V["-"])


def test_token_cls_token_map():
    tok = word_tokenizer()
    e = encode("token-cls", tok, "Q", ["a", "b c", "1"], labels=[1, 1, 0])
    assert e.input_ids == ids("Q", "\n", "a", "\n", "b", "c", "\n", "1", "\n")
    assert e.tag_positions == (3, 6, 8)
    assert e.labels == (1.0, 1.0, 0.0)


def test_qwen_prm_token_map():
    tok = word_tokenizer(CHAT)
    spec = replace(get_spec("qwen-prm"), system="S")
    e = encode(spec, tok, "Q", ["a", "b"])
    assert e.input_ids == ids("<", "system", ">", "S", "\n",
                              "<", "user", ">", "Q", "\n",
                              "<", "assistant", ">", "a", "<extra_0>", "b", "<extra_0>", "\n")
    assert e.tag_positions == (14, 16)
    assert e.labels is None


def test_qwen_prm_keeps_its_system_prompt():
    text, spans = render(get_spec("qwen-prm"), word_tokenizer(CHAT), "Q", ["a", "b"])
    assert text.startswith("<system>Please reason step by step, and put your final answer within "
                           "\\boxed{}.\n<user>Q\n<assistant>a<extra_0>b<extra_0>")
    assert [text[s:e] for s, e in spans] == ["<extra_0>", "<extra_0>"]


def test_rlhflow_token_map_reads_before_the_plus():
    tok = word_tokenizer(CHAT)
    e = encode("rlhflow", tok, "Q", ["a", "b"], labels=[0, 1])
    assert e.input_ids == ids("<", "user", ">", "Q", "a", "\n", "<", "assistant", ">", "+", "\n",
                              "<", "user", ">", "b", "\n", "<", "assistant", ">", "+", "\n")
    # position 8 is the ">" that predicts the first "+", position 18 the one before the second
    assert e.tag_positions == (8, 18)
    assert [e.input_ids[p + 1] for p in e.tag_positions] == [V["+"], V["+"]]
    assert e.labels == (0.0, 1.0)


def test_chat_spec_without_template_uses_the_fallback():
    tok = word_tokenizer()  # no chat template
    text, spans = render(get_spec("rlhflow"), tok, "Q", ["a"])
    assert text == "<|user|>\nQ a\n<|assistant|>\n+\n"
    assert [text[s:e] for s, e in spans] == ["+"]


def test_truncation_drops_steps_and_says_so():
    tok = word_tokenizer()
    e = encode("token-cls", tok, "Q", ["a", "b c", "1"], labels=[1, 0.5, 0], max_length=5)
    assert e.input_ids == ids("Q", "\n", "a", "\n", "b")
    assert e.tag_positions == (3,)
    assert e.labels == (1.0,)
    assert e.truncated


def test_nan_labels_pass_through_and_bad_labels_fail():
    tok = word_tokenizer()
    e = encode("token-cls", tok, "Q", ["a", "b"], labels=[float("nan"), 1])
    assert math.isnan(e.labels[0]) and e.labels[1] == 1.0
    with pytest.raises(ValueError, match="outside"):
        encode("token-cls", tok, "Q", ["a", "b"], labels=[2, 1])
    with pytest.raises(ValueError, match="2 labels for 1 steps"):
        encode("token-cls", tok, "Q", ["a"], labels=[1, 1])


def test_tag_merged_with_next_text_is_refused():
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<unk>": 0, "Q": 1, "a": 2, "\n": 3, "\na": 4}
    t = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    t.pre_tokenizer = pre_tokenizers.Split(Regex(r"\na|\n|a|Q"), "isolated")
    tok = PreTrainedTokenizerFast(tokenizer_object=t, unk_token="<unk>")
    with pytest.raises(ValueError, match="merges with the text after it"):
        encode("token-cls", tok, "Q", ["a", "a"])


def test_registry_and_spec_file_round_trip(tmp_path):
    assert set(SPECS) == {"math-shepherd", "qwen-prm", "rlhflow", "token-cls"}
    with pytest.raises(UnknownSpecError, match="did you mean 'qwen-prm'"):
        get_spec("qwen_prm")
    spec = replace(get_spec("math-shepherd"), head="cls")
    save_spec(spec, tmp_path)
    assert load_spec(tmp_path) == spec
    assert load_spec(tmp_path / "nowhere") is None
    with pytest.raises(ValueError):
        StepTagSpec(name="x", head="regression", layout="plain", step_tag="|")


def test_no_steps_gives_no_tags_in_every_layout():
    for name in SPECS:
        e = encode(name, word_tokenizer(CHAT), "Q", [])
        assert e.tag_positions == () and len(e.input_ids) > 0
