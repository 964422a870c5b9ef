"""Feed parsers: raw venue files -> the normalized event table.

Each format is a module exposing a :class:`Feed` object registered in :data:`FEEDS` under its
``--format`` name. A feed knows how to

* ``discover(source_dir, day)``: list the streams (one instrument's book) whose raw files sit in a
  landing-zone day folder ``<root>/raw/<source>/<YYYY-MM-DD>/``;
* ``load(stream)``: parse them into :class:`LoadedStream` (normalized events, an optional
  reference book aligned to the events, and the replay options the venue needs);
* ``from_files(paths)``: list the streams in files named on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl


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


@dataclass
class ReplayOptions:
    """How the replayer must treat a venue's events (see :func:`obrecon_pipeline.replay.replay`)."""

    #: depth of the venue's visibility window (LOBSTER's level count); 0 = the feed sends every
    #: level it knows, so levels never enter from outside
    window: int = 0
    #: ``"event"``: one output row per event; ``"message"``: one row per END_OF_MESSAGE event
    emit: str = "event"
    #: True: a cancel/execute/delete for an unknown order id is an integrity failure;
    #: False: the id belongs to an order resting before the file starts (LOBSTER) and the event's
    #: own side/price/size are applied
    strict_orders: bool = False
    #: checksum algorithm applied on events with a ``checksum`` (``None`` = no checksums)
    checksum: str | None = None


@dataclass
class LoadedStream:
    """A stream parsed into the normalized form, ready for the replayer."""

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


@dataclass(frozen=True)
class Feed:
    name: str
    #: ``discover(day_dir, day)``: the streams in a landing-zone day folder
    discover: Callable[[Path, str], list[Stream]]
    #: ``load(stream)``: parse a stream's files
    load: Callable[[Stream], LoadedStream]
    #: ``from_files(paths)``: the streams in files named on the command line (``obrecon replay``);
    #: None: the files form one stream named after the first file
    from_files: Callable[[list[Path]], list[Stream]] | None = None
    #: ``compare_reference(loaded, result)``: a reference that cannot be aligned event by event
    #: (e.g. Tardis book_snapshot rows, matched by timestamp) against the replay; JSON-able, for
    #: report.json's ``snapshot_reference``
    compare_reference: Callable[[LoadedStream, object], list[dict]] | None = None

    def streams_in(self, paths: list[Path]) -> list[Stream]:
        if self.from_files is not None:
            return self.from_files(paths)
        return [Stream(self.name, Path(paths[0]).name, "", tuple(Path(p) for p in paths))]


FEEDS: dict[str, Feed] = {}


def register(feed: Feed) -> Feed:
    FEEDS[feed.name] = feed
    return feed


def get_feed(name: str) -> Feed:
    _load_builtin()
    try:
        return FEEDS[name]
    except KeyError:
        raise KeyError(f"unknown format {name!r}; known: {', '.join(sorted(FEEDS))}") from None


def _load_builtin() -> None:
    # importing a feed module registers it
    from obrecon_pipeline.feeds import lobster  # noqa: F401
    from obrecon_pipeline.feeds import bybit  # noqa: F401
    from obrecon_pipeline.feeds import tardis  # noqa: F401
    from obrecon_pipeline.feeds import databento  # noqa: F401
    from obrecon_pipeline.feeds import cryptofeed  # noqa: F401
