"""Hill estimator of the tail index of absolute returns.

With the non-zero absolute returns sorted in decreasing order X_(1) >= X_(2) >= ... >= X_(n) and k
the number of upper order statistics used,

    ξ̂_k = (1/k) sum_{i=1}^{k} ln X_(i) - ln X_(k+1),    α̂ = 1 / ξ̂_k,    se(α̂) = α̂ / sqrt(k)

(Hill 1975, *A simple general approach to inference about the tail of a distribution*, Annals of
Statistics 3(5); the asymptotic normality α̂ ~ N(α, α²/k) is Hall 1982, *On some simple estimates
of an exponent of regular variation*, JRSS B 44).

Rule for k (stated, fixed): k = floor(0.05 n), the top 5 % of the non-zero absolute returns, as in
the "inverse cubic law" studies of Gopikrishnan, Meyer, Amaral & Stanley (1998, *Inverse cubic law
for the distribution of stock price variations*, Eur. Phys. J. B 3). Zero returns (no mid change)
carry no tail information and are dropped first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_TAIL_FRACTION = 0.05


@dataclass(frozen=True)
class HillEstimate:
    alpha: float  #: tail index α̂
    se: float  #: α̂ / sqrt(k)
    k: int  #: upper order statistics used
    n: int  #: non-zero absolute returns available


def hill_k(n: int, fraction: float = DEFAULT_TAIL_FRACTION) -> int:
    """k = floor(fraction * n)."""
    return int(np.floor(fraction * n))


def hill_tail_index(returns: np.ndarray, fraction: float = DEFAULT_TAIL_FRACTION) -> HillEstimate:
    """α̂, se(α̂), k, n of |returns| (non-zero only) with k = floor(fraction n); needs k >= 1."""
    x = np.abs(np.asarray(returns, dtype=float))
    x = x[np.isfinite(x) & (x > 0)]
    n = int(x.size)
    k = hill_k(n, fraction)
    if k < 1 or k >= n:
        raise ValueError(f"Hill estimator needs floor({fraction} n) >= 1 non-zero returns; n = {n}")
    top = -np.partition(-x, k)[: k + 1]  # the k + 1 largest values, X_(k+1) at position k
    top.sort()
    top = top[::-1]
    xi = float(np.mean(np.log(top[:k])) - np.log(top[k]))
    alpha = 1.0 / xi
    return HillEstimate(alpha, float(alpha / np.sqrt(k)), k, n)
