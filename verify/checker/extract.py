"""Model text -> final answer string.

`extract_answer(text)` finds the final answer in a model response (or a gold field) by trying,
in this priority order, and returning the first that matches:

1. the LAST ``\\boxed{...}`` or ``\\fbox{...}`` (nested braces balanced; also ``\\boxed 5`` and the
   malformed ``\\beginboxed{..}``); boxes joined only by connectors (``\\boxed{2}, \\boxed{5}``)
   form one answer (`verify.checker.extract_multi`);
2. the last "the (final) answer is ..." (rest of that line; the math inside ``$...$`` if any);
3. the last GSM8K marker ``#### 42``;
4. the last "Answer: ..." line (also ``**Answer:** ...``), or a final line ``A: 18``;
5. a multiple-choice letter: "option (B)", "choice C", or a response that ends with ``(B)``;
6. the whole text, when it is short and reads as a bare answer (``9``, ``$9$``, ``10 square
   units``, ``x = 1, y = 2``) rather than prose (no prose words such as "the", "so", "is");
7. the value of the last sentence's inline math (a relation such as ``y \\geq 4`` whole) (``Therefore, $x = -\\frac{\\pi}{6}$.`` gives
   ``-\\frac{\\pi}{6}``), else the last number in the text (``-3``, ``1,000``, ``2.5``, ``3/4``, ``-\\frac{24}{25}``), unless
   ``fallback_last_number=False``.

The result is cleaned: surrounding ``$``, ``\\(..\\)``, ``\\[..\\]``, markdown ``**`` and a
trailing period are stripped. The rules follow the common practice of the MATH (Hendrycks et
al., 2021) and GSM8K (Cobbe et al., 2021) graders; nothing here evaluates the text.
"""
from __future__ import annotations

import re

from verify.checker.extract_multi import join_boxes, value_after_name

MAX_TEXT_CHARS = 200_000  # longer texts: only the tail is searched (final answers come last)

MAX_CLAUSE = 2000  # characters after "the answer is" that are searched
MAX_BOXES = 20  # only the last boxes are tried, so unclosed-brace floods stay linear
MAX_BOX_CHARS = 20_000
_BOX = re.compile(r"\\(?:begin)?(?:boxed|fbox)\b")  # \beginboxed{..}: a common malformation
_ANSWER_IS = re.compile(r"(?i)\banswer\s+is\b\s*:?[ \t]*([^\n]*)")
# the same markers in other languages, tried only on texts that can hold them (a slower scan)
_ANSWER_IS_INTL = re.compile(r"(?i)(?:\banswer\s+is\b|\bréponse\s+est\b|\brespuesta\s+es\b|\bantwort\s+ist\b)"
                             r"\s*:?[ \t]*([^\n]*)")
_HASHES = re.compile(r"####[ \t]*([^\n]*)")
_ANSWER_COLON = re.compile(r"(?i)\banswer\b\**[ \t]*[:：]\**[ \t]*([^\n]*)")
_ANSWER_COLON_INTL = re.compile(r"(?i)(?:\banswer\b|\bréponse\b|\brespuesta\b|\bantwort\b|\bответ\b|答案|最终答案)"
                                r"\**[ \t]*[:：]\**[ \t]*([^\n]*)")
_A_LINE = re.compile(r"(?m)^A:[ \t]*(\S(?:[^\n]*\S)?)\s*\Z")  # "Training Verifiers" GSM8K: a last line "A: 18"
_MC_WORD = re.compile(r"(?i)\b(?:option|choice)\s+(?:is\s+)?\(?([A-E])\)?(?![A-Za-z])")
_MC_END = re.compile(r"\(([A-E])\)\s*(?:\.\s*)?$")  # no two adjacent \s*: those were quadratic
_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+,\d{2}(?![\d,])|-?\d+(?:\.\d+)?(?:/\d+)?|-?\.\d+", re.A)
_LAST_NUMBER = re.compile(  # a LaTeX fraction of numbers is one number, not its denominator
    r"-?(?:\d+\s*)?\\[dt]?frac\s*(?:\{\s*\d+(?:\.\d+)?\s*\}|\d)\s*(?:\{\s*\d+(?:\.\d+)?\s*\}|\d)|"
    + _NUMBER.pattern, re.A)
_INLINE_MATH = re.compile(r"(?<!\\)\$\$?((?:\\.|[^$\\])+)\$\$?")  # \$ inside the math is a dollar sign
_PAREN_MATH = re.compile(r"\\\((.+?)\\\)")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_SENTENCE_END = re.compile(r"(?<![\d\\])\.(?:\s|$)|\.\s+(?=[A-Z])")
_PROSE = frozenset(
    "the is are was were so thus therefore hence we get answer final then which that this of "
    "to for since because find value let be have has it can must will there with "
    "from by as our us you equals gives given total number result i he she they his her their "
    "makes made needs costs spends pays earns gets got buys bought sold sells had every".split()
)
_WORD = re.compile(r"[A-Za-z]{2,}")
_TEXT_CMD = re.compile(r"\\[A-Za-z]+")


def _balanced(text: str, start: int) -> str | None:
    """Content of the brace group opening at text[start] == '{', or None if unclosed."""
    depth = 0
    for i in range(start, min(len(text), start + MAX_BOX_CHARS)):
        c = text[i]
        if c == "\\":
            continue
        if c == "{" and (i == 0 or text[i - 1] != "\\"):
            depth += 1
        elif c == "}" and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
    return None


def _boxes(text: str) -> list[tuple[int, int, str]]:
    """The last `MAX_BOXES` boxes of `text` as (start, end, content), in text order."""
    out = []
    for m in list(_BOX.finditer(text))[-MAX_BOXES:]:
        j = m.end()
        while j < len(text) and text[j] in " \t":
            j += 1
        if j < len(text) and text[j] == "{":
            inner = _balanced(text, j)
            if inner is not None:
                out.append((m.start(), j + len(inner) + 2, inner))
        elif j < len(text):
            tok = re.match(r"[^\s$]+", text[j:])
            if tok:
                out.append((m.start(), j + tok.end(), tok.group(0)))
    return out


def _last_boxed(text: str) -> str | None:
    """The final boxed answer; several boxes joined only by connectors form one answer
    (`verify.checker.extract_multi.join_boxes`)."""
    return join_boxes(text, _boxes(text))


def clean_answer(ans: str) -> str:
    """Strip math delimiters, markdown bold and a trailing period from an extracted answer.

    >>> clean_answer("$\\\\frac{1}{2}$.")
    '\\\\frac{1}{2}'
    """
    s = ans.strip()
    for _ in range(3):
        before = s
        s = s.strip().strip("*").strip()
        if s.endswith(".") and not s.endswith("\\."):
            s = s[:-1].rstrip()
        if len(s) >= 2 and s.startswith("$") and s.endswith("$"):
            s = s.strip("$")
        for a, b in (("\\(", "\\)"), ("\\[", "\\]")):
            if s.startswith(a) and s.endswith(b):
                s = s[len(a):-len(b)]
        if s == before:
            break
    return s.strip()


def _after_marker(rest: str) -> str:
    """The answer in the clause after "the answer is": its last inline math (``$..$``,
    ``\\(..\\)``) or bold span; else the clause itself if it reads as a bare answer; else the
    clause's last number; else the clause."""
    clause = _SENTENCE_END.split(rest[:MAX_CLAUSE], maxsplit=1)[0]
    found = list(_INLINE_MATH.finditer(clause)) or list(_PAREN_MATH.finditer(clause)) or list(_BOLD.finditer(clause))
    if found:
        last = found[-1]
        return value_after_name(clause, last.end(), last.group(1)) or last.group(1)
    cleaned = clean_answer(clause)
    if "=" in cleaned and cleaned.startswith("(") and (m := _ARITH_CHAIN.fullmatch(cleaned)):
        return m.group(1)  # (35 + 70 = 105): the result of the computation in brackets
    if _is_bare(cleaned):
        return cleaned
    nums = _LAST_NUMBER.findall(clause)
    return nums[-1] if nums else clause


_ARITH_CHAIN = re.compile(r"\(?[\d\s+\-*/×÷.,()]+=\s*(-?[\d.,]+)\s*\)?")
_FOREIGN = re.compile(r"[^\x00-\x7f°²³±×÷π√∞≤≥≠−·½]")


def _is_bare(text: str) -> bool:
    if "\n\n" in text:
        return False
    if not text.isascii() and len(text) > 6 and len(_FOREIGN.findall(text)) >= 2:
        return False  # prose in another script (Chinese, Arabic, Hindi, accented words): not a bare answer
    if "$" in text and any(w.lower() not in ("and", "or") for w in _WORD.findall(_INLINE_MATH.sub(" ", text))):
        return False  # "Special matrix: $M$", "$125$ miles": words outside the math (see _last_sentence_math)
    plain = re.sub(r"\\(?:text|mbox|textbf|mathrm|textrm|begin|end)\{[^{}]*\}", " ", text)
    plain = _TEXT_CMD.sub(" ", plain)
    words = [w.lower() for w in _WORD.findall(plain)]
    if len(text) > 300:  # a long answer is bare only if it is all math (no words at all)
        return not words
    if any(w in _PROSE for w in words):
        return False
    if re.search(r"[.!?]\s+[A-Z][a-z]", text):
        return False
    return len(words) <= 4


_MATH_WORD = re.compile(r"[A-Za-z]{3,}")
_NOT_A_VALUE = re.compile(r"[<>]|\\(?:le|ge|leq|geq|lt|gt|ne|neq|to|ldots|cdots|dots|approx|sim)(?![A-Za-z])")
_CALL = re.compile(r"[A-Za-z](?:_\{?\w+\}?)?\s*\([^()]*\)")
_VALUE = re.compile(r"\d|\\(?:infty|pi|emptyset|varnothing)")
# inline math whose closing $ is not followed by a digit or letter ("$41.472+$8.29" is money)
_FINAL_MATH = re.compile(r"(?<![\\$\w])\$((?:\\.|[^$\\])+)\$(?![\w$])")


def _math_value(span: str) -> str | None:
    """``\\theta = -\\frac{\\pi}{6}`` -> ``-\\frac{\\pi}{6}``; None for prose caught between two dollar signs."""
    if span != span.strip() and re.search(r"\s[A-Za-z]{2,}", span):  # "$5 and got $3": dollars, not math
        return None
    plain = _TEXT_CMD.sub(" ", re.sub(r"\\(?:text|mbox|mathrm|begin|end)\{[^{}]*\}", " ", span))
    if _MATH_WORD.search(plain):
        return None
    value = span.rsplit("=", 1)[-1].strip() if "=" in span and "\\begin" not in span else span.strip()
    if _is_relation(span):  # So $y \geq 4$ is the solution: the relation is the answer
        return span.strip()
    if _NOT_A_VALUE.search(value) or _CALL.fullmatch(value):  # p_n \to 1, 2, 5, \ldots, f(3)
        return None
    return value


_QUALIFIER = re.compile(r"(?i)\b(?:for|when|whenever|if|where|provided|holds|with|unless)\b")
_REL_OP = re.compile(r"<=|>=|!=|[<>]|\\(?:leqslant|geqslant|leq|geq|neq|le|ge|lt|gt|ne)(?![A-Za-z])")
_REL_NAME = re.compile(r"\s*(?:\\?[A-Za-z]+(?:_\{?\w{1,4}\}?)?|\|[A-Za-z]\||[A-Za-z]\([A-Za-z]\))\s*", re.A)


def _is_relation(span: str) -> bool:
    """``y \\geq 4``, ``1 < x \\le 3``, ``x \\neq 2``: a relation on one named unknown and values."""
    if "=" in _REL_OP.sub("", span) or re.search(r"\\(?:to|ldots|cdots|dots|sim|approx|in)(?![A-Za-z])", span):
        return False
    parts = _REL_OP.split(span)
    if len(parts) not in (2, 3) or not re.search(r"\d", span):
        return False
    names = [p for p in parts if _REL_NAME.fullmatch(p)]
    return len(names) == 1 and (len(parts) == 2 or _REL_NAME.fullmatch(parts[1]) is not None)


def _last_sentence_math(text: str) -> str | None:
    """The math of the last sentence (``Therefore, $x = -\\frac{24}{25}$.``): the value of its last
    inline formula that holds a number, or the values of ``$x = 3$, $x = 5$ and $x = 7$`` as the
    list ``3, 5, 7``. None when a number follows that formula (``the degree of $p(x)$ is 15``)."""
    tail = text.rstrip()[-MAX_CLAUSE:].rsplit("\n\n", 1)[-1]
    parts = [p for p in _SENTENCE_END.split(tail) if p.strip()]
    if not parts:
        return None
    sentence = parts[-1]
    found = list(_FINAL_MATH.finditer(sentence)) or list(_PAREN_MATH.finditer(sentence))
    found = [m for m in found if _VALUE.search(m.group(1))]  # $n$, $f(x)$, $M'$ name things
    if not found or len(found) > 10 or re.search(r"\d", sentence[found[-1].end():]):
        return None
    spans = [m.group(1) for m in found]
    values = [_math_value(sp) for sp in spans]
    if any(v is None or not v or v[-1] in "+-*/=^_" for v in values):
        return None
    if _is_relation(values[-1]) and _QUALIFIER.search(sentence[:found[-1].start()]):
        return None  # "it holds for all integers $m > 4$": a condition, not the answer
    heads = {sp.rsplit("=", 1)[0].strip() for sp in spans if "=" in sp}
    if len(spans) > 1 and len(heads) == 1 and all("=" in sp for sp in spans):
        return ", ".join(values)
    return values[-1]


def extract_answer(text: str, *, fallback_last_number: bool = True) -> str | None:
    """The final answer in `text`, or None when none is found (see module docstring for the order).

    >>> extract_answer("so the total is \\\\boxed{\\\\frac{1}{2}}. Done")
    '\\\\frac{1}{2}'
    >>> extract_answer("Natalia sold 48+24 = 72 clips.\\n#### 72")
    '72'
    >>> extract_answer("I think it is 5 or 6", fallback_last_number=False) is None
    True
    """
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    if len(text) > MAX_TEXT_CHARS:
        text = text[-MAX_TEXT_CHARS:]
    boxed = _last_boxed(text)
    if boxed is not None:
        return clean_answer(boxed)
    intl = not text.isascii() or "espuesta" in text or "ntwort" in text
    for pattern in ((_ANSWER_IS_INTL, _HASHES, _ANSWER_COLON_INTL, _A_LINE) if intl else
                    (_ANSWER_IS, _HASHES, _ANSWER_COLON, _A_LINE)):
        found = None
        for found in pattern.finditer(text):
            pass
        if found is not None:
            ans = clean_answer(_after_marker(found.group(1)))
            if ans:
                return ans
    found = None
    for found in _MC_WORD.finditer(text):
        pass
    if found is not None:
        return found.group(1)
    m = _MC_END.search(text)
    if m and len(text.strip()) > 3:
        return m.group(1)
    stripped = clean_answer(text)
    if stripped and _is_bare(stripped):
        return stripped
    if fallback_last_number:
        math = _last_sentence_math(text)
        if math is not None:
            return clean_answer(math)
        nums = _LAST_NUMBER.findall(text)
        if nums:
            return nums[-1]
    return None
