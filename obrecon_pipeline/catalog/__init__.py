"""The catalog of the landing zone: every landed file, the streams it holds, and the data version
of every stream-day, so that discovery costs what is new, not what is there.

One job per module:

* :mod:`~obrecon_pipeline.catalog.tables`: the tables on disk, one Parquet per source and month
  (``files/<source>/<YYYY-MM>.parquet``, ``streams/<source>/<YYYY-MM>.parquet``), ``days.parquet``
  (the day folders), the walk cursor, the writers' lock, the migration of the single-table layout;
* :mod:`~obrecon_pipeline.catalog.walk`: which files a refresh ``stat``-s (all, or on a sensor
  tick the new and recent ones plus a rolling slice of :data:`WALK_FILES`);
* :mod:`~obrecon_pipeline.catalog.assemble`: stream-days from file rows, and data versions.

A **file row**: ``path`` (relative to ``raw/``, POSIX), ``source``, ``day``, ``size``,
``mtime_ns``, ``sha256`` and ``streams``, a list of ``{name, symbol, first_ns, last_ns, rows}``:
what the feed's ``holds(path, day)`` says the file holds (:class:`~obrecon_pipeline.streams.Held`;
times and rows only where the format says so cheaply, else null). A **stream row**:
``stream_day`` (``<source>/<stream>/<day>``, the partition id), ``source``, ``name``, ``day``,
``symbol``, ``files`` (relative paths, the main file first), ``version``, and ``first_ns``,
``last_ns``, ``rows`` aggregated over its files' holdings (null unless every file says).

:meth:`Catalog.refresh` compares the ``(size, mtime_ns)`` of the files it ``stat``-s with their
rows. Only a file that is new or whose stamp moved is hashed (SHA-256); only a file that is new or
whose hash changed is *read* (its feed's ``holds``: a zip's central directory, a file name, a
whole capture where the format does not say up front). Only the days that gained, lost or changed
a file are assembled again (names alone), and only their months' tables rewritten. Nothing new
costs the ``stat``-s and two columns of each month; one new file costs its hash, its ``holds`` and
the rewrite of its month. :attr:`Catalog.read` and :attr:`Catalog.hashed` name the files each step
touched.

A file rewritten with the same size and modification time is not seen by :meth:`refresh`;
:meth:`verify` re-hashes every file and reports (and with ``update=True`` repairs) such rows.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from obrecon_pipeline.catalog import walk
from obrecon_pipeline.catalog.assemble import data_version, reassembled
from obrecon_pipeline.catalog.tables import DAYS_SCHEMA, FILES_SCHEMA, STREAMS_SCHEMA, Part, Tables, part_of
from obrecon_pipeline.catalog.walk import DAY_RE, HOT_NS, WALK_FILES
from obrecon_pipeline.feeds import FEEDS, load_builtin_feeds
from obrecon_pipeline.streams import Stream

__all__ = ["DAY_RE", "HOT_NS", "WALK_FILES", "Catalog", "Mismatch", "Refresh", "data_version", "file_sha256"]

_CHUNK = 1 << 20
_STAMPS = ["path", "source", "day", "size", "mtime_ns"]


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Refresh:
    """What one :meth:`Catalog.refresh` found (paths relative to ``raw/``, stream-day ids)."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  #: hash changed: the file was read again
    touched: list[str] = field(default_factory=list)  #: stamp moved, same hash: not read
    removed: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  #: stream-days new or with a new data version
    gone: list[str] = field(default_factory=list)  #: stream-days whose files are no longer there

    def __bool__(self) -> bool:
        return bool(self.new or self.changed or self.touched or self.removed)


@dataclass
class Mismatch:
    """A catalogued file whose bytes no longer match its row (:meth:`Catalog.verify`)."""

    path: str
    catalogued: str
    found: str | None  #: None: the file is gone


def _scope(source: str | None, day: str | None) -> tuple[str | None, str | None]:
    """(source, month) of the partitions a scope reads."""
    return source, day[:7] if day is not None else None


class Catalog:
    """The catalog of the landing zone ``raw_root`` (tables in ``home``, default
    ``<raw_root>/../.obrecon/catalog``), brought up to date by :meth:`refresh`.

    Reads take only the partitions and columns they need: :meth:`versions` two columns of each
    month, :meth:`stream` one month of one source."""

    def __init__(self, raw_root: str | Path, home: str | Path | None = None):
        load_builtin_feeds()
        self.raw = Path(raw_root)
        self.home = Path(home) if home is not None else self.raw.parent / ".obrecon" / "catalog"
        #: files whose contents were read (a feed's ``holds``), in order, since construction
        self.read: list[Path] = []
        #: files hashed, in order, since construction
        self.hashed: list[Path] = []
        self.tables = Tables(self.home, self.raw)
        #: the rolling walk's slice and what counts as recent (:mod:`~obrecon_pipeline.catalog.walk`)
        self.walk_files, self.hot_ns = WALK_FILES, HOT_NS
        self._parts: dict[tuple[str, Part], pl.DataFrame] = {}  # (kind, part) -> whole partition
        self._valid = self.tables.valid()
        if not self._valid and self.tables.old_tables() is not None:
            with self.tables.lock():
                self._open()

    # ------------------------------------------------------------------ tables
    def _open(self) -> None:
        """Under the lock: make the tables this landing zone's (migrated from the single-table
        layout, or emptied when they are another's), and forget what was loaded before."""
        self._parts.clear()
        if self.tables.valid():
            self._valid = True
            return
        old = self.tables.old_tables()
        if old is None:
            self.tables.reset()
        else:
            self._migrate(*old)
        self._valid = True

    def _migrate(self, files: pl.DataFrame, streams: pl.DataFrame | None) -> None:
        """Layout 1 -> 2: the rows split by source and month (the stream rows assembled again from
        the file rows when the old tables were out of step), every day folder to be listed whole
        once (``dir_mtime_ns`` -1)."""
        month = pl.col("day").str.slice(0, 7).alias("month")
        assembled = [pl.DataFrame(schema=STREAMS_SCHEMA)]
        for (src, m), rows in files.group_by("source", month):
            rows = rows.sort("path")
            if streams is None:
                assembled.append(reassembled(self.raw, rows, set(zip(rows["source"].to_list(), rows["day"].to_list())),
                                             assembled[0], self.read))
            else:
                assembled.append(streams.filter((pl.col("source") == src) & (month == m)))
            self.tables.write("streams", (src, m), assembled[-1])
            self.tables.write("files", (src, m), rows)
        days = self._counts(files.select("source", "day").unique(), files, pl.concat(assembled))
        self.tables.write_days(days.with_columns(pl.lit(-1, pl.Int64).alias("dir_mtime_ns")).select(list(DAYS_SCHEMA)))
        self.tables.claim()
        self.tables.drop_old()

    @staticmethod
    def _counts(wanted: pl.DataFrame, files: pl.DataFrame, streams: pl.DataFrame) -> pl.DataFrame:
        """``source``, ``day``, ``files``, ``streams`` of the days of ``wanted`` (counted in ``files``
        and ``streams``; 0 where none)."""
        out = wanted.select("source", "day")
        for frame, name in ((files, "files"), (streams, "streams")):
            out = out.join(frame.group_by("source", "day").agg(pl.len().cast(pl.Int64).alias(name)), on=["source", "day"], how="left")
        return out.with_columns(pl.col("files", "streams").fill_null(0))

    def _part(self, kind: str, part: Part) -> pl.DataFrame:
        """A whole partition (empty if there is none), cached."""
        key = (kind, part)
        if key not in self._parts:
            on_disk = self.tables.path(kind, part).exists()
            self._parts[key] = self.tables.read(kind, [part] if on_disk else [])
        return self._parts[key]

    def _all(self, kind: str, source: str | None = None, day: str | None = None, columns: list[str] | None = None) -> pl.DataFrame:
        """The rows of ``kind`` in scope (only ``columns``): empty when the tables are not this zone's."""
        schema = FILES_SCHEMA if kind == "files" else STREAMS_SCHEMA
        if not self._valid:
            return pl.DataFrame(schema={c: schema[c] for c in (columns or schema)})
        scoped = source is not None or day is not None
        frame = self.tables.read(kind, self.tables.parts(kind, *_scope(source, day)),
                                 None if columns is None else list(dict.fromkeys([*columns, *(["source", "day"] if scoped else [])])))
        return self.in_scope(frame, source, day).select(columns or list(schema))

    @property
    def files(self) -> pl.DataFrame:
        """The landed files, sorted by path."""
        return self._all("files").sort("path")

    @property
    def table(self) -> pl.DataFrame:
        """The stream-days, sorted by source, name, day."""
        return self._all("streams").sort(["source", "name", "day"])

    @staticmethod
    def in_scope(frame: pl.DataFrame, source: str | None, day: str | None) -> pl.DataFrame:
        if source is not None:
            frame = frame.filter(pl.col("source") == source)
        if day is not None:
            frame = frame.filter(pl.col("day") == day)
        return frame

    # ------------------------------------------------------------------ refresh
    def refresh(self, source: str | None = None, day: str | None = None, full: bool = True) -> Refresh:
        """Bring the rows of the landing zone (or of one ``source`` and/or ``day``) up to date and
        save the partitions that changed; what changed. ``full=False`` (the sensor's tick, whole
        zone only): a rolling walk (:mod:`~obrecon_pipeline.catalog.walk`) instead of a ``stat``
        of every file.

        A refresh that finds another writer at work looks without the lock and waits for it only
        when it has something to write: a tick with nothing new never waits behind a long build."""
        full = full or source is not None or day is not None
        with self.tables.lock(wait=False) as held:
            if held:
                self._open()
                return self._refresh(source, day, full)
        if self.tables.valid():
            self._valid = True
            self._parts.clear()
            _, found, moved = self._look(source, day, full)
            if not moved and not found.missing:
                return Refresh()  # day folders and cursor are left to the next writer
        with self.tables.lock():
            self._open()
            return self._refresh(source, day, full)

    def _look(self, source: str | None, day: str | None, full: bool) -> tuple[pl.DataFrame, walk.Walk, list[tuple]]:
        """(``days.parquet``, the pass, the ``(path, source, day, size, mtime_ns)`` of the files
        stat-ed that are new or whose stamp moved)."""
        known = self._all("files", source, day, _STAMPS)
        loaded = [f.select(_STAMPS) for (kind, _), f in self._parts.items() if kind == "files"]
        if loaded:  # rows changed in memory (verify's forgotten stamps) count over those on disk
            loaded = self.in_scope(pl.concat(loaded), source, day)
            known = pl.concat([known.join(loaded, on="path", how="anti"), loaded]).sort("path")
        days = self.tables.days()
        if full:
            found = walk.full(self.raw, FEEDS, known, source, day)
        else:
            found = walk.rolling(self.raw, FEEDS, known, days, self.tables.cursor(), time.time_ns(), self.walk_files, self.hot_ns)
        seen = known if full else known.filter(pl.col("path").is_in(list(found.stamps)))  # a slice: its rows only
        stamps = dict(zip(seen["path"].to_list(), zip(seen["size"].to_list(), seen["mtime_ns"].to_list())))
        return days, found, sorted((rel, *st) for rel, st in found.stamps.items() if stamps.get(rel) != st[2:])

    def _refresh(self, source: str | None, day: str | None, full: bool) -> Refresh:
        """Under the lock: look, then hash, read and write what moved."""
        days, found, moved = self._look(source, day, full)
        report = Refresh(removed=sorted(found.missing))
        changed_parts = self._apply(moved, report) if moved or report.removed else {}
        self._save(changed_parts, days, found, source, day)
        return report

    def _apply(self, moved: list[tuple], report: Refresh) -> dict[Part, set[str]]:
        """Hash the moved files, read the new and changed ones, and rebuild their partitions in
        memory; the partitions changed -> their days whose streams were assembled again."""
        parts: dict[Part, set[str]] = {}
        for rel, src, d, *_ in moved:
            parts.setdefault(part_of(src, d), set())
        for rel in report.removed:
            parts.setdefault(part_of(*rel.split("/", 2)[:2]), set())
        old = pl.concat([self._part("files", p) for p in sorted(parts)])
        old = old.filter(pl.col("path").is_in([m[0] for m in moved])).select("path", "sha256", "streams")
        before = dict(zip(old["path"].to_list(), zip(old["sha256"].to_list(), old["streams"].to_list())))
        rows: dict[Part, list[tuple]] = {p: [] for p in parts}
        for rel, src, d, size, mtime in moved:
            path = self.raw / rel
            self.hashed.append(path)
            sha = file_sha256(path)
            old_sha, held = before.get(rel, (None, None))
            feed = FEEDS[src]
            if sha == old_sha:
                report.touched.append(rel)
            else:
                (report.changed if old_sha is not None else report.new).append(rel)
                if feed.holds is not None:
                    self.read.append(path)
                    held = [vars(h) for h in feed.holds(path, d)]
                else:
                    held = []
            rows[part_of(src, d)].append((rel, src, d, size, mtime, sha, held))
        for rel in (*report.new, *report.changed, *report.removed):
            src, d = rel.split("/", 2)[:2]
            parts[part_of(src, d)].add(d)
        drop = [m[0] for m in moved] + report.removed
        for part in parts:
            files = pl.concat([self._part("files", part).filter(~pl.col("path").is_in(drop)),
                               pl.DataFrame(rows[part], schema=FILES_SCHEMA, orient="row")]).sort("path")
            self._parts[("files", part)] = files
            if not parts[part]:
                continue
            streams = self._part("streams", part)
            wanted = {(part[0], d) for d in parts[part]}
            was = streams.filter(pl.col("day").is_in(list(parts[part])))
            now = reassembled(self.raw, files, wanted, streams, self.read)
            self._parts[("streams", part)] = now
            now = now.filter(pl.col("day").is_in(list(parts[part])))
            versions = dict(zip(was["stream_day"].to_list(), was["version"].to_list()))
            report.stale += [sd for sd, v in zip(now["stream_day"].to_list(), now["version"].to_list()) if versions.get(sd) != v]
            report.gone += sorted(set(versions) - set(now["stream_day"].to_list()))
        report.stale.sort(), report.gone.sort()
        return parts

    def _save(self, parts: dict[Part, set[str]], days: pl.DataFrame, found: walk.Walk,
              source: str | None, day: str | None) -> None:
        """Write what changed: streams and files of the changed partitions, then ``days.parquet``,
        then the cursor (the order :mod:`~obrecon_pipeline.catalog.tables` relies on)."""
        for part in sorted(parts):
            if parts[part]:
                self.tables.write("streams", part, self._parts[("streams", part)])
        for part in sorted(parts):
            self.tables.write("files", part, self._parts[("files", part)])
        new = self._days_after(days, parts, found, source, day)
        if not new.equals(days.sort(["source", "day"])):
            self.tables.write_days(new)
        if found.cursor is not None and found.cursor != self.tables.cursor():
            self.tables.write_cursor(found.cursor)
        self._parts.clear()

    def _days_after(self, days: pl.DataFrame, parts: dict[Part, set[str]], found: walk.Walk,
                    source: str | None, day: str | None) -> pl.DataFrame:
        """``days.parquet`` after a pass: the day folders in scope no longer there go, those listed
        whole get the mtime they had when listed, the days assembled again get new counts."""
        keys, key_schema = ["source", "day"], {"source": pl.String, "day": pl.String}
        in_scope = self.in_scope(days, source, day)
        outside = days.join(in_scope, on=keys, how="anti")
        rows = in_scope.join(pl.DataFrame(sorted(found.present), schema=key_schema, orient="row"), on=keys, how="semi")
        listed = pl.DataFrame([(s, d, m) for (s, d), m in sorted(found.listed.items())],
                              schema={k: DAYS_SCHEMA[k] for k in (*keys, "dir_mtime_ns")}, orient="row")
        rows = rows.update(listed, on=keys, how="full")
        touched = sorted((p[0], d) for p, ds in parts.items() for d in ds)
        if touched:
            counts = self._counts(pl.DataFrame(touched, schema=key_schema, orient="row"),
                                  *(pl.concat([self._part(kind, p) for p in parts]) for kind in ("files", "streams")))
            rows = rows.update(counts, on=keys, how="left")
        rows = rows.with_columns(pl.col("files", "streams").fill_null(0)).select(list(DAYS_SCHEMA))
        return pl.concat([outside, rows]).sort(keys)

    # ------------------------------------------------------------------ reading
    def streams(self, source: str | None = None, day: str | None = None) -> list[Stream]:
        """The catalogued streams (of one ``source`` / ``day``), sorted by source, name, day."""
        t = self._all("streams", source, day, ["source", "name", "day", "symbol", "files"]).sort(["source", "name", "day"])
        return [Stream(src, name, d, tuple(self.raw / f for f in files), symbol) for src, name, d, symbol, files in t.iter_rows()]

    def versions(self, source: str | None = None, day: str | None = None) -> dict[str, str]:
        """Stream-day id -> data version of the catalogued stream-days (of one ``source`` / ``day``)."""
        t = self._all("streams", source, day, ["stream_day", "version"])
        return dict(zip(t["stream_day"].to_list(), t["version"].to_list()))

    def stream(self, stream_day: str) -> Stream | None:
        """The stream behind a stream-day id; None if it is not catalogued (reads one month of one source)."""
        source, day = stream_day.partition("/")[0], stream_day.rpartition("/")[2]
        if not DAY_RE.match(day):
            return None
        t = self._all("streams", source, day, ["stream_day", "source", "name", "day", "symbol", "files"])
        t = t.filter(pl.col("stream_day") == stream_day)
        if t.is_empty():
            return None
        _, src, name, d, symbol, files = t.row(0)
        return Stream(src, name, d, tuple(self.raw / f for f in files), symbol)

    def sources_of(self, name: str, day: str) -> list[str]:
        """The sources that hold a stream ``name`` on ``day`` (sorted)."""
        t = self._all("streams", None, day, ["name", "source"]).filter(pl.col("name") == name)
        return sorted(t["source"].unique().to_list())

    # ------------------------------------------------------------------ verify
    def verify(self, update: bool = False) -> list[Mismatch]:
        """Re-hash every catalogued file; the rows whose bytes differ (or whose file is gone).
        ``update=True``: those files are read again and their stream-days get new versions."""
        with self.tables.lock():
            self._open()
            bad = []
            for rel, sha in self.files.select("path", "sha256").iter_rows():
                path = self.raw / rel
                self.hashed.append(path)
                try:
                    found = file_sha256(path)
                except FileNotFoundError:
                    found = None
                if found != sha:
                    bad.append(Mismatch(rel, sha, found))
            if update and bad:
                # no stamp and no hash: the refresh below hashes and reads them again (or drops the
                # rows of files that are gone) and gives their stream-days new versions
                forget = pl.col("path").is_in([m.path for m in bad])
                for part in {part_of(*m.path.split("/", 2)[:2]) for m in bad}:
                    self._parts[("files", part)] = self._part("files", part).with_columns(
                        pl.when(forget).then(-1).otherwise(pl.col("mtime_ns")).alias("mtime_ns"),
                        pl.when(forget).then(pl.lit("")).otherwise(pl.col("sha256")).alias("sha256"))
                self._refresh(None, None, True)
            return bad
