"""Worker process for batch checking: reads JSON lines {"pairs": [[gold, pred], ...], "timeout": t}.

Started by `verify.rewards.pool` as ``python -m verify.rewards._batchworker`` (a plain child
process, not multiprocessing: no pickling, no re-import of the caller's ``__main__``, safe to
start from any thread). It prints ``"ready"`` once its imports are done, then answers one line
per request, ``{"verdicts": [[equal, reason, method, gold_answer, pred_answer], ...]}``, until
stdin closes. Each check keeps its own hard timeout (`verify.checker.worker`).
"""
from __future__ import annotations

import json
import sys


def main() -> None:
    from verify.checker.equivalence import check

    check("x^2-1", "(x-1)(x+1)", timeout=None)  # warm up: import the structural layer before the first batch
    out = sys.stdout
    out.write('"ready"\n')
    out.flush()
    for line in sys.stdin:
        req = json.loads(line)
        timeout = req.get("timeout")
        verdicts = []
        for gold, pred in req["pairs"]:
            v = check(gold, pred, timeout=timeout)
            verdicts.append([v.equal, v.reason, v.method, v.gold_answer, v.pred_answer])
        out.write(json.dumps({"verdicts": verdicts}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
