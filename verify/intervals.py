"""Confidence intervals for a share of successes: the one Wilson score interval of the project.

Wilson, E. B. (1927), "Probable inference, the law of succession, and statistical inference",
JASA 22(158): the interval of p whose score test at level 95% does not reject, which (unlike
the normal interval p ± z·sqrt(p(1-p)/n)) stays inside [0, 1] and is not degenerate at 0/n or n/n.

n = 0 (no observations) answers (0.0, 1.0): nothing is known, so every share is possible. It is
printable and valid JSON, where NaN is neither.
"""
from __future__ import annotations

import math

Z95 = 1.959963984540054  # two-sided 95% standard normal quantile


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes out of n; (0.0, 1.0) when n = 0.

    >>> tuple(round(x, 3) for x in wilson(8, 10))
    (0.49, 0.943)
    >>> wilson(0, 0)
    (0.0, 1.0)
    """
    if n == 0:
        return (0.0, 1.0)
    if not 0 <= k <= n:
        raise ValueError(f"wilson needs 0 <= k <= n, got k={k}, n={n}")
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, mid - half), min(1.0, mid + half))
