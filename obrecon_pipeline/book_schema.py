"""The reconstructed-book table: the same schema for every feed (a public contract).

One row per emitted book state (for most feeds one row per input event; for batched feeds such as
Databento MBO one row per complete venue message):

``ts_event`` Int64 ns UTC, ``seq`` Int64 (the ``arrival`` of the event that produced the row),
``update_id`` Int64 (null when the feed has none), ``book_valid`` Boolean (false while the book is
known to be out of sync), then for i = 1..N ``bid_price_i``, ``bid_size_i``, ``ask_price_i``,
``ask_size_i`` as Float64 in natural units; null for an empty or unknown level.

The replayer fills a row-major ``int64[n, 4N]`` matrix whose column ``4*(i-1)+k`` is, for
k = 0..3, bid price, bid size, ask price, ask size of level i, with :data:`NULL` for empty or unknown
cells and :data:`UNKNOWN` for cells the events cannot determine; :func:`to_frame` turns it into
this table (both become null).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

#: integer sentinel for an empty level in the replayer's matrices
NULL = np.iinfo(np.int64).min
#: integer sentinel for a level that is not observable from the events (see the replayer)
UNKNOWN = NULL + 1

FIELDS = ("bid_price", "bid_size", "ask_price", "ask_size")


def level_columns(levels: int) -> list[str]:
    """``bid_price_1, bid_size_1, ask_price_1, ask_size_1, bid_price_2, ...``."""
    return [f"{field}_{i}" for i in range(1, levels + 1) for field in FIELDS]


def book_schema(levels: int) -> dict[str, pl.DataType]:
    schema: dict[str, pl.DataType] = {
        "ts_event": pl.Int64,
        "seq": pl.Int64,
        "update_id": pl.Int64,
        "book_valid": pl.Boolean,
    }
    schema.update({c: pl.Float64 for c in level_columns(levels)})
    return schema


def levels_of(book: pl.DataFrame | pl.LazyFrame) -> int:
    """N, the number of levels a book table carries."""
    names = book.collect_schema().names() if isinstance(book, pl.LazyFrame) else book.columns
    return sum(1 for c in names if c.startswith("bid_price_"))


def to_frame(
    ts_event: np.ndarray,
    seq: np.ndarray,
    update_id: pl.Series | None,
    book_valid: np.ndarray,
    cells: np.ndarray,
    price_scale: int,
    size_scale: int,
) -> pl.DataFrame:
    """Build the book table from the replayer's integer matrix (exact until the final division).

    The level columns are built as Arrow arrays over buffers filled by one Cython pass
    (:func:`obrecon_pipeline.replay._convert.cells_to_columns`) and handed to Polars without a copy.
    """
    from obrecon_pipeline.replay import buffers
    from obrecon_pipeline.replay._convert import cells_to_columns

    n, width = cells.shape
    levels = width // 4
    names = level_columns(levels)
    scale = np.array([price_scale if "price" in name else size_scale for name in names], dtype=np.float64)
    data = buffers.empty((width, n), np.float64)
    valid = buffers.empty((width, (n + 7) // 8), np.uint8)
    nulls = cells_to_columns(np.ascontiguousarray(cells), scale, data, valid)
    arrays = [
        pa.Array.from_buffers(pa.float64(), n, [pa.py_buffer(valid[j]), pa.py_buffer(data[j])], null_count=int(nulls[j]))
        for j in range(width)
    ]
    head = pl.DataFrame({
        "ts_event": pl.Series("ts_event", ts_event, dtype=pl.Int64),
        "seq": pl.Series("seq", seq, dtype=pl.Int64),
        "update_id": (
            update_id.cast(pl.Int64).alias("update_id")
            if update_id is not None
            else pl.Series("update_id", [None] * n, dtype=pl.Int64)
        ),
        "book_valid": pl.Series("book_valid", book_valid.astype(bool), dtype=pl.Boolean),
    })
    levels_frame = pl.from_arrow(pa.Table.from_arrays(arrays, names=names), rechunk=False)
    return head.hstack(levels_frame.get_columns())


def to_cells(book: pl.DataFrame, price_scale: int, size_scale: int) -> np.ndarray:
    """Inverse of :func:`to_frame` for the level columns: exact scaled integers, nulls as NULL.

    ``round(value * scale)`` recovers the integer exactly because every value was produced as
    ``integer / scale`` with ``|integer| < 2**53``.
    """
    levels = levels_of(book)
    cells = np.empty((book.height, 4 * levels), dtype=np.int64)
    for j, name in enumerate(level_columns(levels)):
        scale = price_scale if "price" in name else size_scale
        col = book[name]
        ints = np.rint(col.fill_null(0.0).to_numpy() * scale).astype(np.int64)
        cells[:, j] = np.where(col.is_null().to_numpy(), NULL, ints)
    return cells
