"""A day's book in slices of consecutive rows, so that no metric holds the whole day.

Every per-row metric reads the book :data:`SLICE_ROWS` rows at a time, in replay order (``seq``
ascending, as every book table is written), each slice read from the Parquet row groups it spans
(:func:`table_slices`).
What a metric needs across a slice boundary it carries itself: the previous usable row for OFI
(:func:`~obrecon_pipeline.metrics.ofi.interval_ofi`), the last book row before an order for the
VWAP walk (:func:`~obrecon_pipeline.metrics.impact.marketable_orders`). A metric of one row
alone (spreads, micro-price, imbalance) is computed slice by slice with :func:`per_batch`, and its
result is a :class:`Batched` table: the frames of the slices, in order, written one Parquet row
group per slice (:meth:`Batched.write_parquet`: by the warehouse, and by the fidelity alignment
with the reference, :func:`~obrecon_pipeline.fidelity.compare.aligned_batches`). Slice sizes
never change a result: the tests compare slices of 1, 7 and 4,096 rows with the whole day, cell
for cell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from obrecon_pipeline.book_schema import level_names, levels_of
from obrecon_pipeline.metrics.prices import lazy

#: book rows per slice: a slice of a level-10 book (40 price/size columns) is ~45 MB; a metric holds
#: a few (the alignment with the reference: two books, a read-ahead and the join). 131,072 rather
#: than 262,144: on a 10 M-event day ``marketable_orders`` peaks 280 against 384 MiB, the impact
#: fits 231 against 383 MiB, the whole Dagster job 1,088 against 1,231 MiB, for about the same
#: time (65,536 saved little more: 285 / 201 MiB; ``benchmarks/dagster_scale.py``)
SLICE_ROWS = 1 << 17


def table_slices(book: pl.DataFrame | pl.LazyFrame, slice_rows: int = SLICE_ROWS) -> Iterator[pl.DataFrame]:
    """The rows of ``book`` (or of any table: the events) in consecutive slices of ``slice_rows`` rows (the last one shorter), in
    order; always at least one slice (empty, with the schema, for an empty book), so a caller
    always learns the columns.

    ``book`` is the scan projected row by row (``select``, ``with_columns``), never filtered: each
    slice is ``book.slice(start, slice_rows)``, which Polars pushes into the Parquet reader (only
    the row groups of the slice are read). A filter goes on each slice, after it (a filter before
    the slice would make every slice read the file from its start). Not Polars' ``collect_batches``:
    its streaming engine reads ahead of a slow consumer without bound (2.5 GB for a 10 M-row
    level-10 book, against 0.44 GB slice by slice).
    """
    frame = lazy(book)
    total = frame.select(pl.len()).collect().item()
    for start in range(0, max(total, 1), slice_rows):
        yield frame.slice(start, slice_rows).collect()


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

    def write_parquet(self, path: str | Path) -> None:
        """The frames as one Parquet file at ``path`` (zstd, as dagster-polars writes), one row group
        per non-empty frame, each written as soon as it is computed; the first frame, empty or not,
        gives the schema. The caller makes the write atomic (temporary path + rename)."""
        writer = None
        try:
            for frame in self:
                arrow = frame.to_arrow()
                if writer is None:
                    writer = pq.ParquetWriter(path, arrow.schema, compression="zstd")
                if frame.height:
                    writer.write_table(arrow, row_group_size=frame.height)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise ValueError(f"{path}: a batched table without a single frame has no schema")


def row_columns(book: pl.DataFrame | pl.LazyFrame) -> list[str]:
    """The columns a metric of one book row reads: ``ts_event, seq, book_valid`` and every level."""
    frame = lazy(book)
    return ["ts_event", "seq", "book_valid", *level_names(levels_of(frame))]


def per_batch(metric: Callable[[pl.LazyFrame], pl.LazyFrame], book: pl.DataFrame | pl.LazyFrame,
              slice_rows: int = SLICE_ROWS) -> Batched:
    """``metric``, a function of each row alone (:func:`row_columns`), over the book slice by slice:
    the same rows, in the same order, as ``metric(book)``."""
    frame = lazy(book)
    slices = table_slices(frame.select(row_columns(frame)), slice_rows)  # a projection: sliced in the reader
    return Batched(metric(rows.lazy()).collect() for rows in slices)
