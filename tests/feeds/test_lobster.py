"""LOBSTER: every shipped file replays with zero mismatches against LOBSTER's own book."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from obrecon_pipeline.codes import NULL_CELL as NULL
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import Action, Flag, Side
from obrecon_pipeline.feeds.lobster import discover, load_files, parse_messages, MessageFile
from obrecon_pipeline.pipeline import replay_stream

GOOG10 = "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
AAPL10 = "AAPL_2012-06-21_34200000_57600000_message_10.csv.gz"

# file, events, levels, re-seeds with the reference, unknown cells without it
FILES = [
    (GOOG10, 147_916, 10, 44_451, 5_385_874),
    ("LOBSTER_SampleFile_GOOG_2012-06-21_5.zip", 112_673, 5, 31_903, 2_125_272),
    ("LOBSTER_SampleFile_GOOG_2012-06-21_1.zip", 49_482, 1, 11_207, 193_866),
    ("LOBSTER_SampleFile_AAPL_2012-06-21_1.zip", 118_497, 1, 30_071, 468_676),
    (AAPL10, 999, 10, 318, 27_114),
]


@pytest.mark.parametrize("name,events,levels,reseeds,unknown", FILES, ids=[f[0] for f in FILES])
def test_replay_matches_lobster_on_every_cell(lobster_day, name, events, levels, reseeds, unknown):
    loaded = load_files(lobster_day / name)
    assert loaded.events.height == events

    run = replay_stream("lobster", loaded, levels)
    match = run.match
    assert match.cells_compared == events * levels * 4  # every cell of every row
    assert match.cells_matched == match.cells_compared
    assert match.mismatched_rows == 0
    assert run.report["reseeds"] == reseeds
    assert run.report["unknown_cells"] == 0
    assert run.report["integrity_errors"] == 0
    assert run.report["crossed_rows"] == 0

    blind = replay_stream("lobster", loaded, levels, use_reference=False)
    assert blind.report["reseeds"] == 0
    assert blind.report["unknown_cells"] == unknown
    assert blind.match.unknown_cells == unknown
    assert blind.match.cells_compared == events * levels * 4 - unknown
    assert blind.match.cells_matched == blind.match.cells_compared  # every non-null cell is right
    # no cell copied from the reference: a null where the reference shows a level
    assert blind.result.book.null_count().sum_horizontal().item() >= unknown


def test_parser_known_values(lobster_day):
    events = parse_messages(MessageFile(lobster_day / GOOG10))
    first = events.row(0, named=True)
    # 34200.015105074,4,15818974,4,5794000,1 on 2012-06-21 (EDT = UTC-4)
    assert first["ts_event"] == 1_340_285_400_015_105_074
    assert first["action"] == Action.EXECUTE
    assert first["side"] == Side.BID
    assert (first["price"], first["size"], first["order_id"]) == (5_794_000, 4, 15_818_974)
    assert (first["price_scale"], first["size_scale"]) == (10_000, 1)
    assert first["flags"] == Flag.END_OF_MESSAGE
    assert events["src_row"][-1] == 147_916
    counts = dict(events.group_by("action").len().iter_rows())
    assert counts == {Action.ADD: 71_258, Action.CANCEL: 19, Action.DELETE: 64_961,
                      Action.EXECUTE: 7_765, Action.HIDDEN_EXECUTE: 3_913}


def test_first_rows_are_lobsters_book(lobster_day):
    run = replay_stream("lobster", load_files(lobster_day / GOOG10), 10)
    book = run.result.book
    # orderbook row 1: ask 580.23 x 100, bid 579.40 x 196 (after the second execution of 15818974)
    row = book.row(1, named=True)
    assert (row["ask_price_1"], row["ask_size_1"], row["bid_price_1"], row["bid_size_1"]) == (580.23, 100.0, 579.4, 196.0)
    assert book.columns[:8] == ["ts_event", "seq", "update_id", "book_valid",
                                "bid_price_1", "bid_size_1", "ask_price_1", "ask_size_1"]
    assert book["book_valid"].all()


def test_discover_lists_each_file_once(lobster_day):
    names = sorted(s.name for s in discover(lobster_day, "2012-06-21"))
    assert names == ["AAPL-L1", "AAPL-L10", "GOOG-L1", "GOOG-L10", "GOOG-L5"]
    assert discover(lobster_day, "2012-06-22") == []


# ------------------------------------------------------------------------------------ bad input

def _write_pair(tmp_path: Path, messages: bytes, rows: int | None = None, gz: bool = False) -> Path:
    stem = "XYZ_2012-06-21_34200000_57600000_{}_1.csv"
    msg = tmp_path / stem.format("message")
    book_rows = b"5001000,100,5000000,100\n" * (rows if rows is not None else messages.count(b"\n") or 1)
    (tmp_path / stem.format("orderbook")).write_bytes(book_rows)
    if gz:
        msg = msg.with_name(msg.name + ".gz")
        msg.write_bytes(gzip.compress(messages))
    else:
        msg.write_bytes(messages)
    return msg


GOOD = b"34200.1,1,5,100,5000000,1\n34200.2,1,6,100,5001000,-1\n"


@pytest.mark.parametrize(
    "content,row,reason",
    [
        (GOOD + b"34200.3,1,7,100,5000000\n", 3, "expected 6 comma-separated fields, found 5"),
        (GOOD + b"34200.3,1,7,100,50x0000,1\n", 3, "price '50x0000' is not an integer"),
        (GOOD + b"34200.3,8,7,100,5000000,1\n", 3, "unknown message type 8"),
        (GOOD + b"34200.3,1,7,100,5000000,2\n", 3, "direction 2 is neither 1 (buy) nor -1 (sell)"),
        (GOOD + b"9:30:00,1,7,100,5000000,1\n", 3, "time '9:30:00' is not seconds after midnight"),
        (GOOD + b"34200.3,1,7,10", 3, "expected 6 comma-separated fields, found 4"),  # truncated file
    ],
)
def test_bad_rows_name_file_row_and_reason(tmp_path, content, row, reason):
    msg = _write_pair(tmp_path, content)
    with pytest.raises(InputError) as err:
        load_files(msg)
    assert err.value.path == str(msg)
    assert err.value.row == row
    assert reason in err.value.reason


def test_truncated_gzip_names_the_row(tmp_path):
    msg = _write_pair(tmp_path, GOOD * 2000, gz=True)
    data = msg.read_bytes()
    msg.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as err:
        load_files(msg)
    assert "truncated gzip stream" in err.value.reason
    assert err.value.row is not None and 1 < err.value.row < 4000


def test_truncated_zip_is_reported(tmp_path, lobster_day):
    broken = tmp_path / "LOBSTER_SampleFile_GOOG_2012-06-21_1.zip"
    broken.write_bytes((lobster_day / broken.name).read_bytes()[:100_000])
    with pytest.raises(InputError) as err:
        load_files(broken)
    assert err.value.path == str(broken)


def test_orderbook_row_count_must_match(tmp_path):
    msg = _write_pair(tmp_path, GOOD, rows=3)
    with pytest.raises(InputError) as err:
        load_files(msg)
    assert "orderbook file has 3 rows but the message file has 2" in err.value.reason


def test_missing_orderbook_is_an_error(tmp_path):
    msg = tmp_path / "XYZ_2012-06-21_34200000_57600000_message_1.csv"
    msg.write_bytes(GOOD)
    with pytest.raises(InputError, match="no sibling orderbook file"):
        load_files(msg)


def test_empty_level_sentinels_become_null(tmp_path):
    msg = _write_pair(tmp_path, b"34200.1,3,5,100,5000000,1\n", rows=1)
    (tmp_path / "XYZ_2012-06-21_34200000_57600000_orderbook_1.csv").write_bytes(b"9999999999,0,-9999999999,0\n")
    loaded = load_files(msg)
    assert (loaded.reference == NULL).all()
