"""The tables one stream's run writes, block by block: the book, and optionally its events and the
venue's reference book, each one Parquet file (:class:`~obrecon_pipeline.storage.parquet.ParquetStream`:
one row group per block, a temporary file renamed into place only when the run completes).

* ``book``: the public book schema (:mod:`obrecon_pipeline.book_schema`), a row per emitted book
  state: ``ts_event``, ``seq`` and ``update_id`` of the event behind it, the replayer's
  ``book_valid`` and the level columns;
* ``events``: the normalized events as the replayer consumed them (:data:`~obrecon_pipeline.events.EVENT_SCHEMA`);
* ``reference``: the venue's own book after each event, in the book schema (LOBSTER's orderbook file).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from obrecon_pipeline.book_schema import book_schema
from obrecon_pipeline.buffers import Recycler
from obrecon_pipeline.events import EVENT_SCHEMA
from obrecon_pipeline.replay.table import to_arrow
from obrecon_pipeline.storage.parquet import ParquetStream
from obrecon_pipeline.streams import EventChunk


def arrow_schema(schema: dict[str, pl.DataType]) -> pa.Schema:
    """The Arrow schema Polars writes for a table of this schema."""
    return pl.DataFrame(schema=schema).to_arrow().schema


@dataclass
class OutputPaths:
    """Where a run writes (``events``/``reference``: None = not written)."""

    book: Path
    events: Path | None = None
    reference: Path | None = None


class StreamOutputs:
    """The open writers of one run (see the module docstring); :meth:`state` / ``resume=`` make it
    resumable, :meth:`commit` renames every table into place."""

    def __init__(self, paths: OutputPaths, levels: int, reference_depth: int = 0, *, compression: str = "lz4",
                 resume: dict | None = None):
        """``levels`` of the book; ``reference_depth`` levels of the reference rows (its table has
        that many levels, empty when the feed has no reference)."""
        resume = resume or {}
        tables = (("book", paths.book, book_schema(levels)), ("events", paths.events, EVENT_SCHEMA),
                  ("reference", paths.reference, book_schema(reference_depth)))
        self._writers: dict[str, ParquetStream] = {
            name: ParquetStream(path, arrow_schema(schema), compression=compression, resume=resume.get(name))
            for name, path, schema in tables if path is not None
        }
        self._columns = {name: Recycler(keep=2 * (w.tables_in_flight + 1)) for name, w in self._writers.items()}

    def write(self, chunk: EventChunk, block, price_scale: int, size_scale: int) -> None:
        """The rows the replayer emitted for ``chunk`` (``block``: rows, cells, valid, row_event),
        and the chunk's events and reference rows when those tables are written."""
        events = chunk.events
        first = int(events["arrival"][0]) if events.height else 0
        if block.rows:
            # the Float64 conversion and the encoding run in the writer's thread, over the block's
            # own buffers (the replayer writes the next chunk into others, see Replayer._reserve)
            local = np.asarray(block.row_event[: block.rows]) - first
            self._writers["book"].submit(partial(
                to_arrow,
                events["ts_event"].to_numpy()[local],
                events["arrival"].to_numpy()[local],
                events["update_id"].gather(local),
                np.asarray(block.valid[: block.rows]),
                np.asarray(block.cells[: block.rows]),
                price_scale, size_scale, self._columns["book"],
            ))
        if "events" in self._writers:
            self._writers["events"].write(events.to_arrow())
        if "reference" in self._writers and chunk.reference is not None:
            self._writers["reference"].write(to_arrow(
                events["ts_event"].to_numpy(), events["arrival"].to_numpy(), events["update_id"],
                np.ones(events.height, dtype=bool), chunk.reference, price_scale, size_scale, self._columns["reference"],
            ))

    def state(self) -> dict:
        return {name: w.state() for name, w in self._writers.items()}

    def commit(self) -> dict[str, Path]:
        """Close every table (footer, fsync, rename into place); their paths."""
        return {name: w.close() for name, w in self._writers.items()}

    def abort(self) -> None:
        for w in self._writers.values():
            w.abort()
