"""Step-tag specs: how each PRM family lays out steps, where it reads a score, and how.

A process reward model (PRM; Lightman et al. 2023, "Let's Verify Step by Step") gives every
reasoning step a probability of being correct. Public PRMs disagree on the layout:

- ``math-shepherd`` (Wang et al. 2024, Math-Shepherd): ``question + " " + step_1 + " ки\\n" + ...``;
  a causal LM reads the logits of the label tokens ``+``/``-`` at each ``ки`` tag and the step
  probability is ``softmax([l+, l-])[0]``.
- ``qwen-prm`` (Zhang et al. 2025, Qwen2.5-Math-PRM): chat template with a system prompt, the
  steps joined in one assistant message, ``<extra_0>`` after each step; a 2-class head and
  ``p = softmax(logits)[..., 1]`` at each ``<extra_0>``.
- ``rlhflow`` (Xiong et al. 2024, RLHFlow PRM): each step is a user turn and the assistant answers
  ``+``; the score is read at the token *before* ``+`` (the one that predicts it).
- ``token-cls`` (TRL's PRMTrainer ``tokenize_row``): ``question + "\\n" + step + "\\n" + ...``, a
  token-classification head with 2 labels read at each separator.

One pure function, :func:`encode`, maps ``(question, steps, labels)`` to token ids, the positions
where scores are read, and the labels at those positions. Training and scoring both call it, so the
step split cannot drift between them. The text is tokenised whole (as the models were trained),
and tag positions are found through the tokenizer's character offsets (a fast tokenizer is needed).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Sequence

from verify.errors import InputError, UnknownSpecError

SPEC_FILE = "prm_spec.json"  # written next to a trained model; read by the scorer

# Used when a chat spec meets a tokenizer without a chat template (e.g. a base model being trained).
FALLBACK_CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
)

_SENTINEL = "\ue000{}\ue001"  # private-use characters: never produced by a tokenizer's template


@dataclass(frozen=True)
class StepTagSpec:
    """How one PRM family joins, tags and scores steps.

    >>> get_spec("math-shepherd").step_tag
    ' ки'
    """

    name: str
    head: str                      # "lm": label-token logits; "cls": 2-class token head
    layout: str                    # "plain": one text; "chat-steps": steps in one assistant turn;
                                   # "chat-turns": each step a user turn, the tag an assistant turn
    step_tag: str                  # text after each step (or the assistant turn's content)
    read_offset: int = 0           # 0: score read at the tag's last token; -1: at the token before it
    question_sep: str = " "        # plain layout: between the question and the first step
    step_joiner: str = ""          # between one step's tag and the next step
    system: str | None = None      # chat layouts: optional system message
    positive_token: str = "+"      # lm head: token meaning "step is correct"
    negative_token: str = "-"      # lm head: token meaning "step is wrong"
    positive_token_id: int | None = None  # override when the token text is ambiguous in a vocab
    negative_token_id: int | None = None
    add_special_tokens: bool = True  # plain layout: let the tokenizer add BOS etc.

    def __post_init__(self) -> None:
        if self.head not in ("lm", "cls"):
            raise ValueError(f"head must be 'lm' or 'cls', not {self.head!r}")
        if self.layout not in ("plain", "chat-steps", "chat-turns"):
            raise ValueError(f"unknown layout {self.layout!r}")
        if self.read_offset not in (0, -1):
            raise ValueError("read_offset must be 0 or -1")
        if not self.step_tag.strip() and self.step_tag != "\n":
            raise ValueError("step_tag must contain a visible character or be '\\n'")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StepTagSpec":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


SPECS: dict[str, StepTagSpec] = {
    "math-shepherd": StepTagSpec(
        name="math-shepherd", head="lm", layout="plain", step_tag=" ки",
        question_sep=" ", step_joiner="\n"),
    "qwen-prm": StepTagSpec(
        name="qwen-prm", head="cls", layout="chat-steps", step_tag="<extra_0>",
        system="Please reason step by step, and put your final answer within \\boxed{}."),
    "rlhflow": StepTagSpec(
        name="rlhflow", head="lm", layout="chat-turns", step_tag="+", read_offset=-1),
    "token-cls": StepTagSpec(
        name="token-cls", head="cls", layout="plain", step_tag="\n", question_sep="\n"),
}


def get_spec(name: "str | StepTagSpec") -> StepTagSpec:
    """Look up a registered spec by name (a spec passes through unchanged).

    >>> get_spec("qwen-prm").head
    'cls'
    """
    if isinstance(name, StepTagSpec):
        return name
    if name in SPECS:
        return SPECS[name]
    import difflib
    close = difflib.get_close_matches(name, SPECS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UnknownSpecError(f"unknown PRM spec {name!r}; known: {', '.join(SPECS)}{hint}")


def save_spec(spec: StepTagSpec, model_dir: "str | Path") -> Path:
    """Write ``prm_spec.json`` into a model directory."""
    path = Path(model_dir) / SPEC_FILE
    path.write_text(json.dumps(spec.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_spec(model_dir: "str | Path") -> StepTagSpec | None:
    """Read ``prm_spec.json`` from a model directory; None when there is none."""
    path = Path(model_dir) / SPEC_FILE
    if not path.is_file():
        return None
    try:
        return StepTagSpec.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as e:
        raise InputError(f"bad PRM spec file: {e}", path=str(path)) from None


@dataclass(frozen=True)
class Encoded:
    """Token ids of one (question, steps) pair and where its step scores are read.

    ``labels[i]`` belongs to ``tag_positions[i]`` (NaN: no loss there); None when no labels were given.
    """

    input_ids: tuple[int, ...]
    tag_positions: tuple[int, ...]
    labels: tuple[float, ...] | None = None
    truncated: bool = False  # max_length cut the text: some steps have no tag position


def label_token_ids(spec: StepTagSpec, tokenizer: Any) -> tuple[int, int]:
    """The (positive, negative) label token ids of an lm-head spec in this tokenizer."""
    out = []
    for text, override in ((spec.positive_token, spec.positive_token_id),
                           (spec.negative_token, spec.negative_token_id)):
        if override is not None:
            out.append(int(override))
            continue
        ids = tokenizer.encode(text, add_special_tokens=False)
        # sentencepiece vocabularies may put a bare "▁" piece first; the label is the last piece
        visible = [i for i in ids if tokenizer.decode([i]).strip()]
        if len(visible) != 1:
            raise ValueError(f"label token {text!r} is not a single token in this tokenizer "
                             f"(ids {ids}); set positive_token_id/negative_token_id in the spec")
        out.append(visible[0])
    if out[0] == out[1]:
        raise ValueError("positive and negative label tokens map to the same id")
    return out[0], out[1]


def render(spec: StepTagSpec, tokenizer: Any, question: str,
           steps: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """The model input text and the character span of each step's tag in it.

    >>> render(get_spec("math-shepherd"), None, "Q?", ["a", "b"])
    ('Q? a ки\\nb ки', [(4, 7), (9, 12)])
    """
    if spec.layout == "plain":
        parts = [question, spec.question_sep]
        spans = []
        pos = len(question) + len(spec.question_sep)
        for i, step in enumerate(steps):
            if i:
                parts.append(spec.step_joiner)
                pos += len(spec.step_joiner)
            parts.append(step)
            pos += len(step)
            spans.append((pos, pos + len(spec.step_tag)))
            parts.append(spec.step_tag)
            pos += len(spec.step_tag)
        return "".join(parts), spans

    sentinels = [_SENTINEL.format(i) for i in range(len(steps))]
    messages = [{"role": "system", "content": spec.system}] if spec.system else []
    if spec.layout == "chat-steps":
        content = "".join(step + s for step, s in zip(steps, sentinels))
        messages += [{"role": "user", "content": question},
                     {"role": "assistant", "content": content}]
    elif not steps:  # chat-turns with nothing to score: the question alone
        messages.append({"role": "user", "content": question})
    else:  # chat-turns: the first user turn carries the question, as RLHFlow's PRM expects
        for i, (step, s) in enumerate(zip(steps, sentinels)):
            text = f"{question} {step}" if i == 0 else step
            messages += [{"role": "user", "content": text}, {"role": "assistant", "content": s}]
    template = getattr(tokenizer, "chat_template", None) or FALLBACK_CHAT_TEMPLATE
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False,
                                         chat_template=template)
    spans = []
    out = []
    cursor = 0
    length = 0
    for s in sentinels:
        at = text.find(s, cursor)
        if at < 0:
            raise ValueError(f"the chat template of spec {spec.name!r} dropped or changed a step "
                             "tag; tags cannot be located")
        out.append(text[cursor:at])
        length += at - cursor
        spans.append((length, length + len(spec.step_tag)))
        out.append(spec.step_tag)
        length += len(spec.step_tag)
        cursor = at + len(s)
    out.append(text[cursor:])
    return "".join(out), spans


def encode(spec: "StepTagSpec | str", tokenizer: Any, question: str, steps: Sequence[str],
           labels: Sequence[float] | None = None, max_length: int | None = None) -> Encoded:
    """Token ids, score-read positions and per-step labels for one trace (pure; no model).

    The text is tokenised in one piece; the position of step i is the token that covers the last
    character of its tag (``read_offset=-1``: the token before that). With ``max_length`` the ids
    are cut on the right and steps whose position falls outside are dropped (``truncated=True``);
    a scorer must then refuse, since it would return fewer scores than steps.

    >>> from prm.specs import encode, get_spec  # doctest: +SKIP
    >>> encode(get_spec("token-cls"), tok, "Q", ["a", "b"], labels=[1, 0])  # doctest: +SKIP
    Encoded(input_ids=(11, 3, 12, 3, 13, 3), tag_positions=(3, 5), labels=(1.0, 0.0), truncated=False)
    """
    spec = get_spec(spec)
    if labels is not None and len(labels) != len(steps):
        raise ValueError(f"{len(labels)} labels for {len(steps)} steps")
    text, spans = render(spec, tokenizer, question, steps)
    add_special = spec.add_special_tokens if spec.layout == "plain" else False
    enc = tokenizer(text, add_special_tokens=add_special, return_offsets_mapping=True)
    ids = list(enc["input_ids"])
    offsets = enc["offset_mapping"]
    owner = [-1] * len(text)  # char index -> token index
    for t, (s, e) in enumerate(offsets):
        for c in range(s, e):
            if owner[c] < 0:
                owner[c] = t
    positions = []
    for i, (s, e) in enumerate(spans):
        t = owner[e - 1] if e > s else -1
        if t < 0:
            raise ValueError(f"step {i}: the tag {spec.step_tag!r} is not covered by any token "
                             "(the tokenizer drops it)")
        if offsets[t][1] > e:
            raise ValueError(f"step {i}: the tag {spec.step_tag!r} merges with the text after it "
                             f"into one token; scores would differ between prefixes and full traces")
        positions.append(t + spec.read_offset)
    out_labels = None if labels is None else [float(x) for x in labels]
    truncated = False
    if max_length is not None and len(ids) > max_length:
        truncated = True
        ids = ids[:max_length]
        keep = [k for k, p in enumerate(positions) if p < max_length]
        positions = [positions[k] for k in keep]
        if out_labels is not None:
            out_labels = [out_labels[k] for k in keep]
    for lab in out_labels or ():
        if not (math.isnan(lab) or 0.0 <= lab <= 1.0):
            raise ValueError(f"label {lab} is outside [0, 1]")
    return Encoded(tuple(ids), tuple(positions),
                   None if out_labels is None else tuple(out_labels), truncated)


def with_head(spec: StepTagSpec, head: str | None) -> StepTagSpec:
    """The same layout read by another head ("lm" or "cls"; None keeps the spec's)."""
    if head is None or head == spec.head:
        return spec
    return replace(spec, head=head)
