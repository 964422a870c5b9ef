"""Ljung-Box on squared returns: the figure equals statsmodels' ``acorr_ljungbox`` and the formula."""

from __future__ import annotations

import numpy as np
import pytest
from arch.univariate import GARCH, Normal, ZeroMean
from scipy.stats import chi2
from statsmodels.stats.diagnostic import acorr_ljungbox

from obrecon_pipeline.fidelity.ljung_box import ljung_box_squared


def garch_path(n: int, seed: int) -> np.ndarray:
    model = ZeroMean(None, volatility=GARCH(1, 0, 1), distribution=Normal(seed=np.random.default_rng(seed)))
    return 1e-4 * model.simulate([0.05, 0.15, 0.80], n, burn=500)["data"].to_numpy()


def by_formula(x: np.ndarray, h: int) -> float:
    """Q(h) = n (n + 2) sum_{k<=h} ρ̂_k² / (n - k), ρ̂ the demeaned sample autocorrelation."""
    y = x - x.mean()
    denom = np.dot(y, y)
    rho = np.array([np.dot(y[k:], y[:-k]) / denom for k in range(1, h + 1)])
    n = x.size
    return float(n * (n + 2) * np.sum(rho**2 / (n - np.arange(1, h + 1))))


@pytest.mark.parametrize("returns", [garch_path(5_000, 1), np.random.default_rng(2).standard_t(5, 5_000) * 1e-4])
def test_ljung_box_equals_statsmodels_and_the_formula(returns):
    ours = ljung_box_squared(returns, (10, 20))
    table = acorr_ljungbox(returns**2, lags=[10, 20])
    assert [r.lag for r in ours] == [10, 20]
    assert [r.n for r in ours] == [5_000, 5_000]
    assert [r.statistic for r in ours] == pytest.approx(table["lb_stat"].to_list(), rel=1e-10)
    assert [r.p_value for r in ours] == pytest.approx(table["lb_pvalue"].to_list(), rel=1e-8, abs=1e-300)
    for r in ours:
        assert r.statistic == pytest.approx(by_formula(returns**2, r.lag), rel=1e-10)
        assert r.p_value == pytest.approx(chi2.sf(r.statistic, r.lag), rel=1e-12, abs=1e-300)


def test_clustered_returns_reject_and_iid_returns_do_not():
    clustered = ljung_box_squared(garch_path(5_000, 1))
    iid = ljung_box_squared(np.random.default_rng(4).standard_normal(5_000))
    assert all(r.rejects(0.05) for r in clustered)
    assert not any(r.rejects(0.05) for r in iid)
