"""Replay normalized events into the top-N book: the stateful Cython replayer and a whole-day front.

:class:`Replayer` (:mod:`obrecon_pipeline.replay._replayer`) owns the book and all state across
calls: ``apply(chunk)`` writes a chunk's rows into a recycled :class:`Block`, ``apply_one`` serves
a live feed one event at a time, ``state()`` / ``Replayer.from_state`` checkpoint it exactly.
:func:`replay` is the whole-day front over it: the events of a day in memory in, the public book
table and the day's counters out (in chunks cut at message boundaries when ``chunk_events`` says
so, with the same result).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from obrecon_pipeline import buffers
from obrecon_pipeline.errors import ReplayError
from obrecon_pipeline.events import Flag, scales
from obrecon_pipeline.replay._replayer import Block, Replayer, event_columns
from obrecon_pipeline.replay.table import to_frame
from obrecon_pipeline.streams import ReplayOptions, message_chunks

__all__ = ["Block", "Replayer", "ReplayResult", "event_columns", "message_chunks", "replay"]

@dataclass
class ReplayResult:
    book: pl.DataFrame  #: the public book table (book_schema)
    cells: np.ndarray  #: int64[rows, 4N], NULL / UNKNOWN sentinels
    row_event: np.ndarray  #: int64[rows]: index of the event behind each row
    counters: dict  #: report.json counters of this replay
    #: every event that caused an integrity failure: event, src_row, ts_event, update_id, kind
    integrity: pl.DataFrame | None = None


def replay(
    events: pl.DataFrame,
    levels: int,
    options: ReplayOptions,
    reference: np.ndarray | None = None,
    reseed: bool = True,
    seed: bool = False,
    chunk_events: int | None = None,
) -> ReplayResult:
    """Rebuild the book after every event (``options.emit == "event"``) or message.

    ``reference`` (``int64[n_events, 4*depth]``, row i = the book after event i) is used to seed
    the book from row 0 when ``seed``, when ``reseed`` to fill exactly those levels that enter a
    bounded window from outside (counted as ``reseeds``), and to measure the match of every row
    (``counters["reference"]``); every other cell is replayed. ``chunk_events`` replays in chunks
    of at most that many events cut at message boundaries (:func:`message_chunks`), through one
    :class:`Replayer`: the result is the same as in one call.
    """
    if levels < 1:
        raise ReplayError(f"levels must be >= 1, got {levels}")
    n = events.height
    ref = None
    if reference is not None:
        ref = np.ascontiguousarray(reference, dtype=np.int64)
        if ref.shape[0] != n:
            raise ReplayError(f"reference has {ref.shape[0]} rows for {n} events")
    if seed and (ref is None or ref.shape[0] == 0):
        raise ReplayError("seeding needs a reference book")
    price_scale, size_scale = scales(events) if n else (1, 1)
    replayer = Replayer(levels, options, reference_depth=0 if ref is None else ref.shape[1] // 4, reseed=reseed,
                        price_scale=price_scale, size_scale=size_scale, max_failures=n, max_episodes=n)
    if seed:
        replayer.seed(ref[0])
    columns = event_columns(events, options.checksum is not None)
    spans = message_chunks(columns[5], chunk_events) if chunk_events else [(0, n)]
    if len(spans) == 1:
        block = replayer.apply_arrays(*columns, reference=ref)
        cells, valid, row_event = block.cells, block.valid, block.row_event
    else:
        total = n if options.emit == "event" else int(np.count_nonzero(columns[5] & Flag.END_OF_MESSAGE)) + (
            1 if seed and n and not columns[5][0] & Flag.END_OF_MESSAGE else 0)
        cells = buffers.empty((total, 4 * levels), np.int64)
        valid = np.empty(total, dtype=np.uint8)
        row_event = np.empty(total, dtype=np.int64)
        at = 0
        for start, stop in spans:
            block = replayer.apply_arrays(*(None if c is None else c[start:stop] for c in columns),
                                          reference=None if ref is None else ref[start:stop])
            cells[at:at + block.rows] = block.cells
            valid[at:at + block.rows] = block.valid
            row_event[at:at + block.rows] = block.row_event
            at += block.rows
    counters = replayer.counters()
    book = to_frame(
        events["ts_event"].to_numpy()[row_event],
        events["arrival"].to_numpy()[row_event],
        events["update_id"].gather(row_event) if n else None,
        valid,
        cells,
        price_scale,
        size_scale,
    )
    return ReplayResult(book=book, cells=cells, row_event=row_event, counters=counters,
                        integrity=replayer.integrity_failures())
