"""An L2 stream opened for chunked replay: :class:`L2Source`, what every L2 feed's ``open`` returns.

The venue's messages are read and sequenced once (:class:`~.messages.BookMessages`,
:meth:`~.messages.BookMessages.sequenced`: the sequencer needs every id of the day to decide what a
message is, and its output is one int64 per book row); the normalized events are then assembled
chunk by chunk, a chunk being the events of consecutive book rows (a message is never split), so
the whole day's event table never exists at once. Chunks are numbered on from the previous one
(``arrival``) and use the day's scales, so the chunks of any size concatenate to the whole-day
table cell for cell. The state after a chunk is the next book row; :meth:`L2Source.resume` starts
there.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import polars as pl

from obrecon_pipeline.feeds.l2.messages import BookMessages
from obrecon_pipeline.streams import EventChunk, Stream


class L2Source:
    """A :class:`~obrecon_pipeline.streams.StreamSource` over one symbol's book messages."""

    reference_depth = 0  #: L2 feeds have no event-aligned reference (checksums / snapshots instead)
    seed = None

    def __init__(self, stream: Stream, book: BookMessages):
        self.stream = stream
        self._book = book
        self._sq = book.sequenced()
        self.options = book.options()
        counts = book.event_counts(self._sq)
        self._ends = np.cumsum(counts)  # events up to and including each book row
        self.expected_events = int(self._ends[-1]) if len(counts) else 0
        self._next = 0  # next book row to yield

    def chunks(self, max_events: int) -> Iterator[EventChunk]:
        if max_events < 1:
            raise ValueError(f"chunks need at least one event, got {max_events}")
        n = len(self._ends)
        while self._next < n:
            start = self._next
            before = int(self._ends[start - 1]) if start else 0
            stop = max(int(np.searchsorted(self._ends, before + max_events, side="right")), start + 1)
            events, _ = self._book.events(self._sq, rows=(start, stop), first_arrival=before)
            self._next = stop
            yield EventChunk(events)

    def stats(self) -> dict:
        return self._book.report_stats(self._sq)

    def quarantine(self) -> pl.DataFrame:
        return self._book.quarantine_frame()

    def state(self) -> dict:
        return {"next_row": self._next}

    def resume(self, state: dict) -> None:
        self._next = int(state["next_row"])


def source_opener(read: Callable[[Stream], BookMessages]) -> Callable[[Stream, bool], L2Source]:
    """A feed's ``open`` from its reader (``reference`` is ignored: L2 feeds have none aligned)."""

    def open_stream(stream: Stream, reference: bool = True) -> L2Source:
        return L2Source(stream, read(stream))

    return open_stream
