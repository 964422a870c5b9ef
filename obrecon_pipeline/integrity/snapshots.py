"""A replayed book against reference snapshots matched by time (Tardis ``book_snapshot_N`` files).

A snapshot row at time T is compared with the last replayed row at or before T, cell by cell
(:func:`obrecon_pipeline.integrity.reference.match_reference`), after bringing both to the finer of
their two scales.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from obrecon_pipeline.codes import NULL_CELL
from obrecon_pipeline.errors import ReplayError
from obrecon_pipeline.feeds.tardis import BookSnapshots
from obrecon_pipeline.integrity.reference import Match, match_reference


def _rescale(cells: np.ndarray, price_factor: int, size_factor: int) -> np.ndarray:
    """Multiply price columns (4i, 4i+2) and size columns (4i+1, 4i+3), leaving sentinels alone."""
    factors = np.tile(np.array([price_factor, size_factor, price_factor, size_factor], dtype=np.int64), cells.shape[1] // 4)
    return np.where(cells == NULL_CELL, NULL_CELL, cells * factors)


@dataclass
class SnapshotComparison:
    reference_rows: int  #: book_snapshot rows in the file
    compared_rows: int  #: rows with a replayed book at or before their timestamp
    same_timestamp: int  #: rows whose timestamp is exactly that of a replayed book row
    match: Match  #: cell-by-cell result (rows indexed 0..compared_rows-1)
    first_mismatch_src_row: int | None  #: book_snapshot file line of the first mismatch


def compare_with_snapshots(
    ts_event: np.ndarray,
    cells: np.ndarray,
    price_scale: int,
    size_scale: int,
    snapshots: BookSnapshots,
    levels: int | None = None,
) -> SnapshotComparison:
    """Compare a replayed book with ``book_snapshot_N`` rows, matched by timestamp.

    The book at a snapshot's ``timestamp`` T is the last replayed row with ``ts_event <= T`` (the
    book after every message up to T; Tardis writes a snapshot at the timestamp of the message
    that changed the top N, so normally ``ts_event == T``, counted as ``same_timestamp``). Both
    sides are brought to the finer of the two scales (exact integer factors) and the first
    ``levels`` levels (default: the snapshot depth) are compared cell by cell with
    :func:`obrecon_pipeline.integrity.reference.match_reference`; an empty level equals only an empty level.
    """
    levels = snapshots.depth if levels is None else levels
    if levels > snapshots.depth or 4 * levels > cells.shape[1]:
        raise ReplayError(
            f"cannot compare {levels} levels: snapshots have {snapshots.depth}, the book {cells.shape[1] // 4}"
        )
    price = max(price_scale, snapshots.price_scale)
    size = max(size_scale, snapshots.size_scale)
    if price % price_scale or price % snapshots.price_scale or size % size_scale or size % snapshots.size_scale:
        raise ReplayError("price/size scales are not powers of ten of each other")
    ours = _rescale(cells[:, : 4 * levels], price // price_scale, size // size_scale)
    theirs = _rescale(snapshots.cells[:, : 4 * levels], price // snapshots.price_scale, size // snapshots.size_scale)
    # index of the last book row with ts_event <= T (ts_event is non-decreasing in a replay)
    at = np.searchsorted(ts_event, snapshots.ts_event, side="right") - 1
    usable = np.flatnonzero(at >= 0)
    match = match_reference(ours[at[usable]], usable, theirs)
    first = None
    if match.first_mismatch_row is not None:
        first = int(snapshots.src_row[usable[match.first_mismatch_row]])
    return SnapshotComparison(
        reference_rows=len(snapshots.ts_event),
        compared_rows=int(usable.size),
        same_timestamp=int(np.count_nonzero(ts_event[at[usable]] == snapshots.ts_event[usable])),
        match=match,
        first_mismatch_src_row=first,
    )


def compare_all(ts_event: np.ndarray, cells: np.ndarray, price_scale: int, size_scale: int,
                snapshots: list[BookSnapshots]) -> list[dict]:
    """Every snapshot file against a replayed book (``ts_event``/``cells`` of its rows), as
    report.json's ``snapshot_reference`` entries."""
    out = []
    for snaps in snapshots:
        c = compare_with_snapshots(ts_event, cells, price_scale, size_scale, snaps,
                                   min(cells.shape[1] // 4, snaps.depth))
        out.append({"file": str(snaps.path), "reference_rows": c.reference_rows, "compared_rows": c.compared_rows,
                    "same_timestamp": c.same_timestamp, "first_mismatch_src_row": c.first_mismatch_src_row,
                    **c.match.to_dict()})
    return out




def compare_written(book: str | Path, price_scale: int, size_scale: int, snapshots: list[BookSnapshots]) -> list[dict]:
    """:func:`compare_all` against a book table written to Parquet, reading only its ``ts_event``
    column and the rows at the snapshots' times (the book is never loaded whole)."""
    from obrecon_pipeline.book_schema import levels_of, to_cells

    scan = pl.scan_parquet(book)
    ts = scan.select("ts_event").collect()["ts_event"].to_numpy()
    wanted = sorted({int(i) for s in snapshots for i in np.searchsorted(ts, s.ts_event, side="right") - 1 if i >= 0})
    # the last row at or before each snapshot time, and only those: a snapshot at T finds the same
    # row among them as among all rows
    rows = scan.with_row_index("row").filter(pl.col("row").is_in(wanted)).collect().sort("row")
    cells = to_cells(rows.drop("row"), price_scale, size_scale) if rows.height else np.empty(
        (0, 4 * levels_of(scan)), dtype=np.int64)
    return compare_all(rows["ts_event"].to_numpy(), cells, price_scale, size_scale, snapshots)
