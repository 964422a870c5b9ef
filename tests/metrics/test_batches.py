"""The book in slices: every row once, in order, whatever the slice size; per-row metrics slice by
slice equal the whole book cell for cell, on LOBSTER's GOOG level-10 day."""

from __future__ import annotations

import polars as pl
import pytest

from obrecon_pipeline.metrics.batches import Batched, table_slices, per_batch, row_columns
from obrecon_pipeline.metrics.microstructure import microstructure
from obrecon_pipeline.metrics.spreads import spreads
from tests.conftest import RAW

GOOG = RAW / "lobster" / "2012-06-21"


@pytest.fixture(scope="module")
def goog_book() -> pl.DataFrame:
    from obrecon_pipeline.feeds import get_feed
    from obrecon_pipeline.pipeline import reference_frame

    feed = get_feed("lobster")
    (stream,) = [s for s in feed.discover(GOOG, "2012-06-21") if s.name == "GOOG-L10"]
    return reference_frame(feed.load(stream))


@pytest.mark.parametrize("slice_rows", [1, 7, 4096])
def test_table_slices_hold_every_row_once_in_order(goog_book, slice_rows):
    book = goog_book.head(3_000) if slice_rows < 100 else goog_book
    parts = list(table_slices(book.lazy(), slice_rows))
    assert max(p.height for p in parts) <= slice_rows
    assert len(parts) >= -(-book.height // slice_rows)
    assert pl.concat(parts).equals(book)


def test_an_empty_book_is_one_empty_slice_with_the_schema(goog_book):
    (part,) = list(table_slices(goog_book.head(0).lazy(), 7))
    assert part.height == 0 and part.schema == goog_book.schema


@pytest.mark.parametrize("metric", [spreads, microstructure])
@pytest.mark.parametrize(("book_rows", "slice_rows"), [(3_000, 1), (3_000, 7), (None, 4096)])
def test_per_row_metrics_in_slices_equal_the_whole_book(goog_book, metric, book_rows, slice_rows):
    book = goog_book if book_rows is None else goog_book.head(book_rows)
    batched = per_batch(metric, book.lazy(), slice_rows=slice_rows)
    assert isinstance(batched, Batched)
    whole = metric(book).collect()
    assert whole.height == book.height
    assert batched.collect().equals(whole)


def test_row_columns_are_the_keys_and_every_level(goog_book):
    columns = row_columns(goog_book)
    assert columns[:3] == ["ts_event", "seq", "book_valid"] and len(columns) == 3 + 4 * 10
