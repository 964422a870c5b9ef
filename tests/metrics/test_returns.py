"""Log mid returns in event time and at fixed intervals on a hand-made book (exact values)."""

from __future__ import annotations

import math

import polars as pl
import pytest

from handmade_books import T0, book_frame
from obrecon_pipeline.metrics.returns import event_returns, interval_returns, returns_table

S = 1_000_000_000


def quotes(mid: float) -> dict:
    return {"bid": [(mid - 0.5, 1.0)], "ask": [(mid + 0.5, 1.0)]}


MIDS = [100.0, 101.0, 101.0, 99.0, 100.0]
# rows at 0.1 s, 0.5 s, 1.2 s, 3.5 s, 3.9 s: second 2 has no row, second 3 has two
TS = [T0 + 100_000_000, T0 + 500_000_000, T0 + 1_200_000_000, T0 + 3_500_000_000, T0 + 3_900_000_000]
BOOK = book_frame([quotes(m) for m in MIDS], levels=1, ts=TS)


def test_event_time_returns():
    out = event_returns(BOOK).collect()
    assert out["seq"].to_list() == [1, 2, 3, 4]
    assert out["log_return"].to_list() == pytest.approx(
        [math.log(101 / 100), 0.0, math.log(99 / 101), math.log(100 / 99)], rel=1e-12
    )


def test_interval_returns_sample_the_previous_tick_mid():
    out = interval_returns(BOOK, 1.0).collect()
    # interval ends 1 s, 2 s, 3 s, 4 s: mids 101 (last in [0,1)), 101, 101 (carried), 100
    assert out["ts_end"].to_list() == [T0 + 2 * S, T0 + 3 * S, T0 + 4 * S]
    assert out["mid"].to_list() == [101.0, 101.0, 100.0]
    assert out["log_return"].to_list() == pytest.approx([0.0, 0.0, math.log(100 / 101)], abs=1e-15)


def test_flagged_rows_are_left_out_unless_asked_for():
    rows = [quotes(m) for m in MIDS]
    rows[4] = dict(rows[4], valid=False)
    flagged = book_frame(rows, levels=1, ts=TS)
    assert interval_returns(flagged, 1.0).collect()["mid"].to_list() == [101.0, 101.0, 99.0]
    assert interval_returns(flagged, 1.0, valid_only=False).collect()["mid"].to_list() == [101.0, 101.0, 100.0]


def test_returns_table_stacks_samplings():
    out = returns_table(BOOK, (1.0, 2.0)).collect()
    assert out.group_by("sampling").len().sort("sampling").rows() == [("1s", 3), ("2s", 1), ("event", 4)]


def test_a_book_without_both_quotes_has_no_returns():
    one_sided = book_frame([{"bid": [(100.0, 1.0)]}, {"bid": [(100.5, 2.0)]}], levels=1)
    assert interval_returns(one_sided, 1.0).collect().height == 0
    assert returns_table(one_sided).collect().height == 0


@pytest.mark.parametrize("slice_rows", [1, 2, 3, 7])
def test_returns_table_in_slices_equals_the_whole_book(slice_rows):
    """The event returns slice by slice (the last usable row carried over slices without one)
    and the interval series: the table of one slice, cell for cell."""
    book = BOOK.with_columns(pl.when(pl.col("seq") == 2).then(False).otherwise(pl.col("book_valid")).alias("book_valid"))
    whole = returns_table(book, (1.0, 2.0), slice_rows=book.height).collect()
    assert whole.filter(pl.col("sampling") == "event").height >= 2
    assert returns_table(book, (1.0, 2.0), slice_rows=slice_rows).collect().equals(whole)


def test_goog_returns_table_in_slices_equals_the_whole_day():
    from obrecon_pipeline.feeds import get_feed
    from obrecon_pipeline.pipeline import reference_frame
    from tests.conftest import RAW

    feed = get_feed("lobster")
    (stream,) = [s for s in feed.discover(RAW / "lobster" / "2012-06-21", "2012-06-21") if s.name == "GOOG-L10"]
    book = reference_frame(feed.load(stream)).lazy()
    whole = returns_table(book, slice_rows=200_000).collect()
    assert whole.group_by("sampling").len().sort("sampling").rows() == [("10s", 2_339), ("1s", 23_399), ("event", 147_915)]
    assert returns_table(book, slice_rows=4096).collect().equals(whole)
