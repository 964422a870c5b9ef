"""Partitions: one day of one stream, keyed ``<source>/<stream>/<YYYY-MM-DD>``.

Only streams and days that exist in the landing zone become partitions (a dynamic partitions
definition filled by the landing-zone sensor or by ``obrecon-materialize``), so the UI never shows
a decade of empty dates. Keys sort by source, stream, then day, so a backfill over one stream's
history is a contiguous range.
"""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg

from obrecon_pipeline.feeds import FEEDS, load_builtin_feeds
from obrecon_pipeline.streams import Stream

STREAM_DAYS = dg.DynamicPartitionsDefinition(name="stream_days")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def discover_streams(raw_root: Path) -> list[Stream]:
    """Every stream in ``<raw_root>/<source>/<YYYY-MM-DD>/`` whose source is a known format."""
    load_builtin_feeds()
    streams: list[Stream] = []
    if not raw_root.is_dir():
        return streams
    for source_dir in sorted(p for p in raw_root.iterdir() if p.is_dir()):
        feed = FEEDS.get(source_dir.name)
        if feed is None:
            continue
        for day_dir in sorted(p for p in source_dir.iterdir() if p.is_dir() and DAY_RE.match(p.name)):
            streams.extend(feed.discover(day_dir, day_dir.name))
    return sorted(streams, key=lambda s: (s.source, s.name, s.day))


def stream_for_key(raw_root: Path, key: str) -> Stream:
    """The stream behind a partition key (re-discovered from the landing zone)."""
    source, _, rest = key.partition("/")
    name, _, day = rest.rpartition("/")
    load_builtin_feeds()
    feed = FEEDS.get(source)
    day_dir = raw_root / source / day
    if feed is None or not day_dir.is_dir():
        raise dg.Failure(f"partition {key!r}: no landing-zone folder {day_dir} for a known format")
    for stream in feed.discover(day_dir, day):
        if stream.name == name:
            return stream
    raise dg.Failure(f"partition {key!r}: stream {name!r} not found in {day_dir}")
