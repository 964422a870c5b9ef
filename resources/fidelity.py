"""The fidelity thresholds as a Dagster resource (``fidelity_thresholds``).

Every field mirrors :class:`obrecon_pipeline.fidelity.thresholds.Thresholds` and takes its default
from it, so the defaults live in one place and a deployment can override any of them in run or
resource config.
"""

from __future__ import annotations

import dagster as dg

from obrecon_pipeline.fidelity.thresholds import Thresholds

_D = Thresholds()


class FidelityThresholds(dg.ConfigurableResource):
    """Pass marks, samplings and minimum sample sizes of the fidelity statistics and checks."""

    spread_corr_min: float = _D.spread_corr_min
    depth_corr_min: float = _D.depth_corr_min
    l1_spread_error_bp_max: float = _D.l1_spread_error_bp_max
    ks_alpha: float = _D.ks_alpha
    garch_rel_tol: float = _D.garch_rel_tol
    hill_rel_tol: float = _D.hill_rel_tol
    vwap_median_error_bp_max: float = _D.vwap_median_error_bp_max
    lb_lags: list[int] = list(_D.lb_lags)
    lb_alpha: float = _D.lb_alpha
    hill_fraction: float = _D.hill_fraction
    hill_alpha_min: float = _D.hill_alpha_min
    hill_alpha_max: float = _D.hill_alpha_max
    garch_persistence_max: float = _D.garch_persistence_max
    stats_interval_s: float = _D.stats_interval_s
    intervals_s: list[float] = list(_D.intervals_s)
    min_n_corr: int = _D.min_n_corr
    min_n_ks: int = _D.min_n_ks
    min_n_ljung_box: int = _D.min_n_ljung_box
    min_n_hill: int = _D.min_n_hill
    min_n_garch: int = _D.min_n_garch
    min_n_vwap: int = _D.min_n_vwap

    def thresholds(self) -> Thresholds:
        values = {name: getattr(self, name) for name in Thresholds.__dataclass_fields__}
        values["lb_lags"] = tuple(values["lb_lags"])
        values["intervals_s"] = tuple(values["intervals_s"])
        return Thresholds(**values)
