"""A synthetic step-labelled arithmetic task, and the tiny char-level models that learn it.

Each example asks for a few one-digit sums (optionally differences); each step states one of
them (``3+5=8``; operands and results are digits 0-9). A step is labelled correct (1.0) when its
stated result is right and wrong (0.0) when the result is off by 1 to 3. Correctness is a function of the step's own characters, so a
2-layer transformer with a char-level tokenizer can learn it in a minute or two on a CPU: that
makes it a real end-to-end check that the trainer puts its loss at the right positions (a model
trained on misaligned labels stays at chance). Measured: a random-init Llama (hidden 64,
2 layers, 8 heads) trained on 3000 examples for 705 steps reaches held-out step AUROC
0.96-0.999 over three seeds; with 4 heads, or with differences mixed in, 0.70-0.98 (see
tests/test_prm_train_cli.py and docs/sections/prm_models.md).

The tiny-model helpers build random-init Llama or Qwen2 models (hidden 64, 2 layers by
default) and a char-level ``PreTrainedTokenizerFast`` over a fixed alphabet, for tests and
benchmarks that cannot download anything.

>>> ex = make_arith_examples(2, seed=1)
>>> len(ex), all(len(e.steps) == len(e.labels) for e in ex)
(2, True)
"""
from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any, Sequence

from prm.formats import StepExample

# printable ASCII, newline, and the Cyrillic letters of Math-Shepherd's "ки" tag
ALPHABET = string.ascii_letters + string.digits + string.punctuation + " \n" + "ки"
SPECIAL_TOKENS = ("<pad>", "<unk>", "<s>", "<extra_0>")


def make_arith_examples(n: int, *, seed: int = 0, min_steps: int = 2, max_steps: int = 5,
                        error_rate: float = 0.35, max_value: int = 9, ops: str = "+",
                        list_ops: bool = False) -> list[StepExample]:
    """`n` examples of one-digit arithmetic steps, each wrong with probability `error_rate`.

    Operands and results stay in ``0..max_value``; a wrong step's result is off by 1 to 3.
    ``ops="+-"`` mixes in differences (harder: a 2-layer model needs more steps); with
    ``list_ops=True`` the question lists the operations (longer inputs, slower training).

    >>> make_arith_examples(1, seed=3)[0]
    StepExample(question='Compute:', steps=('5+4=9', '9+0=9', '4+4=9'), labels=(1.0, 1.0, 0.0))
    """
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(min_steps, max_steps)
        asked, steps, labels = [], [], []
        for _ in range(k):
            op = rng.choice(ops)
            a = rng.randint(0, max_value)
            b = rng.randint(0, max_value - a) if op == "+" else rng.randint(0, a)
            value = a + b if op == "+" else a - b
            wrong = rng.random() < error_rate
            if wrong:
                shifts = [d for d in (-3, -2, -1, 1, 2, 3) if 0 <= value + d <= max_value]
                value += rng.choice(shifts)
            asked.append(f"{a}{op}{b}")
            steps.append(f"{a}{op}{b}={value}")
            labels.append(0.0 if wrong else 1.0)
        question = f"Compute {', '.join(asked)}." if list_ops else "Compute:"
        out.append(StepExample(question, tuple(steps), tuple(labels)))
    return out


def write_plain_jsonl(path: "str | Path", examples: Sequence[StepExample]) -> Path:
    """Write examples in the ``plain`` format that ``prm.formats`` reads back."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as f:
        for e in examples:
            f.write(json.dumps({"question": e.question, "steps": list(e.steps),
                                "labels": list(e.labels)}) + "\n")
    return path


def char_tokenizer(alphabet: str = ALPHABET) -> Any:
    """A char-level fast tokenizer: one token per character, plus <pad>/<unk>/<s>/<extra_0>.

    >>> tok = char_tokenizer()
    >>> tok.convert_ids_to_tokens(tok("1+2")["input_ids"])
    ['1', '+', '2']
    """
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
    for ch in alphabet:
        vocab.setdefault(ch, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), "isolated")
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>",
                                   bos_token="<s>", additional_special_tokens=["<extra_0>"])


def tiny_config(kind: str, vocab_size: int, *, hidden: int = 64, layers: int = 2, heads: int = 4,
                max_positions: int = 512, init_range: float = 0.02) -> Any:
    """A random-init Llama or Qwen2 config of the given size."""
    from transformers import LlamaConfig, Qwen2Config

    cls = {"llama": LlamaConfig, "qwen2": Qwen2Config}[kind]
    return cls(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=hidden * 2,
               num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
               max_position_embeddings=max_positions, pad_token_id=0, bos_token_id=2,
               eos_token_id=2, tie_word_embeddings=False, initializer_range=init_range)


def save_tiny_model(out_dir: "str | Path", *, kind: str = "llama", head: str = "lm",
                    hidden: int = 64, layers: int = 2, heads: int = 4, seed: int = 0,
                    spec: Any = None, init_range: float = 0.02) -> Path:
    """Save a random-init tiny model and the char tokenizer to `out_dir` (and its spec, if given).

    `head` "lm" saves a causal LM, "cls" a 2-label token classifier. A larger `init_range`
    spreads the random scores out (useful when a test compares scores position by position).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForTokenClassification

    tok = char_tokenizer()
    cfg = tiny_config(kind, len(tok), hidden=hidden, layers=layers, heads=heads,
                      init_range=init_range)
    torch.manual_seed(seed)
    if head == "lm":
        model = AutoModelForCausalLM.from_config(cfg)
    else:
        cfg.num_labels = 2
        model = AutoModelForTokenClassification.from_config(cfg)
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    if spec is not None:
        from prm.specs import get_spec, save_spec, with_head

        save_spec(with_head(get_spec(spec), head), out_dir)
    return out_dir
