"""Worker process for the structural layer: reads JSON lines {"gold", "pred"}, writes verdicts.

Here the structural layer also has its slow last step, arbitrary-range evaluation with mpmath
(`verify.checker.treeval_mp`), for values beyond double precision.

Started by `verify.checker.worker` as ``python -m verify.checker._symworker``; it prints ``"ready"`` once its
imports are done, then answers one line per request until stdin closes. A request
{"sleep": seconds} only sleeps (a test hook for the timeout machinery).
"""
from __future__ import annotations

import json
import sys
import time


def main() -> None:
    import os
    import signal

    from verify.checker.worker import PARENT_ENV, die_with_parent
    die_with_parent(int(os.environ.get(PARENT_ENV) or 0))  # never outlive the process that asked
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: no traceback here
    from verify.checker import exact
    from verify.checker.equivalence import structural_compare
    from verify.checker.treeval_mp import HIGH_RANGE

    HIGH_RANGE.set(True)  # this process is single-threaded: mpmath's global context is safe here
    out = sys.stdout
    out.write('"ready"\n')
    out.flush()
    for line in sys.stdin:
        req = json.loads(line)
        if "sleep" in req:  # test hook: a request that is slow on purpose, to exercise the timeout
            time.sleep(min(float(req["sleep"]), 60.0))
            out.write('{"equal": null, "reason": "slept", "method": "sleep"}\n')
            out.flush()
            continue
        exact.LAST.clear()
        exact.SYMPY_DEADLINE.set(time.monotonic() + float(req.get("budget", exact.DEFAULT_BUDGET)))
        equal, reason, method = structural_compare(req["gold"], req["pred"])
        if exact.LAST:  # the exact layer took part: say so (benchmarks count these)
            reason, method = reason + " (" + exact.LAST[-1] + ")", "exact"
        out.write(json.dumps({"equal": equal, "reason": reason, "method": method}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
