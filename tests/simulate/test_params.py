"""The model's integer tables: exact values for the defaults, and refused parameters."""

from __future__ import annotations

import pytest

from obrecon_pipeline.errors import ObreconError
from obrecon_pipeline.simulate.params import MAX_SWEEP, PROB_SCALE, RATE_SCALE, ModelParams, tables


def test_default_tables():
    t = tables(ModelParams())
    assert (t.start_tick, t.tick, t.grid) == (10_000, 100, 65_536)  # 4 x 10,000 ticks + 2 x D fit 2**16
    assert len(t.limit_cum) == 100
    assert t.limit_cum[0] == round(1.92 * RATE_SCALE) == 2_013_266
    assert t.limit_cum[1] - t.limit_cum[0] == round(1.92 * 2**-0.52 * RATE_SCALE) == 1_403_995
    assert (t.market, t.hidden, t.cancel) == (985_661, 314_573, 419_430)
    assert t.partial == round(0.05 * 2**64)
    assert t.sizes[:3] == [1, 2, 3] and t.sizes[98:101] == [99, 100, 200] and t.sizes[-1] == 5_000
    assert len(t.size_cum) == len(t.sizes) == 99 + 50
    assert t.size_cum[98] == 99 * round(0.1 / 99 * PROB_SCALE)  # odd lots: 10%, uniform
    assert abs(t.size_cum[-1] - PROB_SCALE) < len(t.sizes)  # rounding only
    assert len(t.sweep_cum) == MAX_SWEEP + 1
    assert t.sweep_cum[0] == round(0.7 / (1 - 0.3**11) * PROB_SCALE)
    assert t.max_event_messages == 5_001


def test_grid_grows_with_the_price():
    assert tables(ModelParams(price=5_000_000)).grid == 1 << 18  # 50,000 ticks
    assert tables(ModelParams(price=100, depth=10)).grid == 1 << 12  # the smallest grid


def test_no_odd_lots():
    t = tables(ModelParams(odd_lots=0.0, max_lots=3))
    assert t.sizes == [100, 200, 300]


@pytest.mark.parametrize("kwargs,message", [
    ({"theta": 0}, "theta must be positive"),
    ({"depth": 0}, "depth must be positive"),
    ({"partial": 1.0}, "partial must be in [0, 1)"),
    ({"price": 1_000_050}, "not a multiple of the tick"),
    ({"hidden": -1.0}, "must be >= 0"),
    ({"lot": 1}, "odd lots need a round lot"),
    ({"mu": 1e-9}, "not representable"),
])
def test_refused(kwargs, message):
    with pytest.raises(ObreconError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        tables(ModelParams(**kwargs))
