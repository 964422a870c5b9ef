"""The catalog of the landing zone: every landed file, the streams it holds, and the data version
of every stream-day, so that discovery costs what is new, not what is there.

Two Parquet tables in ``<root>/.obrecon/catalog/`` (beside ``<root>/raw/``), written atomically:

``files.parquet``, one row per file in a day folder ``raw/<source>/<YYYY-MM-DD>/`` of a known
source: ``path`` (relative to ``raw/``, POSIX), ``source``, ``day``, ``size``, ``mtime_ns``,
``sha256`` and ``streams``, a list of ``{name, symbol, first_ns, last_ns, rows}``: what the feed's
``holds(path, day)`` says the file holds (:class:`~obrecon_pipeline.streams.Held`; times and rows
only where the format says so cheaply, else null);

``streams.parquet``, one row per stream-day: ``stream_day`` (``<source>/<stream>/<day>``, the
partition id), ``source``, ``name``, ``day``, ``symbol``, ``files`` (relative paths, the main file
first, as the feed's ``assemble`` orders them), ``version`` (below) and ``first_ns``, ``last_ns``,
``rows`` aggregated over its files' holdings (null unless every file says).

:meth:`Catalog.refresh` lists the day folders (one ``stat`` per file) and compares ``(size,
mtime_ns)`` with the table. Only a file that is new or whose stamp moved is hashed; only a file
that is new or whose hash changed is *read* (its feed's ``holds``: a zip's central directory, a
file name, a whole capture where the format does not say up front). Then only the days that
gained, lost or changed a file are re-assembled (names alone, nothing read). Nothing new costs the
listing; one new file costs its hash and its ``holds``. :attr:`Catalog.read` and
:attr:`Catalog.hashed` name the files each step touched.

The data version of a stream-day (what Dagster's ``raw_files`` observations carry) is
``sha256("<file name> <file sha256>\\n" for each file, sorted by name)`` over the stream's files and
every file of its folder that no stream names (a LOBSTER orderbook file), documentation
(``README*``, ``SHA256SUMS``, ``LICENSE*``) aside: re-landing the same bytes under the same names
keeps the version; a changed byte or a renamed file changes it, and the partition shows stale.

A file rewritten with the same size and modification time is not seen by :meth:`refresh`;
:meth:`verify` re-hashes every file and reports (and with ``update=True`` repairs) such rows.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from obrecon_pipeline.atomic import atomic_path
from obrecon_pipeline.feeds import FEEDS, Feed, load_builtin_feeds
from obrecon_pipeline.streams import Held, Stream

DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: files of a day folder that are documentation, never part of a stream's data version
DOCS = ("README", "SHA256SUMS", "LICENSE")
#: bumped when a table's layout changes (an older catalog is rebuilt)
LAYOUT = "1"

HELD = pl.Struct({"name": pl.String, "symbol": pl.String, "first_ns": pl.Int64, "last_ns": pl.Int64, "rows": pl.Int64})
FILES_SCHEMA = {"path": pl.String, "source": pl.String, "day": pl.String, "size": pl.Int64, "mtime_ns": pl.Int64,
                "sha256": pl.String, "streams": pl.List(HELD)}
STREAMS_SCHEMA = {"stream_day": pl.String, "source": pl.String, "name": pl.String, "day": pl.String,
                  "symbol": pl.String, "files": pl.List(pl.String), "version": pl.String,
                  "first_ns": pl.Int64, "last_ns": pl.Int64, "rows": pl.Int64}
_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def data_version(files: list[tuple[str, str]]) -> str:
    """``sha256("<name> <sha256>\\n" ..., sorted)`` of ``[(file name, file sha256), ...]``."""
    return hashlib.sha256("".join(sorted(f"{name} {sha}\n" for name, sha in files)).encode()).hexdigest()


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


class Catalog:
    """The catalog of the landing zone ``raw_root`` (tables in ``home``, default
    ``<raw_root>/../.obrecon/catalog``), brought up to date by :meth:`refresh`.

    The tables are read from disk when first needed, and only the columns needed: a refresh that
    finds nothing new reads the stamps (``path``, ``size``, ``mtime_ns``), :meth:`versions` reads
    ``stream_day`` and ``version``."""

    def __init__(self, raw_root: str | Path, home: str | Path | None = None):
        load_builtin_feeds()
        self.raw = Path(raw_root)
        self.home = Path(home) if home is not None else self.raw.parent / ".obrecon" / "catalog"
        #: files whose contents were read (a feed's ``holds``), in order, since construction
        self.read: list[Path] = []
        #: files hashed, in order, since construction
        self.hashed: list[Path] = []
        self._files: pl.DataFrame | None = None
        self._streams: pl.DataFrame | None = None
        self._on_disk = self._check()

    # ------------------------------------------------------------------ tables
    def _meta(self) -> dict[str, str]:
        return {"raw_root": str(self.raw.resolve()), "layout": LAYOUT}

    def _check(self) -> tuple[bool, bool]:
        """(files.parquet is this landing zone's, streams.parquet is of the same generation)."""
        try:
            meta_f = pl.read_parquet_metadata(self.home / "files.parquet")
            if {k: meta_f.get(k) for k in self._meta()} != self._meta():
                return False, False  # another landing zone's, or an older layout: rebuilt
            meta_s = pl.read_parquet_metadata(self.home / "streams.parquet")
            return True, meta_s.get("generation") == meta_f.get("generation")
        except (FileNotFoundError, OSError, pl.exceptions.PolarsError):
            return False, False

    def _read(self, name: str, schema: dict, columns: list[str] | None = None) -> pl.DataFrame:
        try:
            return pl.read_parquet(self.home / name, columns=columns)
        except (FileNotFoundError, OSError, pl.exceptions.PolarsError):
            return pl.DataFrame(schema={c: schema[c] for c in (columns or schema)})

    @property
    def files(self) -> pl.DataFrame:
        """The landed files (``files.parquet``), sorted by path."""
        if self._files is None:
            self._files = self._read("files.parquet", FILES_SCHEMA) if self._on_disk[0] else pl.DataFrame(schema=FILES_SCHEMA)
        return self._files

    @property
    def table(self) -> pl.DataFrame:
        """The stream-days (``streams.parquet``), sorted by source, name, day."""
        if self._streams is None:
            if all(self._on_disk):
                self._streams = self._read("streams.parquet", STREAMS_SCHEMA)
            else:  # files.parquet is newer (a writer stopped between the two): re-assembled, nothing read
                files = self.files
                self._streams = self._assembled(files, set(zip(files["source"], files["day"])), pl.DataFrame(schema=STREAMS_SCHEMA))
        return self._streams

    def _columns(self, table: str, columns: list[str]) -> pl.DataFrame:
        """Some columns of a table, from memory when it is loaded, else from disk."""
        loaded = self._files if table == "files" else self._streams
        if loaded is not None:
            return loaded.select(columns)
        if table == "files":
            return self._read("files.parquet", FILES_SCHEMA, columns) if self._on_disk[0] else pl.DataFrame(schema={c: FILES_SCHEMA[c] for c in columns})
        return self._read("streams.parquet", STREAMS_SCHEMA, columns) if all(self._on_disk) else self.table.select(columns)

    def _save(self) -> None:
        meta = {**self._meta(), "generation": uuid.uuid4().hex}
        for name, frame in (("files.parquet", self.files), ("streams.parquet", self.table)):
            with atomic_path(self.home / name) as tmp:
                frame.write_parquet(tmp, metadata=meta)
        self._on_disk = (True, True)

    # ------------------------------------------------------------------ refresh
    def _scan(self, source: str | None, day: str | None, known: dict[str, tuple[int, int]]) -> tuple[list[tuple], set[str]]:
        """Every file of the day folders in scope, ``stat``-ed and compared with ``known``
        (path -> (size, mtime_ns)): the ``(path, source, day, size, mtime_ns)`` of those new or
        whose stamp moved, and the paths seen."""
        moved, seen = [], set()
        try:
            sources = sorted(e.name for e in os.scandir(self.raw) if e.is_dir() and e.name in FEEDS)
        except (FileNotFoundError, NotADirectoryError):
            sources = []
        for src in sources:
            if source is not None and src != source:
                continue
            src_dir = os.path.join(self.raw, src)
            days = [day] if day is not None else [e.name for e in os.scandir(src_dir) if DAY_RE.match(e.name) and e.is_dir()]
            for d in days:
                try:
                    entries = [e for e in os.scandir(os.path.join(src_dir, d)) if e.is_file()]
                except (FileNotFoundError, NotADirectoryError):
                    continue
                prefix = f"{src}/{d}/"
                for e in entries:
                    st = e.stat()
                    rel = prefix + e.name
                    seen.add(rel)
                    if known.get(rel) != (st.st_size, st.st_mtime_ns):
                        moved.append((rel, src, d, st.st_size, st.st_mtime_ns))
        return moved, seen

    @staticmethod
    def in_scope(frame: pl.DataFrame, source: str | None, day: str | None) -> pl.DataFrame:
        if source is not None:
            frame = frame.filter(pl.col("source") == source)
        if day is not None:
            frame = frame.filter(pl.col("day") == day)
        return frame

    def _holds(self, feed: Feed, rel: str, day: str) -> list[dict]:
        path = self.raw / rel
        self.read.append(path)
        return [vars(h) for h in feed.holds(path, day)]

    def refresh(self, source: str | None = None, day: str | None = None) -> Refresh:
        """Bring the rows of the landing zone (or of one ``source`` and/or ``day``) up to date and
        save the tables if anything changed; what changed."""
        stamps = self.in_scope(self._columns("files", ["path", "source", "day", "size", "mtime_ns"]), source, day)
        known = dict(zip(stamps["path"].to_list(), zip(stamps["size"].to_list(), stamps["mtime_ns"].to_list())))
        moved, seen = self._scan(source, day, known)
        report = Refresh(removed=sorted(set(known) - seen))
        if not moved and not report.removed:
            return report
        moved.sort()
        streams = self.table  # before the file rows change (a first build assembles it from them)
        old = self.files.filter(pl.col("path").is_in([m[0] for m in moved])).select("path", "sha256", "streams")
        before = dict(zip(old["path"].to_list(), zip(old["sha256"].to_list(), old["streams"].to_list())))
        rows = []
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
                held = self._holds(feed, rel, d) if feed.holds is not None else []
            rows.append((rel, src, d, size, mtime, sha, held))
        drop = [m[0] for m in moved] + report.removed
        self._files = pl.concat([self.files.filter(~pl.col("path").is_in(drop)),
                                 pl.DataFrame(rows, schema=FILES_SCHEMA, orient="row")]).sort("path")
        days = {tuple(rel.split("/", 2)[:2]) for rel in (*report.new, *report.changed, *report.removed)}
        if days:
            wanted = pl.DataFrame(list(days), schema={"source": pl.String, "day": pl.String}, orient="row")
            was = streams.join(wanted, on=["source", "day"], how="semi")
            self._streams = self._assembled(self._files, days, streams)
            now = self._streams.join(wanted, on=["source", "day"], how="semi")
            versions = dict(zip(was["stream_day"].to_list(), was["version"].to_list()))
            report.stale = sorted(sd for sd, v in zip(now["stream_day"].to_list(), now["version"].to_list()) if versions.get(sd) != v)
            report.gone = sorted(set(versions) - set(now["stream_day"].to_list()))
        self._save()
        return report

    # ------------------------------------------------------------------ assembly
    def _assembled(self, files: pl.DataFrame, days: set[tuple[str, str]], streams: pl.DataFrame) -> pl.DataFrame:
        """``streams`` with the rows of ``days`` (``(source, day)``) re-assembled from ``files``."""
        wanted = pl.DataFrame(list(days), schema={"source": pl.String, "day": pl.String}, orient="row")
        in_days = files.join(wanted, on=["source", "day"], how="semi").sort("path")
        rows = []
        for (src, d), group in in_days.group_by(["source", "day"], maintain_order=True):
            rows.extend(self._day_rows(FEEDS[src], d, group))
        keep = streams.join(wanted, on=["source", "day"], how="anti")
        return pl.concat([keep, pl.DataFrame(rows, schema=STREAMS_SCHEMA, orient="row")]).sort(["source", "name", "day"])

    def _day_rows(self, feed: Feed, day: str, group: pl.DataFrame) -> list[tuple]:
        """The stream rows of one day folder from its file rows (the feed's ``assemble``; a feed
        without ``holds``/``assemble`` is discovered whole, every file of the day read)."""
        rels, shas, helds = group["path"].to_list(), group["sha256"].to_list(), group["streams"].to_list()
        paths = [self.raw / r for r in rels]
        if feed.assemble is not None and feed.holds is not None:
            streams = feed.assemble(day, {p: [Held(**h) for h in held] for p, held in zip(paths, helds)})
        else:
            self.read.extend(paths)
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
                         [p.relative_to(self.raw).as_posix() for p in s.files], version,
                         agg("first_ns", min), agg("last_ns", max), agg("rows", sum)))
        return rows

    # ------------------------------------------------------------------ reading
    def streams(self, source: str | None = None, day: str | None = None) -> list[Stream]:
        """The catalogued streams (of one ``source`` / ``day``), sorted by source, name, day."""
        t = self.in_scope(self.table, source, day)
        return [Stream(src, name, d, tuple(self.raw / f for f in files), symbol)
                for src, name, d, symbol, files in t.select("source", "name", "day", "symbol", "files").iter_rows()]

    def versions(self, source: str | None = None, day: str | None = None) -> dict[str, str]:
        """Stream-day id -> data version of the catalogued stream-days (of one ``source`` / ``day``)."""
        t = self.in_scope(self._columns("streams", ["stream_day", "source", "day", "version"]), source, day)
        return dict(zip(t["stream_day"].to_list(), t["version"].to_list()))

    def stream(self, stream_day: str) -> Stream | None:
        """The stream behind a stream-day id; None if it is not catalogued."""
        t = self.table.filter(pl.col("stream_day") == stream_day)
        if t.is_empty():
            return None
        src, name, d, symbol, files = t.select("source", "name", "day", "symbol", "files").row(0)
        return Stream(src, name, d, tuple(self.raw / f for f in files), symbol)

    def sources_of(self, name: str, day: str) -> list[str]:
        """The sources that hold a stream ``name`` on ``day`` (sorted)."""
        t = self.table.filter((pl.col("name") == name) & (pl.col("day") == day))
        return sorted(t["source"].unique().to_list())

    # ------------------------------------------------------------------ verify
    def verify(self, update: bool = False) -> list[Mismatch]:
        """Re-hash every catalogued file; the rows whose bytes differ (or whose file is gone).
        ``update=True``: those files are read again and their stream-days get new versions."""
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
            self._files = self.files.with_columns(
                pl.when(forget).then(-1).otherwise(pl.col("mtime_ns")).alias("mtime_ns"),
                pl.when(forget).then(pl.lit("")).otherwise(pl.col("sha256")).alias("sha256"))
            self.refresh()
        return bad
