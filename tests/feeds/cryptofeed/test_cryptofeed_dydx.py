"""dYdX v3 ``v3_orderbook`` on its real capture, with the per-level offset rule.

Expected figures were counted from the capture file (10 ``subscribed`` snapshots and 4,687
``channel_data`` updates; arrival order breaks offset order 541 times). The final book is checked
against a pure-Python replay written here from the dYdX rule (a level applies an update only if
its offset is greater than the level's last offset), sharing no code with the parser.
"""

from __future__ import annotations

import gzip
import json
from decimal import Decimal as D

import polars as pl

from cfhelpers import CRYPTOFEED, run
from obrecon_pipeline.feeds.cryptofeed import from_files

DYDX = CRYPTOFEED / "2021-10-28" / "DYDX.ws.1.0.gz"

#: symbol -> (book messages in the capture, stale level updates dropped); every stale update here
#: was its message's only level, so as many messages were dropped whole
DYDX_MESSAGES = {"ETH-USD": (1721, 11), "MKR-USD": (210, 2), "LTC-USD": (233, 3), "UMA-USD": (343, 7),
                 "SUSHI-USD": (759, 7), "UNI-USD": (410, 3), "CRV-USD": (490, 1), "BCH-USD": (99, 0),
                 "EOS-USD": (278, 0), "XMR-USD": (154, 0)}


def test_dydx_streams_counts_and_stale_updates():
    streams = from_files([DYDX])
    assert [s.symbol for s in streams] == list(DYDX_MESSAGES)
    assert streams[0].name == "DYDX-ETH-USD" and streams[0].day == "2021-10-28"
    totals = [0, 0, 0]
    for s in streams:
        captured, stale = DYDX_MESSAGES[s.symbol]
        bm, sq, loaded, res = run([DYDX], s.symbol)
        msgs = bm.messages()
        assert (msgs.height, int(msgs["snapshot"].sum())) == (captured - stale, 1), s.symbol
        assert (loaded.stats["stale_level_updates"], loaded.stats["stale_messages"]) == (stale, stale), s.symbol
        assert (loaded.stats["gaps"], loaded.stats["quarantined"], loaded.stats["unsynced"]) == (0, 0, 0)
        assert res.book["book_valid"].all() and res.counters["rows"] == captured - stale, s.symbol
        assert res.counters["crossed_rows"] == res.counters["locked_rows"] == 0, s.symbol
        totals[0] += msgs.height
        totals[1] += msgs.height - 1
        totals[2] += stale
    # 10 snapshots + 4,687 updates captured; 34 updates stale, 4,653 applied
    assert totals == [4663, 4653, 34]


def decimal_book(symbol: str, offsets: bool) -> tuple[list, list]:
    """Top 5 ``(price, size)`` bids and asks after the capture, replayed from the raw JSON with a
    dict ``price -> (size, offset)`` per side; ``offsets=False`` applies every update blindly."""
    book: dict[str, dict] = {"bids": {}, "asks": {}}
    with gzip.open(DYDX, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("wss://") or not line.strip():
                continue
            msg = json.loads(line.partition(": ")[2])
            if msg.get("channel") != "v3_orderbook" or msg.get("id") != symbol:
                continue
            contents = msg["contents"]
            if msg["type"] == "subscribed":
                book = {side: {D(lv["price"]): (D(lv["size"]), int(lv["offset"])) for lv in contents[side]}
                        for side in book}
                continue
            offset = int(contents["offset"])
            for side in book:
                for price, size in contents[side]:
                    last = book[side].get(D(price))
                    if offsets and last is not None and offset <= last[1]:
                        continue
                    book[side][D(price)] = (D(size), offset)
    live = {side: [(p, s) for p, (s, _) in levels.items() if s != 0] for side, levels in book.items()}
    return sorted(live["bids"], reverse=True)[:5], sorted(live["asks"])[:5]


def test_dydx_uni_final_top5_matches_decimal_replay():
    bids, asks = decimal_book("UNI-USD", offsets=True)
    assert decimal_book("UNI-USD", offsets=False) != (bids, asks)  # the stale updates matter here
    assert bids[0] == (D("25.04"), D("2924.5")) and asks[0] == (D("25.051"), D("2836.2"))
    last = run([DYDX], "UNI-USD", levels=5)[3].book.row(-1, named=True)
    assert [(last[f"bid_price_{i}"], last[f"bid_size_{i}"]) for i in range(1, 6)] == [(float(p), float(s)) for p, s in bids]
    assert [(last[f"ask_price_{i}"], last[f"ask_size_{i}"]) for i in range(1, 6)] == [(float(p), float(s)) for p, s in asks]


def _line(ts: str, body: dict) -> str:
    return f"{ts}: {json.dumps(body, separators=(',', ':'))}\n"


def _snapshot(bids, asks) -> dict:
    def side(levels):
        return [{"price": p, "size": s, "offset": o} for p, s, o in levels]

    return {"type": "subscribed", "channel": "v3_orderbook", "id": "X-USD", "message_id": 1,
            "contents": {"bids": side(bids), "asks": side(asks)}}


def _update(offset: int, bids=(), asks=()) -> dict:
    return {"type": "channel_data", "channel": "v3_orderbook", "id": "X-USD",
            "contents": {"offset": str(offset), "bids": [list(b) for b in bids], "asks": [list(a) for a in asks]}}


def test_dydx_older_offset_arriving_late_is_ignored(tmp_path):
    content = [
        "wss://api.dydx.exchange/v3/ws <-> 1635444230.0\n",
        _line("1635444230.1", {"type": "connected"}),
        _line("1635444230.2", _snapshot([("100", "1", "10")], [("101", "2", "10"), ("102", "0", "30"), ("103", "1", "5")])),
        _line("1635444230.3", _update(20, bids=[("100", "3")])),
        _line("1635444230.4", _update(15, bids=[("100", "5")])),  # older than 20: stale
        _line("1635444230.5", _update(25, asks=[("102", "7")])),  # the snapshot removed 102 at offset 30: stale
        _line("1635444230.6", _update(18, bids=[("100", "9"), ("98", "1")])),  # 100 stale, 98 new: applied
        _line("1635444230.7", _update(12, bids=[("99", "4")])),  # no earlier offset for 99: applied
        _line("1635444230.8", _update(40, asks=[("101", "0")])),
        _line("1635444230.9", {"type": "channel_data", "channel": "v3_trades", "id": "X-USD", "contents": {"trades": []}}),
        _line("1635444231.0", {"type": "error", "message": "Invalid subscription"}),
    ]
    path = tmp_path / "DYDX.ws.1.0"
    path.write_text("".join(content), encoding="utf-8")
    bm, sq, loaded, res = run([path], "X-USD")
    assert (loaded.stats["stale_level_updates"], loaded.stats["stale_messages"]) == (3, 2)
    assert bm.messages()["src_row"].to_list() == [3, 4, 7, 8, 9]
    # the message at offset 18 is handed on with its fresh level only
    levels, _, _ = bm.levels()
    assert levels.filter(pl.col("msg") == 2).select("price", "size").rows() == [(98, 1)]
    assert loaded.quarantine.rows() == [(str(path), 11, "message type 'error': Invalid subscription")]
    last = res.book.row(-1, named=True)
    assert [(last[f"bid_price_{i}"], last[f"bid_size_{i}"]) for i in (1, 2, 3)] == [(100.0, 3.0), (99.0, 4.0), (98.0, 1.0)]
    assert (last["ask_price_1"], last["ask_size_1"], last["ask_price_2"]) == (103.0, 1.0, None)


def test_dydx_new_snapshot_restarts_level_offsets(tmp_path):
    content = [
        _line("1635444230.2", _snapshot([("100", "1", "50")], [("101", "2", "50")])),
        _line("1635444230.3", _snapshot([("99", "1", "20")], [("101", "2", "20")])),  # resubscribed
        _line("1635444230.4", _update(30, bids=[("100", "6")])),  # level 100 has no offset since the snapshot
    ]
    path = tmp_path / "DYDX.ws.1.0"
    path.write_text("".join(content), encoding="utf-8")
    bm, sq, loaded, res = run([path], "X-USD")
    assert loaded.stats["stale_level_updates"] == 0
    last = res.book.row(-1, named=True)
    assert (last["bid_price_1"], last["bid_size_1"], last["bid_price_2"]) == (100.0, 6.0, 99.0)
