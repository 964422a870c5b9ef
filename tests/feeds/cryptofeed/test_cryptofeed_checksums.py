"""Kraken and OKX real captures: every venue checksum verifies in the replay loop."""

import polars as pl

from cfhelpers import KRAKEN, OKX, run
from obrecon_pipeline.feeds.cryptofeed import from_files

KRAKEN_MESSAGES = {  # pair: book messages (1 snapshot + updates, every update with a checksum)
    "ADA/XBT": 348, "XBT/CHF": 290, "OMG/USD": 574, "OCEAN/XBT": 149, "ETH/CHF": 318,
    "SC/EUR": 819, "GRT/ETH": 21, "KSM/XBT": 336, "XMR/USD": 847, "WAVES/EUR": 577,
}


def test_kraken_all_4269_checksums_verify():
    streams = from_files([KRAKEN])
    assert {s.symbol for s in streams} == set(KRAKEN_MESSAGES)
    assert streams[0].day == "2021-04-17" and streams[0].name == "KRAKEN-ADA-XBT"
    ok = failed = 0
    for s in streams:
        bm, sq, loaded, res = run([KRAKEN], s.symbol)
        msgs = bm.messages()
        assert msgs.height == KRAKEN_MESSAGES[s.symbol]
        assert msgs["snapshot"].sum() == 1
        assert res.counters["checksum_ok"] == msgs.height - 1  # every update carries one
        assert res.book["book_valid"].all()
        assert res.counters["crossed_rows"] == res.counters["locked_rows"] == 0
        assert loaded.stats["quarantined"] == 0
        ok += res.counters["checksum_ok"]
        failed += res.counters["checksum_failed"]
    assert (ok, failed) == (4269, 0)


def test_okx_all_290_checksums_verify():
    streams = from_files([OKX])
    assert [s.symbol for s in streams] == ["BTC-USD-220527", "UNI-USD-SWAP", "BTC-USDT"]
    per = {}
    for s in streams:
        bm, sq, loaded, res = run([OKX], s.symbol, levels=25)
        per[s.symbol] = (res.counters["checksum_ok"], res.counters["checksum_failed"])
        assert res.book["book_valid"].all()
        # the book's scales: OKX BTC-USDT sizes have up to 8 decimals
        if s.symbol == "BTC-USDT":
            assert loaded.events["size_scale"][0] == 10**8 and loaded.events["price_scale"][0] == 10
    assert per == {"BTC-USD-220527": (99, 0), "UNI-USD-SWAP": (93, 0), "BTC-USDT": (98, 0)}
    assert sum(ok for ok, _ in per.values()) == 290


def test_okx_ts_event_is_the_venue_time_and_rows_follow_messages():
    bm, sq, loaded, res = run([OKX], "UNI-USD-SWAP")
    ev = loaded.events
    ends = ev.filter((pl.col("flags") & 1) == 1)
    assert ends.height == res.book.height == 93
    assert (ev["ts_event"] <= ev["ts_recv"]).all()  # OKX ts precedes the local receive time
    assert ends["checksum"].null_count() == 0
