"""What a feed hands the replayer: a stream, how to replay it, and its events in chunks.

The contract between the feed parsers (:mod:`obrecon_pipeline.feeds`), the replayer
(:mod:`obrecon_pipeline.replay`) and the pipeline that joins them. Both sides depend on this module
and on the table contracts (:mod:`obrecon_pipeline.events`, :mod:`obrecon_pipeline.book_schema`),
never on each other.

* :class:`Stream`: one instrument's raw files for one day (the unit of a partition);
* :class:`Held`: a stream one landed file holds, as far as the file says (what the catalog of the
  landing zone keeps per file, :mod:`obrecon_pipeline.catalog`);
* :class:`ReplayOptions`: how the replayer must treat the venue's events;
* :class:`EventChunk` and :class:`StreamSource`: a stream's normalized events, in arrival order and
  in chunks of bounded size, each with the rows of the venue's own (reference) book aligned to its
  events where the feed has one; the source can report where it stands after a chunk
  (:meth:`StreamSource.state`) and resume there (:meth:`StreamSource.resume`), so a killed run
  continues from a checkpoint instead of from the start of the day;
* :class:`LoadedStream`: a whole stream in memory (small files, tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np
import polars as pl

from obrecon_pipeline.codes import Flag


#: a counted quarantine: the rows a feed could not use, each with file, row and reason
QUARANTINE_SCHEMA = {"file": pl.String, "row": pl.Int64, "reason": pl.String}


@dataclass(frozen=True)
class Stream:
    """One instrument's raw files for one day: the unit of a Dagster partition."""

    source: str  #: landing-zone source folder (``lobster``, ``cryptofeed``, ...)
    name: str  #: stream name within the source (``GOOG-L10``, ``KRAKEN-XBT-USD``, ...)
    day: str  #: ``YYYY-MM-DD``
    files: tuple[Path, ...]  #: the raw files, first the main one
    symbol: str | None = None  #: venue symbol when one raw file holds several streams

    @property
    def partition_key(self) -> str:
        return f"{self.source}/{self.name}/{self.day}"


@dataclass(frozen=True)
class Held:
    """A stream that one landed file holds: its name within the source, its venue symbol, and
    where the file says so cheaply, its first and last event time (ns since the epoch) and rows."""

    name: str
    symbol: str | None = None
    first_ns: int | None = None
    last_ns: int | None = None
    rows: int | None = None


@dataclass
class ReplayOptions:
    """How the replayer must treat a venue's events."""

    #: depth of the venue's visibility window (LOBSTER's level count); 0 = the feed sends every
    #: level it knows, so levels never enter from outside
    window: int = 0
    #: ``"event"``: one output row per event; ``"message"``: one row per END_OF_MESSAGE event
    emit: str = "event"
    #: True: a cancel/execute/delete for an unknown order id is an integrity failure;
    #: False: the id belongs to an order resting before the file starts (LOBSTER) and the event's
    #: own side/price/size are applied
    strict_orders: bool = False
    #: with ``strict_orders=False``: True, an order the replay has not seen rests in the book it
    #: started from (LOBSTER seeded from its orderbook file: the seed's levels hold it), so its
    #: event takes its size off its level; False, the book started empty with the file, so no level
    #: holds it: the event is counted (``unknown_order_ids``) and changes no level
    unseen_orders_in_book: bool = True
    #: checksum algorithm verified on events with a ``checksum`` (``None`` = no checksums; see
    #: :class:`obrecon_pipeline.codes.Checksum`)
    checksum: str | None = None


@dataclass
class EventChunk:
    """Consecutive events of a stream (``arrival`` contiguous) and, where the feed has one, the
    venue's own book after each of them (``int64[events.height, 4*depth]`` in the replayer's cell
    layout, :mod:`obrecon_pipeline.book_schema`)."""

    events: pl.DataFrame
    reference: np.ndarray | None = None


class StreamSource(Protocol):
    """A stream opened for replay (what ``Feed.open(stream)`` returns).

    ``chunks(max_events)`` yields :class:`EventChunk` of at most ``max_events`` events (a venue
    message is never split across chunks, so a chunk may be shorter), each built from as much of
    the raw files as that needs: memory is set by the chunk size, not by the day.
    ``stats()`` and ``quarantine()`` are complete once the iterator is exhausted.
    """

    stream: Stream
    options: ReplayOptions
    #: levels per side of the aligned reference rows (0: the feed has no aligned reference)
    reference_depth: int
    #: the book to start from (LOBSTER: orderbook row 0, the book after event 0, whose effect it
    #: already holds), ``int64[4*depth]``; None: start from an empty book
    seed: np.ndarray | None
    #: optional: a source whose stream lacks the reference book its feed normally has (a LOBSTER
    #: day without its orderbook file) sets this to the error a re-seeding replay must raise;
    #: the replay without re-seeding goes on from an empty book (read with ``getattr``)
    #: reference_missing: InputError | None

    def chunks(self, max_events: int) -> Iterator[EventChunk]: ...

    def stats(self) -> dict: ...

    def quarantine(self) -> pl.DataFrame: ...

    def state(self) -> dict: ...

    def resume(self, state: dict) -> None: ...


@dataclass
class LoadedStream:
    """A stream parsed whole into the normalized form."""

    stream: Stream
    events: pl.DataFrame
    options: ReplayOptions = field(default_factory=ReplayOptions)
    #: reference book as an ``int64[n_events, 4*depth]`` matrix in the replayer's cell layout
    #: (see :mod:`obrecon_pipeline.book_schema`), row i = the book after event i; or None
    reference: np.ndarray | None = None
    #: rows that could not be used, with file, row and reason (a counted quarantine)
    quarantine: pl.DataFrame | None = None
    #: counters found while parsing/sequencing (gaps, duplicates, reordered, ...) for report.json
    stats: dict[str, object] = field(default_factory=dict)
    #: True: load the book from reference row 0 and replay from event 1 (LOBSTER)
    seed: bool = False


def message_chunks(flags: np.ndarray, max_events: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``flags``: chunks of at most ``max_events`` events that end
    at an END_OF_MESSAGE event (a message longer than ``max_events`` is a chunk of its own; events
    after the last END_OF_MESSAGE close the last chunk)."""
    if max_events < 1:
        raise ValueError(f"chunks need at least one event, got {max_events}")
    n = len(flags)
    stops = (np.flatnonzero(np.asarray(flags) & Flag.END_OF_MESSAGE) + 1).tolist()
    out, start, prev = [], 0, 0
    for stop in stops:  # one step per message: close the chunk before a message that overflows it
        if stop - start > max_events and prev > start:
            out.append((start, prev))
            start = prev
        prev = stop
    if start < n:
        if n - start > max_events and start < prev < n:  # the trailing partial message alone
            out.append((start, prev))
            start = prev
        out.append((start, n))
    return out


class WholeStreamSource:
    """A :class:`StreamSource` over a stream already parsed whole (a :class:`LoadedStream`).

    For formats whose reader is not chunked: the memory is the parsed day's, but everything after
    the parser (replay, output, checkpoints) is the same as for a chunked source. Chunks end at
    message boundaries (an END_OF_MESSAGE event); the state is the next event to yield.
    """

    def __init__(self, loaded: LoadedStream, reference: bool = True):
        self.stream = loaded.stream
        self.options = loaded.options
        self._loaded = loaded
        self._reference = loaded.reference if reference else None
        self.reference_depth = 0 if self._reference is None else self._reference.shape[1] // 4
        self.seed = loaded.reference[0] if loaded.seed and loaded.reference is not None else None
        self.expected_events = loaded.events.height
        self._next = 0

    def chunks(self, max_events: int) -> Iterator[EventChunk]:
        events = self._loaded.events
        for start, stop in message_chunks(events["flags"].to_numpy(), max_events):
            if start < self._next:
                continue
            self._next = stop
            ref = None if self._reference is None else self._reference[start:stop]
            yield EventChunk(events.slice(start, stop - start), ref)

    def stats(self) -> dict:
        return dict(self._loaded.stats)

    def quarantine(self) -> pl.DataFrame:
        q = self._loaded.quarantine
        return q if q is not None else pl.DataFrame(schema=QUARANTINE_SCHEMA)

    def state(self) -> dict:
        return {"next_event": self._next}

    def resume(self, state: dict) -> None:
        self._next = int(state["next_event"])
