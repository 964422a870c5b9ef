"""Replay normalized events into the top-N book (the Cython core plus its Python front).

:func:`replay` pulls the event columns out as contiguous NumPy buffers, preallocates the output
matrix, runs :func:`obrecon_pipeline.replay._core.replay_arrays` (no Python object per event) and
turns the integer cells into the public book table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import polars as pl

from obrecon_pipeline import buffers
from obrecon_pipeline.codes import NULL_ID, IntegrityKind
from obrecon_pipeline.errors import ReplayError
from obrecon_pipeline.events import Flag, scales
from obrecon_pipeline.replay._checksum import kind_code
from obrecon_pipeline.replay._core import replay_arrays
from obrecon_pipeline.replay.table import to_frame
from obrecon_pipeline.streams import ReplayOptions

#: report.json's name of each integrity failure code the replayer records
INTEGRITY_KINDS = {int(kind): kind.label for kind in IntegrityKind}


@dataclass
class ReplayResult:
    book: pl.DataFrame  #: the public book table (book_schema)
    cells: np.ndarray  #: int64[rows, 4N], NULL / UNKNOWN sentinels
    row_event: np.ndarray  #: int64[rows]: index of the event behind each row
    counters: dict  #: report.json counters of this replay
    #: every event that caused an integrity failure: event, src_row, ts_event, update_id, kind
    integrity: pl.DataFrame | None = None


def _decimals(scale: int) -> int:
    """``d`` with ``scale == 10**d`` (checksums rebuild the venue's decimal text from it)."""
    d = len(str(scale)) - 1
    if scale <= 0 or 10**d != scale:
        raise ReplayError(f"checksums need a power-of-ten scale, got {scale}")
    return d


def _column(events: pl.DataFrame, name: str, dtype: type) -> np.ndarray:
    return np.ascontiguousarray(events[name].fill_null(0).to_numpy(), dtype=dtype)


def replay(
    events: pl.DataFrame,
    levels: int,
    options: ReplayOptions,
    reference: np.ndarray | None = None,
    reseed: bool = True,
    seed: bool = False,
) -> ReplayResult:
    """Rebuild the book after every event (``options.emit == "event"``) or message.

    ``reference`` (``int64[n_events, 4*depth]``, row i = the book after event i) is used to seed
    the book from row 0 when ``seed`` and, when ``reseed``, to fill exactly those levels that enter
    a bounded window from outside (counted as ``reseeds``); every other cell is replayed.
    """
    if levels < 1:
        raise ReplayError(f"levels must be >= 1, got {levels}")
    if options.emit not in ("event", "message"):
        raise ReplayError(f"emit must be 'event' or 'message', got {options.emit!r}")
    n = events.height
    flags = _column(events, "flags", np.uint8)
    emit_every_event = options.emit == "event"
    n_rows = n if emit_every_event else int(np.count_nonzero(flags & Flag.END_OF_MESSAGE))
    if reference is None:
        ref = np.empty((0, 0), dtype=np.int64)
    else:
        ref = np.ascontiguousarray(reference, dtype=np.int64)
        if ref.shape[0] != n:
            raise ReplayError(f"reference has {ref.shape[0]} rows for {n} events")
    cells = buffers.empty((n_rows, 4 * levels), np.int64)
    valid = np.empty(n_rows, dtype=np.uint8)
    row_event = np.empty(n_rows, dtype=np.int64)
    failure_kind = np.zeros(n, dtype=np.int8)
    checksum_kind = kind_code(options.checksum)
    price_decimals = size_decimals = 0
    if checksum_kind and n:
        price_decimals, size_decimals = (_decimals(s) for s in scales(events))
    checksums = np.ascontiguousarray(
        events["checksum"].fill_null(NULL_ID).to_numpy(), dtype=np.int64
    ) if checksum_kind else None

    t0 = time.perf_counter()
    c = replay_arrays(
        _column(events, "action", np.int8),
        _column(events, "side", np.int8),
        _column(events, "price", np.int64),
        _column(events, "size", np.int64),
        _column(events, "order_id", np.uint64),
        flags,
        levels,
        options.window,
        emit_every_event,
        options.strict_orders,
        ref,
        seed,
        reseed,
        cells,
        valid,
        row_event,
        failure_kind,
        checksums,
        checksum_kind,
        price_decimals,
        size_decimals,
    )
    wall = time.perf_counter() - t0

    rows = int(c["rows"])
    cells, valid, row_event = cells[:rows], valid[:rows], row_event[:rows]
    ts = events["ts_event"].to_numpy()
    price_scale, size_scale = scales(events) if n else (1, 1)
    book = to_frame(
        ts[row_event],
        events["arrival"].to_numpy()[row_event],
        events["update_id"].gather(row_event) if n else None,
        valid,
        cells,
        price_scale,
        size_scale,
    )
    counters = {
        "events": n,
        "rows": rows,
        "unknown_cells": int(c["unknown_cells"]),
        "reseeds": int(c["reseeds"]),
        "crossed_rows": int(c["crossed_rows"]),
        "locked_rows": int(c["locked_rows"]),
        "invalid_rows": int(c["invalid_rows"]),
        "integrity_errors": int(c["integrity_errors"]),
        "unknown_order_ids": int(c["unknown_order_ids"]),
        "outside_window_events": int(c["outside_window_events"]),
        "snapshots": int(c["snapshots"]),
        "resyncs": int(c["resyncs"]),
        "checksum_ok": int(c["checksum_ok"]),
        "checksum_failed": int(c["checksum_failed"]),
        "replay_wall_s": wall,
        "events_per_s": n / wall if wall > 0 else float("inf"),
    }
    first = int(c["first_integrity_event"])
    if first >= 0:
        counters["first_integrity_error"] = {
            "event": first,
            "ts_event": int(ts[first]),
            "src_row": int(events["src_row"][first]),
            "kind": INTEGRITY_KINDS[int(c["first_integrity_kind"])],
        }
    first = int(c["first_checksum_event"])
    if first >= 0:
        counters["first_checksum_failure"] = {
            "event": first,
            "ts_event": int(ts[first]),
            "src_row": int(events["src_row"][first]),
            "update_id": events["update_id"][first],
            "checksum": int(events["checksum"][first]),
        }
    first = int(c["first_crossed_event"])
    if first >= 0:
        counters["first_crossed"] = {
            "event": first,
            "ts_event": int(ts[first]),
            "src_row": int(events["src_row"][first]),
        }
    failed = np.flatnonzero(failure_kind)
    integrity = pl.DataFrame(
        {
            "event": failed.astype(np.int64),
            "src_row": events["src_row"].gather(failed),
            "ts_event": events["ts_event"].gather(failed),
            "update_id": events["update_id"].gather(failed),
            "kind": pl.Series(failure_kind[failed]).replace_strict(INTEGRITY_KINDS, return_dtype=pl.String),
        }
    )
    counters["integrity_error_kinds"] = {
        kind: int(np.count_nonzero(failure_kind == code)) for code, kind in INTEGRITY_KINDS.items()
    }
    return ReplayResult(book=book, cells=cells, row_event=row_event, counters=counters, integrity=integrity)
