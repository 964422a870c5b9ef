"""The reconstructed-book table: the same schema for every feed (a public contract).

One row per emitted book state (for most feeds one row per input event; for batched feeds such as
Databento MBO one row per complete venue message):

``ts_event`` Int64 ns UTC, ``seq`` Int64 (the ``arrival`` of the event that produced the row),
``update_id`` Int64 (null when the feed has none), ``book_valid`` Boolean (false while the book is
known to be out of sync), then for i = 1..N ``bid_price_i``, ``bid_size_i``, ``ask_price_i``,
``ask_size_i`` as Float64 in natural units; null for an empty or unknown level.

The replayer fills a row-major ``int64[n, 4N]`` matrix whose column ``4*(i-1)+k`` is, for
k = 0..3, bid price, bid size, ask price, ask size of level i, with
:data:`~obrecon_pipeline.codes.NULL_CELL` for empty cells and
:data:`~obrecon_pipeline.codes.UNKNOWN_CELL` for cells the events cannot determine (both become
null in this table; :func:`obrecon_pipeline.replay.table.to_frame` builds it).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from obrecon_pipeline.codes import NULL_CELL

FIELDS = ("bid_price", "bid_size", "ask_price", "ask_size")


def level_names(levels: int) -> list[str]:
    """``bid_price_1, bid_size_1, ask_price_1, ask_size_1, bid_price_2, ...``."""
    return [f"{field}_{i}" for i in range(1, levels + 1) for field in FIELDS]


def book_schema(levels: int) -> dict[str, pl.DataType]:
    schema: dict[str, pl.DataType] = {
        "ts_event": pl.Int64,
        "seq": pl.Int64,
        "update_id": pl.Int64,
        "book_valid": pl.Boolean,
    }
    schema.update({c: pl.Float64 for c in level_names(levels)})
    return schema


def levels_of(book: pl.DataFrame | pl.LazyFrame) -> int:
    """N, the number of levels a book table carries."""
    names = book.collect_schema().names() if isinstance(book, pl.LazyFrame) else book.columns
    return sum(1 for c in names if c.startswith("bid_price_"))


def to_cells(book: pl.DataFrame, price_scale: int, size_scale: int) -> np.ndarray:
    """Inverse of :func:`obrecon_pipeline.replay.table.to_frame` for the level columns: exact
    scaled integers, nulls as ``NULL_CELL``.

    ``round(value * scale)`` recovers the integer exactly because every value was produced as
    ``integer / scale`` with ``|integer| < 2**53``.
    """
    levels = levels_of(book)
    cells = np.empty((book.height, 4 * levels), dtype=np.int64)
    for j, name in enumerate(level_names(levels)):
        scale = price_scale if "price" in name else size_scale
        col = book[name]
        ints = np.rint(col.fill_null(0.0).to_numpy() * scale).astype(np.int64)
        cells[:, j] = np.where(col.is_null().to_numpy(), NULL_CELL, ints)
    return cells
