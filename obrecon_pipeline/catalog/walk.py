"""Which landed files a refresh ``stat``-s: all of them (a full pass), or, on a sensor tick, what
is likely to have changed plus a rolling slice of the rest.

A **full pass** (``obrecon catalog refresh|list|verify``, ``assets.materialize``, a refresh of one
source or day) lists every day folder ``raw/<source>/<YYYY-MM-DD>/`` in scope and ``stat``-s every
file in it.

A **rolling walk** (the landing-zone sensor's tick) ``stat``-s every *day folder* (one ``stat``
each: 1,460 for a year of four sources) and lists whole only the folders that

* are not in ``days.parquet`` (a new day), or
* have another modification time than when they were last listed whole (a file was created,
  removed or renamed in them: on POSIX file systems that sets the folder's mtime), or
* were modified within the last :data:`HOT_NS` (10 minutes: a folder still being written to, and
  a margin for file systems whose timestamps are coarser than the writes);

then it ``stat``-s every catalogued file modified within :data:`HOT_NS` (a file still being
appended to), and :data:`WALK_FILES` (10,000) more catalogued files in path order, continuing after
the cursor of the previous tick and wrapping around at the end. A file changed *in place* (same
name, same folder, no create or rename) long after it landed is the only change the first two
rules cannot see; the third reaches every catalogued file within ``ceil(files / WALK_FILES)``
ticks (6 ticks, 6 minutes at the sensor's 60 s, for 54,385 files). A file rewritten with the same
size *and* modification time is seen by neither (only :meth:`Catalog.verify`, which re-hashes).
"""

from __future__ import annotations

import os
import re
import stat
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Container

import polars as pl

#: a day folder's name
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: catalogued files the rolling walk ``stat``-s per tick, beyond the new and the recent ones
WALK_FILES = 10_000
#: what counts as recent (ns): folders and files modified within it are looked at on every tick
HOT_NS = 600 * 10**9

Stamp = tuple[str, str, int, int]  #: (source, day, size, mtime_ns)


@dataclass
class Walk:
    """What a pass found (paths relative to ``raw/``, POSIX)."""

    stamps: dict[str, Stamp] = field(default_factory=dict)  #: every file ``stat``-ed
    listed: dict[tuple[str, str], int] = field(default_factory=dict)  #: day folders listed whole -> their mtime_ns
    present: set[tuple[str, str]] = field(default_factory=set)  #: every day folder in scope
    missing: set[str] = field(default_factory=set)  #: catalogued files found gone
    cursor: str | None = None  #: the last path of the rolling slice (None: not a rolling walk)


def day_folders(raw: str | os.PathLike, sources: Container[str], source: str | None = None,
                day: str | None = None) -> dict[tuple[str, str], int]:
    """``{(source, day): mtime_ns}`` of the day folders in scope (sources of ``sources`` only)."""
    found = {}
    try:
        names = sorted(e.name for e in os.scandir(raw) if e.is_dir() and e.name in sources)
    except (FileNotFoundError, NotADirectoryError):
        return found
    for src in names:
        if source is not None and src != source:
            continue
        src_dir = os.path.join(raw, src)
        if day is not None:
            try:
                st = os.stat(os.path.join(src_dir, day))
            except (FileNotFoundError, NotADirectoryError):
                continue
            if stat.S_ISDIR(st.st_mode):
                found[(src, day)] = st.st_mtime_ns
            continue
        for e in os.scandir(src_dir):
            if DAY_RE.match(e.name) and e.is_dir():
                found[(src, e.name)] = e.stat().st_mtime_ns
    return found


def _list(raw: str | os.PathLike, src: str, d: str, walk: Walk) -> set[str]:
    """Stat every file of one day folder into ``walk``; the paths seen."""
    prefix, seen = f"{src}/{d}/", set()
    try:
        entries = [e for e in os.scandir(os.path.join(raw, src, d)) if e.is_file()]
    except (FileNotFoundError, NotADirectoryError):
        return seen
    for e in entries:
        st = e.stat()
        rel = prefix + e.name
        seen.add(rel)
        walk.stamps[rel] = (src, d, st.st_size, st.st_mtime_ns)
    return seen


def full(raw: str | os.PathLike, sources: Container[str], known: pl.DataFrame, source: str | None = None,
         day: str | None = None) -> Walk:
    """Every file of every day folder in scope ``stat``-ed; ``known``: the catalogued rows in scope
    (``path``), those not found are missing."""
    walk = Walk()
    folders = day_folders(raw, sources, source, day)
    walk.present = set(folders)
    for (src, d), mtime in folders.items():
        walk.listed[(src, d)] = mtime  # stat-ed before the listing: a file created meanwhile moves it again
        _list(raw, src, d, walk)
    walk.missing = set(known["path"].to_list()) - walk.stamps.keys()
    return walk


def rolling(raw: str | os.PathLike, sources: Container[str], known: pl.DataFrame, days: pl.DataFrame,
            cursor: str | None, now_ns: int, walk_files: int = WALK_FILES, hot_ns: int = HOT_NS) -> Walk:
    """A sensor tick's pass (see the module docstring). ``known``: every catalogued file
    (``path``, ``source``, ``day``, ``mtime_ns``); ``days``: ``days.parquet``."""
    walk = Walk()
    folders = day_folders(raw, sources)
    walk.present = set(folders)
    recorded = dict(zip(zip(days["source"].to_list(), days["day"].to_list()), days["dir_mtime_ns"].to_list()))
    whole = [k for k, m in folders.items() if recorded.get(k) != m or now_ns - m < hot_ns]
    for src, d in whole:
        walk.listed[(src, d)] = folders[(src, d)]
        _list(raw, src, d, walk)
    keys = {"source": pl.String, "day": pl.String}
    present = pl.DataFrame(sorted(walk.present), schema=keys, orient="row")
    gone = known.join(present, on=["source", "day"], how="anti")["path"].to_list()
    looked = known.join(pl.DataFrame(whole, schema=keys, orient="row"), on=["source", "day"], how="semi")
    walk.missing = set(gone) | (set(looked["path"].to_list()) - walk.stamps.keys())
    rest = known.join(present, on=["source", "day"], how="semi").join(looked, on="path", how="anti")
    paths = rest["path"].sort().to_list()
    start = bisect_right(paths, cursor) if cursor is not None else 0
    window = paths[start:start + walk_files]
    window += paths[:min(start, walk_files - len(window))]
    walk.cursor = window[-1] if window else cursor
    recent = rest.filter(pl.col("mtime_ns") > now_ns - hot_ns)["path"].to_list()
    for rel in dict.fromkeys([*recent, *window]):
        try:
            st = os.stat(os.path.join(raw, rel))
        except (FileNotFoundError, NotADirectoryError):
            walk.missing.add(rel)
            continue
        if not stat.S_ISREG(st.st_mode):
            walk.missing.add(rel)
            continue
        src, d, _ = rel.split("/", 2)
        walk.stamps[rel] = (src, d, st.st_size, st.st_mtime_ns)
    return walk
