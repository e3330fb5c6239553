"""Unbiased estimators of pass@k, maj@k, best-of-k and weighted-vote@k from n >= k samples.

Each estimator is the exact expectation, over all C(n, k) k-subsets of a problem's n
recorded samples, of what the aggregator would score on that subset; averaging over
problems gives an unbiased estimate of the accuracy with k fresh samples (the same
construction as Chen et al. 2021's pass@k, arXiv:2107.03374, applied to every method).

- pass@k:  1 - C(n-c, k) / C(n, k)  (Chen et al.), computed as a stable product.
- best-of-k: order the answering samples by score (ties: see below). The sample of rank r
  (r samples ranked above it) is the one chosen from a k-subset with probability
  C(n-1-r, k-1) / C(n, k). Abstainers (no answer / unfinished) are never chosen.
  O(n log n + n·K) per problem for K values of k.
- maj@k: expectation under *uniform random tie-breaking* (equal to the expectation of the
  "first vote wins" rule, since sample order is exchangeable). For a correct class c with
  n_c votes, the subsets where c takes j votes and wins are counted with a generating
  function over the other classes: classes with fewer than j votes (and abstainers) are
  unconstrained, binomial (1+z)^S; a class with n_o >= j contributes
  sum_{i<j} C(n_o,i) z^i + x·C(n_o,j) z^j, where x marks a tie; a subset with m tied
  rivals counts 1/(m+1). All k are read off the same polynomial. Cost per problem is
  O(sum_j B_j · j · n · B_j) for B_j classes with >= j votes, i.e. at most O(n^2 C^2) and in
  practice a few hundred small convolutions. Exact in float64 for n <= 1000; above that
  it falls back to Monte-Carlo with a reported standard error.
- weighted-vote@k: no closed form is known to us for real-valued weights; the exact
  expectation is computed by enumerating all k-subsets when C(n,k) <= `max_enum`
  (default 20,000), otherwise by seeded Monte-Carlo over random k-subsets, and the
  standard error of that estimate is returned (never hidden).

Score ties in best-of-k: `tie="random"` gives each tied top sample equal chance (the
expected accuracy under random tie-breaking); `tie="first"` picks the lowest sample index,
as `verify.select.aggregate.best_of` does.

95% confidence intervals: percentile bootstrap over problems (seeded), `bootstrap_ci`.
"""
from __future__ import annotations

import math
from itertools import combinations
from typing import Sequence

import numpy as np

MAX_EXACT_N = 1000  # C(n, k) stays inside float64 up to about n = 1020


def _comb_row(n: int, ks: np.ndarray) -> np.ndarray:
    """C(n, k) as floats for an array of k (0 outside 0..n)."""
    out = np.zeros(len(ks), dtype=float)
    for i, k in enumerate(np.asarray(ks)):
        if 0 <= k <= n:
            out[i] = float(math.comb(n, int(k)))
    return out


def _binom_poly(n: int, upto: int | None = None) -> np.ndarray:
    m = n if upto is None else min(n, upto)
    return np.array([float(math.comb(n, i)) for i in range(m + 1)])


def _check_k(n: int, ks: Sequence[int]) -> np.ndarray:
    ks = np.atleast_1d(np.asarray(ks, dtype=np.int64))
    if ks.size and (ks.min() < 1 or ks.max() > n):
        raise ValueError(f"k must be in 1..n={n}, got {ks.tolist()}")
    return ks


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chen et al. unbiased pass@k: 1 - C(n-c, k)/C(n, k).

    >>> pass_at_k(8, 1, 1), round(pass_at_k(8, 1, 4), 3), pass_at_k(8, 0, 8)
    (0.125, 0.5, 0.0)
    """
    _check_k(n, [k])
    if n - c < k:
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def majority_at_k(labels: np.ndarray, class_correct: np.ndarray, ks: Sequence[int]) -> np.ndarray:
    """Exact E[maj@k correct] over all k-subsets, random tie-breaking; one value per k.

    `labels`: (n,) class id per sample, -1 abstains; `class_correct`: (C,) bool.

    >>> majority_at_k(np.array([0, 0, 1]), np.array([True, False]), [1, 2, 3]).round(4).tolist()
    [0.6667, 0.6667, 1.0]
    """
    labels = np.asarray(labels)
    n = len(labels)
    ks = _check_k(n, ks)
    if n > MAX_EXACT_N:
        raise ValueError(f"exact maj@k supports n <= {MAX_EXACT_N}; use majority_at_k_mc")
    C = len(class_correct)
    counts = np.bincount(labels[labels >= 0], minlength=C)
    n_abstain = n - int(counts.sum())
    from scipy.signal import convolve2d  # here, not at import: scipy.signal costs ~1.3 s to import

    total = np.zeros(n + 1)  # index k: number of k-subsets won by a correct class (tie-weighted)
    for c in np.flatnonzero(np.asarray(class_correct, dtype=bool)):
        n_c = int(counts[c])
        if n_c == 0:
            continue
        others = np.delete(counts, c)
        others = others[others > 0]
        for j in range(1, n_c + 1):
            big = others[others >= j]
            free = n_abstain + int(others[others < j].sum())
            cap = n - j + 1  # subset sizes left for the others: 0..n-j
            A = np.ones((1, 1))  # (size, tied rivals)
            for n_o in big:
                K = np.zeros((j + 1, 2))
                K[:j, 0] = _binom_poly(int(n_o), j - 1)
                K[j, 1] = math.comb(int(n_o), j)
                A = convolve2d(A, K)[:cap]
            w = (A / np.arange(1, A.shape[1] + 1)).sum(axis=1)  # a tie with m rivals wins 1/(m+1)
            W = np.convolve(w, _binom_poly(free, cap - 1))[:cap]
            total[j:j + len(W)] += math.comb(n_c, j) * W
    return total[ks] / _comb_row(n, ks)


def _ranked(scores: np.ndarray, answered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Answering samples in (score desc, index asc) order, and their scores (nan -> -inf)."""
    idx = np.flatnonzero(answered)
    s = np.where(np.isnan(scores[idx]), -np.inf, scores[idx])
    order = np.lexsort((idx, -s))
    return idx[order], s[order]


def best_of_k(scores: np.ndarray, answered: np.ndarray, correct: np.ndarray, ks: Sequence[int],
              *, tie: str = "random") -> np.ndarray:
    """Exact E[best-of-k correct] over all k-subsets; one value per k.

    `scores` (n,) with nan = no score (ranks last); `answered` (n,) bool (abstainers are never
    chosen); `correct` (n,) bool per sample.

    >>> best_of_k(np.array([0.9, 0.5, 0.1]), np.ones(3, bool), np.array([False, True, True]), [1, 2, 3]).round(4).tolist()
    [0.6667, 0.3333, 0.0]
    """
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    ks = _check_k(n, ks)
    order, s = _ranked(scores, np.asarray(answered, dtype=bool))
    corr = np.asarray(correct, dtype=bool)[order]
    denom = _comb_row(n, ks)
    acc = np.zeros(len(ks))
    if tie == "first":
        for r in np.flatnonzero(corr):
            acc += _comb_row(n - 1 - r, ks - 1)
        return acc / denom
    if tie != "random":
        raise ValueError(f"unknown tie rule {tie!r}: 'random' or 'first'")
    start = 0
    while start < len(s):
        stop = start + 1
        while stop < len(s) and s[stop] == s[start]:
            stop += 1
        t, c_g = stop - start, int(corr[start:stop].sum())
        if c_g:
            p_top = _comb_row(n - start, ks) - _comb_row(n - start - t, ks)
            acc += p_top * c_g / t
        start = stop
    return acc / denom


def _subset_votes(labels: np.ndarray, weights: np.ndarray, class_correct: np.ndarray,
                  subsets: np.ndarray) -> np.ndarray:
    """Tie-weighted correctness of a (weighted) vote on each row of `subsets` (M, k)."""
    C = len(class_correct)
    M = subsets.shape[0]
    lab = labels[subsets]                                  # (M, k)
    w = weights[subsets]
    col = np.where(lab >= 0, lab, C)                       # abstainers -> dummy column C
    flat = (np.arange(M)[:, None] * (C + 1) + col).ravel()
    W = np.bincount(flat, weights=w.ravel(), minlength=M * (C + 1)).reshape(M, C + 1)[:, :C]
    cnt = np.bincount(flat, minlength=M * (C + 1)).reshape(M, C + 1)[:, :C]
    present = cnt > 0
    Wp = np.where(present, W, -np.inf)
    top = Wp.max(axis=1, keepdims=True)
    tied = present & (Wp == top)
    n_tied = tied.sum(axis=1)
    win = (tied & np.asarray(class_correct, bool)[None, :]).sum(axis=1)
    return np.where(n_tied > 0, win / np.maximum(n_tied, 1), 0.0)


def _random_subsets(rng: np.random.Generator, n: int, k: int, trials: int) -> np.ndarray:
    return np.argsort(rng.random((trials, n)), axis=1)[:, :k]


def vote_at_k(labels: np.ndarray, weights: np.ndarray | None, class_correct: np.ndarray, k: int,
              *, max_enum: int = 20_000, trials: int = 2_000,
              rng: np.random.Generator | None = None) -> tuple[float, float, bool]:
    """E[(weighted) vote@k correct] with random tie-breaking: `(mean, std_error, exact)`.

    Exact by enumerating all k-subsets when C(n,k) <= max_enum, else Monte-Carlo over
    `trials` random k-subsets (std_error > 0). `weights=None` is a plain majority vote.

    >>> vote_at_k(np.array([0, 1, 1]), np.array([0.9, 0.3, 0.4]), np.array([True, False]), 3)
    (1.0, 0.0, True)
    """
    labels = np.asarray(labels)
    n = len(labels)
    _check_k(n, [k])
    w = np.ones(n) if weights is None else np.nan_to_num(np.asarray(weights, float), nan=0.0)
    if math.comb(n, k) <= max_enum:
        subsets = np.array(list(combinations(range(n), k)), dtype=np.int64).reshape(-1, k)
        return float(_subset_votes(labels, w, class_correct, subsets).mean()), 0.0, True
    rng = rng if rng is not None else np.random.default_rng(0)
    v = _subset_votes(labels, w, class_correct, _random_subsets(rng, n, k, trials))
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(trials)), False


def bootstrap_ci(values: Sequence[float], *, n_boot: int = 2000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean over problems (seeded).

    >>> lo, hi = bootstrap_ci([0, 1] * 50)
    >>> 0.38 < lo < 0.42 and 0.58 < hi < 0.62
    True
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    step = max(1, 2_000_000 // max(v.size, 1))  # bound memory: resample in chunks
    for a in range(0, n_boot, step):
        b = min(n_boot, a + step)
        means[a:b] = v[rng.integers(0, v.size, size=(b - a, v.size))].mean(axis=1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return float(lo), float(hi)
