"""Partitions: one stream on one day, as a two-dimensional Dagster partition (stream × day).

A stream-day is identified everywhere outside Dagster by its **stream-day id**
``<source>/<stream>/<YYYY-MM-DD>`` (``lobster/GOOG-L10/2012-06-21``: report paths, warehouse paths,
``python3 -m assets.materialize --partition``). Inside Dagster it is a
:class:`dagster.MultiPartitionKey` of two dimensions:

* ``stream``: the stream name alone (``GOOG-L10``): the UI shortens keys in the middle to about
  15 characters in the launch dialog's chips, so a source prefix or suffix would take the place
  of what tells streams apart (``AAPL-L1…lobster`` for AAPL-L10 and AAPL-L1 alike);
* ``trading_day``: ``YYYY-MM-DD``, the days that have landed, kept in date order.

:func:`partition_key` and :func:`stream_day_id` are the one mapping between the two. The source is
found in the landing zone: the one source with a ``<day>`` folder, or, where several sources
landed that day, the one whose feed lists the stream (stream names are venue-qualified and must
be unique across sources; :func:`register` refuses two sources with one stream name).

Streams, days and their sources come from the catalog of the landing zone
(:mod:`obrecon_pipeline.catalog`), which reads a landed file once, when it is new or changed.

Both dimensions are dynamic and hold only what has landed (the landing-zone sensor,
the schedule and ``assets.materialize`` register them through :func:`register`). A contiguous daily
axis over the shipped landing zone (2012-06-21 to 2024-12-01, 4,547 days) times its 321 streams
would be 1.46 M partitions, far beyond Dagster's guidance of about 100 k per asset; the landed
days are 28, so the grid is 28 × 321 = 8,988. A team landing every day gets exactly a daily axis.
Dynamic partitions are listed in the order they were added, so registration keeps each dimension
sorted: a day that lands out of order re-registers the later days after it.

A (stream, day) cell whose files never landed is a valid partition with nothing in it:
:mod:`assets.book` yields no output for it, so a backfill over a date range materializes the
landed days and skips the rest.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from obrecon_pipeline.catalog import DAY_RE, Catalog
from obrecon_pipeline.feeds import FEEDS, load_builtin_feeds
from obrecon_pipeline.streams import Stream

STREAM_DIM, DAY_DIM = "stream", "trading_day"
STREAMS = dg.DynamicPartitionsDefinition(name="streams")
DAYS = dg.DynamicPartitionsDefinition(name="trading_days")
#: dimensions are ordered by name, so ``stream`` is the first (the UI's left column)
STREAM_DAYS = dg.MultiPartitionsDefinition({STREAM_DIM: STREAMS, DAY_DIM: DAYS})


def partition_key(stream_day: str) -> dg.MultiPartitionKey:
    """``lobster/GOOG-L10/2012-06-21`` -> the Dagster key ``{stream: GOOG-L10, trading_day: 2012-06-21}``."""
    source, _, rest = stream_day.partition("/")
    name, _, day = rest.rpartition("/")
    if not (source and name and DAY_RE.match(day)):
        raise ValueError(f"{stream_day!r} is not a stream-day id <source>/<stream>/<YYYY-MM-DD>")
    return dg.MultiPartitionKey({STREAM_DIM: name, DAY_DIM: day})


def stream_day_id(key: str | dg.MultiPartitionKey, raw_root: Path) -> str | None:
    """The Dagster partition key (or its string form ``GOOG-L10|2012-06-21``) -> the stream-day id
    ``lobster/GOOG-L10/2012-06-21``, the source found in the catalog of the landing zone
    ``raw_root`` (that day's folders refreshed); None when nothing landed for that stream and day."""
    if not isinstance(key, dg.MultiPartitionKey):
        key = STREAM_DAYS.get_partition_key_from_str(key)
    name, day = key.keys_by_dimension[STREAM_DIM], key.keys_by_dimension[DAY_DIM]
    catalog = Catalog(raw_root)
    catalog.refresh(day=day)
    sources = catalog.sources_of(name, day)
    return f"{sources[0]}/{name}/{day}" if sources else None


def discover_streams(raw_root: Path) -> list[Stream]:
    """Every stream in ``<raw_root>/<source>/<YYYY-MM-DD>/`` whose source is a known format, from
    the catalog of the landing zone (:mod:`obrecon_pipeline.catalog`; refreshed first: only new or
    changed files are read)."""
    catalog = Catalog(raw_root)
    catalog.refresh()
    return catalog.streams()


def stream_for_key(raw_root: Path, stream_day: str) -> Stream | None:
    """The stream behind a stream-day id, from the catalog (its day folder refreshed first); None
    if nothing landed for it."""
    source, _, rest = stream_day.partition("/")
    day = rest.rpartition("/")[2]
    load_builtin_feeds()
    if source not in FEEDS:
        raise dg.Failure(f"partition {stream_day!r}: {source!r} is not a known format")
    catalog = Catalog(raw_root)
    catalog.refresh(source=source, day=day)
    return catalog.stream(stream_day)


def _register_sorted(instance: dg.DagsterInstance, dimension: dg.DynamicPartitionsDefinition, new: set[str]) -> None:
    """Add ``new`` to ``dimension`` leaving it sorted: a key that sorts before a known one
    re-registers every known key after it (materializations are kept: they belong to the key, not
    to its registration). A sensor cannot ask for this (Dagster refuses a delete and an add of
    the same key in one result), so it is done on the instance directly."""
    known = instance.get_dynamic_partitions(dimension.name)
    new = new - set(known)
    if not new:
        return
    later = [k for k in known if k > min(new)]
    for key in later:
        instance.delete_dynamic_partition(dimension.name, key)
    instance.add_dynamic_partitions(dimension.name, sorted(new | set(later)))


def register(instance: dg.DagsterInstance, stream_days: list[str]) -> list[str]:
    """Register the streams and days of ``stream_days`` (ids) with ``instance``, keeping both
    dimensions sorted; the ids that were not partitions before. Two sources with one stream name
    are refused (the stream key would not say which)."""
    sources: dict[str, set[str]] = {}
    for sd in stream_days:
        source, _, rest = sd.partition("/")
        sources.setdefault(rest.rpartition("/")[0], set()).add(source)
    clash = sorted(f"{name} ({', '.join(sorted(srcs))})" for name, srcs in sources.items() if len(srcs) > 1)
    if clash:
        raise ValueError(f"stream names must be unique across sources: {'; '.join(clash)}")
    keys = [partition_key(s) for s in stream_days]
    existing = (set(instance.get_dynamic_partitions(STREAMS.name)), set(instance.get_dynamic_partitions(DAYS.name)))
    for dim, dimension in ((STREAM_DIM, STREAMS), (DAY_DIM, DAYS)):
        _register_sorted(instance, dimension, {k.keys_by_dimension[dim] for k in keys})
    return [s for s, k in zip(stream_days, keys)
            if not (k.keys_by_dimension[STREAM_DIM] in existing[0] and k.keys_by_dimension[DAY_DIM] in existing[1])]
