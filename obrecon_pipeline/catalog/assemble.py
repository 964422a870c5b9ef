"""The stream-day rows of day folders, from their file rows alone (names and what each file holds,
nothing read), and the data version of a stream-day.

A day's streams are its feed's ``assemble(day, {path: holds})`` (:mod:`obrecon_pipeline.feeds`),
which orders a stream's files main file first; a feed's ``discover(day_dir, day)`` is the same
call over ``holds`` of every file, so the catalog and a direct discovery agree by construction. A
feed without ``holds``/``assemble`` is discovered whole (every file of the day read).

The **data version** of a stream-day (what Dagster's ``raw_files`` observations carry) is
``sha256("<file name> <file sha256>\\n" for each file, sorted)`` over the stream's files and every
file of its folder that no stream names (a LOBSTER orderbook file), documentation (``README*``,
``SHA256SUMS``, ``LICENSE*``) aside: re-landing the same bytes under the same names keeps the
version; a changed byte or a renamed file changes it, and the partition shows stale.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from obrecon_pipeline.catalog.tables import STREAMS_SCHEMA
from obrecon_pipeline.feeds import FEEDS, Feed
from obrecon_pipeline.streams import Held

#: files of a day folder that are documentation, never part of a stream's data version
DOCS = ("README", "SHA256SUMS", "LICENSE")


def data_version(files: list[tuple[str, str]]) -> str:
    """``sha256("<name> <sha256>\\n" ..., sorted)`` of ``[(file name, file sha256), ...]``."""
    return hashlib.sha256("".join(sorted(f"{name} {sha}\n" for name, sha in files)).encode()).hexdigest()


def day_rows(raw: Path, feed: Feed, day: str, group: pl.DataFrame, read: list[Path]) -> list[tuple]:
    """The stream rows (:data:`~obrecon_pipeline.catalog.tables.STREAMS_SCHEMA`) of one day folder
    from its file rows (sorted by path); a file read (a feed without ``holds``) is appended to ``read``."""
    rels, shas, helds = group["path"].to_list(), group["sha256"].to_list(), group["streams"].to_list()
    paths = [raw / r for r in rels]
    if feed.assemble is not None and feed.holds is not None:
        streams = feed.assemble(day, {p: [Held(**h) for h in held] for p, held in zip(paths, helds)})
    else:
        read.extend(paths)
        streams = feed.discover(paths[0].parent, day)
    sha_of = dict(zip(paths, shas))
    held_of = {p: {h["name"]: h for h in held} for p, held in zip(paths, helds)}
    claimed = {p for s in streams for p in s.files}
    unnamed = [p for p in paths if p not in claimed and not p.name.startswith(DOCS)]
    rows = []
    for s in streams:
        members = dict.fromkeys([*s.files, *unnamed])
        version = data_version([(p.name, sha_of[p]) for p in members])
        spans = [held_of[p].get(s.name) for p in s.files]
        spans = [h for h in spans if h is not None]

        def agg(key, fn):
            vals = [h[key] for h in spans]
            return fn(vals) if vals and None not in vals else None

        rows.append((s.partition_key, s.source, s.name, s.day, s.symbol,
                     [p.relative_to(raw).as_posix() for p in s.files], version,
                     agg("first_ns", min), agg("last_ns", max), agg("rows", sum)))
    return rows


def reassembled(raw: Path, files: pl.DataFrame, days: set[tuple[str, str]], streams: pl.DataFrame,
                read: list[Path]) -> pl.DataFrame:
    """``streams`` with the rows of ``days`` (``(source, day)``) assembled again from ``files``."""
    wanted = pl.DataFrame(sorted(days), schema={"source": pl.String, "day": pl.String}, orient="row")
    in_days = files.join(wanted, on=["source", "day"], how="semi").sort("path")
    rows = []
    for (src, d), group in in_days.group_by(["source", "day"], maintain_order=True):
        rows.extend(day_rows(raw, FEEDS[src], d, group, read))
    keep = streams.join(wanted, on=["source", "day"], how="anti")
    return pl.concat([keep, pl.DataFrame(rows, schema=STREAMS_SCHEMA, orient="row")]).sort(["source", "name", "day"])
