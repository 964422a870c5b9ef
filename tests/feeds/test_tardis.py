"""Tardis.dev CSVs: incremental_book_L2 events, book_snapshot_N references and their comparison.

The shipped samples are real (tests/fixtures/tardis/README.md) but do not overlap: the
incremental file is Deribit BTC-PERPETUAL 2020-04-01 (15 snapshot ask rows), the snapshots are
Binance-futures BTCUSDT 2020-09-01. So:

* the comparison function is checked on the two real snapshot files against each other (same
  exchange, symbol and start; the top 5 of book_snapshot_25 must equal book_snapshot_5);
* the replay of the real incremental file is checked against
  ``handwritten/tardis_deribit_book_snapshot_25_BTC-PERPETUAL.csv``, written by hand from the
  incremental file's rows: its 15 rows are one snapshot message at timestamp 1585699200245000
  listing asks 6421.5 x 18640, 6422 x 1190, ..., 6428.5 x 39950 in ascending price, so the
  book_snapshot_25 row is asks[0..14] = those pairs, asks[15..24] empty, every bid empty.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from obrecon_pipeline.codes import NULL_CELL as NULL
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import Action, Flag, Side
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.events import scales
from obrecon_pipeline.feeds.tardis import read_book_snapshots, read_incremental, reference_snapshots
from obrecon_pipeline.integrity.snapshots import compare_with_snapshots
from obrecon_pipeline.replay import replay
from tests.conftest import RAW

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "tardis"
INCREMENTAL = FIX / "tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv"
SNAP5 = FIX / "tardis_binance-futures_book_snapshot_5_BTCUSDT.csv"
SNAP25 = FIX / "tardis_binance-futures_book_snapshot_25_BTCUSDT.csv"
HANDWRITTEN = FIX / "handwritten" / "tardis_deribit_book_snapshot_25_BTC-PERPETUAL.csv"

ASKS = [(64215, 18640), (64220, 1190), (64225, 1080), (64230, 1400), (64235, 6630), (64240, 37070),
        (64245, 120), (64250, 51280), (64255, 61770), (64260, 3500), (64265, 16340), (64270, 22510),
        (64275, 45550), (64280, 10460), (64285, 39950)]


def test_incremental_events_exact():
    ev = read_incremental(INCREMENTAL)
    assert ev.height == 17
    clears = ev.slice(0, 2).select("action", "side", "flags", "src_row").rows()
    assert clears == [(Action.CLEAR, Side.BID, Flag.SNAPSHOT, 2), (Action.CLEAR, Side.ASK, Flag.SNAPSHOT, 2)]
    levels = ev.slice(2)
    assert (levels["action"] == Action.SET_LEVEL).all() and (levels["side"] == Side.ASK).all()
    assert list(zip(levels["price"], levels["size"])) == ASKS
    assert levels["src_row"].to_list() == list(range(2, 17))
    assert levels["flags"].to_list() == [int(Flag.SNAPSHOT)] * 14 + [int(Flag.SNAPSHOT | Flag.END_OF_MESSAGE)]
    assert ev["ts_event"].unique().to_list() == [1585699200245000_000]
    assert ev["ts_recv"].unique().to_list() == [1585699200355684_000]
    assert (ev["price_scale"][0], ev["size_scale"][0]) == (10, 1)
    assert ev["update_id"].null_count() == 17


def test_discover_and_from_files():
    feed = get_feed("tardis")
    (stream,) = feed.discover(RAW / "tardis" / "2020-04-01", "2020-04-01")
    assert (stream.partition_key, stream.symbol) == ("tardis/deribit-BTC-PERPETUAL/2020-04-01", "BTC-PERPETUAL")
    assert feed.discover(RAW / "tardis" / "2020-09-01", "2020-09-01") == []
    (cli,) = feed.from_files([INCREMENTAL, HANDWRITTEN, SNAP5])  # SNAP5 is another symbol: not attached
    assert cli.files == (INCREMENTAL, HANDWRITTEN) and cli.day == "2020-04-01"
    assert feed.load(cli).options.emit == "message"


def test_book_snapshot_files_parse_exactly():
    s5, s25 = read_book_snapshots(SNAP5), read_book_snapshots(SNAP25)
    assert (s5.depth, s25.depth, s5.exchange, s5.symbol) == (5, 25, "binance-futures", "BTCUSDT")
    assert (s5.price_scale, s5.size_scale, s25.price_scale, s25.size_scale) == (100, 1000, 100, 1000)
    assert s5.cells.shape == (10, 20) and s25.cells.shape == (10, 100)
    # row 1: bids[0] 11657.07 x 10.896, asks[0] 11657.08 x 1.714
    assert s5.cells[0, :4].tolist() == [1165707, 10896, 1165708, 1714]
    # first book_snapshot_25 row, level 25: bids[24] 11653.25 x 1.003, asks[24] 11659.34 x 0.618
    assert s25.cells[0, 96:].tolist() == [1165325, 1003, 1165934, 618]
    assert s25.ts_event[-1] == 1598918404005_000_000
    assert s25.src_row.tolist() == list(range(2, 12))


def test_real_snapshot_files_cross_check():
    """book_snapshot_5 read as a replayed book vs book_snapshot_25: the top 5 must agree on all
    10 rows of the 25-level file (4 of them at the same timestamp; the other 6 were written for
    changes below level 5, so the 5-level row in force is the earlier one)."""
    s5, s25 = read_book_snapshots(SNAP5), read_book_snapshots(SNAP25)
    cmp = compare_with_snapshots(s5.ts_event, s5.cells, s5.price_scale, s5.size_scale, s25, levels=5)
    assert (cmp.reference_rows, cmp.compared_rows, cmp.same_timestamp) == (10, 10, 4)
    assert (cmp.match.cells_compared, cmp.match.cells_matched, cmp.match.mismatched_rows) == (200, 200, 0)


def test_comparison_detects_a_real_difference():
    """The other way round, book_snapshot_25 (ending at 04.005) cannot know the top-5 change
    book_snapshot_5 records at 04.021 (file line 6: bids[4] 11655.68 x 0.111 -> 11655.69 x 0.188)."""
    s5, s25 = read_book_snapshots(SNAP5), read_book_snapshots(SNAP25)
    cmp = compare_with_snapshots(s25.ts_event, s25.cells, s25.price_scale, s25.size_scale, s5)
    assert (cmp.compared_rows, cmp.same_timestamp, cmp.match.mismatched_rows) == (10, 4, 6)
    assert (cmp.first_mismatch_src_row, cmp.match.first_mismatch_column) == (6, "bid_price_5")


def compare_stream(loaded, res):
    """Each book_snapshot file of a loaded stream against its replay."""
    price_scale, size_scale = scales(loaded.events)
    ts = res.book["ts_event"].to_numpy()
    return [compare_with_snapshots(ts, res.cells, price_scale, size_scale, snaps, min(25, snaps.depth))
            for snaps in reference_snapshots(loaded.stream)]


def replayed(stream_files):
    feed = get_feed("tardis")
    (stream,) = feed.from_files(stream_files)
    loaded = feed.load(stream)
    return loaded, replay(loaded.events, 25, loaded.options)


def test_replay_reproduces_handwritten_snapshot():
    loaded, res = replayed([INCREMENTAL, HANDWRITTEN])
    assert res.counters["rows"] == 1 and res.counters["crossed_rows"] == 0
    row = res.book.row(0, named=True)
    assert (row["ask_price_1"], row["ask_size_1"], row["ask_price_15"], row["ask_size_15"]) == (6421.5, 18640.0, 6428.5, 39950.0)
    assert row["ask_price_16"] is None and row["bid_price_1"] is None
    (cmp,) = compare_stream(loaded, res)
    assert (cmp.reference_rows, cmp.compared_rows, cmp.same_timestamp) == (1, 1, 1)
    assert (cmp.match.cells_compared, cmp.match.cells_matched, cmp.match.mismatched_rows) == (100, 100, 0)


def test_replay_mismatch_is_located(tmp_path):
    text = HANDWRITTEN.read_text().replace(",6423,1400,", ",6423,1401,")
    bad = tmp_path / HANDWRITTEN.name
    bad.write_text(text)
    loaded, res = replayed([INCREMENTAL, bad])
    (cmp,) = compare_stream(loaded, res)
    assert (cmp.match.cells_matched, cmp.match.mismatched_rows) == (99, 1)
    assert (cmp.first_mismatch_src_row, cmp.match.first_mismatch_column) == (2, "ask_size_4")


def test_snapshot_blocks_clear_their_sides_and_batch_by_timestamp(tardis_reconnect):
    """The sample with a live update at t1 (two rows), then a new snapshot block at t2 listing a bid
    and an ask (a reconnect; constructed rows, ``tests/conftest.py``): both sides are cleared before
    the block, so none of the 14 asks left from the first snapshot survives it."""
    path = tardis_reconnect
    ev = read_incremental(path)
    tail = ev.slice(17).select("src_row", "action", "side", "price", "size", "flags")
    S, E = int(Flag.SNAPSHOT), int(Flag.END_OF_MESSAGE)
    assert tail.rows() == [
        (17, Action.SET_LEVEL, Side.ASK, 64215, 0, 0),
        (18, Action.SET_LEVEL, Side.BID, 64200, 500, E),
        (19, Action.CLEAR, Side.BID, 0, 0, S),
        (19, Action.CLEAR, Side.ASK, 0, 0, S),
        (19, Action.SET_LEVEL, Side.BID, 64195, 10, S),
        (20, Action.SET_LEVEL, Side.ASK, 64250, 20, S | E),
    ]
    res = replay(ev, 2, get_feed("tardis").load(get_feed("tardis").from_files([path])[0]).options)
    assert res.counters["rows"] == 3
    assert res.cells[1].tolist()[:4] == [64200, 500, 64220, 1190]
    assert res.cells[2].tolist() == [64195, 10, 64250, 20] + [NULL] * 4  # the reset left one level a side


def _expect(path: Path, row: int | None, reason: str, reader=read_incremental):
    with pytest.raises(InputError) as err:
        reader(path)
    assert (err.value.path, err.value.row) == (str(path), row)
    assert reason in err.value.reason


#: (line replaced, its new text, row named, reason named) of a bad incremental file
BAD_ROWS = [
    (5, "deribit,BTC-PERPETUAL,1585699200245000,1585699200355684,true,ask,6423,1400,7", 5,
     "expected 8 comma-separated fields, found 9"),
    (6, "deribit,BTC-PERPETUAL,1585699200245000,1585699200355684,true,ask", 6,
     "expected 8 comma-separated fields, found 6"),
    (7, "deribit,BTC-PERPETUAL,1585699200245000,1585699200355684,true,ask,64a4,37070", 7,
     "price '64a4' is not a decimal number"),
    (8, "deribit,BTC-PERPETUAL,1585699200245000,1585699200355684,yes,ask,6424.5,120", 8,
     "is_snapshot 'yes' is not one of true, false"),
    (9, "deribit,BTC-PERPETUAL,1585699200245000,1585699200355684,true,buy,6425,51280", 9,
     "side 'buy' is not one of bid, ask"),
    (10, "deribit,BTC-PERPETUAL,158569920024500x,1585699200355684,true,ask,6425.5,61770", 10,
     "timestamp '158569920024500x' is not an integer"),
    (1, "exchange,symbol,timestamp,local_timestamp,side,is_snapshot,price,amount", 1, "header"),
]


@pytest.mark.parametrize("line, bad, row, reason", BAD_ROWS)
def test_bad_incremental_rows(tmp_path, line, bad, row, reason):
    lines = INCREMENTAL.read_text().splitlines()
    lines[line - 1] = bad
    path = tmp_path / INCREMENTAL.name
    path.write_text("\n".join(lines) + "\n")
    _expect(path, row, reason)


def test_truncated_gzip(tmp_path):
    data = gzip.compress(INCREMENTAL.read_bytes())
    path = tmp_path / (INCREMENTAL.name + ".gz")
    path.write_bytes(data[: len(data) - 30])
    with pytest.raises(InputError) as err:
        read_incremental(path)
    assert err.value.path == str(path) and "truncated gzip" in err.value.reason


def test_bad_book_snapshot_rows(tmp_path):
    lines = SNAP5.read_text().splitlines()
    lines[3] = lines[3] + ",1"
    path = tmp_path / SNAP5.name
    path.write_text("\n".join(lines) + "\n")
    _expect(path, 4, "expected 24 comma-separated fields, found 25", read_book_snapshots)
    lines = SNAP5.read_text().splitlines()
    lines[2] = lines[2].replace("11657.08,1.476", "11657.08,")
    path.write_text("\n".join(lines) + "\n")
    _expect(path, 3, "a level has a price without an amount", read_book_snapshots)
    lines = SNAP5.read_text().splitlines()
    lines[2] = lines[2].replace("11657.08,1.476", "11657.O8,1.476")
    path.write_text("\n".join(lines) + "\n")
    _expect(path, 3, "price '11657.O8' is not a decimal number", read_book_snapshots)


# ------------------------------------------- rows that are not the stream's (issue 11), counted
def _with(tmp_path, mutate, name=INCREMENTAL.name):
    lines = INCREMENTAL.read_text().splitlines()
    mutate(lines)
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_row_for_another_symbol_is_counted(tmp_path):
    path = _with(tmp_path, lambda ls: ls.insert(5, ls[4].replace("BTC-PERPETUAL", "ETH-PERPETUAL")))
    (stream,) = get_feed("tardis").from_files([path])
    loaded = get_feed("tardis").load(stream)
    assert (loaded.stats["other_symbol_rows"], loaded.stats["other_symbol_first"]) == (
        1, f"{path}, row 6: symbol 'ETH-PERPETUAL'")
    assert loaded.events.height == 17  # the stream's own 15 rows and 2 CLEARs, as in the clean file


def test_a_row_of_another_exchange_is_an_error(tmp_path, capsys):
    from obrecon_pipeline.cli import main

    path = _with(tmp_path, lambda ls: ls.__setitem__(6, ls[6].replace("deribit,", "bitmex,", 1)))
    assert main(["replay", "--format", "tardis", str(path), "--out", str(tmp_path / "b.parquet")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"obrecon: error: {path}, row 7: exchange 'bitmex' is not the stream's exchange 'deribit'")


def test_a_snapshot_row_dated_earlier_stays_in_its_snapshot(tmp_path):
    """Row 9 of the 15-row snapshot carries a timestamp 1 µs earlier: still one snapshot (one pair of
    CLEARs, one book row, the handwritten book), the misdated row counted."""
    path = _with(tmp_path, lambda ls: ls.__setitem__(8, ls[8].replace("1585699200245000", "1585699200244999", 1)))
    (stream,) = get_feed("tardis").from_files([path, HANDWRITTEN])
    loaded = get_feed("tardis").load(stream)
    assert loaded.stats["snapshot_rows_misdated"] == 1
    ev = loaded.events
    assert (ev["action"] == Action.CLEAR).sum() == 2 and ev["ts_event"].unique().to_list() == [1585699200245000_000]
    res = replay(ev, 25, loaded.options)
    assert res.counters["rows"] == 1
    (cmp,) = compare_stream(loaded, res)
    assert (cmp.match.cells_compared, cmp.match.cells_matched) == (100, 100)


def test_a_file_not_named_as_downloaded_takes_exchange_and_symbol_from_its_rows(tmp_path):
    path = tmp_path / "my-book-export.csv"
    path.write_bytes(INCREMENTAL.read_bytes())
    (stream,) = get_feed("tardis").from_files([path])
    assert (stream.name, stream.symbol, stream.day) == ("deribit-BTC-PERPETUAL", "BTC-PERPETUAL", "2020-04-01")
    assert get_feed("tardis").load(stream).events.height == 17
    junk = tmp_path / "notes.csv"
    junk.write_text("a,b\n1,2\n")
    with pytest.raises(InputError) as err:
        get_feed("tardis").from_files([junk])
    assert (err.value.row, err.value.reason.split(" (")[0]) == (1, "neither a Tardis file name")
