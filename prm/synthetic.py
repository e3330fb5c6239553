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
import re
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


# --- a scripted world with known step labels, for `verify prm label` end to end ---
#
# A problem adds a few one-digit numbers; a trace states running totals one step each
# ("3+4=7", "7+2=9") and ends with "\boxed{9}". A wrong step is one to three too high (so two
# errors never cancel), and the trace goes on from its wrong value, so the Math-Shepherd label
# of a step is known exactly: 1 while every step so far is right, 0 from the first wrong step on. `chain_rollout` is the
# matching generator: it continues a prefix correctly from the last value it states.

_CHAIN_Q = re.compile(r"Add (\d+(?:, \d+)+)\.")
_CHAIN_STEP = re.compile(r"(\d+)\+(\d+)=(-?\d+)")


def make_chain_problems(n: int, *, seed: int = 0, min_terms: int = 3, max_terms: int = 5,
                        max_term: int = 9) -> list[dict]:
    """`n` problems "Add a, b, c." with their answers, as rows of a data file.

    >>> make_chain_problems(1, seed=2)
    [{'id': 'chain-0', 'question': 'Add 1, 1, 5.', 'answer': '7'}]
    """
    rng = random.Random(seed)
    out = []
    for i in range(n):
        terms = [rng.randint(0, max_term) for _ in range(rng.randint(min_terms, max_terms))]
        out.append({"id": f"chain-{i}", "question": f"Add {', '.join(map(str, terms))}.", "answer": str(sum(terms))})
    return out


def make_chain_traces(problems: list[dict], per_problem: int, *, seed: int = 0, error_rate: float = 0.25,
                      shifts: Sequence[int] = (1, 2, 3)) -> tuple[list[dict], list[list[int]]]:
    """Samples-file rows for `problems` and the true step labels of each row.

    A wrong step's result is too high by one of `shifts` (positive, so errors never cancel).

    >>> rows, labels = make_chain_traces([{"id": "c", "question": "Add 1, 2, 3.", "answer": "6"}], 1, seed=0)
    >>> rows[0]["text"].split("\\n\\n"), labels[0]
    (['1+2=3', '3+3=6', '\\\\boxed{6}'], [1, 1, 1])
    """
    rng = random.Random(seed)
    rows, labels = [], []
    for p in problems:
        terms = [int(x) for x in _CHAIN_Q.search(p["question"]).group(1).split(", ")]
        for j in range(per_problem):
            value, steps, ok, lab = terms[0], [], True, []
            for t in terms[1:]:
                right = value + t
                new = right + rng.choice(shifts) if rng.random() < error_rate else right
                ok = ok and new == right
                steps.append(f"{value}+{t}={new}")
                lab.append(int(ok))
                value = new
            steps.append(f"\\boxed{{{value}}}")
            lab.append(int(ok))
            rows.append({"problem_id": p["id"], "sample_index": j, "text": "\n\n".join(steps),
                         "answer": str(value)})
            labels.append(lab)
    return rows, labels


def chain_rollout(prompt: Any, n: int) -> list[str]:
    """Continue a chain prefix correctly from the last value it states (n identical rollouts).

    >>> chain_rollout("Add 1, 2, 3.\\n\\n1+2=4\\n\\n", 2)
    ['4+3=7\\n\\n\\\\boxed{7}', '4+3=7\\n\\n\\\\boxed{7}']
    """
    text = prompt if isinstance(prompt, str) else "\n".join(m["content"] for m in prompt)
    terms = [int(x) for x in _CHAIN_Q.search(text).group(1).split(", ")]
    done = _CHAIN_STEP.findall(text[_CHAIN_Q.search(text).end():])
    value = int(done[-1][2]) if done else terms[0]
    steps = []
    for t in terms[len(done) + 1:]:
        steps.append(f"{value}+{t}={value + t}")
        value += t
    steps.append(f"\\boxed{{{value}}}")
    return ["\n\n".join(steps)] * n
