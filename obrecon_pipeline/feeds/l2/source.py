"""An L2 stream opened for chunked replay: :class:`L2Source`, what every L2 feed's ``open`` returns.

The venue's messages are read once (:class:`~.messages.BookMessages`) and sequenced block by block
(:data:`BLOCK_MESSAGES` messages at a time) by the stateful sequencer
(:class:`~._sequencer.Sequencer`, its state carried from block to block), so that no array of the
day's application order exists: a first pass over the ids gives the report's counters, gaps and
the number of events; each replay runs the sequencer again and assembles the events of the book
rows it settles, chunk by chunk, a chunk being the events of consecutive book rows (a message is
never split; as many rows as fit in ``max_events``, at least one). Chunks are numbered on from the
previous one (``arrival``) and use the day's scales, so the chunks of any size concatenate to the
whole-day table cell for cell. The state after a chunk is the next book row; :meth:`L2Source.resume`
starts there (the rows before it are sequenced again, not assembled).
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import polars as pl

from obrecon_pipeline.feeds.l2.messages import BookMessages, BookRows
from obrecon_pipeline.streams import EventChunk, Stream

#: messages sequenced at a time
BLOCK_MESSAGES = 1 << 16


def book_rows(book: BookMessages):
    """The sequencer and the :class:`BookRows` of one run over ``book``, and an iterator of the
    ``(msg, marker, bad)`` rows it settles, :data:`BLOCK_MESSAGES` messages fed at a time."""
    seq, rows = book.sequencer(), BookRows(book.sequencing)

    def settled():
        for ids in book.id_blocks(BLOCK_MESSAGES):
            yield rows.add(seq.feed(*ids))
        yield rows.add(seq.finish(), end=True)

    return seq, rows, settled()


class L2Source:
    """A :class:`~obrecon_pipeline.streams.StreamSource` over one symbol's book messages."""

    reference_depth = 0  #: L2 feeds have no event-aligned reference (checksums / snapshots instead)
    seed = None

    def __init__(self, stream: Stream, book: BookMessages):
        self.stream = stream
        self._book = book
        self.options = book.options()
        seq, rows, settled = book_rows(book)
        self.expected_events = sum(int(book.event_counts(msg, marker).sum()) for msg, marker, _ in settled)
        self._stats = book.stats_of(seq.counters(), seq.status_counts, book.gap_frame(seq.gaps, rows.gap_rows))
        self._next = 0  # next book row to yield

    def chunks(self, max_events: int) -> Iterator[EventChunk]:
        if max_events < 1:
            raise ValueError(f"chunks need at least one event, got {max_events}")
        book = self._book
        settled = book_rows(book)[2]
        first_row, arrival = 0, 0  # book row and first event of the rows held
        held = [np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)]
        counts = np.zeros(0, dtype=np.int64)
        for msg, marker, bad in settled:
            n = book.event_counts(msg, marker)
            skip = min(max(self._next - (first_row + len(counts)), 0), len(msg))  # rows yielded before a resume
            if skip:
                arrival += int(n[:skip].sum())
                first_row += skip
                msg, marker, bad, n = msg[skip:], marker[skip:], bad[skip:], n[skip:]
            held = [np.concatenate([h, x]) for h, x in zip(held, (msg, marker, bad))]
            counts = np.concatenate([counts, n])
            ends = np.cumsum(counts)  # events up to and including each held row
            start, before = 0, 0
            while start < len(ends) and ends[-1] - before > max_events:  # more than a chunk held: cut one
                stop = max(int(np.searchsorted(ends, before + max_events, side="right")), start + 1)
                yield self._chunk(held, start, stop, arrival + before, first_row + start)
                start, before = stop, int(ends[stop - 1])
            arrival, first_row = arrival + before, first_row + start
            held, counts = [h[start:] for h in held], counts[start:]
        if len(counts):  # the day's last rows: one chunk (they fit)
            yield self._chunk(held, 0, len(counts), arrival, first_row)

    def _chunk(self, held: list[np.ndarray], start: int, stop: int, arrival: int, row: int) -> EventChunk:
        """The events of the held rows ``[start, stop)``, the first of them book row ``row``, its
        first event numbered ``arrival``."""
        msg, marker, bad = (h[start:stop] for h in held)
        events = self._book.row_events(msg, marker, bad, first_arrival=arrival)
        self._next = row + stop - start
        return EventChunk(events)

    def stats(self) -> dict:
        return self._stats

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
