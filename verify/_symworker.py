"""Worker process for the structural layer: reads JSON lines {"gold", "pred"}, writes verdicts.

Started by `verify.worker` as ``python -m verify._symworker``; it prints ``"ready"`` once its
imports are done, then answers one line per request until stdin closes.
"""
from __future__ import annotations

import json
import sys


def main() -> None:
    from verify.equivalence import structural_compare

    out = sys.stdout
    out.write('"ready"\n')
    out.flush()
    for line in sys.stdin:
        req = json.loads(line)
        equal, reason, method = structural_compare(req["gold"], req["pred"])
        out.write(json.dumps({"equal": equal, "reason": reason, "method": method}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
