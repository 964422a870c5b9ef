"""The catalog of the landing zone on copies of the shipped landing zone: it lists exactly the
streams the feeds discover day folder by day folder, with the same data versions; it reads a file
only when it is new or its hash changed (its counters name the files) and rewrites only that
file's month; a removed file's streams go; the sensor's rolling walk reaches a file changed in
place within ceil(files / walk_files) ticks; writers take turns; the single-table layout is
migrated without reading a landed file; ``verify`` finds what a refresh cannot see (same size and
modification time, other bytes)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import threading
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from obrecon_pipeline.catalog import DAY_RE, Catalog
from obrecon_pipeline.feeds import FEEDS, load_builtin_feeds
from tests.conftest import RAW

TARDIS_DAY = "tardis/2020-04-01"
TARDIS_CSV = f"{TARDIS_DAY}/tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv"
BINANCE_DAY = "cryptofeed/2021-10-12"


def _discovered(raw: Path) -> list:
    """Discovery as it was before the catalog: every known source's feed over every day folder."""
    load_builtin_feeds()
    streams = []
    for source_dir in sorted(p for p in raw.iterdir() if p.is_dir() and p.name in FEEDS):
        for day_dir in sorted(p for p in source_dir.iterdir() if p.is_dir() and DAY_RE.match(p.name)):
            streams.extend(FEEDS[source_dir.name].discover(day_dir, day_dir.name))
    return sorted(streams, key=lambda s: (s.source, s.name, s.day))


def _version(files: list[Path]) -> str:
    lines = sorted(f"{p.name} {hashlib.sha256(p.read_bytes()).hexdigest()}\n" for p in files)
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _written(home: Path) -> dict[str, int]:
    """Every file of a catalog's home (lock aside) -> its mtime_ns."""
    return {p.relative_to(home).as_posix(): p.stat().st_mtime_ns for p in sorted(home.rglob("*")) if p.is_file() and p.name != ".lock"}


def _copy(tmp_path: Path, *folders: str) -> Path:
    raw = tmp_path / "raw"
    for folder in folders:
        shutil.copytree(RAW / folder, raw / folder)
    return raw


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The whole shipped landing zone copied, catalogued once: (raw root, catalog, first refresh)."""
    raw = tmp_path_factory.mktemp("zone") / "raw"
    shutil.copytree(RAW, raw)
    catalog = Catalog(raw)
    return raw, catalog, catalog.refresh()


def test_the_catalog_lists_exactly_the_streams_the_feeds_discover(shipped):
    raw, catalog, first = shipped
    listed = catalog.streams()
    assert listed == _discovered(raw)  # the same streams, files (main first) and symbols, in order
    # issue 14's 321, and the hftbacktest spot + USD-M pair shipped since
    assert len(listed) == len({s.partition_key for s in listed}) == 323
    assert Counter(s.source for s in listed) == {"cryptofeed": 313, "lobster": 5, "bybit": 1, "databento": 1, "tardis": 1,
                                                 "hftbacktest": 2}
    files = sorted(p.relative_to(raw).as_posix() for p in raw.glob("*/*/*") if p.is_file())
    assert catalog.files["path"].to_list() == files and len(files) == 138
    assert sorted(first.new) == files and first.stale == [s.partition_key for s in listed]
    assert catalog.read == catalog.hashed == [raw / f for f in files]  # every file read once


def test_a_stream_days_version_hashes_its_files_and_unnamed_siblings(shipped):
    raw, catalog, _ = shipped
    versions = catalog.versions()
    day = raw / "lobster" / "2012-06-21"
    aapl = catalog.stream("lobster/AAPL-L10/2012-06-21")
    assert aapl.files == (day / "AAPL_2012-06-21_34200000_57600000_message_10.csv.gz",)
    # the orderbook file is named by no stream (the loader finds it beside the message file)
    assert versions[aapl.partition_key] == _version([*aapl.files, day / "AAPL_2012-06-21_34200000_57600000_orderbook_10.csv.gz"])
    # a websocket capture with the REST captures of its venue; other venues' and docs are not in it
    huobi = catalog.stream("cryptofeed/HUOBI-trioeth/2021-04-17")
    assert huobi.files == (raw / "cryptofeed/2021-04-17/HUOBI.ws.44.0.gz", raw / "cryptofeed/2021-04-17/HUOBI.0.gz")
    kraken = catalog.stream("cryptofeed/KRAKEN-XBT-CHF/2021-04-17")
    assert versions[huobi.partition_key] == _version(list(huobi.files))
    assert versions[kraken.partition_key] == _version(list(kraken.files))
    assert catalog.sources_of("XRPUSDT-ob500", "2024-12-01") == ["bybit"] and catalog.sources_of("XRPUSDT-ob500", "2024-12-02") == []
    assert catalog.stream("lobster/AAPL-L10/2012-06-22") is None


def test_the_tables_are_split_by_source_and_month(shipped):
    raw, catalog, _ = shipped
    months = ["bybit/2024-12", "cryptofeed/2021-04", "cryptofeed/2021-06", "cryptofeed/2021-07",
              "cryptofeed/2021-10", "cryptofeed/2021-11", "cryptofeed/2021-12", "cryptofeed/2022-01",
              "cryptofeed/2022-02", "cryptofeed/2022-04", "cryptofeed/2022-05", "cryptofeed/2022-08",
              "cryptofeed/2023-04", "cryptofeed/2023-05", "cryptofeed/2024-01", "databento/2023-12",
              "hftbacktest/2024-08", "lobster/2012-06", "tardis/2020-04", "tardis/2020-09"]
    assert len(months) == 20  # 6 sources, 30 day folders in 20 months
    # tardis/2020-09-01 holds book snapshots only: files, no stream (an empty partition is not written)
    assert sorted(_written(catalog.home)) == sorted(["catalog.json", "days.parquet", *(f"files/{m}.parquet" for m in months),
                                                     *(f"streams/{m}.parquet" for m in months if m != "tardis/2020-09")])
    assert json.loads((catalog.home / "catalog.json").read_text()) == {"raw_root": str(raw.resolve()), "layout": "2"}
    days = pl.read_parquet(catalog.home / "days.parquet")
    folders = sorted({tuple(p.relative_to(raw).parts[:2]) for p in raw.glob("*/*/*") if p.is_file()})
    assert list(zip(days["source"], days["day"])) == folders
    assert (days["files"].sum(), days["streams"].sum()) == (138, 323)
    lobster = days.filter(pl.col("source") == "lobster").row(0, named=True)
    assert (lobster["files"], lobster["streams"], lobster["dir_mtime_ns"]) == (
        len(list((raw / "lobster" / "2012-06-21").iterdir())), 5, (raw / "lobster" / "2012-06-21").stat().st_mtime_ns)


def test_nothing_new_reads_nothing_and_writes_nothing(shipped):
    raw, catalog, _ = shipped
    written = _written(catalog.home)
    again = Catalog(raw)  # loaded from <root>/.obrecon/catalog
    assert not again.refresh() and again.read == again.hashed == []
    assert again.streams() == catalog.streams() and again.versions() == catalog.versions()
    assert _written(catalog.home) == written
    # the sensor's tick: nothing read or written but the walk's cursor
    tick = Catalog(raw)
    assert not tick.refresh(full=False) and tick.read == tick.hashed == []
    assert {k: v for k, v in _written(catalog.home).items() if k != "cursor"} == written
    assert (catalog.home / "cursor").read_text() == catalog.files["path"][-1]  # 138 files < WALK_FILES: all walked
    (catalog.home / "cursor").unlink()


def test_one_changed_byte_is_found_by_its_hash_and_only_that_file_is_read(tmp_path):
    raw = _copy(tmp_path, TARDIS_DAY, BINANCE_DAY, "lobster/2012-06-21")
    catalog = Catalog(raw)
    catalog.refresh()
    before = catalog.versions()
    csv = raw / TARDIS_CSV
    data = bytearray(csv.read_bytes())
    at = data.index(b"\n", 200) - 1  # the last digit of a data row
    data[at] = ord("7") if data[at] != ord("7") else ord("3")
    written = _written(catalog.home)
    csv.write_bytes(bytes(data))  # same size, one byte changed
    catalog.read.clear(), catalog.hashed.clear()
    done = catalog.refresh()
    now = _written(catalog.home)
    # only the file's month is rewritten (the day folder's mtime and counts are the same)
    assert sorted(k for k in now if now[k] != written.get(k)) == ["files/tardis/2020-04.parquet", "streams/tardis/2020-04.parquet"]
    assert (done.new, done.changed, done.touched, done.removed) == ([], [TARDIS_CSV], [], [])
    assert catalog.hashed == catalog.read == [csv]
    stream_day = "tardis/deribit-BTC-PERPETUAL/2020-04-01"
    assert done.stale == [stream_day] and done.gone == []
    after = catalog.versions()
    assert after[stream_day] == _version([csv]) != before[stream_day]
    assert {k: v for k, v in after.items() if k != stream_day} == {k: v for k, v in before.items() if k != stream_day}
    row = catalog.files.filter(pl.col("path") == TARDIS_CSV).row(0, named=True)
    assert (row["size"], row["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())

    # the same bytes written again: hashed (the stamp moved), not read, no new version
    csv.write_bytes(bytes(data))
    catalog.read.clear(), catalog.hashed.clear()
    done = catalog.refresh()
    assert (done.touched, done.changed, done.stale, catalog.hashed, catalog.read) == ([TARDIS_CSV], [], [], [csv], [])


def test_a_new_rest_capture_restales_its_venue_without_reading_the_websocket_capture(tmp_path):
    raw = _copy(tmp_path, BINANCE_DAY)
    rest = raw / BINANCE_DAY / "BINANCE.http.0.0.gz"
    kept = tmp_path / rest.name
    shutil.move(rest, kept)
    catalog = Catalog(raw)
    catalog.refresh()
    binance = [s for s in catalog.streams() if s.name.startswith("BINANCE-")]
    assert len(binance) == 4 and all(s.files == (raw / BINANCE_DAY / "BINANCE.ws.1.0.gz",) for s in binance)
    shutil.move(kept, rest)
    catalog.read.clear(), catalog.hashed.clear()
    done = catalog.refresh()
    assert (done.new, catalog.read, catalog.hashed) == ([f"{BINANCE_DAY}/{rest.name}"], [rest], [rest])
    assert done.stale == [s.partition_key for s in binance]  # BINANCE_US is untouched
    assert catalog.streams() == _discovered(raw)


def test_a_removed_file_takes_its_streams_and_a_new_day_is_read_alone(tmp_path):
    raw = _copy(tmp_path, TARDIS_DAY, BINANCE_DAY)
    catalog = Catalog(raw)
    catalog.refresh()
    (raw / TARDIS_CSV).unlink()
    shutil.copytree(RAW / "cryptofeed" / "2023-04-10", raw / "cryptofeed" / "2023-04-10")
    catalog.read.clear()
    done = catalog.refresh()
    assert done.removed == [TARDIS_CSV] and done.gone == ["tardis/deribit-BTC-PERPETUAL/2020-04-01"]
    assert sorted(catalog.read) == sorted((raw / "cryptofeed" / "2023-04-10").iterdir())
    # BINANCE_TR subscribes elfbusd@depth but receives no book message for it: not a stream
    assert sorted(s.name for s in catalog.streams(day="2023-04-10")) == ["BINANCE_TR-BELBTC", "BINANCE_TR-LTCBRL", "BINANCE_TR-XEMUSDT"]
    assert catalog.streams() == _discovered(raw)


def test_verify_finds_bytes_changed_behind_an_unchanged_stamp_and_update_repairs(tmp_path):
    raw = _copy(tmp_path, TARDIS_DAY)
    catalog = Catalog(raw)
    catalog.refresh()
    old = catalog.versions()["tardis/deribit-BTC-PERPETUAL/2020-04-01"]
    csv = raw / TARDIS_CSV
    st = csv.stat()
    data = csv.read_bytes()
    csv.write_bytes(data.replace(b"BTC-PERPETUAL", b"BTC-PERPETUEL", 1))
    os.utime(csv, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same modification time
    assert not catalog.refresh()  # a refresh trusts the stamp
    (bad,) = catalog.verify()
    assert (bad.path, bad.catalogued, bad.found) == (TARDIS_CSV, hashlib.sha256(data).hexdigest(),
                                                     hashlib.sha256(csv.read_bytes()).hexdigest())
    assert catalog.versions()["tardis/deribit-BTC-PERPETUAL/2020-04-01"] == old
    catalog.read.clear()
    assert len(catalog.verify(update=True)) == 1 and catalog.read == [csv]
    assert catalog.versions()["tardis/deribit-BTC-PERPETUAL/2020-04-01"] == _version([csv]) != old
    assert catalog.verify() == []
    csv.unlink()
    (gone,) = catalog.verify(update=True)
    assert gone.found is None and catalog.streams() == []


def test_a_catalog_of_another_landing_zone_is_rebuilt_not_trusted(tmp_path):
    home = tmp_path / "home"
    one = _copy(tmp_path / "one", TARDIS_DAY)
    Catalog(one, home).refresh()
    two = _copy(tmp_path / "two", BINANCE_DAY)
    other = Catalog(two, home)
    assert other.files.is_empty()
    other.refresh()
    assert other.streams() == _discovered(two)


def test_a_writer_stopped_between_tables_is_repaired_by_the_next_refresh(tmp_path):
    raw = _copy(tmp_path, TARDIS_DAY, BINANCE_DAY)
    catalog = Catalog(raw)
    catalog.refresh()
    files = catalog.home / "files" / "tardis" / "2020-04.parquet"
    kept = files.read_bytes()
    csv = raw / TARDIS_CSV
    csv.write_bytes(csv.read_bytes().replace(b"BTC-PERPETUAL", b"BTC-PERPETUEL", 1))
    catalog.refresh()
    files.write_bytes(kept)  # as if stopped after the stream rows, before the file rows
    again = Catalog(raw)
    done = again.refresh(full=False)
    assert (done.changed, again.read) == ([TARDIS_CSV], [csv])
    assert again.versions()["tardis/deribit-BTC-PERPETUAL/2020-04-01"] == _version([csv])
    assert again.files.equals(catalog.files) and again.streams() == _discovered(raw)


def test_the_rolling_walk_reaches_a_file_changed_in_place_within_its_bound(tmp_path):
    raw = _copy(tmp_path, TARDIS_DAY, BINANCE_DAY, "lobster/2012-06-21")
    catalog = Catalog(raw)
    catalog.refresh()
    paths = catalog.files["path"].to_list()
    catalog.walk_files, catalog.hot_ns = 3, 0  # nothing counts as recent: only the slice finds it
    assert math.ceil(len(paths) / 3) == 6 and len(paths) == 17
    csv = raw / TARDIS_CSV
    st = csv.stat()
    csv.write_bytes(csv.read_bytes().replace(b"BTC-PERPETUAL", b"BTC-PERPETUEL", 1))
    os.utime(csv, ns=(st.st_atime_ns, st.st_mtime_ns - 10**9))  # in place, an older stamp: the folder's mtime kept
    catalog.read.clear(), catalog.hashed.clear()
    cursors, found_at = [], None
    for tick in range(1, 7):
        done = catalog.refresh(full=False)
        cursors.append(catalog.tables.cursor())
        if done.changed:
            found_at = tick
    assert paths.index(TARDIS_CSV) == 16 and found_at == 6  # the last slice holds the last path
    assert cursors == [paths[2], paths[5], paths[8], paths[11], paths[14], paths[0]]  # the last slice wraps around
    assert catalog.read == catalog.hashed == [csv]
    # a new file (its folder's mtime moves) and a removed one are seen on the next tick
    rest = raw / BINANCE_DAY / "BINANCE.http.0.0.gz"
    shutil.move(rest, tmp_path / rest.name)
    shutil.copytree(RAW / "cryptofeed" / "2023-04-10", raw / "cryptofeed" / "2023-04-10")
    catalog.read.clear()
    done = catalog.refresh(full=False)
    assert done.removed == [f"{BINANCE_DAY}/{rest.name}"]
    assert sorted(catalog.read) == sorted((raw / "cryptofeed" / "2023-04-10").iterdir())
    assert catalog.streams() == _discovered(raw)


def test_two_writers_take_turns_and_lose_no_rows(tmp_path):
    raw = _copy(tmp_path, TARDIS_DAY)
    one, two = Catalog(raw), Catalog(raw)
    one.refresh()
    shutil.copytree(RAW / BINANCE_DAY, raw / BINANCE_DAY)
    done = []
    with one.tables.lock():
        # nothing new for the part already catalogued: looked at without the lock, not waited for
        looker = threading.Thread(target=lambda: done.append(two.refresh(source="tardis")))
        looker.start()
        looker.join(30)
        assert not looker.is_alive() and not done.pop()
        writer = threading.Thread(target=lambda: done.append(two.refresh()))
        writer.start()
        writer.join(0.5)
        assert writer.is_alive() and done == []  # waits for the lock
    writer.join()
    assert sorted(done[0].new) == sorted(p.relative_to(raw).as_posix() for p in (raw / BINANCE_DAY).iterdir())
    assert not one.refresh() and one.streams() == _discovered(raw)


@pytest.mark.parametrize("generation", ["g", "stopped midway"])
def test_the_single_table_layout_is_migrated_and_nothing_hashed_or_read_by_holds(tmp_path, generation):
    raw = _copy(tmp_path, TARDIS_DAY, BINANCE_DAY, "lobster/2012-06-21")
    built = Catalog(raw)
    built.refresh()
    files, streams = built.files, built.table
    shutil.rmtree(built.home)
    built.home.mkdir(parents=True)
    meta = {"raw_root": str(raw.resolve()), "layout": "1", "generation": "g"}
    files.write_parquet(built.home / "files.parquet", metadata=meta)
    # in step: the stream rows are taken over, nothing read; out of step (a writer stopped between the two, only
    # one stream row written): they are assembled again from the file rows (no holds, no hash;
    # cryptofeed's assemble reads its captures for the snapshot check, as on any new day)
    (streams if generation == "g" else streams.head(1)).write_parquet(built.home / "streams.parquet",
                                                                      metadata={**meta, "generation": generation})
    migrated = Catalog(raw)
    assert migrated.read == migrated.hashed == []
    assert migrated.files.equals(files) and migrated.table.equals(streams)
    assert not (built.home / "files.parquet").exists() and not (built.home / "streams.parquet").exists()
    assert pl.read_parquet(built.home / "days.parquet")["dir_mtime_ns"].to_list() == [-1, -1, -1]
    done = migrated.refresh(full=False)  # every folder listed once, nothing read
    assert not done and migrated.read == migrated.hashed == []
    assert pl.read_parquet(built.home / "days.parquet")["dir_mtime_ns"].to_list() == [
        (raw / d).stat().st_mtime_ns for d in (BINANCE_DAY, "lobster/2012-06-21", TARDIS_DAY)]


def test_a_dbn_stream_carries_its_record_count_and_event_times(shipped):
    _, catalog, _ = shipped
    row = catalog.table.filter(pl.col("stream_day") == "databento/ESH4/2023-12-25").row(0, named=True)
    assert (row["symbol"], row["rows"], row["first_ns"], row["last_ns"]) == (
        "ESH4", 68_792, 1_703_422_805_243_925_307, 1_703_548_799_446_724_905)
    # formats that do not say cheaply leave them unknown
    assert catalog.table.filter(pl.col("source") != "databento")["rows"].null_count() == 322
