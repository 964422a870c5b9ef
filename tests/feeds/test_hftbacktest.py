"""``--format hftbacktest``: the shipped Binance spot + USD-M BTCUSDT captures (hftbacktest collector).

The expected figures are read off the raw JSON lines independently of the feed
(:mod:`tests.feeds.hftbacktest_captures`): the sync point by Binance's documented rule, and which
bookTickers end an applied diff.
"""

import gzip
import json

import polars as pl
import pytest

from obrecon_pipeline.cli import main
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.pipeline import replay_stream
from tests.feeds.hftbacktest_captures import DAY, SPOT, USDM, documented_sync, raw_lines, wrong_best_bid_capture

FEED = get_feed("hftbacktest")


@pytest.fixture(scope="module")
def runs():
    out = {}
    for path in (SPOT, USDM):
        stream = FEED.from_files([path])[0]
        out[stream.name] = replay_stream("hftbacktest", FEED.load(stream), 10)
    return out


def test_landing_zone_day_lists_both_venues_by_name_alone():
    streams = FEED.discover(DAY, "2024-08-08")
    assert [(s.partition_key, s.symbol, s.files) for s in streams] == [
        ("hftbacktest/spot-BTCUSDT/2024-08-08", "BTCUSDT", (SPOT,)),
        ("hftbacktest/usdm-BTCUSDT/2024-08-08", "BTCUSDT", (USDM,)),
    ]


@pytest.mark.parametrize("name, path, futures", [("spot-BTCUSDT", SPOT, False), ("usdm-BTCUSDT", USDM, True)])
def test_books_sync_by_the_documented_procedure(runs, name, path, futures):
    expected = documented_sync(path, futures)
    r = runs[name].report
    assert (r["stale"], r["messages_applied"], r["messages_snapshot"]) == (expected["dropped"], expected["applied"], 1)
    assert (r["gaps"], r["duplicates"], r["reordered"], r["unsynced"], r["quarantined"]) == (0, 0, 0, 0, 0)
    assert r["rows"] == 1 + expected["applied"] and r["crossed_rows"] == 0
    book = runs[name].result.book
    assert book["book_valid"].all()
    assert book["update_id"][0] == expected["last_id"]  # the snapshot row, then one row per applied diff


@pytest.mark.parametrize("name, path, futures, counts", [
    ("spot-BTCUSDT", SPOT, False, (1654, 13041, 278)),
    ("usdm-BTCUSDT", USDM, True, (3138, 28854, 277)),
])
def test_every_matching_bookticker_equals_the_rebuilt_top_of_book(runs, name, path, futures, counts):
    expected = documented_sync(path, futures)
    assert (expected["applied"], expected["tickers"], expected["matching"]) == counts
    assert runs[name].report["ticker_reference"] == {
        "tickers": counts[1], "compared": counts[2], "agree": counts[2], "disagree": 0, "first_disagreement": None}


def test_a_wrong_level_shows_up_at_the_first_ticker_after_it(tmp_path):
    faulty, line, update_id, best_bid = wrong_best_bid_capture(tmp_path)
    stream = FEED.from_files([faulty])[0]
    report = replay_stream("hftbacktest", FEED.load(stream), 10).report["ticker_reference"]
    first = report["first_disagreement"]
    assert report["compared"] == 278 and report["disagree"] >= 1
    assert (first["file"], first["src_row"], first["update_id"]) == (str(faulty.resolve()), line, update_id)
    assert first["theirs"]["bid_price"] == float(best_bid) and first["ours"] != first["theirs"]


def test_cli_replays_both_venues_into_one_folder(tmp_path, capsys):
    out, report = tmp_path / "books", tmp_path / "report.json"
    assert main(["replay", "--format", "hftbacktest", str(SPOT), str(USDM), "--levels", "5",
                 "--out", str(out), "--report", str(report)]) == 0
    streams = json.loads(report.read_text())["streams"]
    assert list(streams) == ["spot-BTCUSDT", "usdm-BTCUSDT"]
    assert [(s["rows"], s["ticker_reference"]["agree"], s["ticker_reference"]["disagree"]) for s in streams.values()] == [
        (1655, 278, 0), (3139, 277, 0)]
    assert pl.read_parquet(out / "usdm-BTCUSDT.parquet").height == 3139


@pytest.mark.parametrize("damage, reason", [
    (lambda line: line[:70] + "\n", "malformed JSON: Expecting ',' delimiter: line 1 column 51"),
    (lambda line: "x" + line, "not '<receive ns> <JSON>': "),
])
def test_a_damaged_line_is_a_located_error(tmp_path, capsys, damage, reason):
    lines = raw_lines(SPOT)
    lines[99] = damage(lines[99])
    faulty = tmp_path / SPOT.name
    faulty.write_bytes(gzip.compress("".join(lines).encode()))
    with pytest.raises(InputError) as exc:
        FEED.load(FEED.from_files([faulty])[0])
    assert (exc.value.path, exc.value.row) == (str(faulty.resolve()), 100) and exc.value.reason.startswith(reason)
    assert main(["replay", "--format", "hftbacktest", str(faulty), "--out", str(tmp_path / "b.parquet")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"obrecon: error: {faulty.resolve()}, row 100: {reason}") and "\n" not in err
    assert not (tmp_path / "b.parquet").exists()


def test_a_file_name_not_of_the_collector_is_refused(tmp_path):
    with pytest.raises(InputError, match="not an hftbacktest capture name"):
        FEED.from_files([tmp_path / "btcusdt.gz"])
