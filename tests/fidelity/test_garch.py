"""GARCH(1,1) known answer: parameters the test chose are recovered within 10 % from a simulated
path.

Path length: with α = 0.15 the standard error of α̂ is about 0.04 α at n = 30 000; at n = 5 000
about a fifth of seeds miss 10 % (measured over 50 seeds: 9 of 20 misses at n = 5 000 with
α = 0.10, 0 of 50 at n = 30 000 with α = 0.15, worst 7.8 %), so the test uses 30 000 points and
three seeds.
"""

from __future__ import annotations

import numpy as np
import pytest
from arch.univariate import GARCH, Normal, ZeroMean

from obrecon_pipeline.fidelity.garch import fit_garch11

OMEGA, ALPHA, BETA = 0.05, 0.15, 0.80


def simulate(n: int, seed: int, scale: float = 1.0) -> np.ndarray:
    model = ZeroMean(None, volatility=GARCH(1, 0, 1), distribution=Normal(seed=np.random.default_rng(seed)))
    return scale * model.simulate([OMEGA, ALPHA, BETA], n, burn=1000)["data"].to_numpy()


@pytest.mark.parametrize("seed", [7, 11, 2012])
def test_garch11_recovers_the_simulated_parameters_within_10_percent(seed):
    fit = fit_garch11(simulate(30_000, seed))
    assert fit.converged
    assert fit.alpha == pytest.approx(ALPHA, rel=0.10)
    assert fit.beta == pytest.approx(BETA, rel=0.10)
    assert fit.persistence == pytest.approx(fit.alpha + fit.beta)
    assert fit.persistence < 1.0
    # ω is reported in rescaled units: ω / c² is the original-scale value
    assert fit.omega / fit.scale**2 == pytest.approx(OMEGA, rel=0.35)


def test_rescaling_makes_the_fit_scale_free():
    """Returns of the size of intraday log returns (1e-4) give the same α, β as unit-scale ones."""
    raw = simulate(30_000, 7)
    small = fit_garch11(raw * 1e-4)
    unit = fit_garch11(raw)
    assert small.scale == pytest.approx(unit.scale * 1e4, rel=1e-12)
    assert (small.alpha, small.beta) == (pytest.approx(unit.alpha, rel=1e-6), pytest.approx(unit.beta, rel=1e-6))


def test_constant_returns_are_refused():
    with pytest.raises(ValueError, match="non-zero variance"):
        fit_garch11(np.zeros(1000))
