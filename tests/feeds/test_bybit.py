"""Bybit ob500 history file: parsing, update-id continuity and bad input, on the real sample.

Known answers come from reading the published file (first 50 lines of Bybit's
2024-12-01_XRPUSDT_ob500.data): 1 snapshot with 500 bids and 500 asks at u=20254869, then 49
deltas u=20254870..20254918 holding 2,966 levels, 19 of them size "0".
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import polars as pl
import pytest

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import Action, Flag, Side
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.feeds.bybit_history import discover, parse_history
from tests.conftest import RAW

DAY = RAW / "bybit" / "2024-12-01"
SAMPLE = DAY / "xrpusdt-ob500.data.zip"


def sample_lines() -> list[str]:
    with zipfile.ZipFile(SAMPLE) as zf:
        return zf.read("2024-12-01_XRPUSDT_ob500.data").decode().splitlines()


def write_plain(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "2024-12-01_XRPUSDT_ob500.data"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_real_file_counts_and_flags():
    book = parse_history(SAMPLE)
    assert (book.symbol, book.depth) == ("XRPUSDT", 500)
    assert (book.messages, book.snapshots, book.deltas, book.duplicates) == (50, 1, 49, 0)
    assert book.gaps.height == 0
    ev = book.events
    assert ev.height == 1 + 1000 + 2966
    assert ev["price_scale"].unique().to_list() == [10_000]
    assert ev["size_scale"].unique().to_list() == [1]
    flags = dict(ev.group_by("flags").len().iter_rows())
    # 1000 snapshot levels (+ the CLEAR), the last one also END_OF_MESSAGE; 49 delta ends
    assert flags == {int(Flag.SNAPSHOT): 1000, int(Flag.SNAPSHOT | Flag.END_OF_MESSAGE): 1,
                     int(Flag.END_OF_MESSAGE): 49, 0: 2917}
    assert ev.filter(pl.col("size") == 0).height == 19
    assert ev["update_id"].min() == 20254869 and ev["update_id"].max() == 20254918
    assert ev["arrival"].to_list() == list(range(ev.height))


def test_snapshot_events_exact():
    ev = parse_history(SAMPLE).events
    first = ev.row(0, named=True)
    assert (first["action"], first["side"], first["flags"]) == (Action.CLEAR, Side.NONE, Flag.SNAPSHOT)
    assert first["ts_event"] == 1733011200691_000_000
    best_bid, best_ask = ev.row(1, named=True), ev.row(501, named=True)
    assert (best_bid["side"], best_bid["price"], best_bid["size"]) == (Side.BID, 19531, 6203)
    assert (best_ask["side"], best_ask["price"], best_ask["size"]) == (Side.ASK, 19532, 10480)
    last = ev.row(1000, named=True)  # 500th ask closes the snapshot message
    assert (last["price"], last["size"], last["flags"]) == (20031, 123, Flag.SNAPSHOT | Flag.END_OF_MESSAGE)
    # line 9 deletes the two best asks 1.9532 and 1.9533 (size "0")
    line9 = ev.filter((pl.col("src_row") == 9) & (pl.col("size") == 0) & (pl.col("side") == Side.ASK))
    assert line9["price"].to_list() == [19532, 19533, 19535]


def test_discover_and_registered_feed():
    (stream,) = discover(DAY, "2024-12-01")
    assert (stream.name, stream.symbol, stream.partition_key) == ("XRPUSDT-ob500", "XRPUSDT", "bybit/XRPUSDT-ob500/2024-12-01")
    feed = get_feed("bybit")
    # the renamed sample has no date in its name: the day comes from the first message's ts
    assert feed.from_files([SAMPLE]) == [stream]
    loaded = feed.load(stream)
    assert loaded.events.height == 3967
    assert (loaded.options.window, loaded.options.emit) == (500, "message")
    # the one L2 path's counters (feeds/l2): 1 snapshot and 49 deltas applied, nothing else
    assert loaded.stats == {"messages": 50, "gaps": 0, "duplicates": 0, "gap_list": [], "reordered": 0, "stale": 0,
                            "unsynced": 0, "quarantined": 0, "messages_applied": 49, "messages_reordered": 0,
                            "messages_stale": 0, "messages_duplicate": 0, "messages_unsynced": 0,
                            "messages_snapshot": 1}


def test_dropped_delta_is_a_located_gap(tmp_path):
    lines = sample_lines()
    del lines[9]  # drop u=20254878 (file line 10)
    path = write_plain(tmp_path, lines)
    book = parse_history(path)
    ts = 1733011201591_000_000
    assert book.gaps.to_dicts() == [
        {"row": 9, "file": str(path), "src_row": 10, "ts_event": ts, "ts_recv": ts, "expected": 20254878,
         "received": 20254879}
    ]
    bad = book.events.filter((pl.col("flags") & int(Flag.BAD_BOOK)) > 0)
    assert bad.height == 1  # only the first event after the gap
    assert bad.row(0, named=True)["update_id"] == 20254879
    first_of_msg = book.events.filter(pl.col("src_row") == 10).row(0, named=True)
    assert first_of_msg["arrival"] == bad.row(0, named=True)["arrival"]
    (stream,) = get_feed("bybit").from_files([tmp_path / "2024-12-01_XRPUSDT_ob500.data"])
    stats = get_feed("bybit").load(stream).stats
    assert (stats["gaps"], stats["first_gap_src_row"], stats["first_gap_expected"]) == (1, 10, 20254878)


def test_duplicate_delta_dropped_and_counted(tmp_path):
    lines = sample_lines()
    lines.insert(5, lines[4])  # line 5 (u=20254873) delivered twice
    book = parse_history(write_plain(tmp_path, lines))
    assert (book.messages, book.deltas, book.duplicates, book.gaps.height) == (51, 49, 1, 0)
    assert book.events.height == 3967


def test_resync_at_next_snapshot(tmp_path):
    """Gap at line 10, then the snapshot re-sent before line 21 with u = 20254888 (that delta's u - 1).

    After the second snapshot the deltas continue without a gap; the snapshot is a CLEAR with the
    SNAPSHOT flag and its last level carries END_OF_MESSAGE.
    """
    lines = sample_lines()
    resend = lines[0].replace('"u":20254869', '"u":20254888')
    lines = lines[:9] + lines[10:20] + [resend] + lines[20:]
    book = parse_history(write_plain(tmp_path, lines))
    assert (book.snapshots, book.deltas, book.gaps.height) == (2, 48, 1)
    assert book.gaps["src_row"].to_list() == [10]
    snap = book.events.filter(pl.col("src_row") == 20)
    assert snap.height == 1001
    assert (snap["action"][0], snap["flags"][0]) == (Action.CLEAR, Flag.SNAPSHOT)
    assert snap["flags"][-1] == Flag.SNAPSHOT | Flag.END_OF_MESSAGE
    assert (snap["flags"].slice(1, 999) == Flag.SNAPSHOT).all()
    from obrecon_pipeline.streams import ReplayOptions
    from obrecon_pipeline.replay import replay

    res = replay(book.events, 10, ReplayOptions(window=500, emit="message"))
    # rows: 1 snapshot + 8 deltas valid, the 10 deltas from the gap on invalid, valid again from
    # the re-sent snapshot (row 19) to the end (50 rows)
    assert res.book["book_valid"].to_list() == [True] * 9 + [False] * 10 + [True] * 31
    assert res.counters["resyncs"] == 1


def test_delta_before_any_snapshot_is_a_gap(tmp_path):
    path = write_plain(tmp_path, sample_lines()[1:])
    book = parse_history(path)
    ts = 1733011200693_000_000
    assert book.gaps.to_dicts() == [
        {"row": 0, "file": str(path), "src_row": 1, "ts_event": ts, "ts_recv": ts, "expected": None,
         "received": 20254870}
    ]


@pytest.mark.parametrize(
    "mutate, row, reason",
    [
        (lambda ls: ls.__setitem__(2, ls[2][:-7]), 3, "malformed JSON"),
        (lambda ls: ls.__setitem__(3, ls[3].replace('"1.9531"', '"1.95x1"', 1)), 4, "price '1.95x1' is not a decimal number"),
        (lambda ls: ls.__setitem__(3, ls[3].replace('"7065"', '"7O65"', 1)), 4, "size '7O65' is not a decimal number"),
        (lambda ls: ls.insert(6, ""), 7, "empty line"),
        (lambda ls: ls.__setitem__(7, ls[7].replace('"delta"', '"trade"')), 8, "type 'trade'"),
        (lambda ls: ls.__setitem__(4, ls[4].replace('["1.9531","19330"]', '["1.9531"]')), 5, "level ['1.9531']"),
    ],
)
def test_bad_lines_name_file_row_and_reason(tmp_path, mutate, row, reason):
    lines = sample_lines()
    mutate(lines)
    path = write_plain(tmp_path, lines)
    with pytest.raises(InputError) as err:
        parse_history(path)
    assert (err.value.path, err.value.row) == (str(path), row)
    assert reason in err.value.reason


def test_truncated_zip(tmp_path):
    data = SAMPLE.read_bytes()
    path = tmp_path / "xrpusdt-ob500.data.zip"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as err:
        parse_history(path)
    assert (err.value.path, err.value.row) == (str(path), None)
    assert "not a readable zip archive" in err.value.reason


def oracle_books(lines: list[str], levels: int) -> list[list[int]]:
    """Top-``levels`` book after every message, rebuilt with ``decimal.Decimal`` dicts straight from
    the JSON (an independent oracle: no shared code with the parser or the replayer), as
    bid px, bid sz, ask px, ask sz per level in the replayer's scaled integers (1e-4, 1)."""
    import json
    from decimal import Decimal

    bids: dict[Decimal, Decimal] = {}
    asks: dict[Decimal, Decimal] = {}
    out = []
    for line in lines:
        msg = json.loads(line)
        if msg["type"] == "snapshot":
            bids.clear()
            asks.clear()
        for book, key in ((bids, "b"), (asks, "a")):
            for px, sz in msg["data"][key]:
                if Decimal(sz) == 0:
                    book.pop(Decimal(px), None)
                else:
                    book[Decimal(px)] = Decimal(sz)
        top_b = sorted(bids.items(), reverse=True)[:levels]
        top_a = sorted(asks.items())[:levels]
        row = []
        for (bp, bs), (ap, asz) in zip(top_b, top_a):
            row += [int(bp * 10_000), int(bs), int(ap * 10_000), int(asz)]
        out.append(row)
    return out


def test_replay_matches_decimal_oracle_after_every_message():
    from obrecon_pipeline.streams import ReplayOptions
    from obrecon_pipeline.replay import replay

    book = parse_history(SAMPLE)
    res = replay(book.events, 10, ReplayOptions(window=500, emit="message"))
    assert res.counters["rows"] == 50
    assert res.counters["crossed_rows"] == 0 and res.counters["integrity_errors"] == 0
    assert res.book["book_valid"].all()
    assert res.cells.tolist() == oracle_books(sample_lines(), 10)
    last = res.book.row(-1, named=True)
    assert (last["bid_price_1"], last["bid_size_1"], last["ask_price_1"], last["ask_size_1"]) == (1.9537, 10605.0, 1.9538, 6702.0)
    assert last["update_id"] == 20254918
