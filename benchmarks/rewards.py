"""Rewards per second: `verify.rewards` against TRL's Math-Verify-based `accuracy_reward`.

Responses: the 800 Qwen2.5-Math MATH responses of ../shared/data/qwen25math_rm_maj_example
(100 problems x 8 samples, gold answer `gt`, Qwen's own grading in `score`), read at run time;
the script exits cleanly when the folder is absent. Completions are passed in TRL's
conversational form (``[{"role": "assistant", "content": text}]``) to both rewards.

Rows, all on the same responses in one run:
- ours, in-process (``jobs=1``); ours with 2 checking processes (``jobs=2``, `verify.rewards.pool`);
  the checker's own `check_many(pairs, jobs=2)` (2 threads, structural work in worker processes); ours through
  `verify serve` (a subprocess on 127.0.0.1 with ``--jobs 2``, batches of 64 per request);
- TRL's ``trl.rewards.accuracy_reward`` (Math-Verify ``parse``/``verify``);
each from the main thread (one call on the whole list) and from 8 threads (the list split in
8 parts, one call per thread, as a trainer's reward workers would). Off the main thread TRL
turns Math-Verify's timeouts off (signal.alarm works only on the main thread), so its 8-thread
row runs without any timeout; ours keeps its hard timeout everywhere.
Each row runs once on a small warm-up slice first (imports, worker start-up); a timed run
scores the responses `--repeat` times over, and the time is the median of `--rounds` runs. Ratios are ours / TRL in rewards per second (> 1: ours is faster).
Agreement: both rewards against each other and against Qwen's grading, with a 95% Wilson
interval; an undecided (None) reward counts as a disagreement.

    python benchmarks/rewards.py [--limit N] [--rounds R] [--repeat K]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import http.client
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "qwen25math_rm_maj_example" / "math_cot_100.jsonl"
BATCH = 64


def load(limit: int | None) -> tuple[list, list, list]:
    completions, golds, labels = [], [], []
    with open(DATA, encoding="utf-8") as f:
        for line in f:
            obj = json.loads(line)
            for text, ok in zip(obj["code"], obj["score"]):
                completions.append([{"role": "assistant", "content": text}])
                golds.append(obj["gt"])
                labels.append(bool(ok))
    if limit:
        completions, golds, labels = completions[:limit], golds[:limit], labels[:limit]
    return completions, golds, labels


class ServerReward:
    """`verify serve` as a reward: POST /get_reward in batches (a subprocess on loopback)."""

    def __init__(self, jobs: int = 2) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.token = "bench-token"
        self.log = tempfile.TemporaryFile("w+")
        env = {**os.environ, "VERIFY_SERVE_TOKEN": self.token}
        self.proc = subprocess.Popen([sys.executable, "-m", "verify", "serve", "--port", str(self.port), "--jobs",
                                      str(jobs), "--max-concurrency", "8"], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        for _ in range(300):
            try:
                if self._post("GET", "/health", None)["status"] == "ok":
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("verify serve did not start")

    def _post(self, method: str, path: str, body) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body),
                         headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def __call__(self, completions, solution, **kw) -> list:
        out = []
        for i in range(0, len(completions), BATCH):
            texts = [c[-1]["content"] for c in completions[i:i + BATCH]]
            body = {"query": texts, "prompts": [""] * len(texts), "labels": solution[i:i + BATCH]}
            out += self._post("POST", "/get_reward", body)["rewards"]
        return out

    def close(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)


class CheckManyReward:
    """The same reward on `verify.checker.check_many` (threads, structural work in worker processes)."""

    def __call__(self, completions, solution, **kw) -> list:
        from verify.checker import check_many
        from verify.rewards.core import RewardValues

        values = RewardValues()
        pairs = [(g, c[-1]["content"]) for g, c in zip(solution, completions)]
        return [values.of(r.verdict) for r in check_many(pairs, jobs=2)]


def run(fn, completions, golds, threads: int) -> list:
    if threads == 1:
        return fn(completions, solution=golds)
    size = -(-len(completions) // threads)
    parts = [(completions[i:i + size], golds[i:i + size]) for i in range(0, len(completions), size)]
    results: list = [None] * len(parts)

    def work(k):
        results[k] = fn(parts[k][0], solution=parts[k][1])

    ts = [threading.Thread(target=work, args=(k,)) for k in range(len(parts))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return [r for part in results for r in part]


def timed(fn, completions, golds, threads: int, rounds: int) -> tuple[float, list]:
    run(fn, completions[:16], golds[:16], threads)  # warm-up: imports, worker start-up
    times, out = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = run(fn, completions, golds, threads)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def wilson(k: int, n: int) -> str:
    from verify.checker.batch import wilson as w

    lo, hi = w(k, n)
    return f"{k / n:.3f} (n={n}, 95% CI {lo:.3f}-{hi:.3f})" if n else "n=0"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="use the first N responses (default: all 800)")
    ap.add_argument("--rounds", type=int, default=3, help="timed runs per row (the median is shown)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="each timed run scores the responses this many times over (steadier timings)")
    args = ap.parse_args()
    if not DATA.is_file():
        print(f"skipped: {DATA} is not present")
        return
    import logging

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    from verify.rewards import make_accuracy_reward

    completions, golds, labels = load(args.limit)
    n_unique = len(completions)
    completions, golds = completions * args.repeat, golds * args.repeat
    try:
        from trl.rewards import accuracy_reward as trl_reward
    except ImportError:
        trl_reward = None
        print("TRL is not installed (pip install 'ttc-verify[rl]'): its rows are left out")
    server = ServerReward(jobs=2)
    rows, outputs = [], {}
    try:
        candidates = [("ours, in-process", make_accuracy_reward(jobs=1)),
                      ("ours, 2 processes", make_accuracy_reward(jobs=2)),
                      ("ours, check_many(jobs=2)", CheckManyReward()),
                      ("ours, verify serve --jobs 2", server)]
        if trl_reward is not None:
            candidates.append(("TRL accuracy_reward (Math-Verify)", trl_reward))
        for threads in (1, 8):
            for name, fn in candidates:
                secs, out = timed(fn, completions, golds, threads, args.rounds)
                rows.append((name, threads, secs))
                outputs[(name, threads)] = out
                print(f"  {name:<36} {threads} thread(s): {len(completions) / secs:8.1f} rewards/s", file=sys.stderr)
    finally:
        server.close()
    n = len(completions)
    print(f"{n_unique} responses (Qwen2.5-Math on MATH, {DATA.parent.name}), scored {args.repeat} times over "
          f"per run ({n} rewards); median of {args.rounds} runs\n")
    print("| reward | threads | seconds | rewards/s | ours / TRL |")
    print("|---|---:|---:|---:|---:|")
    base = {t: s for name, t, s in rows if name.startswith("TRL")}
    for name, threads, secs in rows:
        ratio = f"{base[threads] / secs:.2f}x" if threads in base and not name.startswith("TRL") else ""
        print(f"| {name} | {threads} | {secs:.2f} | {n / secs:.1f} | {ratio} |")
    outputs = {key: out[:n_unique] for key, out in outputs.items()}
    n = n_unique
    ours = outputs[("ours, in-process", 1)]
    print()
    for (name, threads), out in outputs.items():
        if name.startswith("ours") and out != ours:
            diff = sum(a != b for a, b in zip(out, ours))
            print(f"note: {name} with {threads} thread(s) differs from in-process on {diff} responses")
    print(f"ours: correct {ours.count(1.0)}, wrong or no answer {ours.count(0.0)}, undecided {ours.count(None)}")
    print("ours vs Qwen's grading:", wilson(sum(r == float(lab) for r, lab in zip(ours, labels)), n))
    if trl_reward is not None:
        for threads in (1, 8):
            theirs = outputs[("TRL accuracy_reward (Math-Verify)", threads)]
            print(f"TRL ({threads} thread(s)) vs Qwen's grading:",
                  wilson(sum(r == float(lab) for r, lab in zip(theirs, labels)), n))
        theirs = outputs[("TRL accuracy_reward (Math-Verify)", 1)]
        print("ours vs TRL (same reward):", wilson(sum(a == b for a, b in zip(ours, theirs)), n))


if __name__ == "__main__":
    main()
