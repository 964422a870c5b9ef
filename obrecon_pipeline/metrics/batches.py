"""A day's book in slices of consecutive rows, so that no metric holds the whole day.

Every per-row metric reads the book :data:`SLICE_ROWS` rows at a time, in replay order (``seq``
ascending, as every book table is written), from one streaming pass over the scan
(``LazyFrame.collect_batches``: a Parquet file is read a few row groups ahead, never whole).
What a metric needs across a slice boundary it carries itself: the previous usable row for OFI
(:func:`~obrecon_pipeline.metrics.ofi.interval_ofi`), the last book row before an order for the
VWAP walk (:func:`~obrecon_pipeline.metrics.impact.marketable_orders`). A metric of one row
alone (spreads, micro-price, imbalance) is computed slice by slice with :func:`per_batch`, and its
result is a :class:`Batched` table: the frames of the slices, in order, which the warehouse writes
one Parquet row group per slice. Slice sizes never change a result: the tests compare slices of
1, 7 and 4,096 rows with the whole day, cell for cell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import polars as pl

from obrecon_pipeline.book_schema import level_names, levels_of
from obrecon_pipeline.metrics.prices import lazy

#: book rows per slice: a slice of a level-10 book is ~0.2 GB at most (40 price/size columns)
SLICE_ROWS = 1 << 19


def book_slices(book: pl.DataFrame | pl.LazyFrame, slice_rows: int = SLICE_ROWS) -> Iterator[pl.DataFrame]:
    """The rows of ``book`` (already projected by the caller) in consecutive slices of at most
    ``slice_rows`` rows, in order; always at least one slice (empty, with the schema, for an empty
    book), so a caller always learns the columns."""
    frame = lazy(book)
    empty = True
    for part in frame.collect_batches(chunk_size=slice_rows, engine="streaming"):  # at most slice_rows each
        empty = False
        yield part
    if empty:
        yield frame.head(0).collect()


@dataclass(frozen=True)
class Batched:
    """A per-row table as the frames of consecutive book slices (one pass, consumed once): the
    warehouse writes each frame as one Parquet row group (:mod:`resources.warehouse`)."""

    frames: Iterator[pl.DataFrame]

    def __iter__(self) -> Iterator[pl.DataFrame]:
        return iter(self.frames)

    def collect(self) -> pl.DataFrame:
        """The whole table (for tests and small books: memory is the day's)."""
        return pl.concat(list(self))


def row_columns(book: pl.DataFrame | pl.LazyFrame) -> list[str]:
    """The columns a metric of one book row reads: ``ts_event, seq, book_valid`` and every level."""
    frame = lazy(book)
    return ["ts_event", "seq", "book_valid", *level_names(levels_of(frame))]


def per_batch(metric: Callable[[pl.LazyFrame], pl.LazyFrame], book: pl.DataFrame | pl.LazyFrame,
              slice_rows: int = SLICE_ROWS) -> Batched:
    """``metric``, a function of each row alone (:func:`row_columns`), over the book slice by slice:
    the same rows, in the same order, as ``metric(book)``."""
    frame = lazy(book)
    slices = book_slices(frame.select(row_columns(frame)), slice_rows)
    return Batched(metric(rows.lazy()).collect() for rows in slices)
