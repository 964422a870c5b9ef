"""Venues that send a checksum of their book: Kraken, OKX, OKCoin (the OKX algorithm) and Bitget on
their real captures; every venue checksum verifies in the replay loop (Bitget's own CRC32: all
637), and a corrupted size fails its checksum."""

import polars as pl

from cfhelpers import CRYPTOFEED, KRAKEN, OKX, check_streams, lines, run, write_capture
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


BITGET_SPOT = CRYPTOFEED / "2022-04-07" / "BITGET.ws.1.0.gz"
BITGET_MIX = CRYPTOFEED / "2022-04-07" / "BITGET.ws.2.0.gz"
OKCOIN = CRYPTOFEED / "2023-05-27" / "OKCOIN.ws.1.0.gz"


# ----------------------------------------------------------------------------------- Bitget
BITGET_SPOT_MESSAGES = {"CULTUSDT": (52, 0), "EOSUSDT": (56, 0), "VVSUSDT": (55, 0), "GOGUSDT": (57, 0),
                        "AVAXUSDT": (56, 0), "STGUSDT": (56, 0), "HOTUSDT": (55, 0), "SUNUSDT": (56, 0)}


def test_bitget_all_637_checksums_verify():
    ok = failed = 0
    for files, expected in (([BITGET_SPOT], BITGET_SPOT_MESSAGES), ([BITGET_MIX], {"DASHUSDT": (98, 0), "UNIUSDT": (96, 0)})):
        for symbol, (stats, res, bm, sq) in check_streams(files, expected, levels=25).items():
            assert res.counters["checksum_ok"] == expected[symbol][0]  # snapshot and every update
            ok += res.counters["checksum_ok"]
            failed += res.counters["checksum_failed"]
    assert (ok, failed) == (443 + 194, 0)


def test_bitget_corrupted_size_fails_its_checksum(tmp_path):
    content = lines(BITGET_MIX)
    k = next(i for i, t in enumerate(content) if '"action":"update"' in t and '"instId":"UNIUSDT"' in t)
    line = content[k]
    first_ask = line.index('"asks":[["') + len('"asks":[["')
    size_at = line.index('","', first_ask) + 3
    content[k] = line[:size_at] + "9" + line[size_at:]  # one more leading digit on the first ask's size
    path = write_capture(tmp_path, BITGET_MIX, content)
    bm, sq, loaded, res = run([path], "UNIUSDT", 25)
    # the snapshot verifies; from the corrupted first update on, the book differs from Bitget's
    # (no later snapshot in the capture), so all 95 remaining checksums fail
    assert (res.counters["checksum_ok"], res.counters["checksum_failed"]) == (1, 95)
    first = res.counters["first_checksum_failure"]
    assert first["src_row"] == k + 1
    valid = res.book["book_valid"].to_list()
    assert valid == [True] + [False] * 95


# -------------------------------------------------------------------------------------- OKCoin
def test_okcoin_checksums_verify_with_the_okx_algorithm():
    got = check_streams([OKCOIN], {"USDC-USDT": (2, 0), "USDT-USD": (2, 0), "BTC-USD": (1, 0), "ETH-USD": (1, 0)}, 25)
    assert sum(res.counters["checksum_ok"] for _, res, _, _ in got.values()) == 6
    assert sum(res.counters["checksum_failed"] for _, res, _, _ in got.values()) == 0
