"""maj@k for every k in 1..n: exact combinatorial estimator vs a 400-trial Monte-Carlo
resampler (the approach of OpenAI's PRM800K `eval/eval.py`: shuffle the samples, vote on
the first k, repeat 400 times, average).

Synthetic data with realistic answer spreads: each problem has a solve rate drawn from
Beta(1.2, 0.8) (heterogeneous difficulty), 1 + Poisson(4) distinct wrong answers with
Dirichlet(0.7) shares (some problems have one dominant wrong answer), and 3% of samples with
no answer. Answers are integer class ids (class 0 is correct).

Baselines, side by side in one run:
- `mc-numpy`: the resampler vectorised with numpy (argsort of random keys, bincount votes),
  the fastest form of that approach we could write; timed on all problems.
- `mc-python`: the PRM800K loop as written (random.shuffle, vote with
  `verify.select.aggregate.majority_vote` per trial), timed on a subset and scaled (labelled).

Run: python benchmarks/estimators.py [--problems 500 --samples 64 --trials 400]
"""
from __future__ import annotations

import argparse
import random
import time

import numpy as np

from verify.select.aggregate import majority_vote
from verify.select.estimators import majority_at_k


def synthetic(problems: int, n: int, seed: int) -> tuple[np.ndarray, int]:
    """(problems, n) class ids, -1 = no answer; class 0 is the correct one."""
    rng = np.random.default_rng(seed)
    out = np.empty((problems, n), dtype=np.int64)
    max_c = 1
    for p in range(problems):
        solve = rng.beta(1.2, 0.8)
        m = 1 + rng.poisson(4)
        wrong = rng.dirichlet(np.full(m, 0.7))
        probs = np.r_[0.97 * solve, 0.97 * (1 - solve) * wrong, 0.03]
        draw = rng.choice(m + 2, size=n, p=probs / probs.sum())
        out[p] = np.where(draw == m + 1, -1, draw)
        max_c = max(max_c, m + 1)
    return out, max_c


def exact_curves(labels: np.ndarray, max_c: int) -> np.ndarray:
    n = labels.shape[1]
    cc = np.zeros(max_c, dtype=bool)
    cc[0] = True
    return np.stack([majority_at_k(row, cc, range(1, n + 1)) for row in labels])   # (problems, n)


def mc_numpy(labels: np.ndarray, max_c: int, trials: int, seed: int, chunk: int = 25) -> np.ndarray:
    """(trials, n) accuracy of each trial at each k, PRM800K-style, vectorised."""
    rng = np.random.default_rng(seed)
    P, n = labels.shape
    C = max_c + 1                                   # column max_c collects abstainers
    acc = np.zeros((trials, n))
    for a in range(0, P, chunk):
        L = labels[a:a + chunk]                     # (p, n)
        p = L.shape[0]
        for k in range(1, n + 1):
            perm = np.argsort(rng.random((p, trials, n)), axis=2)[:, :, :k]     # (p, T, k)
            sub = np.take_along_axis(L[:, None, :].repeat(trials, 1), perm, axis=2)
            sub = np.where(sub < 0, max_c, sub)
            flat = (np.arange(p * trials)[:, None] * C + sub.reshape(p * trials, k)).ravel()
            cnt = np.bincount(flat, minlength=p * trials * C).reshape(p * trials, C)[:, :max_c]
            top = cnt.max(axis=1, keepdims=True)
            tied = (cnt == top) & (top > 0)
            pick = np.argmax(tied * rng.random(tied.shape), axis=1)             # random among tied
            win = (pick == 0) & tied[np.arange(p * trials), 0]
            acc[:, k - 1] += win.reshape(p, trials).sum(axis=0)
    return acc / P


def mc_python(labels: np.ndarray, trials: int, seed: int) -> np.ndarray:
    """The PRM800K loop as written, with our majority_vote: (trials, n) per-trial accuracy."""
    random.seed(seed)
    P, n = labels.shape
    rows = [[None if x < 0 else int(x) for x in row] for row in labels]
    acc = np.zeros((trials, n))
    for t in range(trials):
        for k in range(1, n + 1):
            ok = 0
            for row in rows:
                s = list(row)
                random.shuffle(s)
                v = majority_vote(s[:k])
                ok += v.answer == 0
            acc[t, k - 1] = ok / P
    return acc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", type=int, default=500)
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--trials", type=int, default=400)
    ap.add_argument("--python-problems", type=int, default=5, help="subset size for the pure-Python loop")
    ap.add_argument("--python-trials", type=int, default=20, help="trials timed for the pure-Python loop")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    labels, max_c = synthetic(args.problems, args.samples, args.seed)
    n = args.samples
    print(f"{args.problems} problems x {n} samples, {max_c - 1} wrong classes at most; maj@k for k = 1..{n}")

    t0 = time.perf_counter()
    exact = exact_curves(labels, max_c).mean(axis=0)          # (n,)
    t_exact = time.perf_counter() - t0

    t0 = time.perf_counter()
    mc = mc_numpy(labels, max_c, args.trials, args.seed + 1)   # (trials, n)
    t_mc = time.perf_counter() - t0

    sub = labels[:args.python_problems]
    t0 = time.perf_counter()
    mc_python(sub, args.python_trials, args.seed + 2)
    t_py = (time.perf_counter() - t0) * (args.problems / len(sub)) * (args.trials / args.python_trials)

    mc_mean = mc.mean(axis=0)
    mc_se = mc.std(axis=0, ddof=1) / np.sqrt(args.trials)     # standard error of the 400-trial mean
    dev = np.abs(mc_mean - exact)
    print()
    print(f"{'method':<34}{'time (s)':>10}{'vs exact':>10}   estimator error")
    print(f"{'exact (verify.select.estimators)':<34}{t_exact:>10.2f}{1.0:>10.1f}   0 (no sampling)")
    print(f"{'mc-numpy, ' + str(args.trials) + ' trials':<34}{t_mc:>10.2f}{t_mc / t_exact:>10.1f}   "
          f"SE mean {mc_se.mean():.5f}, max {mc_se.max():.5f}; max |mc - exact| {dev.max():.5f}")
    print(f"{'mc-python (PRM800K loop), scaled':<34}{t_py:>10.1f}{t_py / t_exact:>10.0f}   "
          f"(timed on {len(sub)} problems x {args.python_trials} trials)")
    print()
    print("k      exact   mc-numpy     |diff|   mc SE   |diff|/SE")
    for k in sorted({1, 2, 4, 8, 16, 32, n} & set(range(1, n + 1))):
        i = k - 1
        ratio = f"{dev[i] / mc_se[i]:>11.2f}" if mc_se[i] > 1e-12 else f"{'-':>11}"
        print(f"{k:<4}{exact[i]:>8.4f}{mc_mean[i]:>11.4f}{dev[i]:>11.5f}{mc_se[i]:>8.5f}{ratio}")
    within = float(np.mean(dev <= 1.96 * mc_se + 1e-12))
    print(f"\nMC mean within 1.96 SE of exact for {within:.0%} of the {n} values of k (about 95% expected)")


if __name__ == "__main__":
    main()
