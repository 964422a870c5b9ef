"""Hill tail-index known answers on Pareto samples."""

from __future__ import annotations

import numpy as np
import pytest

from obrecon_pipeline.fidelity.hill import hill_k, hill_tail_index


@pytest.mark.parametrize("alpha", [1.5, 3.0, 4.5])
def test_hill_recovers_the_pareto_tail_index_within_5_percent(alpha):
    # classical Pareto(α, x_m = 1) via numpy's Lomax + 1; n = 200 000 -> k = 10 000, se ≈ 1 %
    rng = np.random.default_rng(int(alpha * 100))
    x = rng.pareto(alpha, 200_000) + 1.0
    est = hill_tail_index(x)
    assert est.n == 200_000 and est.k == 10_000
    assert est.alpha == pytest.approx(alpha, rel=0.05)
    assert est.se == pytest.approx(est.alpha / 100.0, rel=1e-12)


def test_hill_uses_absolute_non_zero_returns_and_the_stated_k():
    rng = np.random.default_rng(3)
    magnitude = rng.pareto(3.0, 100_000) + 1.0
    signed = np.where(rng.random(100_000) < 0.5, -magnitude, magnitude)
    with_zeros = np.concatenate([signed, np.zeros(50_000)])
    est = hill_tail_index(with_zeros)
    assert (est.n, est.k) == (100_000, 5_000)
    assert est.alpha == hill_tail_index(magnitude).alpha


def test_hill_equals_the_formula_on_a_tiny_sample():
    # X = 16, 8, 4, 2 and sixteen 1s; k = floor(0.2 * 20) = 4, X_(k+1) = 1:
    # ξ = mean(ln 16, ln 8, ln 4, ln 2) - ln 1 = 2.5 ln 2, α = 1 / (2.5 ln 2), se = α / 2
    x = np.array([16.0, 8.0, 4.0, 2.0] + [1.0] * 16)
    est = hill_tail_index(x, fraction=0.2)
    assert est.k == hill_k(20, 0.2) == 4
    assert est.alpha == pytest.approx(1.0 / (2.5 * np.log(2.0)), rel=1e-12)
    assert est.se == pytest.approx(est.alpha / 2.0, rel=1e-12)


def test_too_few_non_zero_returns_are_refused():
    with pytest.raises(ValueError, match="n = 10"):
        hill_tail_index(np.r_[np.ones(10), np.zeros(100)])
