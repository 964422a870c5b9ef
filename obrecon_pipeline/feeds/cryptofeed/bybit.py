"""Bybit WebSocket v2 ``orderBookL2_25`` topic, USDT and inverse perpetuals (cryptofeed venue ``BYBIT``).

Messages (Bybit API v2, "orderBookL2_25"): ``{"topic": "orderBookL2_25.SYM", "type": "snapshot" |
"delta", "cross_seq", "timestamp_e6": µs, "data": ...}``. A snapshot's ``data`` is the level list
(``data.order_book`` on USDT contracts): ``{"price", "side": "Buy" | "Sell", "size", "id"}``; a
delta's ``data`` holds ``delete``, ``update`` and ``insert`` lists, applied in that order (a delete
removes the level: size ``"0"``). The topic shows the 25 best levels of each side (the window);
levels entering it are sent as inserts.

``cross_seq`` increases but skips numbers shared with other topics, so it cannot reveal a lost
message: ``Sequencing(link="none")``. ``ts_event`` is ``timestamp_e6``. The history files of the
newer ``orderbook.500`` topic are read by ``--format bybit`` (:mod:`obrecon_pipeline.feeds.bybit`).
Trade messages and RPC replies carry no book data; anything else is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.cryptofeed.messages import BookMessages, Sequencing

TOPIC = "orderBookL2_25."
OTHER_TOPICS = ("trade", "instrument_info", "klineV2", "insurance", "liquidation")


def _sides(levels, delete: bool = False) -> tuple[list, list]:
    bids, asks = [], []
    for level in levels:
        size = "0" if delete else str(level["size"])
        {"Buy": bids, "Sell": asks}[level["side"]].append((str(level["price"]), size))
    return bids, asks


def symbols(ws: Capture) -> list[str]:
    found: dict[str, None] = {}
    for rec in ws.received():
        topic = rec.body.get("topic", "") if isinstance(rec.body, dict) else ""
        if topic.startswith(TOPIC):
            found.setdefault(topic[len(TOPIC):])
    return list(found)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"), window=25)
    for rec in ws.received():
        body = rec.body
        if not isinstance(body, dict):
            book.quarantine(rec, "not a Bybit JSON object")
            continue
        topic = str(body.get("topic", ""))
        if not topic:
            if body.get("success") is False:
                book.quarantine(rec, f"request failed: {body.get('ret_msg')}")
            continue
        if topic.split(".")[0] in OTHER_TOPICS:
            continue
        if not topic.startswith(TOPIC):
            book.quarantine(rec, f"unknown topic {topic!r}")
            continue
        if topic != TOPIC + symbol:
            continue
        try:
            ts = int(body["timestamp_e6"]) * 1000
            data = body["data"]
            if body["type"] == "snapshot":
                levels = data["order_book"] if isinstance(data, dict) else data
                book.snapshot(rec, *_sides(levels), ts_event=ts)
            elif body["type"] == "delta":
                parts = [_sides(data.get("delete", []), delete=True), _sides(data.get("update", [])),
                         _sides(data.get("insert", []))]
                book.diff(rec, [lv for p in parts for lv in p[0]], [lv for p in parts for lv in p[1]], ts_event=ts)
            else:
                book.quarantine(rec, f"orderBookL2_25 type {body['type']!r}")
        except (KeyError, TypeError, ValueError) as exc:
            book.quarantine(rec, f"malformed orderBookL2_25 message ({type(exc).__name__}: {exc})")
    return book


register_venue(Venue(names=("BYBIT",), symbols=symbols, load=load))
