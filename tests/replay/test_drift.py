"""Drift against every mid-stream snapshot, on the shipped captures that have them.

A snapshot message that starts while the book is synced and valid after an earlier snapshot is
judged: the rebuilt book just before it against the snapshot, on each side over the levels the
snapshot gives (top 10 here). Not judged: books whose update ids differ (``not_comparable``:
Huobi's every push is a whole-book snapshot with a new ``version``) and a snapshot right after a
snapshot on a feed without update ids (``back_to_back``: Upbit and Delta send only snapshots).

Feeds checked that have no mid-stream snapshot, asserted zero: Kraken, OKX and Bitget captures
(one subscription snapshot per symbol), the Bybit ob500 sample (one snapshot), the Tardis Deribit
incremental sample (one snapshot block), Databento ESH4 (snapshot records open the file only).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import replay_cases as cases
from obrecon_pipeline.codes import NULL_CELL
from obrecon_pipeline.events import Flag
from obrecon_pipeline.feeds import get_feed, load_builtin_feeds
from obrecon_pipeline.feeds.cryptofeed import from_files, load, rest_files_for
from obrecon_pipeline.replay import replay
from tests.conftest import RAW

CRYPTOFEED = RAW / "cryptofeed"
KEYS = ("snapshots_compared", "snapshots_agree", "snapshots_disagree", "snapshots_not_comparable",
        "snapshots_back_to_back")


def drift_by_symbol(ws: Path) -> tuple[dict, dict]:
    """``(symbol -> the five counts, where non-zero; symbol -> first disagreement)`` of a capture."""
    counts, first = {}, {}
    for s in from_files([ws, *rest_files_for(ws)]):
        loaded = load(s)
        d = replay(loaded.events, 10, loaded.options).counters["snapshot_drift"]
        if any(d[k] for k in KEYS):
            counts[s.symbol] = tuple(d[k] for k in KEYS)
        if d["first_snapshot_disagreement"]:
            first[s.symbol] = d["first_snapshot_disagreement"]
    return counts, first


def test_phemex_and_hitbtc_snapshots_agree_with_the_rebuilt_book():
    counts, _ = drift_by_symbol(CRYPTOFEED / "2021-07-03" / "PHEMEX.ws.1.0.gz")
    assert counts == {s: (1, 1, 0, 0, 0) for s in ("sGRTUSDT", "sSUSHIUSDT", "sENJUSDT")}
    # HitBTC sends its snapshot twice at the start with the same sequence: the same book
    counts, _ = drift_by_symbol(CRYPTOFEED / "2021-07-15" / "HITBTC.ws.1.0.gz")
    assert counts == {s: (1, 1, 0, 0, 0) for s in ("ORNBTC", "POLYBTC", "GVTETH", "INSURBTC", "DNTBTC", "VETBTC",
                                                   "CRDTETH", "GRTBTC", "MTXUSD", "EURSUSD")}


def test_bitflyer_diffs_drift_from_its_snapshots():
    counts, first = drift_by_symbol(CRYPTOFEED / "2021-12-12" / "BITFLYER.ws.1.0.gz")
    assert counts == {
        "FX_BTC_JPY": (5, 1, 4, 0, 0), "XRP_JPY": (5, 3, 2, 0, 0), "BTC_USD": (5, 5, 0, 0, 0),
        "BTC_EUR": (5, 4, 1, 0, 0), "ETH_JPY": (5, 2, 3, 0, 0), "XLM_JPY": (5, 4, 1, 0, 0),
        "BCH_BTC": (1, 1, 0, 0, 4), "MONA_JPY": (4, 4, 0, 0, 1), "BTCJPY17DEC2021": (2, 2, 0, 0, 3),
        "BTCJPY24DEC2021": (2, 2, 0, 0, 3),
    }
    assert first["FX_BTC_JPY"] == {
        "row": 36, "event": 1678, "ts_event": 1639350336982951900, "update_id": None, "level": 2, "side": "bid",
        "ours_price": 5864202.0, "ours_size": 0.02, "theirs_price": 5864204.0, "theirs_size": 0.02,
    }
    assert (first["ETH_JPY"]["row"], first["ETH_JPY"]["level"], first["ETH_JPY"]["side"]) == (21, 1, "bid")


def test_bitflyer_drift_equals_the_book_rows_either_side_of_each_snapshot():
    """An independent reading: the book row before each judged snapshot against the snapshot's own
    row, level by level where the snapshot has a level."""
    (s,) = [s for s in from_files([CRYPTOFEED / "2021-12-12" / "BITFLYER.ws.1.0.gz"]) if s.symbol == "FX_BTC_JPY"]
    loaded = load(s)
    res = replay(loaded.events, 10, loaded.options)
    flags = loaded.events["flags"].to_numpy()
    starts = cases.snapshot_starts(flags)[1:]
    judged = [int(e) for e in starts if not flags[e - 1] & Flag.SNAPSHOT]
    rows = np.searchsorted(res.row_event, judged)  # the snapshot's own row (its END_OF_MESSAGE)
    verdicts = []
    for r in rows:
        ours, theirs = res.cells[r - 1], res.cells[r]
        given = np.repeat(theirs[0::2] != NULL_CELL, 2)  # both cells of each level the snapshot has
        verdicts.append(bool(np.array_equal(ours[given], theirs[given])))
    assert verdicts.count(True) == 1 and verdicts.count(False) == 4
    assert int(rows[verdicts.index(False)]) == res.counters["snapshot_drift"]["first_snapshot_disagreement"]["row"]


def test_snapshot_only_feeds_are_not_judged():
    counts, _ = drift_by_symbol(CRYPTOFEED / "2021-04-17" / "HUOBI.ws.44.0.gz")
    assert counts == {s: (0, 0, 0, n, 0) for s, n in (
        ("trioeth", 25), ("borusdt", 26), ("omgbtc", 30), ("xvgeth", 30), ("yfihusd", 30), ("zeneth", 30),
        ("dogeeth", 29), ("fil3susdt", 30), ("propyeth", 24), ("nesteth", 28))}
    counts, _ = drift_by_symbol(CRYPTOFEED / "2021-04-17" / "UPBIT.ws.62.0.gz")
    assert counts == {"KRW-LAMB": (0, 0, 0, 0, 86), "KRW-WAVES": (0, 0, 0, 0, 25), "BTC-XTZ": (0, 0, 0, 0, 15),
                      "BTC-ITAM": (0, 0, 0, 0, 7), "BTC-PAX": (0, 0, 0, 0, 7)}
    counts, _ = drift_by_symbol(CRYPTOFEED / "2021-11-29" / "DELTA.ws.1.0.gz")
    assert counts == {s: (0, 0, 0, 0, n) for s, n in (
        ("C-ETH-3200-311221", 30), ("P-BNB-600-291121", 28), ("C-ETH-4000-250322", 31), ("P-ETH-5600-311221", 30),
        ("C-BNB-540-031221", 29), ("P-ETH-3500-280122", 31), ("C-BNB-560-031221", 29), ("C-ETH-4450-301121", 31),
        ("P-BNB-560-031221", 29), ("P-ETH-4000-250322", 31))}


def test_huobi_swap_pushes_with_the_same_version_agree():
    counts, _ = drift_by_symbol(CRYPTOFEED / "2022-02-19" / "HUOBI_SWAP.ws.1.0.gz")
    assert counts == {"ATOM-USD": (7, 7, 0, 418, 0), "SHIB-USD": (5, 5, 0, 326, 0), "ICP-USD": (7, 7, 0, 155, 0),
                      "ANT-USD": (9, 9, 0, 129, 0), "GALA-USD": (11, 11, 0, 202, 0)}
    counts, _ = drift_by_symbol(CRYPTOFEED / "2024-01-07" / "BIT.COM.ws.2.0.gz")
    assert counts == {"NEAR-USDT-PERPETUAL": (0, 0, 0, 1, 0)}  # a resubscription at a later id


@pytest.mark.parametrize("ws", [
    CRYPTOFEED / "2021-04-17" / "KRAKEN.ws.50.0.gz", CRYPTOFEED / "2022-05-13" / "OKX.ws.1.0.gz",
    CRYPTOFEED / "2022-04-07" / "BITGET.ws.1.0.gz", CRYPTOFEED / "2022-04-07" / "BITGET.ws.2.0.gz",
], ids=lambda p: p.name)
def test_captures_without_mid_stream_snapshots(ws):
    assert drift_by_symbol(ws) == ({}, {})


def test_other_feeds_without_mid_stream_snapshots():
    load_builtin_feeds()
    for fmt, path in (("bybit", RAW / "bybit" / "2024-12-01" / "xrpusdt-ob500.data.zip"),
                      ("tardis", cases.ROOT / "tests" / "fixtures" / "tardis" /
                       "tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv")):
        feed = get_feed(fmt)
        (stream,) = feed.from_files([path])
        loaded = feed.load(stream)
        res = replay(loaded.events, 10, loaded.options)
        assert res.counters["snapshots"] == 1
        assert all(res.counters["snapshot_drift"][k] == 0 for k in KEYS)
    # ESH4: its 8,725 snapshot records open the file (adds, no clear: no resync is counted)
    case = cases.databento()
    assert cases.snapshot_starts(case.events["flags"].to_numpy()).tolist() == [0]
    res = replay(case.events, 10, case.options)
    assert res.counters["snapshots"] == 0 and all(res.counters["snapshot_drift"][k] == 0 for k in KEYS)


def test_tardis_reconnect_snapshot_disagrees_with_the_live_book(tardis_reconnect):
    """The constructed reconnect of tests/feeds/test_tardis.py: after a live update the book is
    bid 6420 x 500 / ask 6422 x 1190; the new snapshot block says bid 6419.5 x 10 / ask 6425 x 20."""
    path = tardis_reconnect
    feed = get_feed("tardis")
    loaded = feed.load(feed.from_files([path])[0])
    d = replay(loaded.events, 2, loaded.options).counters["snapshot_drift"]
    assert tuple(d[k] for k in KEYS) == (1, 0, 1, 0, 0)
    assert d["first_snapshot_disagreement"] == {
        "row": 2, "event": 22, "ts_event": 1585699200900000_000, "update_id": None, "level": 1, "side": "bid",
        "ours_price": 6420.0, "ours_size": 500.0, "theirs_price": 6419.5, "theirs_size": 10.0,
    }


def test_a_corrupted_diff_shows_up_at_the_next_snapshot(tmp_path):
    """Phemex sGRTUSDT: one level of a diff before the second snapshot gets one more unit of size;
    the snapshot then disagrees exactly there (the clean capture agrees)."""
    ws_path, rest = cases.phemex_files()
    ws = cases.lines(ws_path)
    ours = [i for i, t in enumerate(ws) if '"symbol":"sGRTUSDT"' in t and '"book"' in t]
    snapshot = next(i for i in ours[1:] if '"type":"snapshot"' in t_of(ws, i))
    clean = cases.cryptofeed([ws_path, rest], "sGRTUSDT")
    res0 = replay(clean.events, 10, clean.options)
    row = int(np.searchsorted(res0.row_event, cases.snapshot_starts(clean.events["flags"].to_numpy())[1]))
    before = res0.cells[row - 1]  # the clean book just before the snapshot (= the snapshot's top 10)
    # Phemex sends the pair's prices and sizes as integers in units of 1e-8: the book's own scale
    assert int(clean.events["price_scale"][0]) == int(clean.events["size_scale"][0]) == 10**8
    top = {(side, int(before[4 * r + side]), int(before[4 * r + side + 1])) for r in range(10) for side in (0, 2)}
    # the latest diff level before the snapshot that is still in the top 10 with the size it set
    for i in reversed([i for i in ours if i < snapshot]):
        msg = json.loads(t_of(ws, i))
        hit = [(side, p, q) for side, key in ((0, "bids"), (2, "asks")) for p, q in msg["book"][key]
               if (side, p, q) in top]
        if hit:
            side, p, q = hit[0]
            break
    ws[i] = ws[i].replace(f"[{p},{q}]", f"[{p},{q + 1}]")
    faulty = cases.cryptofeed([cases.write_capture(tmp_path, ws_path, ws), rest], "sGRTUSDT")
    d = replay(faulty.events, 10, faulty.options).counters["snapshot_drift"]
    assert tuple(d[k] for k in KEYS) == (1, 0, 1, 0, 0)
    first = d["first_snapshot_disagreement"]
    level = next(r for r in range(10) if before[4 * r + side] == p) + 1
    assert (first["row"], first["level"], first["side"]) == (row, level, "bid" if side == 0 else "ask")
    assert first["ours_price"] == first["theirs_price"] == p / 10**8
    assert (first["ours_size"], first["theirs_size"]) == ((q + 1) / 10**8, q / 10**8)
    assert (row, level, first["side"], p, q) == (56, 10, "bid", 67118000, 767198000000)


def t_of(ws: list[str], i: int) -> str:
    """The JSON text of capture line ``i``."""
    return ws[i].partition(": ")[2]
