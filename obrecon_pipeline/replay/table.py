"""The replayer's integer cells -> the public book table (:mod:`obrecon_pipeline.book_schema`).

The level columns are built as Arrow arrays over buffers filled by one Cython pass
(:func:`obrecon_pipeline.replay._convert.cells_to_columns`: ``value / scale``, correctly rounded,
nulls where the cell is empty or unknown) and handed to Polars without a copy.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

from obrecon_pipeline import buffers
from obrecon_pipeline.book_schema import level_names
from obrecon_pipeline.replay._convert import cells_to_columns


def to_frame(
    ts_event: np.ndarray,
    seq: np.ndarray,
    update_id: pl.Series | None,
    book_valid: np.ndarray,
    cells: np.ndarray,
    price_scale: int,
    size_scale: int,
) -> pl.DataFrame:
    """Build the book table from the replayer's integer matrix (exact until the final division)."""
    n, width = cells.shape
    names = level_names(width // 4)
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
