"""Micro-price (weighted mid) and book imbalance on hand-made books (exact values)."""

from __future__ import annotations

import pytest

from handmade_books import book_frame
from obrecon_pipeline.metrics.microstructure import microstructure

BOOK = book_frame(
    [
        {
            "bid": [(99.0, 100.0), (98.0, 300.0), (97.0, 100.0), (96.0, 100.0), (95.0, 100.0)],
            "ask": [(101.0, 300.0), (102.0, 100.0), (103.0, 100.0), (104.0, 100.0), (105.0, 200.0)],
        },
        {"bid": [(10.0, 1.0)], "ask": [(10.5, 3.0)]},
    ],
    levels=5,
)


def test_micro_price_is_the_size_weighted_mid():
    out = microstructure(BOOK).collect()
    # (P^a q^b + P^b q^a) / (q^b + q^a) = (101*100 + 99*300) / 400 = 99.5: the heavy ask queue
    # pulls the price toward the bid
    assert out["micro_price"][0] == pytest.approx((101.0 * 100 + 99.0 * 300) / 400, rel=1e-15)
    assert out["micro_price"][0] == 99.5
    assert out["micro_price"][1] == pytest.approx((10.5 * 1 + 10.0 * 3) / 4, rel=1e-15)
    assert out["mid"].to_list() == [100.0, 10.25]


def test_imbalance_at_levels_1_and_5():
    out = microstructure(BOOK).collect()
    assert out.columns == ["ts_event", "seq", "book_valid", "mid", "micro_price", "imbalance_1", "imbalance_5"]
    assert out["imbalance_1"][0] == pytest.approx((100 - 300) / 400, rel=1e-15)
    assert out["imbalance_5"][0] == pytest.approx((700 - 800) / 1500, rel=1e-15)
    assert out["imbalance_1"][1] == -0.5
    assert out["imbalance_5"][1] is None  # only one level on each side
