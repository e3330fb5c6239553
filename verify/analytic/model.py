"""Analytic models of majority voting: binomial, plurality over spread wrong answers, and
heterogeneity across problems.

Three models, each a strict generalisation of the one before:

1. **Binomial majority** (Condorcet's jury theorem; the textbook self-consistency argument,
   Wang et al. 2022, arXiv:2203.11171). N independent samples, each correct with probability
   p, one wrong answer::

       P(N, p) = sum_{k > N/2} C(N,k) p^k (1-p)^(N-k)  +  w * C(N,N/2) (p(1-p))^(N/2) [N even]

   with the tie weight w = 1/2 (`random`), 0 (`strict`) or 1 (`at-least-half`).

2. **Plurality** over spread wrong answers: the correct answer has probability p, the wrong
   mass (1-p) is split over wrong answers with a fixed relative profile pi_1..pi_m (uniform
   over m, geometric, explicit weights, or `math.inf` = every wrong answer distinct), and an
   optional share of the wrong mass abstains (no answer; it never wins). The correct answer
   wins when its count c beats every wrong answer's count. Because the wrong samples are
   multinomial(N-c, pi) whatever p is::

       P(win) = sum_c Binom(c; N, p) * g(c),   g(c) = E[ tie-weight | c correct of N ]

   and g is computed exactly by dynamic programming over the wrong answers one at a time
   (each takes a Binomial share of the samples still unassigned; the state is the number of
   samples assigned and the number of wrong answers tied with c). No simulation.

3. **Heterogeneity**: each problem has its own p_i ~ Beta(a, b) (mean mu = a/(a+b),
   concentration phi = a+b). Averaging the binomial over the Beta gives the beta-binomial,
   so predicted maj@N is exact, with no quadrature::

       maj@N = sum_c BetaBinom(c; N, a, b) * g(c)

   Small phi (below 1) means a U-shaped spread: most problems are almost always or almost
   never solved, so voting recovers much less than the pooled binomial promises. Fitting
   lives in `verify.analytic.fit`.

Tie policies, for all models: `random` (uniform among tied top answers; the expectation of
`verify.select.aggregate.majority_vote(tie="random")`), `strict` (a tie loses) and
`at-least-half` (a tie for the top wins; for two answers: at least N/2 votes).
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Sequence

import numpy as np
from scipy.stats import betabinom, binom

TIES = ("random", "strict", "at-least-half")
DISTINCT = math.inf  # `wrong=DISTINCT`: no two wrong samples ever agree
MAX_N = 512          # the DP costs ~m N^2 vector operations: N=64 takes 0.15 s, N=256 3 s


def _check_ties(ties: str) -> None:
    if ties not in TIES:
        raise ValueError(f"unknown tie policy {ties!r}; known: {', '.join(TIES)}")


def _tie_weight(ties: str) -> float:
    return {"random": 0.5, "strict": 0.0, "at-least-half": 1.0}[ties]


def majority_accuracy(p, n, ties: str = "random"):
    """Probability that a majority of n binary votes (each correct w.p. p) is correct.

    Vectorised: `p` and `n` broadcast (numpy rules); returns a float for scalar inputs.
    Formula: P(K > n/2) + w * P(K = n/2), K ~ Binomial(n, p), w set by `ties`.

    >>> round(majority_accuracy(0.71, 8), 3)
    0.887
    >>> majority_accuracy([0.4, 0.6], [[1], [3]], ties="strict").round(3).tolist()
    [[0.4, 0.6], [0.352, 0.648]]
    """
    _check_ties(ties)
    p_arr = np.asarray(p, dtype=float)
    n_arr = np.asarray(n)
    if np.any((p_arr < 0) | (p_arr > 1)):
        raise ValueError("p must lie in [0, 1]")
    if np.any(n_arr < 1) or not np.all(np.equal(np.mod(n_arr, 1), 0)):
        raise ValueError("n must be a positive integer")
    n_arr = n_arr.astype(int)
    half = n_arr // 2
    above = binom.sf(half, n_arr, p_arr)                       # P(K > floor(n/2))
    tie = np.where(n_arr % 2 == 0, binom.pmf(half, n_arr, p_arr), 0.0)
    out = above + _tie_weight(ties) * tie
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- wrong-answer spread

def geometric_profile(ratio: float, m: int) -> np.ndarray:
    """Relative shares of m wrong answers, each `ratio` times the one before (sums to 1).

    A small ratio puts most wrong mass on one "trap" answer.

    >>> geometric_profile(0.5, 3).round(3).tolist()
    [0.571, 0.286, 0.143]
    """
    if not 0 < ratio <= 1 or m < 1:
        raise ValueError("need 0 < ratio <= 1 and m >= 1")
    w = ratio ** np.arange(m)
    return w / w.sum()


def _profile_key(wrong) -> tuple:
    """Hashable canonical form of a wrong-answer spread: ("distinct",) or sorted weights."""
    if isinstance(wrong, (int, float, np.integer, np.floating)) and not isinstance(wrong, bool):
        if math.isinf(wrong):
            return ("distinct",)
        if wrong < 1 or wrong != int(wrong):
            raise ValueError(f"number of wrong answers must be a positive integer or inf, got {wrong!r}")
        return tuple([1.0 / int(wrong)] * int(wrong))
    w = np.asarray(wrong, dtype=float).ravel()
    if w.size == 0 or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError("wrong-answer weights must be non-negative, finite and not all zero")
    w = np.sort(w[w > 0])[::-1] / w.sum()
    return tuple(float(x) for x in w)


def plurality_table(n: int, wrong=1, ties: str = "random", abstain: float = 0.0) -> np.ndarray:
    """g[c] for c = 0..n: chance the correct answer wins given c of n samples are correct.

    `wrong`: number m of equally likely wrong answers, `math.inf` (all distinct) or a
    sequence of relative weights; `abstain`: share of the non-correct samples that give no
    answer (they never win and never block).

    >>> plurality_table(4, wrong=1).tolist()   # two answers: 2-2 is a coin flip
    [0.0, 0.0, 0.5, 1.0, 1.0]
    >>> plurality_table(3, wrong=math.inf, ties="strict").tolist()
    [0.0, 0.0, 1.0, 1.0]
    """
    _check_ties(ties)
    if not 0 <= abstain <= 1:
        raise ValueError("abstain must lie in [0, 1]")
    if int(n) != n or n < 1 or n > MAX_N:
        raise ValueError(f"n must be an integer in 1..{MAX_N}")
    return _table(int(n), _profile_key(wrong), ties, float(abstain)).copy()


@lru_cache(maxsize=512)
def _table(n: int, key: tuple, ties: str, abstain: float) -> np.ndarray:
    g = np.zeros(n + 1)
    for c in range(1, n + 1):
        g[c] = _win_given_c(c, n - c, key, ties, abstain)
    return g


def _win_given_c(c: int, k: int, key: tuple, ties: str, abstain: float) -> float:
    """Expected tie-weighted win for the correct answer with c votes, k other samples."""
    if k == 0:
        return 1.0
    if key == ("distinct",):
        if c >= 2:
            return 1.0
        # c == 1: every wrong sample is a distinct answer with one vote; j of them tie.
        j = np.arange(k + 1)
        pj = binom.pmf(j, k, 1.0 - abstain)
        w = np.where(j == 0, 1.0, {"random": 1.0 / (1 + j), "strict": 0.0 * j,
                                   "at-least-half": 1.0 + 0.0 * j}[ties])
        return float((pj * w).sum())
    if c > k:  # no wrong answer can reach c
        return 1.0
    if abstain == 0.0 and len(key) * c < k:  # pigeonhole: some wrong answer has more than c
        return 0.0
    weights = [abstain] + [(1.0 - abstain) * x for x in key]
    tmax = min(len(key), k // c)
    f = np.zeros((k + 1, tmax + 1))                            # (assigned samples, tied answers)
    f[0, 0] = 1.0
    remaining = 1.0
    for j, wj in enumerate(weights):
        if j == 0 and wj == 0.0:
            continue
        last = j == len(weights) - 1
        rho = 1.0 if last or remaining <= 0 else min(1.0, wj / remaining)
        remaining -= wj
        cap = k if j == 0 else c                               # abstentions are unconstrained
        width = min(cap, k) + 1
        left = k - np.arange(k + 1)                            # samples still unassigned
        pw = binom.pmf(np.arange(width)[None, :], left[:, None], rho)  # (k+1, width)
        live = np.flatnonzero(f.any(axis=1))
        top = live.max() if live.size else 0
        nf = np.zeros_like(f)
        for w in range(width):
            hi = min(top, k - w) + 1                           # rows s with s + w <= k
            contrib = f[:hi] * pw[:hi, w, None]
            if j > 0 and w == c:
                nf[w:w + hi, 1:] += contrib[:, :-1]
            else:
                nf[w:w + hi] += contrib
        f = nf
    end = f[k]                                                 # all k samples assigned
    t = np.arange(tmax + 1)
    if ties == "random":
        return float((end / (1.0 + t)).sum())
    if ties == "strict":
        return float(end[0])
    return float(end.sum())


def plurality_accuracy(p, n: int, wrong=1, ties: str = "random", abstain: float = 0.0):
    """Probability that plurality voting over n samples picks the correct answer.

    Vectorised over `p`. `wrong=1` reproduces `majority_accuracy`; more (or `math.inf`)
    wrong answers let the correct answer win below p = 1/2.

    >>> round(plurality_accuracy(0.3, 8, wrong=10), 3)
    0.573
    >>> bool(np.isclose(plurality_accuracy(0.71, 8), majority_accuracy(0.71, 8)))
    True
    """
    g = plurality_table(n, wrong, ties, abstain)
    p_arr = np.asarray(p, dtype=float)
    if np.any((p_arr < 0) | (p_arr > 1)):
        raise ValueError("p must lie in [0, 1]")
    c = np.arange(n + 1)
    out = (binom.pmf(c, n, p_arr[..., None]) * g).sum(-1)
    return float(out) if out.ndim == 0 else out


def beta_params(mean, concentration):
    """(a, b) of the Beta with this mean and concentration a + b.

    >>> beta_params(0.25, 4.0)
    (1.0, 3.0)
    """
    mean = np.asarray(mean, dtype=float)
    a, b = mean * concentration, (1.0 - mean) * concentration
    return (float(a), float(b)) if np.ndim(a) == 0 else (a, b)


def heterogeneous_accuracy(mean, concentration: float, n: int, wrong=1, ties: str = "random",
                           abstain: float = 0.0):
    """Predicted maj@n averaged over problems with p_i ~ Beta(mean, concentration).

    Exact: sum_c BetaBinom(c; n, a, b) g(c). `concentration=math.inf` gives the pooled
    model (every problem has p = mean). Vectorised over `mean`.

    >>> round(heterogeneous_accuracy(0.71, 0.5, 64, wrong=32), 3)
    0.87
    >>> round(heterogeneous_accuracy(0.71, math.inf, 64), 3)
    1.0
    """
    if math.isinf(concentration):
        return plurality_accuracy(mean, n, wrong, ties, abstain)
    if not concentration > 0:
        raise ValueError("concentration must be > 0")
    g = plurality_table(n, wrong, ties, abstain)
    m = np.asarray(mean, dtype=float)
    if np.any((m < 0) | (m > 1)):
        raise ValueError("mean must lie in [0, 1]")
    a, b = m * concentration, (1.0 - m) * concentration
    c = np.arange(n + 1)
    pmf = np.where((m == 0)[..., None], (c == 0).astype(float),
                   np.where((m == 1)[..., None], (c == n).astype(float),
                            betabinom.pmf(c, n, np.maximum(a, 1e-300)[..., None],
                                          np.maximum(b, 1e-300)[..., None])))
    out = (pmf * g).sum(-1)
    return float(out) if out.ndim == 0 else out


def posterior_accuracy(correct: Sequence[int], seen: Sequence[int], a: float, b: float, n: int,
                       wrong=1, ties: str = "random", abstain: float = 0.0) -> np.ndarray:
    """Per-problem predicted maj@n given `correct` of `seen` samples and a Beta(a, b) prior.

    Each problem's p_i has posterior Beta(a + correct, b + seen - correct); its maj@n is
    the beta-binomial average of g. Average the result for a benchmark-level prediction.

    >>> posterior_accuracy([4, 0], [4, 4], 0.5, 0.5, 8, wrong=math.inf).round(3).tolist()
    [0.998, 0.231]
    """
    g = plurality_table(n, wrong, ties, abstain)
    cor = np.asarray(correct, dtype=float)
    tot = np.asarray(seen, dtype=float)
    if np.any(cor < 0) or np.any(cor > tot):
        raise ValueError("need 0 <= correct <= seen")
    c = np.arange(n + 1)
    pmf = betabinom.pmf(c, n, (a + cor)[:, None], (b + tot - cor)[:, None])
    return (pmf * g).sum(-1)


def sampling_se(accuracy, n_problems: int):
    """Binomial standard error of an accuracy measured on `n_problems` problems.

    >>> round(sampling_se(0.8, 30), 4)
    0.073
    """
    acc = np.asarray(accuracy, dtype=float)
    out = np.sqrt(acc * (1 - acc) / n_problems)
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- when voting pays

def voting_gain(p, n: int, wrong=1, concentration: float = math.inf, ties: str = "random",
                abstain: float = 0.0):
    """Accuracy gained by maj@n over a single sample (maj@1 = p), vectorised over `p`.

    `p` is the mean per-sample accuracy; with a finite `concentration`, problems differ
    (Beta prior) and the gain shrinks.

    >>> round(voting_gain(0.4, 8, wrong=1), 3), round(voting_gain(0.4, 8, wrong=math.inf), 3)
    (-0.11, 0.505)
    """
    out = np.asarray(heterogeneous_accuracy(p, concentration, n, wrong, ties, abstain)) - np.asarray(p, dtype=float)
    return float(out) if out.ndim == 0 else out


def pays_range(n: int, min_gain: float, wrong=1, concentration: float = math.inf,
               ties: str = "random", abstain: float = 0.0, grid: int = 1001) -> tuple[float, float] | None:
    """The interval of p where maj@n beats one sample by at least `min_gain` (None if nowhere).

    The gain is unimodal in p for these models, so the set is one interval (read off a grid
    of `grid` points).

    >>> lo, hi = pays_range(8, 0.05, wrong=1); round(lo, 3), round(hi, 3)
    (0.543, 0.949)
    """
    p = np.linspace(0.0, 1.0, grid)
    ok = voting_gain(p, n, wrong, concentration, ties, abstain) >= min_gain
    if not ok.any():
        return None
    idx = np.flatnonzero(ok)
    return float(p[idx[0]]), float(p[idx[-1]])
