"""The replayer's integer cells -> the public book table (:mod:`obrecon_pipeline.book_schema`).

The level columns are built as Arrow arrays over buffers filled by one Cython pass
(:func:`obrecon_pipeline.replay._convert.cells_to_columns`: ``value / scale``, correctly rounded,
nulls where the cell is empty or unknown) and handed to Polars without a copy. A chunked run passes
a :class:`~obrecon_pipeline.buffers.Recycler` so those buffers are reused once a block's table is
written: a fresh 84 MB buffer per 262,144-row block cost more in first-touch page faults than the
conversion itself (``perf``: 20 % of a 1 M-event run in ``clear_page``).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

from obrecon_pipeline import buffers
from obrecon_pipeline.book_schema import level_names
from obrecon_pipeline.replay._convert import cells_to_columns


def to_arrow(
    ts_event: np.ndarray,
    seq: np.ndarray,
    update_id: pl.Series | None,
    book_valid: np.ndarray,
    cells: np.ndarray,
    price_scale: int,
    size_scale: int,
    out: buffers.Recycler | None = None,
) -> pa.Table:
    """The book table (:func:`~obrecon_pipeline.book_schema.book_schema` of ``cells.shape[1] // 4``
    levels) as Arrow, from the replayer's integer matrix (exact until the final division); the level
    columns live in buffers taken from ``out`` when given, else in new ones."""
    n, width = cells.shape
    names = level_names(width // 4)
    scale = np.array([price_scale if "price" in name else size_scale for name in names], dtype=np.float64)
    take = buffers.empty if out is None else out.take
    data = take((width, n), np.float64)
    valid = take((width, (n + 7) // 8), np.uint8)
    nulls = cells_to_columns(np.ascontiguousarray(cells), scale, data, valid)
    levels = [
        pa.Array.from_buffers(pa.float64(), n, [pa.py_buffer(valid[j]), pa.py_buffer(data[j])], null_count=int(nulls[j]))
        for j in range(width)
    ]
    head = [
        _int64(ts_event),
        _int64(seq),
        update_id.cast(pl.Int64).to_arrow() if update_id is not None else pa.nulls(n, pa.int64()),
        pa.Array.from_buffers(pa.bool_(), n, [None, pa.py_buffer(np.packbits(np.asarray(book_valid, dtype=bool), bitorder="little"))]),
    ]
    return pa.Table.from_arrays(head + levels, names=["ts_event", "seq", "update_id", "book_valid", *names])


def _int64(values: np.ndarray) -> pa.Array:
    """An int64 Arrow array over ``values``' buffer (``pa.array`` of a NumPy array would import pandas
    to test for a pandas object: 0.5 s of every CLI run)."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def to_frame(*args, **kwargs) -> pl.DataFrame:
    """:func:`to_arrow` as a Polars frame (no copy of the level columns)."""
    return pl.from_arrow(to_arrow(*args, **kwargs), rechunk=False)
