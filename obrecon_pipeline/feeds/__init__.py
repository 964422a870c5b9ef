"""Feed parsers: raw venue files -> the normalized event table.

Each format is a module exposing a :class:`Feed` object registered in :data:`FEEDS` under its
``--format`` name. A feed knows how to

* ``discover(source_dir, day)``: list the streams (one instrument's book) whose raw files sit in a
  landing-zone day folder ``<root>/raw/<source>/<YYYY-MM-DD>/``; a feed that splits this into
  ``holds(path, day)`` (what one file holds, the only step that reads a file) and
  ``assemble(day, holdings)`` (the day's streams from every file's holdings, by name alone) has
  ``discover = assemble(day, held_in(day_dir, day, holds))``, and the catalog of the landing zone
  (:mod:`obrecon_pipeline.catalog`) calls ``holds`` only for a file that is new or changed;
* ``load(stream)``: parse them into a :class:`~obrecon_pipeline.streams.LoadedStream`
  (normalized events, an optional reference book aligned to the events, and the replay options
  the venue needs);
* ``from_files(paths)``: list the streams in files named on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import polars as pl

from obrecon_pipeline.errors import ObreconError
from obrecon_pipeline.streams import Held, LoadedStream, Stream, StreamSource


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
    #: ``reference_snapshots(stream)``: reference books that cannot be aligned event by event but
    #: by time (Tardis ``book_snapshot_N`` rows), parsed; the pipeline compares them with the replay
    #: for report.json's ``snapshot_reference``
    reference_snapshots: Callable[[Stream], list] | None = None
    #: ``open(stream, reference)``: the stream as a chunked
    #: :class:`~obrecon_pipeline.streams.StreamSource` (``reference=False``: do not read the reference
    #: book beyond the seed row); None: only ``load`` (whole day) is available
    open: Callable[[Stream, bool], StreamSource] | None = None
    #: ``reference_tickers(stream)``: top-of-book references the venue sends beside the book
    #: (Binance ``bookTicker``), blocks of :data:`~obrecon_pipeline.feeds.l2.messages.TICKER_SCHEMA`
    #: rows with ``row``, the book row where each is the exact best bid/ask (null: none)
    #: (:meth:`~obrecon_pipeline.feeds.l2.messages.BookMessages.ticker_blocks`); the pipeline
    #: compares them with the replay block by block for report.json's ``ticker_reference``
    reference_tickers: Callable[[Stream], Iterable[pl.DataFrame]] | None = None
    #: ``holds(path, day)``: the streams one file of a ``<day>`` folder holds (``[]``: none, or the
    #: file only accompanies a stream); reads as little of the file as its format allows
    holds: Callable[[Path, str], list[Held]] | None = None
    #: ``assemble(day, holdings)``: the day's streams from ``{path: holds(path, day)}`` of every
    #: file in the folder (sorted by path); reads no file
    assemble: Callable[[str, dict[Path, list[Held]]], list[Stream]] | None = None

    def streams_in(self, paths: list[Path]) -> list[Stream]:
        if self.from_files is not None:
            return self.from_files(paths)
        return [Stream(self.name, Path(paths[0]).name, "", tuple(Path(p) for p in paths))]


FEEDS: dict[str, Feed] = {}


def held_in(day_dir: Path, day: str, holds: Callable[[Path, str], list[Held]]) -> dict[Path, list[Held]]:
    """``{path: holds(path, day)}`` for every file of a day folder, sorted by path (what a feed's
    ``assemble`` takes; the catalog builds the same mapping from its table)."""
    return {p: holds(p, day) for p in sorted(Path(day_dir).iterdir()) if p.is_file()}


def register(feed: Feed) -> Feed:
    FEEDS[feed.name] = feed
    return feed


def get_feed(name: str) -> Feed:
    load_builtin_feeds()
    try:
        return FEEDS[name]
    except KeyError:
        raise ObreconError(f"unknown format {name!r}; known: {', '.join(sorted(FEEDS))}") from None


def load_builtin_feeds() -> dict[str, Feed]:
    """Register the shipped formats (importing a feed module registers it); :data:`FEEDS`."""
    from obrecon_pipeline.feeds import lobster  # noqa: F401
    from obrecon_pipeline.feeds import bybit_history  # noqa: F401
    from obrecon_pipeline.feeds import tardis  # noqa: F401
    from obrecon_pipeline.feeds import databento  # noqa: F401
    from obrecon_pipeline.feeds import cryptofeed  # noqa: F401
    from obrecon_pipeline.feeds import hftbacktest  # noqa: F401
    return FEEDS
