"""The ``fidelity_thresholds`` resource is generated from the core's ``Thresholds``: the same
fields with the same defaults (tuples as lists), and a configured value reaches the core."""

import dataclasses

from obrecon_pipeline.fidelity.thresholds import Thresholds
from resources.fidelity import FidelityThresholds


def test_every_threshold_is_a_resource_field_with_its_default():
    names = [f.name for f in dataclasses.fields(Thresholds)]
    assert list(FidelityThresholds.model_fields) == names
    resource = FidelityThresholds()
    assert resource.lb_lags == [10, 20] and resource.intervals_s == [1.0, 10.0]
    assert resource.thresholds() == Thresholds()


def test_a_configured_threshold_reaches_the_core():
    th = FidelityThresholds(spread_corr_min=0.5, lb_lags=[5, 15]).thresholds()
    assert (th.spread_corr_min, th.lb_lags, th.depth_corr_min) == (0.5, (5, 15), Thresholds().depth_corr_min)
