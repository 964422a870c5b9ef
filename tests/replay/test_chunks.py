"""A day replayed in chunks equals the day replayed whole, cell for cell and counter for counter.

Every shipped stream with a whole-day loader (``replay_cases``), in chunks of at most 1 (one
message), 7 and 4,096 events cut at message boundaries, through one :class:`Replayer`; the
whole-day figures are asserted too, so each case really exercises the state that crosses chunks
(re-seeds, gaps and resyncs, checksum failures, a crossed episode).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import replay_cases as cases
from obrecon_pipeline.events import Flag
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.feeds.l2 import source as l2_source
from obrecon_pipeline.pipeline import OutputPaths, RunOptions, replay_stream, run_stream
from obrecon_pipeline.replay import Replayer, message_chunks, replay
from tests.conftest import RAW, write_tardis_reconnect

CHUNKS = (1, 7, 4096)


def replay_in_chunks(case):
    whole = replay(case.events, case.levels, case.options, **case.kwargs)
    for k in CHUNKS:
        cases.assert_same_replay(whole, replay(case.events, case.levels, case.options, chunk_events=k, **case.kwargs))
    return whole


# LOBSTER: file -> (re-seeds with the reference, unknown cells without it), as in test_lobster.py
LOBSTER = {
    "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip": (44_451, 5_385_874),
    "LOBSTER_SampleFile_GOOG_2012-06-21_5.zip": (31_903, 2_125_272),
    "LOBSTER_SampleFile_GOOG_2012-06-21_1.zip": (11_207, 193_866),
    "LOBSTER_SampleFile_AAPL_2012-06-21_1.zip": (30_071, 468_676),
    "AAPL_2012-06-21_34200000_57600000_message_10.csv.gz": (318, 27_114),
}


@pytest.mark.parametrize("name", LOBSTER)
def test_lobster_with_and_without_reseeds(name):
    reseeds, unknown = LOBSTER[name]
    seeded = replay_in_chunks(cases.lobster(name))
    assert seeded.counters["reseeds"] == reseeds and seeded.counters["reference"]["mismatched_rows"] == 0
    blind = replay_in_chunks(cases.lobster(name, reseed=False))
    assert blind.counters["unknown_cells"] == unknown and blind.counters["reseeds"] == 0


def test_kraken_checksums():
    total = 0
    for symbol in ("XMR/USD", "SC/EUR", "GRT/ETH"):
        total += replay_in_chunks(cases.cryptofeed([cases.KRAKEN], symbol)).counters["checksum_ok"]
    assert total == 846 + 818 + 20


def test_okx_checksums():
    for symbol, ok in (("BTC-USDT", 98), ("UNI-USD-SWAP", 93), ("BTC-USD-220527", 99)):
        assert replay_in_chunks(cases.cryptofeed([cases.OKX], symbol, levels=25)).counters["checksum_ok"] == ok


def test_binance_synced_from_rest():
    res = replay_in_chunks(cases.binance_nknusdt())
    assert res.counters["rows"] == 150 and res.book["book_valid"].all()


def test_binance_gap_then_rest_resync(tmp_path):
    res = replay_in_chunks(cases.binance_gap_and_resync(tmp_path))
    assert (res.counters["resyncs"], res.counters["invalid_rows"], res.counters["integrity_errors"]) == (1, 1, 1)


def test_kraken_checksum_failures_then_resubscription(tmp_path):
    res = replay_in_chunks(cases.kraken_checksum_failures_and_resync(tmp_path))
    c = res.counters
    assert (c["checksum_ok"], c["checksum_failed"], c["resyncs"], c["invalid_rows"]) == (818, 28, 1, 31)


def test_okx_lost_update(tmp_path):
    res = replay_in_chunks(cases.okx_lost_update(tmp_path))
    assert (res.counters["checksum_ok"], res.counters["checksum_failed"]) == (41, 56)


def test_databento_esh4():
    res = replay_in_chunks(cases.databento())
    crossed = res.counters["crossed_books"]
    assert (res.counters["rows"], crossed["crossed_rows_pre_open"], crossed["crossed_episodes"]) == (47_022, 891, 1)


def test_apply_of_dataframe_chunks_equals_apply_arrays():
    """The DataFrame entry point on Polars slices of the ESH4 day gives the front's rows."""
    case = cases.databento()
    whole = replay(case.events, case.levels, case.options)
    r = Replayer(case.levels, case.options)
    rows, events = [], []
    for start, stop in message_chunks(case.events["flags"].to_numpy(), 4096):
        block = r.apply(case.events.slice(start, stop - start))
        rows.append(np.array(block.cells))
        events.append(np.array(block.row_event))
    assert np.array_equal(np.concatenate(rows), whole.cells)
    assert np.array_equal(np.concatenate(events), whole.row_event)
    assert cases.without_wall_time(r.counters()) == cases.without_wall_time(whole.counters)


def test_message_chunks_cut_only_at_message_ends():
    end = int(Flag.END_OF_MESSAGE)
    flags = np.array([end, 0, end, end, 0, 0, end, 0, 0], dtype=np.uint8)
    assert message_chunks(flags, 1) == [(0, 1), (1, 3), (3, 4), (4, 7), (7, 9)]  # one message each
    assert message_chunks(flags, 3) == [(0, 3), (3, 4), (4, 7), (7, 9)]
    assert message_chunks(flags, 4) == [(0, 4), (4, 7), (7, 9)]
    assert message_chunks(flags, 7) == [(0, 7), (7, 9)]
    assert message_chunks(flags, 100) == [(0, 9)]


# ------------------------------------------------------------ L2 sources through run_stream
TIMING = ("replay_wall_s", "events_per_s", "end_to_end_s")


def bybit_with_gap_and_resync(tmp_path):
    """The Bybit sample with line 10 lost (a gap) and the snapshot re-sent before line 21."""
    import zipfile

    with zipfile.ZipFile(RAW / "bybit" / "2024-12-01" / "xrpusdt-ob500.data.zip") as zf:
        lines = zf.read("2024-12-01_XRPUSDT_ob500.data").decode().splitlines()
    resend = lines[0].replace('"u":20254869', '"u":20254888')
    path = tmp_path / "2024-12-01_XRPUSDT_ob500.data"
    path.write_text("\n".join(lines[:9] + lines[10:20] + [resend] + lines[20:]) + "\n")
    return get_feed("bybit").from_files([path])[0]


def tardis_with_reconnect(tmp_path):
    """The Tardis sample, a live update, then a reconnect snapshot (``tests/conftest.py``)."""
    return get_feed("tardis").from_files([write_tardis_reconnect(tmp_path)])[0]


#: name -> (format, stream maker, levels, counters that prove the case crosses chunks)
L2_STREAMS = {
    "kraken-checksum-failures-resync": ("cryptofeed", lambda t: cases.kraken_checksum_failures_and_resync(t).stream,
                                        10, {"checksum_ok": 818, "checksum_failed": 28, "resyncs": 1}),
    "okx-lost-update": ("cryptofeed", lambda t: cases.okx_lost_update(t).stream, 25,
                        {"checksum_ok": 41, "checksum_failed": 56}),
    "binance-rest-gap-resync": ("cryptofeed", lambda t: cases.binance_gap_and_resync(t).stream, 10,
                                {"gaps": 1, "resyncs": 1}),
    "bybit-gap-resync": ("bybit", bybit_with_gap_and_resync, 10, {"gaps": 1, "resyncs": 1, "rows": 50}),
    "tardis-reconnect": ("tardis", tardis_with_reconnect, 2, {"rows": 3}),
}


def _runs_equal_the_whole_day(fmt, stream, levels, whole, chunk_sizes, tmp_path):
    """``run_stream`` in chunks of each size writes the whole-day replay's book and events and
    reports its counters."""
    for k in chunk_sizes:
        out = tmp_path / f"out{k}"
        paths = OutputPaths(out / "book.parquet", out / "events.parquet")
        report = run_stream(fmt, stream, paths, RunOptions(levels=levels, chunk_events=k, checkpoint_every=0))
        assert pl.read_parquet(paths.book).equals(whole.result.book), k
        assert pl.read_parquet(paths.events).equals(whole.loaded.events), k
        assert {x: v for x, v in report.items() if x not in TIMING} == {
            x: v for x, v in whole.report.items() if x not in TIMING}, k


@pytest.mark.parametrize("name", L2_STREAMS)
def test_l2_run_stream_in_chunks_equals_the_whole_day(name, tmp_path):
    """Every L2 format through ``run_stream`` (the chunked :class:`L2Source`) in chunks of 1, 7,
    4,096 events and the whole day: the book, the events and the report of the whole-day replay."""
    fmt, make, levels, expected = L2_STREAMS[name]
    stream = make(tmp_path)
    whole = replay_stream(fmt, get_feed(fmt).load(stream), levels)
    assert {k: whole.report[k] for k in expected} == expected
    _runs_equal_the_whole_day(fmt, stream, levels, whole, (1, 7, 4096, 1 << 40), tmp_path)


@pytest.mark.parametrize("name", L2_STREAMS)
@pytest.mark.parametrize("block", [1, 3])
def test_l2_sequenced_in_blocks_of_any_size_replays_as_the_whole_day(name, block, tmp_path, monkeypatch):
    """The chunked :class:`L2Source` feeding its sequencer 1 or 3 messages at a time (state carried
    across blocks: a gap, a resync or a reordered diff may straddle a block boundary): the book,
    the events and the report of the whole-day replay, in chunks of 7 events and the whole day."""
    fmt, make, levels, _ = L2_STREAMS[name]
    stream = make(tmp_path)
    whole = replay_stream(fmt, get_feed(fmt).load(stream), levels)
    monkeypatch.setattr(l2_source, "BLOCK_MESSAGES", block)
    _runs_equal_the_whole_day(fmt, stream, levels, whole, (7, 1 << 40), tmp_path)
