"""Pass/fail limits of every fidelity statistic and minimum sample sizes: the one definition
(the Dagster resource ``fidelity_thresholds`` is generated from it, :mod:`resources.fidelity`).

The defaults are the project's acceptance marks, chosen so that an exact reconstruction passes
with room and a book missing 2 % of its messages fails (README, "Fidelity"): correlations of the
L1 spread and of total depth with the reference of at least 0.99 / 0.995, a mean L1 spread error
under 2 bp, a KS test (Smirnov 1948) and Ljung-Box tests (Ljung & Box 1978) at the usual 5 % level,
GARCH(1,1) and Hill estimates within 10 % of the reference's, a Hill tail index of 2 to 5 around
the α ≈ 3 of Gopikrishnan et al. (1998, *Inverse cubic law for the distribution of stock price
variations*, Eur. Phys. J. B 3), and a median VWAP error of at most 1 bp.

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
