"""GARCH(1,1) on rescaled returns (volatility clustering and its persistence).

r_t = μ + ε_t,  ε_t = σ_t z_t,  z_t ~ N(0, 1),  σ_t² = ω + α ε_{t-1}² + β σ_{t-1}²

(Bollerslev 1986, *Generalized autoregressive conditional heteroskedasticity*, J. Econometrics
31), fitted by Gaussian quasi-maximum likelihood with ``arch``'s ``arch_model``. Returns are
multiplied by c = 1 / sd(r) first so the optimiser works on unit-variance data (α and β are
scale-free; ω is in the rescaled units, ω_original = ω / c²). Persistence α + β < 1 is covariance
stationarity; Engle & Bollerslev 1986 (*Modelling the persistence of conditional variances*,
Econometric Reviews 5) on values near 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from arch import arch_model


@dataclass(frozen=True)
class Garch11:
    mu: float
    omega: float  #: in rescaled units
    alpha: float
    beta: float
    persistence: float  #: α + β
    converged: bool  #: the optimiser reported success
    scale: float  #: c, the factor the returns were multiplied by
    n: int


def fit_garch11(returns: np.ndarray) -> Garch11:
    """Fit GARCH(1,1) with a constant mean to c r_t, c = 1 / sd(r)."""
    r = np.asarray(returns, dtype=float)
    r = r[np.isfinite(r)]
    sd = float(np.std(r))
    if r.size < 2 or sd == 0.0:
        raise ValueError(f"GARCH(1,1) needs returns with non-zero variance; n = {r.size}")
    scale = 1.0 / sd
    result = arch_model(r * scale, mean="Constant", vol="GARCH", p=1, q=1, dist="normal", rescale=False).fit(
        disp="off"
    )
    p = result.params
    alpha, beta = float(p["alpha[1]"]), float(p["beta[1]"])
    return Garch11(
        mu=float(p["mu"]),
        omega=float(p["omega"]),
        alpha=alpha,
        beta=beta,
        persistence=alpha + beta,
        converged=result.convergence_flag == 0,
        scale=scale,
        n=int(r.size),
    )
