"""Worker process for the structural layer: reads JSON lines {"gold", "pred"}, writes verdicts.

Started by `verify.worker` as ``python -m verify._symworker``; it prints ``"ready"`` once its
imports are done, then answers one line per request until stdin closes. A request
{"sleep": seconds} only sleeps (a test hook for the timeout machinery).
"""
from __future__ import annotations

import json
import sys
import time


def main() -> None:
    from verify.equivalence import structural_compare

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
        equal, reason, method = structural_compare(req["gold"], req["pred"])
        out.write(json.dumps({"equal": equal, "reason": reason, "method": method}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
