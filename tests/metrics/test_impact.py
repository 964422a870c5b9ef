"""Marketable orders walked through the book before them, the OFI regression and the square-root
law fit, on hand-made data with hand-computed answers, and on LOBSTER's own GOOG book."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from handmade_books import T0, book_frame
from obrecon_pipeline.events import Action, Side, conform
from obrecon_pipeline.metrics.impact import (
    FIT_SCHEMA,
    impact_fits,
    impact_regressions,
    marketable_orders,
    ofi_interval_frame,
    ols,
    square_root_law,
)
from tests.conftest import RAW

MS = 1_000_000


def events_frame(rows: list[tuple]) -> pl.DataFrame:
    """(ts, action, side, price, size) rows with price scale 100 and size scale 1."""
    n = len(rows)
    return conform(
        pl.DataFrame(
            {
                "ts_event": [r[0] for r in rows],
                "arrival": list(range(n)),
                "src_row": list(range(1, n + 1)),
                "action": [int(r[1]) for r in rows],
                "side": [int(r[2]) for r in rows],
                "price": [r[3] for r in rows],
                "size": [r[4] for r in rows],
                "order_id": list(range(1, n + 1)),
                "flags": [1] * n,
                "price_scale": [100] * n,
                "size_scale": [1] * n,
            }
        )
    )


BID = [(100.0, 50.0), (99.0, 100.0)]
ASK = [(101.0, 100.0), (102.0, 200.0), (103.0, 300.0)]
EVENTS = events_frame(
    [
        (T0, Action.ADD, Side.BID, 9900, 100),  # 0: book = BID / ASK
        (T0 + MS, Action.EXECUTE, Side.ASK, 10100, 100),  # 1-2: one buy of 150 lifting two levels
        (T0 + MS, Action.EXECUTE, Side.ASK, 10200, 50),
        (T0 + 2 * MS, Action.EXECUTE, Side.BID, 10000, 20),  # 3: a sell of 20 at the best bid
        (T0 + 3 * MS, Action.EXECUTE, Side.BID, 9900, 10),  # 4: a sell at 99 while the book shows 100
        (T0 + 4 * MS, Action.EXECUTE, Side.BID, 10000, 5),  # 5: a sell larger than the visible bid
    ]
)
BOOK = book_frame(
    [
        {"bid": BID, "ask": ASK},
        {"bid": BID, "ask": [(102.0, 200.0), (103.0, 300.0)]},
        {"bid": BID, "ask": [(102.0, 150.0), (103.0, 300.0)]},
        {"bid": [(100.0, 30.0), (99.0, 100.0)], "ask": [(102.0, 150.0), (103.0, 300.0)]},
        {"bid": [(100.0, 30.0)], "ask": [(102.0, 150.0), (103.0, 300.0)]},
        {"bid": [(100.0, 1.0)], "ask": [(102.0, 150.0), (103.0, 300.0)]},
    ],
    levels=3,
)


def test_marketable_orders_group_executions_and_walk_the_book_before():
    out = marketable_orders(EVENTS, BOOK)
    assert out["first_arrival"].to_list() == [1, 3, 4, 5]
    assert out["n_fills"].to_list() == [2, 1, 1, 1]
    assert out["size"].to_list() == [150.0, 20.0, 10.0, 5.0]
    assert out["vwap"].to_list() == pytest.approx([(101 * 100 + 102 * 50) / 150, 100.0, 99.0, 100.0], rel=1e-15)
    # the buy walks 100 @ 101 + 50 @ 102 of row 0: exactly the realised VWAP
    assert out["predicted_vwap"][0] == pytest.approx((101 * 100 + 102 * 50) / 150, rel=1e-15)
    assert out["vwap_error_bp"][0] == pytest.approx(0.0, abs=1e-9)
    assert out["predicted_vwap"][1] == 100.0 and out["vwap_error_bp"][1] == 0.0
    # the sell at 99 while the book before showed 30 @ 100: +1 / mid(101) in bp
    assert out["predicted_vwap"][2] == 100.0
    assert out["vwap_error_bp"][2] == pytest.approx(1e4 * (100.0 - 99.0) / 101.0, rel=1e-12)
    # 5 shares against a visible bid of 30 @ 100 and nothing below: covered (30 >= 5)
    assert out["beyond_book"].to_list() == [False, False, False, False]
    # immediate impact: the buy moved the mid from 100.5 to 101 (+), the first sell left it at 101
    assert out["mid_before"].to_list() == [100.5, 101.0, 101.0, 101.0]
    assert out["impact"][0] == pytest.approx((101.0 - 100.5) / 100.5, rel=1e-12)
    assert out["impact"][1] == 0.0


def test_an_order_larger_than_the_visible_side_is_beyond_the_book():
    events = EVENTS.with_columns(pl.when(pl.col("arrival") == 5).then(500).otherwise(pl.col("size")).alias("size"))
    out = marketable_orders(events, BOOK)
    assert out["beyond_book"].to_list() == [False, False, False, True]
    assert out["predicted_vwap"][3] is None


def test_an_order_after_a_flagged_row_gets_no_prediction_unless_asked_for():
    book = BOOK.with_columns(pl.when(pl.col("seq") == 2).then(False).otherwise(pl.col("book_valid")).alias("book_valid"))
    assert marketable_orders(EVENTS, book)["predicted_vwap"][1] is None
    assert marketable_orders(EVENTS, book, valid_only=False)["predicted_vwap"][1] == 100.0


def test_ols_and_square_root_law_recover_exact_relations():
    x = np.linspace(1.0, 10.0, 50)
    fit = ols(pl.LazyFrame({"x": x, "y": 2.0 + 3.0 * x}), "x", "y")
    assert (fit.slope, fit.intercept, fit.r2, fit.n) == (pytest.approx(3.0), pytest.approx(2.0), pytest.approx(1.0), 50)
    q = np.geomspace(100.0, 1e5, 40)
    orders = pl.DataFrame({"size": np.r_[q, 500.0], "impact": np.r_[2e-4 * q**0.5, 0.0]})  # zero impact: left out
    law = square_root_law(orders)
    assert law.n == 40
    assert law.exponent == pytest.approx(0.5, rel=1e-10)
    assert law.prefactor == pytest.approx(2e-4, rel=1e-9)


GOOG = RAW / "lobster" / "2012-06-21"


@pytest.fixture(scope="module")
def goog():
    from obrecon_pipeline.feeds import get_feed
    from obrecon_pipeline.pipeline import reference_frame

    feed = get_feed("lobster")
    (stream,) = [s for s in feed.discover(GOOG, "2012-06-21") if s.name == "GOOG-L10"]
    loaded = feed.load(stream)
    return loaded.events, reference_frame(loaded)


def test_lobster_book_predicts_every_goog_execution_exactly(goog):
    """LOBSTER's own book before each marketable order, walked level by level, gives the VWAP the
    executions realised, for every order but the first (which has no book before it)."""
    events, reference = goog
    out = marketable_orders(events, reference)
    executions = events.filter(pl.col("action") == int(Action.EXECUTE))
    assert out["n_fills"].sum() == executions.height == 7765
    assert out.height == executions.select("ts_event", "side").unique().height == 5931
    scored = out.filter(pl.col("predicted_vwap").is_not_null())
    assert scored.height == 5930 and out["first_arrival"][0] == 0
    assert scored["vwap_error_bp"].abs().max() < 1e-9


def test_goog_ofi_regression_equals_numpy_least_squares(goog):
    _, reference = goog
    table = impact_regressions(reference, (1.0, 10.0))
    for every, row in zip((1.0, 10.0), table.iter_rows(named=True)):
        frame = ofi_interval_frame(reference, every).drop_nulls().collect()
        slope, intercept = np.polyfit(frame["ofi_1"].to_numpy(), frame["delta_mid"].to_numpy(), 1)
        r = np.corrcoef(frame["ofi_1"].to_numpy(), frame["delta_mid"].to_numpy())[0, 1]
        assert row["n"] == frame.height == round(23_400 / every) - 1
        assert row["slope"] == pytest.approx(slope, rel=1e-9)
        assert row["intercept"] == pytest.approx(intercept, rel=1e-6, abs=1e-12)
        assert row["r2"] == pytest.approx(r**2, rel=1e-9)
        assert row["slope"] > 0  # buying pressure raises the price (CKS 2014)


def test_goog_impact_fits_table_holds_both_models(goog):
    """The ``impact_regression`` table: the two OFI regressions as fitted, then the square-root law
    over the marketable orders walked through LOBSTER's own book."""
    events, reference = goog
    orders = marketable_orders(events, reference)
    fits = impact_fits(reference, orders, (1.0, 10.0))
    assert fits.schema == pl.Schema(FIT_SCHEMA)
    assert fits.select("model", "sampling").rows() == [
        ("ofi_regression", "1s"), ("ofi_regression", "10s"), ("square_root_law", "order")]
    ofi = impact_regressions(reference, (1.0, 10.0))
    assert fits["coefficient"][:2].to_list() == ofi["slope"].to_list()
    assert fits["constant"][:2].to_list() == ofi["intercept"].to_list()
    law = square_root_law(orders)
    assert fits.row(2) == ("square_root_law", "order", law.exponent, law.prefactor, law.r2, law.n)


@pytest.mark.parametrize("slice_rows", [1, 2, 7])
def test_marketable_orders_in_slices_equal_the_whole_book(slice_rows):
    """The book read a few rows at a time gives the whole-book table cell for cell (the last row of
    a slice is the book before an order that arrives after it)."""
    whole = marketable_orders(EVENTS, BOOK, slice_rows=BOOK.height)
    assert marketable_orders(EVENTS, BOOK, slice_rows=slice_rows).equals(whole)
    assert marketable_orders(EVENTS, BOOK.head(0), slice_rows=slice_rows).equals(
        marketable_orders(EVENTS, BOOK.head(0)))


@pytest.mark.parametrize(("book_rows", "slice_rows"), [(3_000, 1), (3_000, 7), (None, 4096)])
def test_goog_marketable_orders_in_slices_equal_the_whole_book(goog, book_rows, slice_rows):
    """GOOG's events and book read in slices of 1, 7 and 4,096 rows give the orders of one slice
    of each, cell for cell: the whole day, and its first 3,000 book rows with the events up to
    arrival 6,000 (so 34 of its 176 orders come after the last book row)."""
    events, reference = goog
    if book_rows is not None:
        events, reference = events.filter(pl.col("arrival") < 2 * book_rows), reference.head(book_rows)
    whole = marketable_orders(events, reference, slice_rows=max(events.height, reference.height))
    assert whole.height == (5931 if book_rows is None else 176)
    assert whole.filter(pl.col("first_arrival") > reference["seq"].max()).height == (0 if book_rows is None else 34)
    assert marketable_orders(events, reference, slice_rows=slice_rows).equals(whole)
