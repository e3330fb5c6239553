"""The math answer checker: model text -> answer -> tri-state `Verdict`.

    >>> from verify.checker import check, extract_answer
    >>> extract_answer("so the answer is \\\\boxed{\\\\frac{1}{2}}")
    '\\\\frac{1}{2}'
    >>> check("1/2", "0.5").equal
    True

Inside: extraction (`extract`), normalisation (`normalize`), numbers (`numeric`), the bounded
LaTeX parser (`latex_expr`, `mathparse`), tree evaluation (`treeval`, `treeval_mp`),
comparison (`compare`), the layered equivalence (`equivalence`), the hard-timeout worker
(`worker`, `_symworker`) with its exact sympy layer (`exact`), many pairs at once (`many`:
`check_many`) and batch checking of JSONL pairs (`batch`). Answer families: several boxes and
prose conclusions (`extract_multi`), spellings (`formats`), relations (`relations`), matrices
(`matrices`), sums and products (`bound`).
"""
from verify.checker.equivalence import DEFAULT_TIMEOUT, answer_key, check, compare_answers, equivalent
from verify.checker.extract import extract_answer
from verify.checker.many import Checked, check_many
from verify.records.types import Verdict

__all__ = ["DEFAULT_TIMEOUT", "Checked", "Verdict", "answer_key", "check", "check_many", "compare_answers", "equivalent",
           "extract_answer"]
