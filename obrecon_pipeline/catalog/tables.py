"""The catalog's tables on disk, split so that a change rewrites only what it touches.

Layout of ``<home>`` (default ``<root>/.obrecon/catalog/``, beside ``<root>/raw/``)::

    catalog.json                           {"raw_root": ..., "layout": "2"}: whose tables, which layout
    files/<source>/<YYYY-MM>.parquet       one row per landed file of that source and month
    streams/<source>/<YYYY-MM>.parquet     one row per stream-day of that source and month
    days.parquet                           one row per day folder: dir_mtime_ns (when last listed
                                           whole), files, streams (counts)
    cursor                                 the rolling walk's cursor: the last path it stat-ed
    .lock                                  held (``fcntl.flock``, exclusive) by every writer

A partition is ``(source, YYYY-MM)``: a new file, a changed one or a removed one rewrites its own
month's two tables, then ``days.parquet`` (1,460 rows for a year of four sources), never the rest.
Every write is atomic (:func:`obrecon_pipeline.atomic.atomic_path`: a temporary file beside it,
fsynced, renamed), in the order streams, files, days, cursor. A writer stopped midway therefore
leaves stream rows at most *ahead* of the file rows they came from: the next refresh finds the same
files new, changed or gone again (their rows, the day folder's ``dir_mtime_ns`` and the cursor are
still the old ones), and assembles the same stream rows again; nothing is lost and readers never
see a half-written table.

Two writers (two refreshes, a sensor tick and ``obrecon catalog refresh``) take the lock in turn;
each reads the tables after taking it, so neither overwrites the rows of the other. Readers take no
lock (a rename is atomic).

The single-table layout ``"1"`` (``files.parquet`` and ``streams.parquet``) is migrated on first
open: its rows are split into partitions (the stream rows assembled again from the file rows,
:mod:`obrecon_pipeline.catalog.assemble`, only when the two old tables were out of step), every
day marked unlisted, so the first tick lists every day folder once.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import polars as pl

from obrecon_pipeline.atomic import atomic_path, exclusive_lock

#: bumped when the layout changes (an older catalog is migrated, or rebuilt when it cannot be)
LAYOUT = "2"
#: the single-table layout migrated on first open
OLD_LAYOUT = "1"

HELD = pl.Struct({"name": pl.String, "symbol": pl.String, "first_ns": pl.Int64, "last_ns": pl.Int64, "rows": pl.Int64})
FILES_SCHEMA = {"path": pl.String, "source": pl.String, "day": pl.String, "size": pl.Int64, "mtime_ns": pl.Int64,
                "sha256": pl.String, "streams": pl.List(HELD)}
STREAMS_SCHEMA = {"stream_day": pl.String, "source": pl.String, "name": pl.String, "day": pl.String,
                  "symbol": pl.String, "files": pl.List(pl.String), "version": pl.String,
                  "first_ns": pl.Int64, "last_ns": pl.Int64, "rows": pl.Int64}
#: ``dir_mtime_ns``: the day folder's modification time when it was last listed whole (-1: never)
DAYS_SCHEMA = {"source": pl.String, "day": pl.String, "dir_mtime_ns": pl.Int64, "files": pl.Int64, "streams": pl.Int64}
SCHEMAS = {"files": FILES_SCHEMA, "streams": STREAMS_SCHEMA}
#: the order rows are kept in, per table
ORDER = {"files": ["path"], "streams": ["source", "name", "day"], "days": ["source", "day"]}

Part = tuple[str, str]  #: (source, YYYY-MM)


def part_of(source: str, day: str) -> Part:
    """The partition of a day folder ``raw/<source>/<day>/``."""
    return source, day[:7]


def empty(schema: dict, columns: list[str] | None = None) -> pl.DataFrame:
    return pl.DataFrame(schema={c: schema[c] for c in (columns or schema)})


class Tables:
    """The tables of the catalog of ``raw`` in ``home`` (see the module docstring)."""

    def __init__(self, home: Path, raw: Path):
        self.home = home
        self.raw = raw

    # ------------------------------------------------------------------ whose, which layout
    def _manifest(self) -> dict[str, str]:
        return {"raw_root": str(self.raw.resolve()), "layout": LAYOUT}

    def valid(self) -> bool:
        """The tables are this landing zone's, in this layout."""
        try:
            return json.loads((self.home / "catalog.json").read_text()) == self._manifest()
        except (OSError, ValueError):
            return False

    def old_tables(self) -> tuple[pl.DataFrame, pl.DataFrame | None] | None:
        """The file rows of this landing zone's single-table catalog (layout ``"1"``), if there is
        one, and its stream rows if they are of the same generation (else None: assembled again)."""
        try:
            meta = pl.read_parquet_metadata(self.home / "files.parquet")
            if (meta.get("raw_root"), meta.get("layout")) != (str(self.raw.resolve()), OLD_LAYOUT):
                return None
            files = pl.read_parquet(self.home / "files.parquet").select(list(FILES_SCHEMA)).cast(FILES_SCHEMA)
        except (OSError, pl.exceptions.PolarsError):
            return None
        try:
            if pl.read_parquet_metadata(self.home / "streams.parquet").get("generation") != meta.get("generation"):
                return files, None
            return files, pl.read_parquet(self.home / "streams.parquet").select(list(STREAMS_SCHEMA)).cast(STREAMS_SCHEMA)
        except (OSError, pl.exceptions.PolarsError):
            return files, None

    def reset(self) -> None:
        """Remove every table (another landing zone's or an unknown layout) and claim ``home``."""
        for name in ("files", "streams"):
            shutil.rmtree(self.home / name, ignore_errors=True)
        for name in ("files.parquet", "streams.parquet", "days.parquet", "cursor"):
            (self.home / name).unlink(missing_ok=True)
        self.claim()

    def claim(self) -> None:
        """Write ``catalog.json``: the tables are this landing zone's, in this layout."""
        with atomic_path(self.home / "catalog.json") as tmp:
            tmp.write_text(json.dumps(self._manifest()) + "\n")

    def drop_old(self) -> None:
        for name in ("files.parquet", "streams.parquet"):
            (self.home / name).unlink(missing_ok=True)

    def lock(self, wait: bool = True):
        """Held by a writer from reading the tables to its last write (an exclusive ``flock`` on
        ``.lock``, :func:`~obrecon_pipeline.atomic.exclusive_lock`). ``wait=False``: yields False at
        once when another holds it."""
        return exclusive_lock(self.home / ".lock", blocking=wait)

    # ------------------------------------------------------------------ partitions
    def path(self, kind: str, part: Part) -> Path:
        return self.home / kind / part[0] / f"{part[1]}.parquet"

    def parts(self, kind: str, source: str | None = None, month: str | None = None) -> list[Part]:
        """The partitions of ``kind`` (``files`` / ``streams``) on disk, of one source and/or month, sorted."""
        found = []
        try:
            sources = sorted(e.name for e in os.scandir(self.home / kind) if e.is_dir())
        except FileNotFoundError:
            return []
        for src in sources:
            if source is not None and src != source:
                continue
            for e in os.scandir(self.home / kind / src):
                m = e.name.removesuffix(".parquet")
                if e.name.endswith(".parquet") and not e.name.startswith(".") and (month is None or m == month):
                    found.append((src, m))
        return sorted(found)

    def read(self, kind: str, parts: list[Part], columns: list[str] | None = None) -> pl.DataFrame:
        """The rows of ``parts`` (only ``columns``), in partition order (each partition is sorted)."""
        if not parts:
            return empty(SCHEMAS[kind], columns)
        return pl.scan_parquet([self.path(kind, p) for p in parts]).select(columns or list(SCHEMAS[kind])).collect()

    def write(self, kind: str, part: Part, frame: pl.DataFrame) -> None:
        """Replace one partition (atomically); an empty one is removed."""
        dest = self.path(kind, part)
        if frame.is_empty():
            dest.unlink(missing_ok=True)
            return
        with atomic_path(dest) as tmp:
            frame.sort(ORDER[kind]).write_parquet(tmp)

    # ------------------------------------------------------------------ days, cursor
    def days(self) -> pl.DataFrame:
        try:
            return pl.read_parquet(self.home / "days.parquet")
        except (FileNotFoundError, pl.exceptions.PolarsError):
            return empty(DAYS_SCHEMA)

    def write_days(self, frame: pl.DataFrame) -> None:
        with atomic_path(self.home / "days.parquet") as tmp:
            frame.sort(ORDER["days"]).write_parquet(tmp)

    def cursor(self) -> str | None:
        try:
            return (self.home / "cursor").read_text() or None
        except FileNotFoundError:
            return None

    def write_cursor(self, cursor: str) -> None:
        with atomic_path(self.home / "cursor") as tmp:
            tmp.write_text(cursor)
