"""Pass/fail limits of every fidelity statistic (the issue's defaults) and minimum sample sizes.

A statistic computed on fewer observations than its ``min_n_*`` gets the verdict TOO_FEW with n
and the minimum, instead of passing or failing on noise.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    # --- against a reference book -------------------------------------------------------------
    spread_corr_min: float = 0.99  #: Pearson corr of L1 spreads, rebuilt vs reference
    depth_corr_min: float = 0.995  #: Pearson corr of total visible depth, worst side
    l1_spread_error_bp_max: float = 2.0  #: mean |s - s_ref| / m_ref in bp (strictly below)
    ks_alpha: float = 0.05  #: two-sample KS on interval returns must not reject at this level
    garch_rel_tol: float = 0.10  #: |θ - θ_ref| / |θ_ref| for GARCH α and β
    hill_rel_tol: float = 0.10  #: |α̂ - α̂_ref| / α̂_ref
    # --- on the rebuilt book alone ------------------------------------------------------------
    vwap_median_error_bp_max: float = 1.0  #: median |VWAP_pred - VWAP| / m in bp (at most)
    lb_lags: tuple[int, ...] = (10, 20)
    lb_alpha: float = 0.05  #: Ljung-Box on r² must reject at every lag (clustering present)
    hill_fraction: float = 0.05  #: k = floor(fraction n)
    hill_alpha_min: float = 2.0  #: plausible tail index range (Gopikrishnan et al. 1998: α ≈ 3)
    hill_alpha_max: float = 5.0
    garch_persistence_max: float = 1.0  #: α + β strictly below
    # --- sampling -----------------------------------------------------------------------------
    stats_interval_s: float = 1.0  #: returns used by Ljung-Box, Hill, GARCH and KS
    intervals_s: tuple[float, ...] = (1.0, 10.0)  #: OFI / returns / impact interval lengths
    # --- minimum sample sizes -----------------------------------------------------------------
    min_n_corr: int = 30  #: aligned book rows for correlations / spread error
    min_n_ks: int = 50  #: interval returns per sample
    min_n_ljung_box: int = 200  #: returns (10 x the largest default lag)
    min_n_hill: int = 200  #: non-zero returns (k = 10 at 5 %)
    min_n_garch: int = 500  #: returns
    min_n_vwap: int = 20  #: marketable orders with a prediction
