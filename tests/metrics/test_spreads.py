"""Quoted spreads and cumulative depth on hand-made books (exact values)."""

from __future__ import annotations

import pytest

from handmade_books import book_frame
from obrecon_pipeline.metrics.spreads import spread_levels, spreads

BOOK = book_frame(
    [
        {
            "bid": [(99.0, 100.0), (98.5, 200.0), (98.0, 50.0), (97.0, 10.0), (96.0, 5.0)],
            "ask": [(101.0, 300.0), (101.5, 100.0), (102.0, 25.0), (103.0, 40.0), (104.5, 60.0)],
        },
        {"bid": [(99.5, 10.0), (99.0, 20.0)], "ask": [(100.0, 30.0)]},
    ],
    levels=5,
)


def test_spread_levels_are_the_ones_the_book_has():
    assert spread_levels(5) == [1, 5]
    assert spread_levels(10) == [1, 5, 10]
    assert spread_levels(20) == [1, 5, 10, 15, 20]


def test_quoted_spreads_in_price_units_and_bp_of_mid():
    out = spreads(BOOK).collect()
    assert out.columns[:8] == ["ts_event", "seq", "book_valid", "mid", "spread_1", "spread_bp_1", "spread_5", "spread_bp_5"]
    first, second = out.row(0, named=True), out.row(1, named=True)
    assert first["mid"] == 100.0
    assert first["spread_1"] == 2.0
    assert first["spread_bp_1"] == pytest.approx(200.0, rel=1e-12)  # 2 / 100 * 1e4
    assert first["spread_5"] == 8.5  # 104.5 - 96
    assert first["spread_bp_5"] == pytest.approx(850.0, rel=1e-12)
    assert second["mid"] == 99.75
    assert second["spread_1"] == 0.5
    assert second["spread_bp_1"] == pytest.approx(1e4 * 0.5 / 99.75, rel=1e-12)
    assert second["spread_5"] is None  # the book has no fifth level


def test_cumulative_depth_per_side():
    out = spreads(BOOK).collect()
    first, second = out.row(0, named=True), out.row(1, named=True)
    assert [first[f"bid_depth_{k}"] for k in range(1, 6)] == [100.0, 300.0, 350.0, 360.0, 365.0]
    assert [first[f"ask_depth_{k}"] for k in range(1, 6)] == [300.0, 400.0, 425.0, 465.0, 525.0]
    assert [second[f"bid_depth_{k}"] for k in range(1, 4)] == [10.0, 30.0, None]
    assert [second[f"ask_depth_{k}"] for k in range(1, 3)] == [30.0, None]
